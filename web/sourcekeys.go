package web

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/hostkey"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// sshAccount is the SSH side of a form's item: a source's read-only pull
// account or a restore target's write account. The host-key and key flows
// work on it alone, so both kinds share them.
type sshAccount struct {
	kind             string // the editor: "source" or "target"; also the ledger's key
	name, host, user *string
	port             *int
	keyFile          *string
	knownHosts       *[]string
}

func (a *sshAccount) addr() string { return net.JoinHostPort(*a.host, strconv.Itoa(*a.port)) }

// addAccount adds an account's connection fields; help is the help of
// its name, user and key file, which say what this account is for. Its
// pinned host keys are edited by the host-key flow, not as a field.
func (b *bindings) addAccount(sec msg.Text, a *sshAccount, help [3]msg.Text) {
	g, s := bindString(a.name)
	b.add(sec, "name", msg.T("名前", "Name"), help[0], textField, g, s)
	g, s = bindString(a.host)
	b.add(sec, "host", msg.T("ホスト", "Host"), msg.T("電子カルテサーバのホスト名またはIPアドレス", "the e-chart server's host name or IP address"), textField, g, s)
	g, s = bindInt(a.port)
	b.add(sec, "port", msg.T("ポート", "Port"), msg.Text{}, numberField, g, s)
	g, s = bindString(a.user)
	b.add(sec, "user", msg.T("アカウント", "Account"), help[1], textField, g, s)
	g, s = bindString(a.keyFile)
	b.add(sec, "key_file", msg.T("秘密鍵ファイル名", "Private key file name"), help[2], textField, g, s)
	*b = append(*b, binding{key: "known_hosts", hidden: true})
}

// accountExtras are the parts of an account's form that are not plain
// settings: its pinned host keys, the host-key confirmation and the
// state of its private key (never its content).
type accountExtras struct {
	KnownHosts    []knownHost
	KnownHostErrs []msg.Text
	HostKeyErr    msg.Text
	Pin           *pinView
	Key           msg.Text
	KeyBad        bool
	PublicKey     string // authorized_keys line for the e-chart server; public
	KeyAction     string
	CanKey        bool
}

type knownHost struct {
	Index    int
	Type, FP string
	Hosts    string
	Unparsed bool
	Remove   bool // ticked for removal in a form that comes back
}

// pinView is the key a server offers, waiting for the person's
// confirmation. A CHANGED key shows, in red, the pinned keys it retires.
type pinView struct {
	Addr, Type, FP string
	Err            msg.Text
	Confirmed      bool // ticked in a form that comes back
	Changed        bool
	Pinned         bool     // the key is pinned already
	Unchanged      bool     // and is the only one for the address: nothing to confirm
	Warning        msg.Text // what a CHANGED key may mean
	Retired        []retiredKey
}

// retiredKey is a pinned key that accepting the offered one retires.
type retiredKey struct{ Type, FP, PinnedAt string }

// hostKeyTimeout bounds the fetch: an unreachable server must not hold
// the page.
const hostKeyTimeout = 20 * time.Second

func (s *Server) accountExtras(cfg *config.Config, a *sshAccount, orig string) *accountExtras {
	x := &accountExtras{KeyAction: "/config/" + a.kind + "/key", CanKey: orig != ""}
	for j, line := range *a.knownHosts {
		x.KnownHosts = append(x.KnownHosts, knownHostOf(j, line))
	}
	if *a.keyFile == "" {
		x.Key, x.KeyBad = msg.T("鍵ファイル名が未設定です", "no key file name set"), true
		return x
	}
	p, err := secretPath(cfg, *a.keyFile, sshKey)
	if err != nil {
		x.Key, x.KeyBad = msg.TextOf(err), true
		return x
	}
	st := secretState(p)
	x.Key, x.KeyBad = st.text, !st.ok
	if pub, err := publicKeyOf(p); err == nil {
		x.PublicKey = "restrict " + pub + " danzen@" + cfg.GatewayID
	} else if !errors.Is(err, os.ErrNotExist) {
		x.Key, x.KeyBad = x.Key.Append("", msg.T("(鍵として読めません)", " (not a readable key)")), true
	}
	return x
}

