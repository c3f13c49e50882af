// Package update sends a new root and boot file system to a running gokrazy
// device over gokrazy's update endpoints, switches it to the new root and
// reboots it — what `gok update` does, for images built by gokrazy/build.
//
// The protocol (github.com/gokrazy/gokrazy update.go): PUT /update/root
// writes the inactive root partition, PUT /update/boot the boot partition,
// PUT /update/mbr the MBR boot code; each answers with the hash of what it
// wrote. POST /update/switch points cmdline.txt at the new root, POST /reboot
// restarts. Every request uses HTTP Basic auth as user "gokrazy".
package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// Target is one gokrazy device.
type Target struct {
	// BaseURL is the device's web interface, e.g. "http://192.168.1.20:80/".
	BaseURL string
	// Password is the HTTP Basic password of user "gokrazy" (the device's
	// /perm/gokr-pw.txt, else the image's /etc/gokr-pw.txt).
	Password string
	// Client defaults to one that ignores HTTP_PROXY: the device is on the LAN.
	Client *http.Client
	Logger *slog.Logger
}

// NewTarget addresses the device at host (name or IP) and port.
func NewTarget(host, port, password string) *Target {
	if port == "" {
		port = "80"
	}
	return &Target{BaseURL: "http://" + net.JoinHostPort(host, port) + "/", Password: password}
}

// Payload is what an update writes. Root and Boot are file paths, as written
// by build.Build / build.BuildUpdate.
type Payload struct {
	Root string // squashfs root file system → inactive root partition
	Boot string // FAT boot file system → boot partition
	// MBR is optional MBR boot code (at most 446 bytes, so the partition
	// table is never touched). gok sends its BIOS loader here; danzen's
	// images boot by UEFI or the Pi firmware and have none.
	MBR string
}

func (t *Target) client() *http.Client {
	if t.Client != nil {
		return t.Client
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	return &http.Client{Transport: tr}
}

func (t *Target) log() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.Default()
}

func (t *Target) url(p string) string { return strings.TrimSuffix(t.BaseURL, "/") + "/" + p }

func (t *Target) do(ctx context.Context, method, p string, body io.Reader, hdr http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.url(p), body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.SetBasicAuth("gokrazy", t.Password)
	resp, err := t.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: the device did not answer: %w", method, t.url(p), err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end or to the limit: nothing left to report
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, t.url(p), err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("%s %s: the device rejected the password for user gokrazy (HTTP 401): "+
			"use the password in the device's /perm/gokr-pw.txt, else the one it was built with (Update.HTTPPassword)", method, t.url(p))
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s %s: HTTP %s: %s", method, t.url(p), resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

// Features lists the update protocol features the device reports.
func (t *Target) Features(ctx context.Context) ([]string, error) {
	b, err := t.do(ctx, http.MethodGet, "update/features", nil, nil)
	if err != nil {
		return nil, err
	}
	var fs []string
	for _, f := range strings.Split(strings.TrimSpace(string(b)), ",") {
		if f != "" {
			fs = append(fs, f)
		}
	}
	return fs, nil
}

// ErrNotImplemented means the device's gokrazy has no handler for an
// update destination (it answered with its HTML page instead).
var ErrNotImplemented = errors.New("the device's gokrazy does not implement this update endpoint")

// StreamTo PUTs r to /update/<dest> (root, boot, mbr) and checks that the
// hash the device computed over what it wrote matches what was sent.
func (t *Target) StreamTo(ctx context.Context, dest string, r io.Reader, crc bool) (int64, error) {
	var h hash.Hash = sha256.New()
	hdr := http.Header{}
	if crc {
		h = crc32.NewIEEE()
		hdr.Set("X-Gokrazy-Update-Hash", "crc32")
	}
	cr := &countingReader{r: io.TeeReader(r, h)}
	b, err := t.do(ctx, http.MethodPut, "update/"+dest, cr, hdr)
	if err != nil {
		return cr.n, fmt.Errorf("writing the %s partition: %w", dest, err)
	}
	if bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		return cr.n, fmt.Errorf("writing the %s partition: %w", dest, ErrNotImplemented)
	}
	got, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return cr.n, fmt.Errorf("writing the %s partition: the device answered %q instead of a hash", dest, b)
	}
	if want := h.Sum(nil); !bytes.Equal(got, want) {
		return cr.n, fmt.Errorf("writing the %s partition: the device wrote data with hash %x, but %x was sent: "+
			"the transfer was corrupted; do not switch or reboot, push again", dest, got, want)
	}
	return cr.n, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Switch makes the partition just written the one booted next.
