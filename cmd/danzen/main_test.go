package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "danzen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// run runs the CLI in the C locale, which says everything in both
// languages, Japanese first.
func run(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	return runIn(t, "C", bin, args...)
}

// runIn runs the CLI with LANG=locale (and no LC_ALL or LC_MESSAGES).
func runIn(t *testing.T, locale, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "LC_ALL=") && !strings.HasPrefix(kv, "LC_MESSAGES=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "LANG="+locale)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

// TestDemoThenLedgerVerify runs what `make demo` runs (smaller), then
// checks the ledger it left with the CLI, and that tampering is caught.
func TestDemoThenLedgerVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo (root, loop devices, sshd, restic): make test runs it, -short skips it")
	}
	if os.Getenv("DANZEN_RESTIC") == "" {
		t.Fatal("DANZEN_RESTIC is not set: run make test, which builds bin/restic")
	}
	bin := build(t)
	dir := t.TempDir()
	out, code := run(t, bin, "demo", "--once", "--dir", dir, "--dump-size", "20MB", "--small-files", "50")
	if code != 0 {
		t.Fatalf("demo exited %d:\n%s", code, out)
	}
	if n := strings.Count(out, "cut verified"); n != 7 { // 2 preparations + 2 cycles × 2 disks + 1 drill
		t.Fatalf("%d verified cuts in the demo output, want 7:\n%s", n, out)
	}
	// 52 files: the dump, 50 small files and the done-marker, part of the export.
	for _, s := range []string{"transferred: 52 files", "added", "ledger verification: OK", "result: OK",
		"drill", "verified 52/52 files", "restic check --read-data: OK"} {
		if !strings.Contains(out, s) {
			t.Fatalf("demo output lacks %q:\n%s", s, out)
		}
	}
	ledgerDir := filepath.Join(dir, "ledger")
	if out, code := run(t, bin, "ledger", "verify", "--dir", ledgerDir); code != 0 {
		t.Fatalf("ledger verify exited %d:\n%s", code, out)
	}
	p := filepath.Join(ledgerDir, "ledger.jsonl")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(raw, []byte("\n"))
	mid := len(lines) / 2
	lines[mid] = bytes.Replace(lines[mid], []byte(`"kind":"`), []byte(`"kind":"x`), 1)
	if err := os.WriteFile(p, bytes.Join(lines, []byte("\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code = run(t, bin, "ledger", "verify", "--dir", ledgerDir)
	if code == 0 || !strings.Contains(out, "seq") {
		t.Fatalf("tampered ledger passed (exit %d):\n%s", code, out)
	}
}

func TestBadInvocationsSayWhatIsWrong(t *testing.T) {
	bin := build(t)
	if out, code := run(t, bin, "backup", "--config", "x.json"); code != 2 || !strings.Contains(out, "--once") {
		t.Fatalf("backup without --once: exit %d\n%s", code, out)
	}
	out, code := run(t, bin, "pull", "--config", filepath.Join(t.TempDir(), "missing.json"))
	if code != 1 || !strings.Contains(out, "設定ファイル") || !strings.Contains(out, "does not exist") {
		t.Fatalf("missing config: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version":1,"gateway_id":"gw","staging_dir":"relative"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code = run(t, bin, "pull", "--config", bad)
	if code != 1 || !strings.Contains(out, "staging_dir") || !strings.Contains(out, "絶対パス") {
		t.Fatalf("invalid config: exit %d\n%s", code, out)
	}
	if out, code := run(t, bin, "frobnicate"); code != 2 || !strings.Contains(out, "usage") {
		t.Fatalf("unknown command: exit %d\n%s", code, out)
	}
}

// TestLanguageOfTheOutput: --lang, else LANG, picks one language for
// everything the CLI says (its errors, the usage table); the C locale and
// --lang both say both, Japanese first.
func TestLanguageOfTheOutput(t *testing.T) {
	bin := build(t)
	restore := []string{"restore"} // without --medium
	for _, c := range []struct {
		locale string
		args   []string
		want   []string
		not    []string
	}{
		{"C", restore, []string{"--medium を指定してください / --medium is required"}, nil},
		{"", restore, []string{"--medium を指定してください / --medium is required"}, nil},
		{"ja_JP.UTF-8", restore, []string{"--medium を指定してください"}, []string{"required"}},
		{"en_US.UTF-8", restore, []string{"--medium is required"}, []string{"指定"}},
		{"ja_JP.UTF-8", append([]string{"--lang", "en"}, restore...), []string{"--medium is required"}, []string{"指定"}},
		{"en_US.UTF-8", append([]string{"--lang", "ja"}, restore...), []string{"--medium を指定してください"}, []string{"required"}},
		{"en_US.UTF-8", append([]string{"--lang", "both"}, restore...), []string{"--medium を指定してください / --medium is required"}, nil},
		{"ja_JP.UTF-8", []string{"frobnicate"}, []string{"usage: danzen [--lang ja|en|both]", "証跡台帳の検証"}, []string{"verify the evidence ledger"}},
		{"en_US.UTF-8", []string{"frobnicate"}, []string{"usage: danzen [--lang ja|en|both]", "verify the evidence ledger"}, []string{"証跡台帳の検証"}},
	} {
		out, code := runIn(t, c.locale, bin, c.args...)
		if code == 0 {
			t.Errorf("LANG=%s danzen %v succeeded", c.locale, c.args)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("LANG=%s danzen %v does not say %q:\n%s", c.locale, c.args, w, out)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out, n) {
				t.Errorf("LANG=%s danzen %v says %q, which is the other language:\n%s", c.locale, c.args, n, out)
			}
		}
	}
	if out, code := run(t, bin, "--lang", "fr", "pull"); code != 2 || !strings.Contains(out, "fr") {
		t.Errorf("--lang fr: exit %d\n%s", code, out)
	}
}