// knownHostOf describes the pinned host key line j.
func knownHostOf(j int, line string) knownHost {
	kh := knownHost{Index: j}
	_, hosts, key, _, _, err := ssh.ParseKnownHosts([]byte(line))
	if err != nil {
		kh.Unparsed = true
		return kh
	}
	kh.Type, kh.FP, kh.Hosts = key.Type(), ssh.FingerprintSHA256(key), strings.Join(hosts, ",")
	return kh
}

type secretInfo struct {
	ok   bool
	text msg.Text
}

// secretState says whether a secret file exists with safe permissions.
// It never reads the content.
func secretState(path string) secretInfo {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return secretInfo{false, msg.T("未設定(ファイルがありません)", "not set (no file)")}
	case err != nil:
		return secretInfo{false, msg.Sprintf("確認できません: %v", "cannot check: %v", err)}
	case fi.Mode().Perm()&0o077 != 0:
		return secretInfo{false, msg.Sprintf("設定済み。ただし権限 %o で他から読めます(0600 にしてください)", "set, but mode %o lets others read it (make it 0600)", fi.Mode().Perm())}
	}
	return secretInfo{true, msg.T("設定済み(0600、内容は表示しません)", "set (0600; never shown)")}
}

// secretKind is what the page writes into a secret file.
type secretKind int

const (
	sshKey   secretKind = iota // a source's or a restore target's private key
	s3Secret                   // an s3 medium's secret key or CA bundle
)

// secretPath resolves a secret file name and keeps it inside the secrets
// directory, away from the files auth keeps there and from secrets of
// another kind: the page writes keys, and must not be able to overwrite
// the user store, a medium's password, or an S3 key with an SSH key.
func secretPath(cfg *config.Config, name string, kind secretKind) (string, error) {
	p := filepath.Clean(cfg.KeyPath(name))
	rel, err := filepath.Rel(filepath.Clean(cfg.SecretsDir), p)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") || strings.Contains(rel, string(filepath.Separator)) {
		return "", msg.New("鍵ファイルは secrets フォルダの直下に置いてください", "the key file must sit directly in the secrets folder")
	}
	reserved := []string{auth.UsersFile, auth.SetupCodeFile}
	for _, m := range cfg.Media {
		reserved = append(reserved, m.PasswordFile)
		if m.S3 != nil && kind != s3Secret {
			reserved = append(reserved, m.S3.SecretKeyFile, m.S3.CAFile)
		}
	}
	if kind != sshKey {
		for _, s := range cfg.Sources {
			reserved = append(reserved, s.KeyFile)
		}
		for _, t := range cfg.Restore.Targets {
			reserved = append(reserved, t.KeyFile)
		}
	}
	if slices.ContainsFunc(reserved, func(n string) bool { return n != "" && filepath.Clean(cfg.KeyPath(n)) == p }) {
		return "", msg.New("このファイル名は他の秘密情報が使っています", "this file name belongs to another secret")
	}
	return p, nil
}

// accountHostKey handles the host-key part of an account's form: removing
// pinned keys, fetching the offered key (shown beside the pinned ones, not
// pinned), and pinning it once the person confirmed the fingerprint. The
// key is fetched again at confirmation and compared: what gets pinned is
// what the server offers then, never anything the browser sent, and it
// replaces every other key pinned for the address. It returns the
// accepted offer for the ledger (nil when nothing changes); stop means:
// show the form again.
func (s *Server) accountHostKey(r *http.Request, a *sshAccount, st *formState) (*hostkey.Offer, bool) {
	if rm := r.PostForm["kh_remove"]; len(rm) > 0 {
		var keep []string
		for j, line := range *a.knownHosts {
			if !slices.Contains(rm, strconv.Itoa(j)) {
				keep = append(keep, line)
			}
		}
		*a.knownHosts = keep
	}
	addrBad := len(st.errs["host"]) > 0 || len(st.errs["port"]) > 0 || *a.host == ""
	switch {
	case r.PostFormValue("op") == "fetch":
		s.showOffer(r.Context(), a, st, addrBad)
		return nil, true
	case r.PostFormValue("pin_fp") != "":
		return s.confirmOffer(r, a, st, addrBad)
	}
	return nil, false
}

