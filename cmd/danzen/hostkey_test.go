package main_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/hostkey/hostkeytest"
	"github.com/danzen-gw/danzen/internal/sshdtest"
	"github.com/danzen-gw/danzen/ledger"
)

// handWritten is a configuration as a vendor types it: only what differs
// from the defaults, in their own order and layout, and no pinned host
// key yet for the source or the send-back target.
func handWritten(dir string, port int) string {
	p := strconv.Itoa(port)
	return `{
  "version": 1,
  "gateway_id": "gw-test",
  "staging_dir": "` + dir + `/staging",
  "secrets_dir": "` + dir + `/secrets",
  "ledger_dir": "` + dir + `/ledger",
  "sources": [
    {
      "name": "emr",
      "host": "127.0.0.1",
      "port": ` + p + `,
      "user": "danzen-pull",
      "key_file": "emr.key",
      "export_dir": "/export"
    }
  ],
  "restore": {
    "targets": [
      {"name": "back", "host": "127.0.0.1", "port": ` + p + `, "user": "danzen-restore", "key_file": "back.key", "base_dir": "/restore"}
    ]
  }
}
`
}

func writeConfig(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func quoted(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHostKeyFirstContactNeedsNoPin: `danzen hostkey` works on a
// configuration whose source (or send-back target) has no pinned key yet,
// which is the state the validation error sends a person to it in; a
// cycle still refuses that configuration.
func TestHostKeyFirstContactNeedsNoPin(t *testing.T) {
	srv := hostkeytest.Start(t)
	bin := build(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.json")
	writeConfig(t, cfgPath, handWritten(dir, srv.Port))

	out, code := run(t, bin, "pull", "--config", cfgPath)
	if code != 1 || !strings.Contains(out, "sources[0].known_hosts") || !strings.Contains(out, "danzen hostkey") {
		t.Fatalf("pull on an unpinned source: exit %d, want 1 naming the missing pin and the command:\n%s", code, out)
	}
	out, code = run(t, bin, "hostkey", "--config", cfgPath, "--source", "emr")
	if code != 0 || !strings.Contains(out, srv.Fingerprint()) || strings.Contains(out, "CHANGED") {
		t.Fatalf("hostkey on an unpinned source: exit %d, want 0 showing %s as a first contact:\n%s", code, srv.Fingerprint(), out)
	}
	// While danzend holds the ledger (and owns the file), nothing is
	// written and the page is named instead.
	held, err := ledger.Open(filepath.Join(dir, "ledger"))
	if err != nil {
		t.Fatal(err)
	}
	out, code = run(t, bin, "hostkey", "--config", cfgPath, "--source", "emr", "--accept", srv.Fingerprint())
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if code != 1 || !strings.Contains(out, "Fetch host key") || readFile(t, cfgPath) != handWritten(dir, srv.Port) {
		t.Fatalf("hostkey --accept beside a held ledger: exit %d, want 1 naming the page and the file untouched:\n%s", code, out)
	}
	if out, code = run(t, bin, "hostkey", "--config", cfgPath, "--source", "emr", "--accept", srv.Fingerprint()); code != 0 {
		t.Fatalf("hostkey --accept on an unpinned source: exit %d:\n%s", code, out)
	}
	out, code = run(t, bin, "hostkey", "--config", cfgPath, "--target", "back", "--accept", srv.Fingerprint())
	if code != 0 {
		t.Fatalf("hostkey --target --accept: exit %d:\n%s", code, out)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("both accounts pinned, the configuration must load strictly: %v", err)
	}
	if got := cfg.Sources[0].KnownHosts; len(got) != 1 || got[0] != srv.KnownHostsLine() {
		t.Fatalf("source pins %q, want [%s]", got, srv.KnownHostsLine())
	}
	if got := cfg.Restore.Targets[0].KnownHosts; len(got) != 1 || got[0] != srv.KnownHostsLine() {
		t.Fatalf("target pins %q, want [%s]", got, srv.KnownHostsLine())
	}
	pins, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindHostKeyPinned}})
	if err != nil || len(pins) != 2 {
		t.Fatalf("want 2 pins in the ledger, got %d (%v)", len(pins), err)
	}
	for i, want := range []ledger.HostKeyPinnedData{{Source: "emr"}, {Target: "back"}} {
		d, err := ledger.Decode[ledger.HostKeyPinnedData](pins[i])
		if err != nil || d.Source != want.Source || d.Target != want.Target || d.Fingerprint != srv.Fingerprint() || !strings.HasPrefix(pins[i].Actor, "cli:") {
			t.Errorf("pin %d: %+v by %q (%v)", i, d, pins[i].Actor, err)
		}
	}
}

