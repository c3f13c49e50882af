package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

var (
	running = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	newer   = running.Add(24 * time.Hour)
)

func key(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func src(name string, data []byte) Source {
	return Source{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

var (
	rootData = bytes.Repeat([]byte("root"), 100000)
	bootData = bytes.Repeat([]byte("boot"), 5000)
)

func build(t *testing.T, priv ed25519.PrivateKey, arch string, at time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, priv, arch, at, []Source{src(Root, rootData), src(Boot, bootData)}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readAll opens the bundle and reads every part, as the gateway does.
func readAll(data []byte, p Policy) (map[string][]byte, error) {
	r, err := Open(bytes.NewReader(data), p)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for {
		part, rd, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		b, err := io.ReadAll(rd)
		if err != nil {
			return out, err
		}
		out[part.Name] = b
	}
}

func TestSignedBundleIsAccepted(t *testing.T) {
	pub, priv := key(t)
	parts, err := readAll(build(t, priv, "amd64", newer), Policy{Key: pub, Arch: "amd64", Running: running})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(parts[Root], rootData) || !bytes.Equal(parts[Boot], bootData) {
		t.Fatalf("parts differ: root %d boot %d bytes", len(parts[Root]), len(parts[Boot]))
	}
}

func TestRefusals(t *testing.T) {
	pub, priv := key(t)
	_, otherPriv := key(t)
	good := build(t, priv, "amd64", newer)
	policy := Policy{Key: pub, Arch: "amd64", Running: running}
	// flip changes one byte at the offset of needle (in the tar stream).
	flip := func(needle []byte) []byte {
		b := bytes.Clone(good)
		i := bytes.Index(b, needle)
		if i < 0 {
			t.Fatalf("needle %q not in the bundle", needle)
		}
		b[i] ^= 1
		return b
	}
	unsigned := func() []byte { // a manifest, then the root straight away
		var b bytes.Buffer
		if err := Write(&b, priv, "amd64", newer, []Source{src(Root, rootData)}); err != nil {
			t.Fatal(err)
		}
		data := b.Bytes()
		// Rename manifest.sig so the second entry is not the signature.
		i := bytes.Index(data, []byte(sigName))
		copy(data[i:], "manifest.xxx")
		return data
	}
	for _, c := range []struct {
		name   string
		data   []byte
		policy Policy
		reason Reason
		en     string
	}{
		{"another key", build(t, otherPriv, "amd64", newer), policy, ReasonSignature, "not signed with this gateway's key " + KeyID(pub)},
		{"manifest altered", flip([]byte(`"amd64"`)), policy, ReasonSignature, "altered after signing"},
		{"root altered", flip(rootData[:64]), policy, ReasonPart, "root.squashfs differs from what was signed (SHA-256 mismatch)"},
		{"unsigned", unsigned(), policy, ReasonUnsigned, "not signed"},
		{"other board", build(t, priv, "arm64", newer), policy, ReasonArch, "is for arm64; this gateway is amd64"},
		{"same build", build(t, priv, "amd64", running), policy, ReasonOlder, "not newer than the running build"},
		{"older build", build(t, priv, "amd64", running.Add(-time.Hour)), policy, ReasonOlder, "going back to an older build is refused"},
		{"no key pinned", good, Policy{Arch: "amd64", Running: running}, ReasonSignature, "no update signing key pinned"},
		{"not a bundle", []byte(strings.Repeat("x", 2048)), policy, ReasonMalformed, "not an update bundle"},
		{"truncated", good[:len(good)/2], policy, ReasonMalformed, "damaged (root.squashfs: unexpected EOF)"},
	} {
		_, err := readAll(c.data, c.policy)
		var e *Error
		if !errors.As(err, &e) || e.Reason != c.reason || !strings.Contains(msg.In(err, msg.EN), c.en) || msg.In(err, msg.JA) == msg.In(err, msg.EN) {
			t.Errorf("%s: %v; want reason %s saying %q in both languages", c.name, err, c.reason, c.en)
		}
	}
}
