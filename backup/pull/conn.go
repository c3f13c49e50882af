package pull

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// maxSafePacket is the largest SFTP read that OpenSSH answers in full.
// Above it OpenSSH returns short reads that pkg/sftp takes for EOF and the
// file is silently truncated (pkg/sftp #658), so it is never exceeded.
const maxSafePacket = 261120

// HostKeyError stops a pull before anything is written: the server offered
// a key that is not pinned in the configuration.
type HostKeyError struct {
	Source string
	// Target: Source names a send-back target, not a source (the
	// command to accept the key differs).
	Target      bool
	Address     string
	Offered     ssh.PublicKey
	Fingerprint string // SHA256:… of the offered key
	Changed     bool   // a different key was pinned (not merely none)
}

// Localize says which key was offered and how to accept it deliberately.
func (e *HostKeyError) Localize(l msg.Lang) string {
	// On the appliance the page is the only way; the command is for a
	// bench PC running the CLI.
	flag, page := "--source", msg.Sprintf("画面の「導入手順」→ 取得元 %s →「ホスト鍵を取得」", "on the page: Commissioning → source %s → \"Fetch host key\"", e.Source)
	if e.Target {
		flag, page = "--target", msg.Sprintf("画面の「復元」の送り先 %s の設定 →「ホスト鍵を取得」", "on the page: the restore target %s's settings → \"Fetch host key\"", e.Source)
	}
	accept := fmt.Sprintf("danzen hostkey --config FILE %s %s --accept %s", flag, e.Source, e.Fingerprint)
	if e.Changed {
		return msg.Sprintf("電子カルテサーバ %s のホスト鍵が登録済みの鍵と違います。なりすまし、またはサーバの再構築の可能性があります。"+
			"提示された鍵 %s %s をサーバ管理者と照合し、正しければ%sで意図的に登録してください(bench PC では `%s`)。何も取得していません",
			"host key of %s CHANGED: the server offered %s %s, which is not the pinned key (possible impersonation, or a rebuilt server). "+
				"Compare it with the server's administrator; if it is right, accept it deliberately %s (on a bench PC: `%s`). Nothing was pulled.",
			e.Address, e.Offered.Type(), e.Fingerprint, page, accept).Localize(l)
	}
	return msg.Sprintf("電子カルテサーバ %s のホスト鍵が未登録です。提示された鍵 %s %s をサーバ管理者と照合し、正しければ%sで登録してください(bench PC では `%s`)。何も取得していません",
		"host key of %s is unknown: the server offered %s %s. Compare it with the server's administrator, then accept it deliberately %s (on a bench PC: `%s`). Nothing was pulled.",
		e.Address, e.Offered.Type(), e.Fingerprint, page, accept).Localize(l)
}

func (e *HostKeyError) Error() string { return e.Localize(msg.Both) }

// loadSigner reads the client's private key, refusing a file others can read.
func loadSigner(path string) (ssh.Signer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, msg.Errorf("秘密鍵ファイル %s がありません: %w", "private key file %s does not exist: %w", path, err)
		}
		return nil, msg.Errorf("秘密鍵ファイル %s を確認できません: %w", "cannot stat private key %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, msg.Errorf("秘密鍵ファイル %s のパーミッション %v が緩すぎます。chmod 600 にしてください",
			"private key %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, msg.Errorf("秘密鍵ファイル %s を読めません: %w", "cannot read private key %s: %w", path, err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, msg.Errorf("秘密鍵 %s にパスフレーズがあります。無人運転のためパスフレーズなしの鍵を secrets に置いてください",
				"private key %s has a passphrase; an unattended gateway needs a key without one, kept in secrets with mode 0600", path)
		}
		return nil, msg.Errorf("秘密鍵 %s を読めません: %w", "cannot parse private key %s: %w", path, err)
	}
	switch signer.PublicKey().Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoRSA:
	default:
		return nil, msg.Errorf("秘密鍵 %s の種類 %s は使えません(ed25519 か RSA)", "key type %[2]s of %[1]s is not supported: use ed25519 or RSA",
			path, signer.PublicKey().Type())
	}
	return signer, nil
}