// showOffer fetches the key the account's server offers and shows it
// beside the pinned ones.
func (s *Server) showOffer(ctx context.Context, a *sshAccount, st *formState, addrBad bool) {
	if addrBad {
		st.extras = func(b *formBody) { b.Account.HostKeyErr = hostPortFirst() }
		return
	}
	o, err := s.offer(ctx, a)
	st.extras = func(b *formBody) {
		if err != nil {
			b.Account.HostKeyErr = msg.TextOf(err)
			return
		}
		b.Account.Pin = s.pinView(o)
	}
}

// confirmOffer pins the offered key once the person ticked that they
// compared the fingerprint the form carries and the server still offers
// that key.
func (s *Server) confirmOffer(r *http.Request, a *sshAccount, st *formState, addrBad bool) (*hostkey.Offer, bool) {
	want := r.PostFormValue("pin_fp")
	pinErr := func(o *hostkey.Offer, why msg.Text) (*hostkey.Offer, bool) {
		st.extras = func(b *formBody) {
			b.Account.Pin = &pinView{Addr: a.addr(), FP: want}
			if o != nil {
				b.Account.Pin = s.pinView(o)
			}
			b.Account.Pin.Err = why
		}
		return nil, true
	}
	if addrBad {
		return pinErr(nil, hostPortFirst())
	}
	o, err := s.offer(r.Context(), a)
	switch {
	case err != nil:
		return pinErr(nil, msg.TextOf(err))
	case o.Fingerprint != want:
		return pinErr(o, msg.Sprintf("サーバの鍵が確認したものと違います(確認 %s、現在 %s)。登録していません", "the server now offers a different key (confirmed %s, offered %s): nothing pinned", want, o.Fingerprint))
	case r.PostFormValue("pin_confirm") == "":
		return pinErr(o, msg.T("サーバ管理者と指紋を照合し、チェックを入れてください", "compare the fingerprint with the server's administrator and tick the box"))
	case o.Unchanged():
		return nil, false
	}
	*a.knownHosts = o.Accepted()
	return o, false
}

// offer fetches the key the account's server offers and compares it with
// the account's pinned keys, with when each was pinned.
func (s *Server) offer(ctx context.Context, a *sshAccount) (*hostkey.Offer, error) {
	key, err := s.fetch(ctx, *a.host, *a.port, hostkey.PinnedAlgorithms(*a.knownHosts))
	if err != nil {
		return nil, err
	}
	o, err := hostkey.Compare(config.AccountRef{Kind: a.kind, Name: *a.name}, *a.host, *a.port, *a.knownHosts, key)
	if err != nil {
		return nil, err
	}
	if err := o.ReadPinTimes(s.core.Config().LedgerDir); err != nil {
		s.log.Warn("when the host keys were pinned", "err", err)
	}
	return o, nil
}

func (s *Server) pinView(o *hostkey.Offer) *pinView {
	v := &pinView{Addr: o.Addr, Type: o.Key.Type(), FP: o.Fingerprint, Changed: o.State == hostkey.Changed, Pinned: o.State == hostkey.Pinned, Unchanged: o.Unchanged()}
	if v.Changed {
		v.Warning = hostkey.ChangedWarning()
	}
	z := s.zone()
	for _, k := range o.Retired {
		rk := retiredKey{Type: k.Type, FP: k.Fingerprint}
		if !k.PinnedAt.IsZero() { // else the page says the ledger does not know
			rk.PinnedAt = z.Stamp(k.PinnedAt)
		}
		v.Retired = append(v.Retired, rk)
	}
	return v
}

func hostPortFirst() msg.Text {
	return msg.T("ホストとポートを先に正しく入力してください", "enter the host and port first")
}

func (s *Server) fetch(ctx context.Context, host string, port int, prefer []string) (ssh.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, hostKeyTimeout)
	defer cancel()
	return s.fetchHostKey(ctx, host, port, prefer...)
}

