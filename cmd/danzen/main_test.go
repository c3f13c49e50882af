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

func run(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
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
	for _, s := range []string{"transferred: 51 files", "added", "ledger verification: OK", "result: OK",
		"drill", "verified 51/51 files", "restic check --read-data: OK"} {
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
	os.WriteFile(bad, []byte(`{"version":1,"gateway_id":"gw","staging_dir":"relative"}`), 0o600)
	out, code = run(t, bin, "pull", "--config", bad)
	if code != 1 || !strings.Contains(out, "staging_dir") || !strings.Contains(out, "絶対パス") {
		t.Fatalf("invalid config: exit %d\n%s", code, out)
	}
	if out, code := run(t, bin, "frobnicate"); code != 2 || !strings.Contains(out, "usage") {
		t.Fatalf("unknown command: exit %d\n%s", code, out)
	}
}
