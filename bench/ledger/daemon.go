package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/internal/syncbuf"
)

// The vendor account the benchmark signs in with.
const (
	adminUser = "vendor"
	adminPW   = "bench-password-1"
)

var (
	codeRE = regexp.MustCompile(`setup code: ([A-Z2-9-]{24})`)
	csrfRE = regexp.MustCompile(`name="` + auth.CSRFField + `" value="([^"]+)"`)
)

// daemon is danzend running on a state directory, and a signed-in browser.
type daemon struct {
	cmd    *exec.Cmd
	logs   *syncbuf.Buffer
	exited chan error
	base   string
	hc     *http.Client
}

// startDaemon starts danzend on dir and returns once its page answers,
// with the time that took.
func startDaemon(bin, dir string) (*daemon, time.Duration, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, 0, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, 0, err
	}
	d := &daemon{cmd: exec.Command(bin, "-dir", dir, "-listen", addr), logs: &syncbuf.Buffer{}, exited: make(chan error, 1),
		base: "https://" + addr, hc: &http.Client{Jar: jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			// The page's certificate is self-signed; this client is the bench's own.
			Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	start := time.Now()
	if err := d.cmd.Start(); err != nil {
		return nil, 0, err
	}
	go func() { d.exited <- d.cmd.Wait() }()
	for {
		if _, _, err := d.get(auth.LoginPath); err == nil {
			return d, time.Since(start), nil
		}
		select {
		case err := <-d.exited:
			return nil, 0, fmt.Errorf("danzend exited before its page answered (%v):\n%s", err, d.logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Since(start) > 5*time.Minute {
			return nil, 0, errors.Join(d.stop(), fmt.Errorf("danzend's page did not answer within 5 minutes:\n%s", d.logs.String()))
		}
	}
}

// stop ends danzend as gokrazy does (SIGTERM) and waits for it.
func (d *daemon) stop() error {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-d.exited:
		if err != nil {
			return fmt.Errorf("danzend: %v\n%s", err, d.logs.String())
		}
		return nil
	case <-time.After(time.Minute):
		return errors.Join(d.cmd.Process.Kill(), fmt.Errorf("danzend did not stop on SIGTERM:\n%s", d.logs.String()))
	}
}

// get fetches path and returns how long the whole answer took.
func (d *daemon) get(path string) (time.Duration, string, error) {
	req, err := http.NewRequest("GET", d.base+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Accept", "text/html")
	start := time.Now()
	resp, err := d.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err == nil && resp.StatusCode >= 400 {
		err = fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return took, string(body), err
}

// post sends a form with the CSRF token of the page at path.
func (d *daemon) post(path string, form url.Values) error {
	_, page, err := d.get(path)
	if err != nil {
		return err
	}
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("no form token on %s", path)
	}
	form.Set(auth.CSRFField, m[1])
	resp, err := d.hc.PostForm(d.base+path, form)
	if err != nil {
		return err
	}
	if err := resp.Body.Close(); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return nil
}

// setUp creates the vendor admin with the setup code danzend printed at
// its first start (and so signs in).
func (d *daemon) setUp() error {
	m := codeRE.FindStringSubmatch(d.logs.String())
	if m == nil {
		return fmt.Errorf("no setup code on danzend's console:\n%s", d.logs.String())
	}
	return d.post(auth.SetupPath, url.Values{"code": {m[1]}, "username": {adminUser}, "password": {adminPW}, "password2": {adminPW}})
}

func (d *daemon) signIn() error {
	return d.post(auth.LoginPath, url.Values{"username": {adminUser}, "password": {adminPW}, "next": {"/"}})
}

// liveTick opens the live view and returns when its first status event
// (the media states it sends every 3 s while a job runs) has arrived.
func (d *daemon) liveTick() (time.Duration, error) {
	req, err := http.NewRequest("GET", d.base+"/events", nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := d.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }() // the stream is abandoned on purpose
	br := bufio.NewReader(resp.Body)
	for inStatus := false; ; {
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("live view: %w", err)
		}
		if inStatus && strings.HasPrefix(line, "data: ") {
			return time.Since(start), nil
		}
		inStatus = line == "event: status\n"
	}
}