// hostKeyCheck builds the pinned-key callback and the matching algorithm
// list. Pinning the algorithms to the pinned keys' types matters: otherwise
// Go may negotiate a key type that is not pinned and report a mismatch for
// a perfectly good server (golang/go#29286).
func hostKeyCheck(src *config.Source, addr string) (ssh.HostKeyCallback, []string, error) {
	cb, err := knownHostsCallback(src)
	if err != nil {
		return nil, nil, err
	}
	var algos []string
	seen := map[string]bool{}
	for _, line := range src.KnownHosts {
		_, _, key, _, _, err := ssh.ParseKnownHosts([]byte(line))
		if err != nil || seen[key.Type()] {
			continue
		}
		seen[key.Type()] = true
		if key.Type() == ssh.KeyAlgoRSA {
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
		} else {
			algos = append(algos, key.Type())
		}
	}
	check := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := cb(hostname, remote, key)
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) {
			return &HostKeyError{Source: src.Name, Address: addr, Offered: key,
				Fingerprint: ssh.FingerprintSHA256(key), Changed: len(ke.Want) > 0}
		}
		return err
	}
	return check, algos, nil
}

// knownHostsCallback reads the source's pinned keys through a temporary
// known_hosts file: knownhosts reads only files.
func knownHostsCallback(src *config.Source) (ssh.HostKeyCallback, error) {
	f, err := os.CreateTemp("", "danzen-known-hosts-*")
	if err != nil {
		return nil, fmt.Errorf("temporary known_hosts: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }() // read once below; a leftover holds only public keys
	_, werr := f.WriteString(strings.Join(src.KnownHosts, "\n") + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("temporary known_hosts: %w", werr)
	}
	cb, err := knownhosts.New(f.Name())
	if err != nil {
		return nil, msg.Errorf("取得元 %s の known_hosts を読めません: %w", "sources %s: known_hosts: %w", src.Name, err)
	}
	return cb, nil
}

// dialer connects to one server: key only, the host key pinned, and the
// ciphers in the order that suits this CPU (cipher.go: AES-GCM first with
// AES instructions, chacha20-poly1305 first without).
type dialer struct {
	cfg  *ssh.ClientConfig
	addr string
}

func newDialer(src *config.Source, keyFile string) (*dialer, error) {
	signer, err := loadSigner(keyFile)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(src.Host, strconv.Itoa(src.Port))
	check, algos, err := hostKeyCheck(src, addr)
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:              src.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   check,
		HostKeyAlgorithms: algos,
		Timeout:           20 * time.Second,
		Config: ssh.Config{
			Ciphers: Ciphers(),
		},
	}
	return &dialer{cfg: cfg, addr: addr}, nil
}

// Conn is one SSH connection with its SFTP session.
type Conn struct {
	ssh  *ssh.Client
	sftp *sftp.Client
}

// SFTP is the connection's SFTP client.
func (c *Conn) SFTP() *sftp.Client { return c.sftp }

// Cipher is the cipher negotiated for what the server sends (the data a
// pull moves), e.g. "aes128-gcm@openssh.com".
func (c *Conn) Cipher() string {
	if a, ok := c.ssh.Conn.(ssh.AlgorithmsConnMetadata); ok {
		return a.Algorithms().Read.Cipher
	}
	return ""
}

// Close ends the SFTP session and the connection.
func (c *Conn) Close() error {
	return errors.Join(c.sftp.Close(), c.ssh.Close())
}

// Connect opens one connection to src's server as src's account, with
// the same key checks, pinned host key and packet limit as a pull. A
// send-back writes through it.
func Connect(ctx context.Context, src config.Source, keyFile string) (*Conn, error) {
	d, err := newDialer(&src, keyFile)
	if err != nil {
		return nil, err
	}
	return d.dial(ctx)
}

// dial opens one SSH connection and an SFTP session on it. Packets are
// raised above 32 KiB only for servers that announce limits@openssh.com
// (OpenSSH ≥ 8.6), and never above maxSafePacket.
func (d *dialer) dial(ctx context.Context) (*Conn, error) {
	client, err := d.handshake(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := sftp.NewClient(client, sftp.UseConcurrentReads(true))
	if err != nil {
		_ = client.Close() // the session failed; the connection has nothing else to say
		return nil, retryable(msg.Errorf("SFTPを開始できません(サーバ側でSFTPが許可されているか確認してください): %s: %w",
			"cannot start SFTP on %s (is the sftp subsystem allowed for this account?): %w", d.addr, err))
	}
	if _, ok := sc.HasExtension("limits@openssh.com"); ok {
		big, err := sftp.NewClient(client, sftp.UseConcurrentReads(true), sftp.MaxPacketUnchecked(maxSafePacket))
		if err == nil {
			_ = sc.Close() // replaced by the session with bigger packets
			sc = big
		}
	}
	return &Conn{ssh: client, sftp: sc}, nil
}

// handshake connects and authenticates. The handshake has no context of
// its own: it is bounded by the timeout and by closing the socket when
// ctx ends.
func (d *dialer) handshake(ctx context.Context) (*ssh.Client, error) {
	nd := net.Dialer{Timeout: d.cfg.Timeout, KeepAlive: 30 * time.Second}
	nc, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, retryable(msg.Errorf("電子カルテサーバ %s に接続できません: %w", "cannot connect to the e-chart server %s: %w", d.addr, err))
	}
	// SetDeadline fails only on a closed socket, which the handshake
	// then reports.
	_ = nc.SetDeadline(time.Now().Add(d.cfg.Timeout))
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	c, chans, reqs, err := ssh.NewClientConn(nc, d.addr, d.cfg)
	stop()
	if err != nil {
		_ = nc.Close() // the handshake failed; its error says why
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, msg.Errorf("電子カルテサーバ %s が鍵認証を拒否しました。authorized_keys の登録と from= のアドレスを確認してください: %w",
				"the e-chart server %s refused the key: check authorized_keys and its from= address: %w", d.addr, err)
		}
		return nil, retryable(msg.Errorf("電子カルテサーバ %s との SSH ハンドシェイクに失敗しました: %w", "SSH handshake with %s: %w", d.addr, err))
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		_ = c.Close() // unusable: a later read would time out
		return nil, retryable(fmt.Errorf("SSH connection to %s: %w", d.addr, err))
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// connSet is one attempt's connections. Closing them is what interrupts
// blocked SFTP calls when the pull is cancelled, from another goroutine.
type connSet struct {
	mu    sync.Mutex
	conns []*Conn
}

func (s *connSet) dial(ctx context.Context, d *dialer) (*Conn, error) {
	c, err := d.dial(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns = append(s.conns, c)
	return c, nil
}

func (s *connSet) all() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Conn(nil), s.conns...)
}

// interrupt cuts every connection under whatever call uses it.
func (s *connSet) interrupt() {
	for _, c := range s.all() {
		_ = c.ssh.Close() // the caller sees its call fail instead
	}
}

// close ends the attempt's connections. The staged files and the
// manifest do not depend on how a read-only session ends.
func (s *connSet) close() {
	for _, c := range s.all() {
		_ = c.Close()
	}
}

// retryableError marks failures of the network or the server that a
// reconnect may cure; everything else stops the pull at once.
type retryableError struct{ err error }

func (e *retryableError) Error() string              { return e.err.Error() }
func (e *retryableError) Unwrap() error              { return e.err }
func (e *retryableError) Localize(l msg.Lang) string { return msg.In(e.err, l) }

func retryable(err error) error {
	if err == nil {
		return nil
	}
	return &retryableError{err}
}

func isRetryable(err error) bool {
	var r *retryableError
	return errors.As(err, &r)
}

// FetchHostKey connects far enough to see the server's host key, without
// authenticating, so an operator can compare its fingerprint before
// pinning it.
//
// prefer lists host key algorithms to ask for first (those of the keys
// already pinned, see hostkey.PinnedAlgorithms): a server with several
// keys then offers the pinned one, not a newer type that would look like a
// changed key.
func FetchHostKey(ctx context.Context, host string, port int, prefer ...string) (ssh.PublicKey, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var got ssh.PublicKey
	errSeen := errors.New("host key seen")
	cfg := &ssh.ClientConfig{
		User:    "danzen-hostkey",
		Timeout: 15 * time.Second,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			got = key
			return errSeen
		},
		HostKeyAlgorithms: preferFirst(prefer, ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSASHA512),
	}
	d := net.Dialer{Timeout: cfg.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, msg.Errorf("電子カルテサーバ %s に接続できません: %w", "cannot connect to %s: %w", addr, err)
	}
	defer func() { _ = nc.Close() }()               // only the key was wanted
	_ = nc.SetDeadline(time.Now().Add(cfg.Timeout)) // fails only on a closed socket, which the handshake reports
	_, _, _, err = ssh.NewClientConn(nc, addr, cfg)
	if got == nil {
		return nil, msg.Errorf("%s からホスト鍵を受け取れませんでした: %w", "no host key received from %s: %w", addr, err)
	}
	return got, nil
}

// preferFirst is prefer followed by the defaults not already in it.
func preferFirst(prefer []string, defaults ...string) []string {
	out := append([]string(nil), prefer...)
	for _, d := range defaults {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}
