package hostkey_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/hostkey"
	"github.com/danzen-gw/danzen/internal/hostkey/hostkeytest"
)

// A server with an ed25519 and an ECDSA key, whose ECDSA key was pinned
// by hand, is not shown as CHANGED: the fetch asks for the pinned type.
func TestFetchAsksForThePinnedKeyTypeFirst(t *testing.T) {
	srv := hostkeytest.Start(t)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	srv.AddKey(ec)
	pinned := []string{knownhosts.Line([]string{knownhosts.Normalize(srv.Addr)}, ec.PublicKey())}
	prefer := hostkey.PinnedAlgorithms(pinned)
	if len(prefer) != 1 || prefer[0] != ssh.KeyAlgoECDSA256 {
		t.Fatalf("PinnedAlgorithms = %v", prefer)
	}
	key, err := pull.FetchHostKey(t.Context(), "127.0.0.1", srv.Port, prefer...)
	if err != nil {
		t.Fatal(err)
	}
	o, err := hostkey.Compare(config.AccountRef{Kind: config.AccountSource, Name: "emr"}, "127.0.0.1", srv.Port, pinned, key)
	if err != nil {
		t.Fatal(err)
	}
	if o.State != hostkey.Pinned {
		t.Fatalf("the pinned ECDSA key reads as %v (offered %s)", o.State, key.Type())
	}
	// Without the preference the ed25519 key comes first: that is what a
	// false CHANGED looked like.
	if key, err := pull.FetchHostKey(t.Context(), "127.0.0.1", srv.Port); err != nil || key.Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("default preference: %v %v", key, err)
	}
}
