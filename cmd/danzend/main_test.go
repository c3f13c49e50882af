package main_test

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/syncbuf"
	"github.com/danzen-gw/danzen/web"
)

type daemon struct {
	cmd  *exec.Cmd
	logs *syncbuf.Buffer
	addr string
}

func start(t *testing.T, bin, dir string, args ...string) *daemon {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: exec.Command(bin, append([]string{"-dir", dir, "-listen", addr}, args...)...), logs: &syncbuf.Buffer{}, addr: addr}
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Stopped already in a passing test: then both fail, harmlessly.
		_ = d.cmd.Process.Kill()
		_ = d.cmd.Wait()
	})
	return d
}

func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, d.logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("danzend did not stop on SIGTERM\n%s", d.logs.String())
	}
}

var (
	fpRE   = regexp.MustCompile(`fingerprint: ([0-9A-F:]{95})`)
	codeRE = regexp.MustCompile(`setup code: ([A-Z2-9-]{24})`)
)

// client trusts exactly the certificate whose fingerprint danzend printed,
// as a vendor comparing it in the browser would.
func client(fp string) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // self-signed: pinned by fingerprint below
			VerifyConnection: func(cs tls.ConnectionState) error {
				sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
				got := strings.ToUpper(strings.Join(strings.Fields(fmt.Sprintf("% x", sum[:])), ":"))
				if got != fp {
					return fmt.Errorf("certificate %s, console printed %s", got, fp)
				}
				return nil
			},
		}},
	}
}

func TestFirstStartServesHTTPSWithSetupCodeAndStopsCleanly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "danzend")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "perm", "danzen")
	d := start(t, bin, dir)
	fp, code := consoleAtFirstStart(t, d)
	setUpOverHTTPS(t, d, client(fp), code)
	checkStateDir(t, dir, fp)
	d.stop(t)
	if !strings.Contains(d.logs.String(), "all relays driven off at start") {
		t.Fatalf("no fail-safe line on the console:\n%s", d.logs.String())
	}

	// Second start: the same certificate, no setup code (an admin exists).
	d = start(t, bin, dir)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !strings.Contains(d.logs.String(), "page url="); time.Sleep(100 * time.Millisecond) {
	}
	if m := fpRE.FindStringSubmatch(d.logs.String()); m == nil || m[1] != fp {
		t.Fatalf("fingerprint at the second start:\n%s", d.logs.String())
	}
	if codeRE.MatchString(d.logs.String()) {
		t.Fatal("a setup code was printed although an admin exists")
	}
	d.stop(t)
}

// consoleAtFirstStart waits for the certificate's fingerprint and the
// setup code on the console.
func consoleAtFirstStart(t *testing.T, d *daemon) (fp, code string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && (fp == "" || code == ""); time.Sleep(100 * time.Millisecond) {
		if m := fpRE.FindStringSubmatch(d.logs.String()); m != nil {
			fp = m[1]
		}
		if m := codeRE.FindStringSubmatch(d.logs.String()); m != nil {
			code = m[1]
		}
	}
	if fp == "" || code == "" {
		t.Fatalf("no fingerprint or setup code on the console:\n%s", d.logs.String())
	}
	return fp, code
}

// setUpOverHTTPS creates the first admin with the setup code and opens
// the dashboard, over HTTPS only, with HSTS and the CSP.
func setUpOverHTTPS(t *testing.T, d *daemon, hc *http.Client, code string) {
	t.Helper()
	base := "https://" + d.addr
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err = hc.Get(base + "/setup"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("page did not answer over HTTPS: %v\n%s", err, d.logs.String())
	}
	body, err := io.ReadAll(resp.Body)
	closeBody(t, resp)
	if err != nil {
		t.Fatal(err)
	}
	tok := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(string(body))
	if resp.StatusCode != 200 || tok == nil {
		t.Fatalf("setup page: %s", resp.Status)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS on the HTTPS daemon's page")
	}
	resp, err = hc.PostForm(base+"/setup", url.Values{"code": {code}, "username": {"vendor"}, "password": {"vendor-password-1"},
		"password2": {"vendor-password-1"}, "csrf_token": {tok[1]}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %v %v", err, resp)
	}
	closeBody(t, resp)
	if resp.Header.Get("Strict-Transport-Security") == "" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatal("the HTTPS daemon's redirect lacks HSTS or the CSP")
	}
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Header.Set("Accept", "text/html")
	resp, err = hc.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("dashboard after setup: %v %v", err, resp)
	}
	closeBody(t, resp)
	if r, err := http.Get("http://" + d.addr + "/"); err == nil {
		closeBody(t, r)
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("the page answered plain HTTP: %s", r.Status)
		}
	}
}

// checkStateDir checks the state directory's layout, the certificate
// (the one whose fingerprint the console printed) and the default
// configuration.
func checkStateDir(t *testing.T, dir, fp string) {
	t.Helper()
	for _, s := range []string{"secrets", "staging", "ledger", "scans", "drills", "tls"} {
		if fi, err := os.Stat(filepath.Join(dir, s)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("layout: %s: %v", s, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "tls", web.CertFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("certificate file: %v", err)
	}
	if got, err := web.Fingerprint(filepath.Join(dir, "tls")); err != nil || got != fp {
		t.Fatalf("Fingerprint() = %q, console printed %q (%v)", got, fp, err)
	}
	// The default has no source yet: it loads at start-up, which says
	// that one is to be added.
	if _, missing, err := config.LoadUnfinished(filepath.Join(dir, "config.json")); err != nil || missing == nil {
		t.Fatalf("default configuration: %v (missing: %v)", err, missing)
	}
}

func closeBody(t *testing.T, resp *http.Response) {
	t.Helper()
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestNoBrowserInTheDaemon: the appliance can never run a browser, so
// danzend must not link the PDF printer's Chromium protocol packages
// (documents/pdf is for the CLI and a bench PC only).
func TestNoBrowserInTheDaemon(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !slices.Contains(deps, "github.com/danzen-gw/danzen/documents") {
		t.Fatalf("go list -deps listed %d packages without documents: not the daemon's dependencies?\n%s", len(deps), out)
	}
	for _, p := range deps {
		if strings.Contains(p, "chromedp") || p == "github.com/danzen-gw/danzen/documents/pdf" {
			t.Errorf("danzend depends on %s", p)
		}
	}
}