// TestHostKeyAcceptWritesOnlyTheKeyList: `hostkey --accept` changes the
// account's key list in the file and nothing else: no default is filled
// in, the layout stays, and the file it replaced is kept for undo.
func TestHostKeyAcceptWritesOnlyTheKeyList(t *testing.T) {
	srv := hostkeytest.Start(t)
	bin := build(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.json")
	orig := handWritten(dir, srv.Port)
	writeConfig(t, cfgPath, orig)
	if out, code := run(t, bin, "hostkey", "--config", cfgPath, "--source", "emr", "--accept", srv.Fingerprint()); code != 0 {
		t.Fatalf("hostkey --accept: exit %d:\n%s", code, out)
	}
	want := strings.Replace(orig, `"export_dir": "/export"`,
		`"export_dir": "/export",`+"\n      "+`"known_hosts": [`+"\n        "+quoted(t, srv.KnownHostsLine())+"\n      ]", 1)
	if got := readFile(t, cfgPath); got != want {
		t.Fatalf("the file after --accept:\n%s\nwant only the key list added:\n%s", got, want)
	}
	if got := readFile(t, cfgPath+".prev"); got != orig {
		t.Fatalf("config.json.prev is not the file as it was:\n%s", got)
	}
	if fi, err := os.Stat(cfgPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the configuration's mode after --accept: %v %v", fi.Mode(), err)
	}

	// A key list already there is replaced where it stands.
	before := readFile(t, cfgPath)
	old := srv.KnownHostsLine()
	srv.Swap(hostkeytest.NewKey(t))
	if out, code := run(t, bin, "hostkey", "--config", cfgPath, "--source", "emr", "--accept", srv.Fingerprint()); code != 0 {
		t.Fatalf("hostkey --accept of a changed key: exit %d:\n%s", code, out)
	}
	if got, want := readFile(t, cfgPath), strings.Replace(before, quoted(t, old), quoted(t, srv.KnownHostsLine()), 1); got != want {
		t.Fatalf("the file after replacing the key:\n%s\nwant:\n%s", got, want)
	}
}

// TestHostKeyChangeIsShownAsChanged: a server offering a key other than
// the pinned one is never shown as a first contact: the CLI says CHANGED
// with the pinned and the offered fingerprints and when the pinned one
// was pinned (from the ledger, in the configured zone).
func TestHostKeyChangeIsShownAsChanged(t *testing.T) {
	srv := hostkeytest.Start(t)
	bin := build(t)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	src := config.DefaultSource()
	src.Name, src.Host, src.Port, src.User, src.KeyFile, src.ExportDir = "emr", "127.0.0.1", srv.Port, "danzen-pull", "emr.key", "/export"
	src.KnownHosts = []string{srv.KnownHostsLine()}
	cfg.Sources = []config.Source{src}
	cfgPath := filepath.Join(dir, "config.json")
	if err := config.Save(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}
	pinnedAt := time.Date(2025, 4, 1, 1, 2, 3, 0, time.UTC) // 10:02:03 in Asia/Tokyo
	l, err := ledger.OpenWith(cfg.LedgerDir, ledger.Options{Now: func() time.Time { return pinnedAt }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), ledger.Entry{Kind: ledger.KindHostKeyPinned, Actor: "vendor",
		Payload: ledger.HostKeyPinnedData{Source: "emr", Host: srv.Addr, Fingerprint: srv.Fingerprint(), Type: srv.Public().Type()}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	pinned := srv.Fingerprint()
	srv.Swap(hostkeytest.NewKey(t))

	out, code := run(t, bin, "hostkey", "--config", cfgPath, "--source", "emr")
	if code != 0 {
		t.Fatalf("hostkey: exit %d:\n%s", code, out)
	}
	for _, want := range []string{"CHANGED", "変更", pinned, srv.Fingerprint(), "2025-04-01 10:02:03"} {
		if !strings.Contains(out, want) {
			t.Errorf("hostkey on a changed key does not say %q:\n%s", want, out)
		}
	}
}

// TestHostKeyRotationRefusesTheRetiredKey: accepting a changed key
// replaces the pinned one (the ledger records who retired which key for
// which), so an impostor presenting the retired key on the same address
// afterwards is refused and nothing is written.
func TestHostKeyRotationRefusesTheRetiredKey(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sshd, which needs root: make test runs it, -short skips it")
	}
	srv := startSSHD(t)
	if err := srv.WriteFile("dump.dmp", []byte("patient records"), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	bin := build(t)
	cfg, cfgPath := sshdConfig(t, srv, t.TempDir(), func(src *config.Source) {
		src.Completion.StableFor = config.Duration(time.Second) // the file is old: no need to watch it for a minute
	})
	hostKey := filepath.Join(srv.Dir, "etc", "host_key")
	retired := readFile(t, hostKey)
	retiredFP := fingerprintOf(t, hostKey)

	// The server is rebuilt with a new key; the vendor compares it and
	// accepts it.
	if err := srv.Restart(true); err != nil {
		t.Fatal(err)
	}
	current := readFile(t, hostKey)
	newFP := fingerprintOf(t, hostKey)
	out, code := run(t, bin, "hostkey", "--config", cfgPath, "--source", "emr", "--accept", newFP)
	if code != 0 {
		t.Fatalf("hostkey --accept: exit %d:\n%s", code, out)
	}
	after, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Sources[0].KnownHosts; len(got) != 1 || !strings.Contains(got[0], publicKeyOf(t, hostKey)) {
		t.Errorf("after rotation the source pins %q, want only the new key", got)
	}
	rep, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindHostKeyReplaced}})
	if err != nil || len(rep) != 1 {
		t.Errorf("want one hostkey.replaced entry, got %d (%v)", len(rep), err)
	} else if d, err := ledger.Decode[ledger.HostKeyReplacedData](rep[0]); err != nil || d.Source != "emr" || d.Retired != retiredFP ||
		d.Fingerprint != newFP || d.Host != srv.Addr() || !strings.HasPrefix(rep[0].Actor, "cli:") {
		t.Errorf("hostkey.replaced: %+v by %q (%v)", d, rep[0].Actor, err)
	}

	// An impostor on the same address presents the retired key.
	swapHostKey(t, srv, hostKey, retired)
	out, code = run(t, bin, "pull", "--config", cfgPath)
	if code == 0 || !strings.Contains(out, "CHANGED") {
		t.Fatalf("a pull from a server presenting the retired key: exit %d, want a refusal naming the changed key:\n%s", code, out)
	}
	if files := stagedFiles(t, cfg.StagingDir); len(files) != 0 {
		t.Fatalf("the refused pull wrote %q", files)
	}
	// The real server again: the pull works, so the refusal was the key.
	swapHostKey(t, srv, hostKey, current)
	if out, code := run(t, bin, "pull", "--config", cfgPath); code != 0 {
		t.Fatalf("pull from the rotated server: exit %d:\n%s", code, out)
	}
}

