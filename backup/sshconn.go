package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/config"
)

// maxSafePacket is the largest SFTP read that OpenSSH answers in full.
// Above it OpenSSH returns short reads that pkg/sftp takes for EOF and the
// file is silently truncated (pkg/sftp #658), so it is never exceeded.
const maxSafePacket = 261120

// HostKeyError stops a pull before anything is written: the server offered
// a key that is not pinned in the configuration.
type HostKeyError struct {
	Source      string
	Address     string
	Offered     ssh.PublicKey
	Fingerprint string // SHA256:… of the offered key
	Changed     bool   // a different key was pinned (not merely none)
}

func (e *HostKeyError) Error() string {
	accept := fmt.Sprintf("danzen hostkey --config FILE --source %s --accept %s", e.Source, e.Fingerprint)
	if e.Changed {
		return fmt.Sprintf("電子カルテサーバ %s のホスト鍵が登録済みの鍵と違います。なりすまし、またはサーバの再構築の可能性があります。"+
			"提示された鍵 %s %s をサーバ管理者と照合し、正しければ `%s` で意図的に登録してください。何も取得していません / "+
			"host key of %s CHANGED: the server offered %s %s, which is not the pinned key (possible impersonation, or a rebuilt server). "+
			"Compare it with the server's administrator; if it is right, accept it deliberately with `%s`. Nothing was pulled.",
			e.Address, e.Offered.Type(), e.Fingerprint, accept, e.Address, e.Offered.Type(), e.Fingerprint, accept)
	}
	return fmt.Sprintf("電子カルテサーバ %s のホスト鍵が未登録です。提示された鍵 %s %s をサーバ管理者と照合し、正しければ `%s` で登録してください。何も取得していません / "+
		"host key of %s is unknown: the server offered %s %s. Compare it with the server's administrator, then accept it deliberately with `%s`. Nothing was pulled.",
		e.Address, e.Offered.Type(), e.Fingerprint, accept, e.Address, e.Offered.Type(), e.Fingerprint, accept)
}

// loadSigner reads the client's private key, refusing a file others can read.
func loadSigner(path string) (ssh.Signer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("秘密鍵ファイル %s がありません / private key file %s does not exist: %w", path, path, err)
		}
		return nil, fmt.Errorf("stat private key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("秘密鍵ファイル %s のパーミッション %v が緩すぎます。chmod 600 にしてください / private key %s is readable by others (mode %v): chmod 600 it",
			path, fi.Mode().Perm(), path, fi.Mode().Perm())
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("秘密鍵 %s にパスフレーズがあります。無人運転のためパスフレーズなしの鍵を secrets に置いてください / private key %s has a passphrase; an unattended gateway needs a key without one, kept in secrets with mode 0600", path, path)
		}
		return nil, fmt.Errorf("秘密鍵 %s を読めません / cannot parse private key %s: %w", path, path, err)
	}
	switch signer.PublicKey().Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoRSA:
	default:
		return nil, fmt.Errorf("秘密鍵 %s の種類 %s は使えません(ed25519 か RSA) / key type %s of %s is not supported: use ed25519 or RSA",
			path, signer.PublicKey().Type(), signer.PublicKey().Type(), path)
	}
	return signer, nil
}

// hostKeyCheck builds the pinned-key callback and the matching algorithm
// list. Pinning the algorithms to the pinned keys' types matters: otherwise
// Go may negotiate a key type that is not pinned and report a mismatch for
// a perfectly good server (golang/go#29286).
func hostKeyCheck(src *config.Source, addr string) (ssh.HostKeyCallback, []string, error) {
	f, err := os.CreateTemp("", "danzen-known-hosts-*")
	if err != nil {
		return nil, nil, fmt.Errorf("temporary known_hosts: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString(strings.Join(src.KnownHosts, "\n") + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, nil, fmt.Errorf("temporary known_hosts: %w", werr)
	}
	cb, err := knownhosts.New(f.Name())
	if err != nil {
		return nil, nil, fmt.Errorf("sources %s: known_hosts: %w", src.Name, err)
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

// sshClientConfig is the client side: key only, pinned host key, and
// AES-GCM first (x/crypto's chacha20 has no amd64 assembly and costs
// 45–65% more CPU).
func sshClientConfig(src *config.Source, signer ssh.Signer, addr string) (*ssh.ClientConfig, error) {
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
	}
	cfg.Ciphers = []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr"}
	return cfg, nil
}

func sourceAddr(src *config.Source) string {
	return net.JoinHostPort(src.Host, strconv.Itoa(src.Port))
}

// conn is one SSH connection with its SFTP session.
type conn struct {
	ssh  *ssh.Client
	sftp *sftp.Client
}

func (c *conn) Close() error {
	c.sftp.Close()
	return c.ssh.Close()
}

// dial opens one SSH connection and an SFTP session on it. Packets are
// raised above 32 KiB only for servers that announce limits@openssh.com
// (OpenSSH ≥ 8.6), and never above maxSafePacket.
func dial(ctx context.Context, cfg *ssh.ClientConfig, addr string) (*conn, error) {
	d := net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, retryable(fmt.Errorf("電子カルテサーバ %s に接続できません / cannot connect to the e-chart server %s: %w", addr, addr, err))
	}
	// The handshake has no context of its own: bound it by the deadline.
	nc.SetDeadline(time.Now().Add(cfg.Timeout))
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	c, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	stop()
	if err != nil {
		nc.Close()
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("電子カルテサーバ %s が鍵認証を拒否しました。authorized_keys の登録と from= のアドレスを確認してください / the e-chart server %s refused the key: check authorized_keys and its from= address: %w", addr, addr, err)
		}
		return nil, retryable(fmt.Errorf("SSH handshake with %s: %w", addr, err))
	}
	nc.SetDeadline(time.Time{})
	client := ssh.NewClient(c, chans, reqs)
	sc, err := sftp.NewClient(client, sftp.UseConcurrentReads(true))
	if err != nil {
		client.Close()
		return nil, retryable(fmt.Errorf("SFTPを開始できません(サーバ側でSFTPが許可されているか確認してください) / cannot start SFTP on %s (is the sftp subsystem allowed for this account?): %w", addr, err))
	}
	if _, ok := sc.HasExtension("limits@openssh.com"); ok {
		big, err := sftp.NewClient(client, sftp.UseConcurrentReads(true), sftp.MaxPacketUnchecked(maxSafePacket))
		if err == nil {
			sc.Close()
			sc = big
		}
	}
	return &conn{ssh: client, sftp: sc}, nil
}

// retryableError marks failures of the network or the server that a
// reconnect may cure; everything else stops the pull at once.
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

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
func FetchHostKey(ctx context.Context, host string, port int) (ssh.PublicKey, error) {
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
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSASHA512},
	}
	d := net.Dialer{Timeout: cfg.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("電子カルテサーバ %s に接続できません / cannot connect to %s: %w", addr, addr, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(cfg.Timeout))
	_, _, _, err = ssh.NewClientConn(nc, addr, cfg)
	if got == nil {
		return nil, fmt.Errorf("no host key received from %s: %w", addr, err)
	}
	return got, nil
}
