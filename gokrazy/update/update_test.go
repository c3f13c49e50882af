package update_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/danzen-gw/danzen/gokrazy/update"
)

// fakeGokrazy answers like gokrazy's update handlers (update.go in
// github.com/gokrazy/gokrazy): Basic auth, PUT bodies hashed (crc32 when
// asked, else SHA-256), POST for switch and reboot.
type fakeGokrazy struct {
	mu       sync.Mutex
	features string
	written  map[string][]byte
	calls    []string
	corrupt  string // destination whose hash is reported wrong
}

func (f *fakeGokrazy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pw, ok := r.BasicAuth()
	if !ok || user != "gokrazy" || pw != "secret" {
		w.Header().Set("WWW-Authenticate", `Basic realm="gokrazy"`)
		http.Error(w, "invalid username/password", http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	switch {
	case r.URL.Path == "/update/features":
		_, _ = io.WriteString(w, f.features) // a client gone is what Push must report, not the fake
	case strings.HasPrefix(r.URL.Path, "/update/") && r.Method == http.MethodPut:
		var h hash.Hash = sha256.New()
		if r.Header.Get("X-Gokrazy-Update-Hash") == "crc32" {
			h = crc32.NewIEEE()
		}
		b, _ := io.ReadAll(io.TeeReader(r.Body, h))
		dest := strings.TrimPrefix(r.URL.Path, "/update/")
		f.written[dest] = b
		sum := h.Sum(nil)
		if dest == f.corrupt {
			sum[0] ^= 0xff
		}
		_, _ = fmt.Fprintf(w, "%x", sum)
	case (r.URL.Path == "/update/switch" || r.URL.Path == "/reboot") && r.Method == http.MethodPost:
		_, _ = io.WriteString(w, "ok")
	default:
		http.Error(w, "unexpected", http.StatusBadRequest)
	}
}

func payload(t *testing.T) update.Payload {
	dir := t.TempDir()
	p := update.Payload{Root: filepath.Join(dir, "root"), Boot: filepath.Join(dir, "boot")}
	writeFile(t, p.Root, []byte(strings.Repeat("root", 100000)))
	writeFile(t, p.Boot, []byte("boot fs"))
	return p
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPushOrderAndContent(t *testing.T) {
	for _, features := range []string{"partuuid,updatehash,gpt,", "partuuid,gpt"} {
		t.Run(features, func(t *testing.T) {
			fake := &fakeGokrazy{features: features, written: map[string][]byte{}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			p := payload(t)
			target := &update.Target{BaseURL: srv.URL + "/", Password: "secret"}
			if err := target.Push(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			want := []string{"GET /update/features", "PUT /update/root", "PUT /update/boot", "POST /update/switch", "POST /reboot"}
			if strings.Join(fake.calls, "|") != strings.Join(want, "|") {
				t.Errorf("calls %v, want %v (root before boot, switch only after both)", fake.calls, want)
			}
			for dest, fn := range map[string]string{"root": p.Root, "boot": p.Boot} {
				b, _ := os.ReadFile(fn)
				if string(fake.written[dest]) != string(b) {
					t.Errorf("%s: device got %d bytes, want %d", dest, len(fake.written[dest]), len(b))
				}
			}
		})
	}
}

func TestPushStopsBeforeSwitchOnHashMismatch(t *testing.T) {
	fake := &fakeGokrazy{features: "partuuid,updatehash,gpt", written: map[string][]byte{}, corrupt: "boot"}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	err := (&update.Target{BaseURL: srv.URL, Password: "secret"}).Push(context.Background(), payload(t))
	if err == nil || !strings.Contains(err.Error(), "corrupted") {
		t.Fatalf("Push = %v, want a corrupted-transfer error", err)
	}
	for _, c := range fake.calls {
		if strings.Contains(c, "switch") || strings.Contains(c, "reboot") {
			t.Errorf("%s after a bad write: the device must keep booting its current root", c)
		}
	}
}

func TestPushWrongPassword(t *testing.T) {
	srv := httptest.NewServer(&fakeGokrazy{features: "partuuid", written: map[string][]byte{}})
	defer srv.Close()
	err := (&update.Target{BaseURL: srv.URL, Password: "nope"}).Push(context.Background(), payload(t))
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "password") {
		t.Fatalf("Push = %v, want an error naming the rejected password", err)
	}
}

func TestPushRefusesOldGokrazy(t *testing.T) {
	fake := &fakeGokrazy{features: "", written: map[string][]byte{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	err := (&update.Target{BaseURL: srv.URL, Password: "secret"}).Push(context.Background(), payload(t))
	if err == nil || !strings.Contains(err.Error(), "PARTUUID") {
		t.Fatalf("Push = %v, want a too-old error", err)
	}
	if len(fake.written) != 0 {
		t.Error("wrote partitions to a device that cannot boot them")
	}
}

func TestPushRejectsOversizedMBR(t *testing.T) {
	fake := &fakeGokrazy{features: "partuuid,updatehash", written: map[string][]byte{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p := payload(t)
	p.MBR = filepath.Join(t.TempDir(), "mbr")
	writeFile(t, p.MBR, make([]byte, 512))
	err := (&update.Target{BaseURL: srv.URL, Password: "secret"}).Push(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "446") {
		t.Fatalf("Push = %v, want a refusal to overwrite the partition table", err)
	}
	if _, ok := fake.written["mbr"]; ok {
		t.Error("sent a full sector to /update/mbr")
	}
}

func TestNewTarget(t *testing.T) {
	if got := update.NewTarget("fe80::1", "", "pw").BaseURL; got != "http://[fe80::1]:80/" {
		t.Errorf("BaseURL = %s", got)
	}
}