func (t *Target) Switch(ctx context.Context) error {
	if _, err := t.do(ctx, http.MethodPost, "update/switch", nil, nil); err != nil {
		return fmt.Errorf("switching to the new root partition: %w", err)
	}
	return nil
}

// Reboot stops the device's services (waiting for them, so /perm is
// unmounted cleanly) and restarts it.
func (t *Target) Reboot(ctx context.Context) error {
	if _, err := t.do(ctx, http.MethodPost, "reboot", nil, nil); err != nil {
		return fmt.Errorf("rebooting: %w", err)
	}
	return nil
}

// Status is the part of gokrazy's status page (GET / as JSON) used here.
type Status struct {
	Hostname       string
	BuildTimestamp string
	Services       []struct {
		Path    string
		Stopped bool
		Pid     int
	}
}

// Status fetches the device's status.
func (t *Target) Status(ctx context.Context) (*Status, error) {
	b, err := t.do(ctx, http.MethodGet, "", nil, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, err
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reading the device status: %w", err)
	}
	return &s, nil
}

// Push performs a whole update: root first (writing the inactive partition
// cannot break the running system), then boot, the optional MBR boot code,
// the switch and the reboot. Any failure stops before the switch, so the
// device keeps booting what it runs now.
func (t *Target) Push(ctx context.Context, p Payload) error {
	log := t.log()
	features, err := t.Features(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(features, "partuuid") {
		return fmt.Errorf("the device's gokrazy is too old for PARTUUID= root selection (features %q): reinstall it from a full image", features)
	}
	crc := slices.Contains(features, "updatehash")

	steps := []struct{ dest, file string }{{"root", p.Root}, {"boot", p.Boot}}
	if p.MBR != "" {
		steps = append(steps, struct{ dest, file string }{"mbr", p.MBR})
	}
	for _, s := range steps {
		f, err := os.Open(s.file)
		if err != nil {
			return fmt.Errorf("opening the %s payload: %w", s.dest, err)
		}
		if s.dest == "mbr" {
			if st, err := f.Stat(); err == nil && st.Size() > 446 {
				_ = f.Close() // only read
				return fmt.Errorf("MBR payload %s is %d bytes; only the 446 bytes of boot code may be sent", s.file, st.Size())
			}
		}
		start := time.Now()
		n, err := t.StreamTo(ctx, s.dest, f, crc)
		_ = f.Close() // only read: the stream's error is the one that counts
		if err != nil {
			return err
		}
		log.Info("update written", "partition", s.dest, "bytes", n, "took", time.Since(start).Round(time.Millisecond))
	}
	if err := t.Switch(ctx); err != nil {
		return err
	}
	log.Info("switched to the new root; rebooting")
	return t.Reboot(ctx)
}

// WaitForBuild polls until the device reports the given build timestamp
// (the one the new image was built with), tolerating the reboot's outage.
func (t *Target) WaitForBuild(ctx context.Context, buildTimestamp string) (*Status, error) {
	var last error
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := t.Status(attempt)
		cancel()
		if err == nil && s.BuildTimestamp == buildTimestamp {
			return s, nil
		}
		if err == nil {
			err = fmt.Errorf("the device still runs the build of %s", s.BuildTimestamp)
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the device to run build %s: %w (last: %v)", buildTimestamp, ctx.Err(), last)
		case <-time.After(2 * time.Second):
		}
	}
}