// startSSHD starts a real OpenSSH sshd for the test's length.
func startSSHD(t *testing.T) *sshdtest.Server { return sshdtest.Run(t, sshdtest.Options{}) }

// sshdConfig saves a configuration in dir whose one source, emr, pulls
// from srv with its client key in secrets, as the page and validation
// want it; adjust changes the source first. It returns the configuration
// and its file.
func sshdConfig(t *testing.T, srv *sshdtest.Server, dir string, adjust func(*config.Source)) (*config.Config, string) {
	t.Helper()
	cfg := config.Default()
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	src := srv.Source("emr")
	if err := os.MkdirAll(cfg.SecretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	src.KeyFile = "emr.key"
	writeConfig(t, filepath.Join(cfg.SecretsDir, src.KeyFile), readFile(t, srv.ClientKeyFile))
	adjust(&src)
	cfg.Sources = []config.Source{src}
	cfgPath := filepath.Join(dir, "config.json")
	if err := config.Save(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}
	return cfg, cfgPath
}

func swapHostKey(t *testing.T, srv *sshdtest.Server, path, pem string) {
	t.Helper()
	writeConfig(t, path, pem)
	signer, err := ssh.ParsePrivateKey([]byte(pem))
	if err != nil {
		t.Fatal(err)
	}
	writeConfig(t, path+".pub", string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	if err := srv.Restart(false); err != nil {
		t.Fatal(err)
	}
}

func publicKeyOf(t *testing.T, path string) string {
	t.Helper()
	signer, err := ssh.ParsePrivateKey([]byte(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
}

func fingerprintOf(t *testing.T, path string) string {
	t.Helper()
	signer, err := ssh.ParsePrivateKey([]byte(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	return ssh.FingerprintSHA256(signer.PublicKey())
}

// stagedFiles lists every regular file below dir.
func stagedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
