// Package bundle is a signed update of the appliance: the root and boot
// file systems the image builder made, with a manifest signed by the
// vendor's ed25519 key. The gateway takes an update only as a bundle that
// this package has verified against the key pinned in its image, so that
// a foothold on the hospital LAN (a sniffed password, a stolen session)
// cannot install a root of its own.
//
// A bundle is a tar stream, in this order: manifest.json, manifest.sig
// (the 64-byte ed25519 signature of manifest.json's bytes), then each part
// the manifest lists, in its order. The manifest names every part's size
// and SHA-256, so each part is checked while it streams to where it is
// written, before anything is switched.
package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Format is the manifest format this package writes and reads.
const Format = 1

const (
	manifestName = "manifest.json"
	sigName      = "manifest.sig"
	maxManifest  = 64 << 10
)

// Part names.
const (
	Root = "root.squashfs" // the root file system, written to the inactive root partition
	Boot = "boot.img"      // the boot (FAT) partition
	MBR  = "mbr.img"       // the MBR boot code (amd64 legacy boot), optional
)

// Manifest says what a bundle holds and for which gateway.
type Manifest struct {
	Format int    `json:"format"`
	Arch   string `json:"arch"` // GOARCH of the image: amd64, arm64
	// Build is the image's build timestamp: a gateway refuses a build that
	// is not newer than the one it runs (no downgrade to a known-bad root).
	Build time.Time `json:"build"`
	// Key is the fingerprint of the public key that signs the bundle
	// (KeyID), so that a refusal can name the key that was expected.
	Key   string `json:"key"`
	Parts []Part `json:"parts"`
}

// Part is one file system of the bundle.
type Part struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// KeyID is a public key's fingerprint as the page shows it: "SHA256:"
// and the hex SHA-256 of the raw key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

// Source is one part to write into a bundle.
type Source struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// Write writes a bundle of parts for arch and build, signed with key. Each
// part is read twice: once to hash it for the manifest, once to copy it.
func Write(w io.Writer, key ed25519.PrivateKey, arch string, build time.Time, parts []Source) error {
	m := Manifest{Format: Format, Arch: arch, Build: build.UTC(), Key: KeyID(key.Public().(ed25519.PublicKey))}
	for _, p := range parts {
		size, sum, err := digest(p)
		if err != nil {
			return fmt.Errorf("bundle: hashing %s: %w", p.Name, err)
		}
		m.Parts = append(m.Parts, Part{Name: p.Name, Size: size, SHA256: sum})
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	if err := addFile(tw, manifestName, bytes.NewReader(mb), int64(len(mb))); err != nil {
		return err
	}
	sig := ed25519.Sign(key, mb)
	if err := addFile(tw, sigName, bytes.NewReader(sig), int64(len(sig))); err != nil {
		return err
	}
	for i, p := range parts {
		rc, err := p.Open()
		if err != nil {
			return err
		}
		err = addFile(tw, p.Name, rc, m.Parts[i].Size)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("bundle: writing %s: %w", p.Name, err)
		}
	}
	return tw.Close()
}

func digest(p Source) (int64, string, error) {
	rc, err := p.Open()
	if err != nil {
		return 0, "", err
	}
	h := sha256.New()
	n, err := io.Copy(h, rc)
	// Read-only: closing cannot change what was hashed.
	_ = rc.Close()
	return n, hex.EncodeToString(h.Sum(nil)), err
}

func addFile(tw *tar.Writer, name string, r io.Reader, size int64) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	n, err := io.Copy(tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("%s changed while it was written: %d bytes, %d expected", name, n, size)
	}
	return err
}

// Policy is what the running gateway accepts.
type Policy struct {
	Key     ed25519.PublicKey // the vendor's key pinned in the running image
	Arch    string            // the running image's GOARCH
	Running time.Time         // the running image's build timestamp
}

// Reason names why a bundle was refused, for the ledger and the page.
type Reason string

// Reasons.
const (
	ReasonMalformed Reason = "malformed" // not a bundle, or damaged
	ReasonUnsigned  Reason = "unsigned"  // no signature
	ReasonSignature Reason = "signature" // signed by another key, or altered after signing
	ReasonArch      Reason = "arch"      // built for another board
	ReasonOlder     Reason = "older"     // not newer than what runs
	ReasonPart      Reason = "part"      // a part differs from its manifest line
)

// Error is a refusal: why, in both languages, and the Reason.
type Error struct {
	Reason Reason
	Text   msg.Text
}

func (e *Error) Error() string { return e.Text.String() }

// Localize renders the refusal in l.
func (e *Error) Localize(l msg.Lang) string { return e.Text.Localize(l) }

// Is matches an *Error of the same Reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason
}

func refuse(r Reason, t msg.Text) *Error { return &Error{Reason: r, Text: t} }

