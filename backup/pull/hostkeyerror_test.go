package pull

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/internal/msg"
)

// The refusal names the command that accepts the key, for a source and
// for a send-back target alike.
func TestHostKeyErrorNamesTheRightAccount(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	for flag, e := range map[string]*HostKeyError{
		"--source emr ":      {Source: "emr", Address: "10.0.0.5:22", Offered: key, Fingerprint: ssh.FingerprintSHA256(key)},
		"--target emr-back ": {Source: "emr-back", Target: true, Address: "10.0.0.6:22", Offered: key, Fingerprint: ssh.FingerprintSHA256(key), Changed: true},
	} {
		for _, l := range []msg.Lang{msg.JA, msg.EN} {
			if got := e.Localize(l); !strings.Contains(got, "danzen hostkey --config FILE "+flag+"--accept "+e.Fingerprint) {
				t.Errorf("%v: %q lacks %q", l, got, flag)
			}
		}
	}
}
