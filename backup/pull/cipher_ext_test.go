package pull_test

// The cipher choice seen from outside: what GODEBUG=cpu.aes=off does to
// it, and what OpenSSH negotiates (internal/sshdtest imports backup, so
// these cannot live in package pull).

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/internal/sshdtest"
)

// noAESEnv marks a test run re-executed under GODEBUG=cpu.aes=off.
const noAESEnv = "DANZEN_TEST_NO_AES"

// rerunWithoutAES runs test name again in a child with GODEBUG=cpu.aes=off,
// as the benchmarks' -no-aes mode does, and fails if the child fails. It
// is skipped where the CPU has no AES to switch off.
func rerunWithoutAES(t *testing.T, name string) {
	t.Helper()
	if pull.Ciphers()[0] != ssh.CipherAES128GCM {
		t.Log("this CPU has no AES instructions: the no-AES order is already in use")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GODEBUG=cpu.aes=off", noAESEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("under GODEBUG=cpu.aes=off: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("under GODEBUG=cpu.aes=off, %s did not run:\n%s", name, out)
	}
}

// TestAESOffFlipsOrder: GODEBUG=cpu.aes=off reaches x/sys/cpu, so this
// machine then offers what a Pi 4 offers.
func TestAESOffFlipsOrder(t *testing.T) {
	if os.Getenv(noAESEnv) == "1" {
		if got := pull.Ciphers(); got[0] != ssh.CipherChaCha20Poly1305 {
			t.Fatalf("GODEBUG=cpu.aes=off: order %q, want chacha20-poly1305 first", got)
		}
		return
	}
	rerunWithoutAES(t, "TestAESOffFlipsOrder")
}

// TestNegotiatedCipher: OpenSSH takes the client's first choice, with and
// without AES, and Conn.Cipher reports it.
func TestNegotiatedCipher(t *testing.T) {
	s := sshdtest.Run(t, sshdtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := s.Source("emr")
	c, err := pull.Connect(ctx, src, src.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}()
	want := pull.Ciphers()[0]
	if os.Getenv(noAESEnv) == "1" && want != ssh.CipherChaCha20Poly1305 {
		t.Fatalf("GODEBUG=cpu.aes=off offers %s first", want)
	}
	if got := c.Cipher(); got != want {
		t.Fatalf("negotiated %q, want %q", got, want)
	}
	if os.Getenv(noAESEnv) != "1" {
		rerunWithoutAES(t, "TestNegotiatedCipher")
	}
}
