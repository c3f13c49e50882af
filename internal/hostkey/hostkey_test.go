package hostkey

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
)

func newKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func line(addr string, k ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, k)
}

var emr = config.AccountRef{Kind: config.AccountSource, Name: "emr"}

// TestChangedKeyIsNeverAFirstPin: a key other than the one pinned for the
// address is Changed and accepting it retires every key pinned there
// (also one a hashed line pins); lines for other addresses stay; an
// address with nothing pinned is a first contact; the pinned key is
// Pinned, and accepting it retires others left beside it.
func TestChangedKeyIsNeverAFirstPin(t *testing.T) {
	const addr = "10.0.0.5:2222"
	old, offered, elsewhere := newKey(t), newKey(t), newKey(t)
	hashed := knownhosts.HashHostname(knownhosts.Normalize(addr)) + " " + string(ssh.MarshalAuthorizedKey(old))[:len(ssh.MarshalAuthorizedKey(old))-1]
	other := line("10.0.0.6:22", elsewhere)
	pinned := []string{other, line(addr, old), hashed, line(addr, offered)} // today's state: old and new side by side

	accepted := []string{other, line(addr, offered)}
	o, err := Compare(emr, "10.0.0.5", 2222, pinned[:3], offered)
	if err != nil {
		t.Fatal(err)
	}
	if o.State != Changed || len(o.Retired) != 2 || o.Retired[0].Fingerprint != ssh.FingerprintSHA256(old) || o.Unchanged() {
		t.Fatalf("%+v, want Changed retiring the old key twice (plain and hashed line)", o)
	}
	if !slices.Equal(o.Accepted(), accepted) {
		t.Fatalf("accepted %q, want %q", o.Accepted(), accepted)
	}
	// Accepting again where an earlier rotation left the old key beside
	// the new one retires the old.
	o, err = Compare(emr, "10.0.0.5", 2222, pinned, offered)
	if err != nil || o.State != Pinned || len(o.Retired) != 2 || o.Unchanged() || !slices.Equal(o.Accepted(), accepted) {
		t.Fatalf("old and new side by side: %+v %v", o, err)
	}
	o, err = Compare(emr, "10.0.0.5", 2222, accepted, offered)
	if err != nil || o.State != Pinned || !o.Unchanged() || !slices.Equal(o.Accepted(), accepted) {
		t.Fatalf("after accepting: %+v %v", o, err)
	}
	o, err = Compare(emr, "10.0.0.5", 2222, []string{other}, offered)
	if err != nil || o.State != First || len(o.Retired) != 0 || !slices.Equal(o.Accepted(), []string{other, line(addr, offered)}) {
		t.Fatalf("first contact: %+v %v", o, err)
	}
}

// TestEntriesRecordTheRetiredKey: accepting a changed key records one
// hostkey.replaced per retired key, with when it had been pinned (from
// the ledger's last pin of it for the same account).
func TestEntriesRecordTheRetiredKey(t *testing.T) {
	const addr = "10.0.0.5:22"
	old, offered := newKey(t), newKey(t)
	dir := t.TempDir()
	at := time.Date(2025, 4, 1, 1, 2, 3, 0, time.UTC)
	l, err := ledger.OpenWith(dir, ledger.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []ledger.HostKeyPinnedData{
		{Source: "other", Host: addr, Fingerprint: ssh.FingerprintSHA256(old)}, // another source: not this pin
		{Source: "emr", Host: addr, Fingerprint: ssh.FingerprintSHA256(old)},
	} {
		if _, err := l.Append(context.Background(), ledger.Entry{Kind: ledger.KindHostKeyPinned, Payload: d}); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Hour)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	o, err := Compare(emr, "10.0.0.5", 22, []string{line(addr, old)}, offered)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.ReadPinTimes(dir); err != nil {
		t.Fatal(err)
	}
	es := o.Entries("admin")
	if len(es) != 1 || es[0].Kind != ledger.KindHostKeyReplaced || es[0].Actor != "admin" {
		t.Fatalf("entries %+v", es)
	}
	d := es[0].Payload.(ledger.HostKeyReplacedData)
	want := ledger.HostKeyReplacedData{Source: "emr", Host: addr, Retired: ssh.FingerprintSHA256(old), RetiredType: old.Type(),
		PinnedAt: time.Date(2025, 4, 1, 2, 2, 3, 0, time.UTC), Fingerprint: ssh.FingerprintSHA256(offered), Type: offered.Type()}
	if d != want {
		t.Fatalf("replaced %+v\nwant %+v", d, want)
	}
	back := config.AccountRef{Kind: config.AccountTarget, Name: "back"}
	o, err = Compare(back, "10.0.0.5", 22, nil, offered)
	if err != nil {
		t.Fatal(err)
	}
	es = o.Entries("cli:root")
	if p, ok := es[0].Payload.(ledger.HostKeyPinnedData); len(es) != 1 || !ok || p.Target != "back" || p.Source != "" {
		t.Fatalf("first pin of a target: %+v", es)
	}
}