// accountKey replaces an account's private key: generated here (the page
// then shows the public key for authorized_keys) or uploaded. The key is
// written 0600 and never shown; the ledger records that it changed and
// the public key's fingerprint.
func (s *Server) accountKey(w http.ResponseWriter, r *http.Request) {
	kind, name := r.PathValue("kind"), r.PostFormValue("orig")
	cfg, err := cloneConfig(s.core.Config())
	if err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/config")
		return
	}
	ed, ok := s.editors()[kind]
	var it item
	if ok && name != "" {
		it, ok = ed.find(cfg, name)
	}
	if !ok || name == "" || it.ssh == nil {
		s.message(w, r, http.StatusOK, msg.T("先にこの項目を保存してください", "save this item first"), true, "/config")
		return
	}
	back := "/config/" + kind + "?name=" + url.QueryEscape(name)
	p, err := secretPath(cfg, *it.ssh.keyFile, sshKey)
	if err != nil {
		s.failure(w, r, http.StatusOK, err, back)
		return
	}
	if status, err := s.writeAccountKey(r.Context(), actor(r), kind, name, p, r.PostFormValue("op") == "generate", r.PostFormValue("key")); err != nil {
		s.failure(w, r, status, err, back)
		return
	}
	http.Redirect(w, r, back+"&done=key", http.StatusSeeOther)
}

// writeAccountKey writes the private key of the account name of kind to
// p: generated here, or the pasted one. The key is written 0600 and never
// shown; the ledger records that it changed and the public key's
// fingerprint. On failure it returns why, with the status to answer.
func (s *Server) writeAccountKey(ctx context.Context, who, kind, name, p string, generate bool, pasted string) (int, error) {
	pemBytes, status, err := newAccountKey(generate, pasted, s.core.Config().GatewayID)
	if err != nil {
		return status, err
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		return http.StatusOK, msg.New("鍵を読めません", "cannot read the key")
	}
	if err := atomicfile.Write(p, pemBytes, 0o600); err != nil {
		s.log.Error("write account key", "kind", kind, "err", err)
		return http.StatusInternalServerError, msg.Wrap(err, "鍵を保存できません", "cannot save the key")
	}
	d := ledger.SecretReplacedData{File: filepath.Base(p), PublicKeyFingerprint: ssh.FingerprintSHA256(signer.PublicKey()), Generated: generate}
	*accountOf(kind, &d.Source, &d.Target) = name
	s.record(ctx, ledger.Entry{Kind: ledger.KindSecretReplaced, Actor: who, Message: msg.T("SSH秘密鍵を置き換え", "SSH private key replaced"), Payload: d})
	return http.StatusOK, nil
}

// publicKeyOf reads the private key file p and returns its public key in
// authorized_keys form ("ssh-ed25519 AAAA…"); the private key never
// leaves the gateway.
func publicKeyOf(p string) (string, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	signer, err := ssh.ParsePrivateKey(raw)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))), nil
}

// newAccountKey is the PEM of a key generated here, or of the pasted one
// once it parses; else why not, with the status to answer.
func newAccountKey(generate bool, pasted, gatewayID string) ([]byte, int, error) {
	if generate {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, http.StatusInternalServerError, err
		}
		blk, err := ssh.MarshalPrivateKey(priv, "danzen@"+gatewayID)
		if err != nil {
			return nil, http.StatusInternalServerError, err
		}
		return pem.EncodeToMemory(blk), http.StatusOK, nil
	}
	pemBytes := []byte(strings.TrimSpace(pasted) + "\n")
	if _, err := ssh.ParseRawPrivateKey(pemBytes); err != nil {
		// The message never quotes the key.
		var pp *ssh.PassphraseMissingError
		if errors.As(err, &pp) {
			return nil, http.StatusOK, msg.New("パスフレーズ付きの鍵は使えません(無人で接続するため)。保存していません", "a key with a passphrase cannot be used unattended: nothing was saved")
		}
		return nil, http.StatusOK, msg.New("秘密鍵として読めません。暗号化されていない OpenSSH または PEM 形式の鍵を貼り付けてください(鍵は保存していません)",
			"not a readable private key: paste an unencrypted OpenSSH or PEM key (nothing was saved)")
	}
	return pemBytes, http.StatusOK, nil
}