func malformed(err error) *Error {
	return refuse(ReasonMalformed, msg.Sprintf("更新ファイルが壊れているか、更新ファイルではありません(%v)", "not an update bundle, or damaged (%v)", err))
}

// Reader reads a bundle whose manifest has been verified; Next hands out
// each part as a reader that fails at its end unless the part matched its
// manifest line.
type Reader struct {
	Manifest Manifest
	tr       *tar.Reader
	next     int
}

// Open reads and verifies the manifest of the bundle on r against p:
// the signature with p.Key, the architecture, and that the build is newer
// than the running one. Nothing of the parts has been read yet.
func Open(r io.Reader, p Policy) (*Reader, error) {
	tr := tar.NewReader(r)
	mb, err := readSmall(tr, manifestName)
	if err != nil {
		return nil, err
	}
	sig, err := readSmall(tr, sigName)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Reason == ReasonMalformed {
			return nil, refuse(ReasonUnsigned, msg.T("更新ファイルに署名がありません。ベンダが署名した更新ファイルだけを受け付けます",
				"the update bundle is not signed: only bundles signed by the vendor are accepted"))
		}
		return nil, err
	}
	if len(p.Key) != ed25519.PublicKeySize {
		return nil, refuse(ReasonSignature, msg.T("このゲートウェイには更新の署名鍵が登録されていません。イメージを作り直してください",
			"this gateway has no update signing key pinned: rebuild its image with one"))
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(p.Key, mb, sig) {
		return nil, refuse(ReasonSignature, msg.Sprintf("更新ファイルの署名が正しくありません(このゲートウェイの鍵 %s で署名されていないか、署名後に改変されています)",
			"the update bundle's signature does not verify: it was not signed with this gateway's key %s, or it was altered after signing", KeyID(p.Key)))
	}
	var m Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, malformed(err)
	}
	if m.Format != Format {
		return nil, malformed(fmt.Errorf("manifest format %d, want %d", m.Format, Format))
	}
	if m.Arch != p.Arch {
		return nil, refuse(ReasonArch, msg.Sprintf("更新ファイルは %s 用です。このゲートウェイは %s です", "the update bundle is for %s; this gateway is %s", m.Arch, p.Arch))
	}
	if !m.Build.After(p.Running) {
		return nil, refuse(ReasonOlder, msg.Sprintf("更新ファイルのビルド %s は、動作中のビルド %s より新しくありません。古いビルドへは戻せません",
			"the update bundle's build %s is not newer than the running build %s: going back to an older build is refused",
			m.Build.Format(time.RFC3339), p.Running.UTC().Format(time.RFC3339)))
	}
	if len(m.Parts) == 0 {
		return nil, malformed(errors.New("no parts"))
	}
	return &Reader{Manifest: m, tr: tr}, nil
}

func readSmall(tr *tar.Reader, name string) ([]byte, error) {
	h, err := tr.Next()
	if err != nil {
		return nil, malformed(err)
	}
	if h.Name != name || h.Size > maxManifest {
		return nil, malformed(fmt.Errorf("%s where %s was expected", h.Name, name))
	}
	return io.ReadAll(tr)
}

// Next returns the next part and a reader of its bytes, io.EOF after the
// last. The reader returns an *Error (ReasonPart) instead of io.EOF when
// the part's size or SHA-256 differs from the manifest: the caller must
// read it to its end and switch to nothing it wrote until then.
func (r *Reader) Next() (Part, io.Reader, error) {
	if r.next == len(r.Manifest.Parts) {
		return Part{}, nil, io.EOF
	}
	p := r.Manifest.Parts[r.next]
	r.next++
	h, err := r.tr.Next()
	if err != nil {
		return p, nil, malformed(err)
	}
	if h.Name != p.Name || h.Size != p.Size {
		return p, nil, refuse(ReasonPart, msg.Sprintf("更新ファイルの %s が署名された内容と違います", "the update bundle's %s differs from what was signed", p.Name))
	}
	return p, &checked{r: r.tr, p: p, h: sha256.New()}, nil
}

// checked hashes a part while it is read and judges it at its end.
type checked struct {
	r io.Reader
	p Part
	h hash.Hash
	n int64
}

func (c *checked) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.h.Write(b[:n])
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, malformed(fmt.Errorf("%s: %w", c.p.Name, err))
	}
	if errors.Is(err, io.EOF) && (c.n != c.p.Size || hex.EncodeToString(c.h.Sum(nil)) != c.p.SHA256) {
		return n, refuse(ReasonPart, msg.Sprintf("更新ファイルの %s が署名された内容と違います(SHA-256 不一致)", "the update bundle's %s differs from what was signed (SHA-256 mismatch)", c.p.Name))
	}
	return n, err
}
