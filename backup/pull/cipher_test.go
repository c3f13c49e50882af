package pull

import (
	"slices"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestCipherOrderFollowsCPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    cpuFeatures
		want string
	}{
		{"AES and carry-less multiply (amd64 mini PC, Pi 5)", cpuFeatures{AES: true, CarrylessMul: true}, ssh.CipherAES128GCM},
		{"no AES (Pi 4)", cpuFeatures{}, ssh.CipherChaCha20Poly1305},
		{"AES without carry-less multiply: GCM would be slow", cpuFeatures{AES: true}, ssh.CipherChaCha20Poly1305},
		{"carry-less multiply only", cpuFeatures{CarrylessMul: true}, ssh.CipherChaCha20Poly1305},
	} {
		got := cipherOrder(tc.f)
		if got[0] != tc.want {
			t.Errorf("%s: first cipher %s, want %s (order %q)", tc.name, got[0], tc.want, got)
		}
	}
	// Both orders offer the same ciphers, each one x/crypto supports, so
	// a server that lacks the first choice is still reached.
	fast, slow := cipherOrder(cpuFeatures{AES: true, CarrylessMul: true}), cipherOrder(cpuFeatures{})
	a, b := slices.Sorted(slices.Values(fast)), slices.Sorted(slices.Values(slow))
	if !slices.Equal(a, b) {
		t.Errorf("the orders offer different ciphers: %q and %q", fast, slow)
	}
	supported := ssh.SupportedAlgorithms().Ciphers
	for _, c := range fast {
		if !slices.Contains(supported, c) {
			t.Errorf("%s is not supported by x/crypto/ssh", c)
		}
	}
}
