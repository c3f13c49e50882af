package sysupdate

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/bundle"
)

// fakeGokrazy serves gokrazy's update handlers on a unix socket as the
// device does: each PUT is written and answered with its SHA-256; switch
// and reboot are counted.
type fakeGokrazy struct {
	mu       sync.Mutex
	written  map[string][]byte
	switched int
}

func startFake(t *testing.T) (*fakeGokrazy, string) {
	t.Helper()
	f := &fakeGokrazy{written: map[string][]byte{}}
	sock := filepath.Join(t.TempDir(), "gokrazy.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, dest := range []string{"root", "boot", "mbr"} {
		mux.HandleFunc("PUT /update/"+dest, func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			f.mu.Lock()
			f.written[dest] = b
			f.mu.Unlock()
			sum := sha256.Sum256(b)
			_, _ = io.WriteString(w, hex.EncodeToString(sum[:]))
		})
	}
	mux.HandleFunc("POST /update/switch", func(http.ResponseWriter, *http.Request) {
		f.mu.Lock()
		f.switched++
		f.mu.Unlock()
	})
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f, sock
}

func TestApply(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	running := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	info := ImageInfo{Arch: "amd64", Build: running, UpdateKey: base64.StdEncoding.EncodeToString(pub)}
	path := filepath.Join(t.TempDir(), "image.json")
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o444); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadImageInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := loaded.Policy()
	if err != nil || !bytes.Equal(p.Key, pub) {
		t.Fatalf("policy %+v, %v", p, err)
	}
	root, boot := bytes.Repeat([]byte{1, 2, 3}, 300000), bytes.Repeat([]byte{9}, 40000)
	var bun bytes.Buffer
	src := func(name string, data []byte) bundle.Source {
		return bundle.Source{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	}
	if err := bundle.Write(&bun, priv, "amd64", running.Add(time.Hour), []bundle.Source{src(bundle.Root, root), src(bundle.Boot, boot)}); err != nil {
		t.Fatal(err)
	}
	good := bun.Bytes()

	t.Run("signed", func(t *testing.T) {
		f, sock := startFake(t)
		m, err := Apply(context.Background(), bytes.NewReader(good), p, UnixDevice(sock))
		if err != nil {
			t.Fatal(err)
		}
		if !m.Build.Equal(running.Add(time.Hour)) || f.switched != 1 || !bytes.Equal(f.written["root"], root) || !bytes.Equal(f.written["boot"], boot) {
			t.Fatalf("manifest %+v, switched %d, root %d bytes, boot %d bytes", m, f.switched, len(f.written["root"]), len(f.written["boot"]))
		}
	})
	t.Run("root altered in transit", func(t *testing.T) {
		f, sock := startFake(t)
		bad := bytes.Clone(good)
		i := bytes.Index(bad, root[:600])
		bad[i+500] ^= 0xff
		_, err := Apply(context.Background(), bytes.NewReader(bad), p, UnixDevice(sock))
		var be *bundle.Error
		if !errors.As(err, &be) || be.Reason != bundle.ReasonPart || f.switched != 0 {
			t.Fatalf("Apply = %v (switched %d); want a part refusal and no switch", err, f.switched)
		}
	})
	t.Run("signed by another key", func(t *testing.T) {
		f, sock := startFake(t)
		_, other, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := bundle.Write(&b, other, "amd64", running.Add(time.Hour), []bundle.Source{src(bundle.Root, root)}); err != nil {
			t.Fatal(err)
		}
		_, err = Apply(context.Background(), &b, p, UnixDevice(sock))
		var be *bundle.Error
		if !errors.As(err, &be) || be.Reason != bundle.ReasonSignature || f.switched != 0 || len(f.written) != 0 {
			t.Fatalf("Apply = %v (switched %d, wrote %d parts); want a signature refusal before anything is written", err, f.switched, len(f.written))
		}
	})
}
