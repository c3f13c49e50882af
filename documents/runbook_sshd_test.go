package documents_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/internal/syncbuf"
)

// TestRunbookLinuxAccountLogsIn takes the Linux account commands and the
// sshd_config block of the rendered runbook literally, runs the commands
// as root on this machine (a unique account, removed afterwards), starts
// a real sshd with the block and no AuthorizedKeysFile of its own, and
// logs in with the gateway's key: the export reads, nothing writes, and
// no shell runs. The account once printed --home-dir / with the key under
// /home/<user>, where sshd never looked ("Permission denied (publickey)").
func TestRunbookLinuxAccountLogsIn(t *testing.T) {
	if testing.Short() {
		t.Skip("creates an account and starts sshd as root: -short skips it")
	}
	if os.Geteuid() != 0 {
		t.Fatal("needs root (useradd, sshd's chroot): run it as root, or skip it with -short")
	}
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
	}
	suffix := make([]byte, 4)
	_, err = rand.Read(suffix)
	must(t, err)
	user := "dzrb-" + hex.EncodeToString(suffix)
	base := "/var/lib/danzen-test"
	must(t, os.MkdirAll(base, 0o755))
	must(t, os.Chmod(base, 0o755))
	dir, err := os.MkdirTemp(base, "runbook-")
	must(t, err)
	must(t, os.Chmod(dir, 0o755))
	chroot := filepath.Join(dir, "chroot")
	t.Cleanup(func() { removeAccount(t, user, dir) })

	// The gateway's pull key, and the runbook rendered for this account.
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	must(t, err)
	w := newWorld(t)
	src := &w.cfg.Sources[0]
	src.User, src.ExportDir = user, "/export"
	w.cfg.Documents.SFTPChroot, w.cfg.Documents.GatewayAddress = chroot, "127.0.0.1"
	in := gather(t, w.cfg)
	in.PublicKeys[src.Name] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " danzen@gw-sakura"
	_, files := build(t, in)
	for _, l := range []string{"ja", "en"} {
		commands, match := linuxBlocks(t, doc(t, files, "build-runbook", l)[1], src.Name)
		if l == "en" {
			continue // both languages print the same blocks; run one
		}
		if strings.Contains(commands, "--home-dir / ") {
			t.Errorf("the account is made with home /, where sshd reads //.ssh/authorized_keys:\n%s", commands)
		}
		runAsRoot(t, commands)
		must(t, os.WriteFile(filepath.Join(chroot, "export", "dump.sql"), []byte("export"), 0o644))
		srv := startRunbookSSHD(t, sshd, filepath.Join(dir, "sshd"), match)
		checkPullAccount(t, srv, user, signer)
	}
}

// linuxBlocks returns the Linux code blocks of source's account section
// in the Markdown form: the root shell's commands and the sshd_config block.
func linuxBlocks(t *testing.T, md, source string) (commands, match string) {
	t.Helper()
	var blocks []string
	for _, sec := range strings.Split(md, "\n## ")[1:] {
		title, body, _ := strings.Cut(sec, "\n")
		if !strings.Contains(title, source) || !strings.Contains(body, "**Linux") {
			continue
		}
		_, body, _ = strings.Cut(body, "**Linux")
		body, _, _ = strings.Cut(body, "**Windows")
		parts := strings.Split(body, "```")
		for i := 1; i < len(parts); i += 2 {
			blocks = append(blocks, strings.TrimPrefix(parts[i], "\n"))
		}
	}
	for _, b := range blocks {
		switch {
		case strings.HasPrefix(b, "useradd "):
			commands = b
		case strings.Contains(b, "Match User "):
			match = b
		}
	}
	if commands == "" || match == "" {
		t.Fatalf("source %s: the runbook prints no Linux account commands or sshd_config block; blocks: %q", source, blocks)
	}
	return commands, match
}

// runAsRoot runs the runbook's commands as a root shell would, stopping
// at the first that fails.
func runAsRoot(t *testing.T, commands string) {
	t.Helper()
	cmd := exec.Command("sh", "-e")
	cmd.Stdin = strings.NewReader(commands + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the runbook's account commands failed: %v\n%s\ncommands:\n%s", err, out, commands)
	}
}

// removeAccount deletes the test's account, then its home under /home
// and the test's directories by path (userdel --remove would follow
// whatever home a broken runbook gave the account).
func removeAccount(t *testing.T, user, dir string) {
	t.Helper()
	if _, err := exec.Command("id", "-u", user).Output(); err == nil {
		if out, err := exec.Command("userdel", user).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v: %s", user, err, out)
		}
	}
	for _, d := range []string{filepath.Join("/home", user), dir} {
		if err := os.RemoveAll(d); err != nil {
			t.Errorf("remove %s: %v", d, err)
		}
	}
}

type runbookSSHD struct {
	addr    string
	hostKey ssh.PublicKey
	log     *syncbuf.Buffer
}

// startRunbookSSHD runs sshd on 127.0.0.1 with Debian's defaults for the
// server-wide part (PAM, the sftp subsystem, no AuthorizedKeysFile: the
// default one) and the runbook's Match block appended as it is printed.
func startRunbookSSHD(t *testing.T, sshd, dir, match string) *runbookSSHD {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.MkdirAll("/run/sshd", 0o755))
	hostKey := filepath.Join(dir, "host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	raw, err := os.ReadFile(hostKey + ".pub")
	must(t, err)
	hk, _, _, _, err := ssh.ParseAuthorizedKey(raw)
	must(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	must(t, l.Close())
	cfg := strings.Join([]string{
		"Port " + strconv.Itoa(port),
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"KbdInteractiveAuthentication no",
		"UsePAM yes",
		"Subsystem sftp /usr/lib/openssh/sftp-server",
		"LogLevel VERBOSE",
		match,
	}, "\n") + "\n"
	if strings.Contains(strings.ToLower(cfg), "authorizedkeysfile") && !strings.Contains(strings.ToLower(match), "authorizedkeysfile") {
		t.Fatal("the test must not set its own AuthorizedKeysFile")
	}
	cfgPath := filepath.Join(dir, "sshd_config")
	must(t, os.WriteFile(cfgPath, []byte(cfg), 0o644))
	if out, err := exec.Command(sshd, "-t", "-f", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("sshd -t rejects the runbook's block: %v\n%s\n%s", err, out, cfg)
	}
	s := &runbookSSHD{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), hostKey: hk, log: &syncbuf.Buffer{}}
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfgPath)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, cmd.Start())
	t.Cleanup(func() {
		// Kill ends sshd for good; Wait reports that very signal.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.log.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close() // only a probe
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not start listening: %v\n%s", err, s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkPullAccount logs in as the gateway does: the export is listed and
// read, every write fails, and a command or a terminal gets no shell.
func checkPullAccount(t *testing.T, s *runbookSSHD, user string, key ssh.Signer) {
	t.Helper()
	conn, err := ssh.Dial("tcp", s.addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.FixedHostKey(s.hostKey), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("the gateway's key does not log in with the runbook's account: %v", err)
	}
	defer func() { _ = conn.Close() }() // the checks below are done
	c, err := sftp.NewClient(conn)
	if err != nil {
		t.Fatalf("sftp: %v", err)
	}
	defer func() { _ = c.Close() }()
	wd, err := c.Getwd()
	must(t, err)
	if wd != "/export" {
		t.Errorf("sftp starts in %q, want /export", wd)
	}
	f, err := c.Open("/export/dump.sql")
	must(t, err)
	got, err := io.ReadAll(f)
	must(t, err)
	must(t, f.Close())
	if string(got) != "export" {
		t.Errorf("read %q from the export, want %q", got, "export")
	}
	if w, err := c.Create("/export/written-by-gateway"); err == nil {
		_ = w.Close()
		t.Error("the pull account could create a file in the export")
	}
	if err := c.Remove("/export/dump.sql"); err == nil {
		t.Error("the pull account could delete a file of the export")
	}
	if err := c.Mkdir("/export/d"); err == nil {
		t.Error("the pull account could make a directory")
	}
	if err := c.Rename("/export/dump.sql", "/export/x"); err == nil {
		t.Error("the pull account could rename a file")
	}
	noShell(t, conn)
}

// noShell: with ForceCommand internal-sftp and PermitTTY no, a command
// never runs and no terminal is given.
func noShell(t *testing.T, conn *ssh.Client) {
	t.Helper()
	sess, err := conn.NewSession()
	must(t, err)
	if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err == nil {
		t.Error("the pull account was given a terminal")
	}
	_ = sess.Close() // a refused session: nothing to keep
	sess, err = conn.NewSession()
	must(t, err)
	defer func() { _ = sess.Close() }()
	var out bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &out
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sess.Run("echo shell-" + "ran; id") }()
	select {
	case err := <-done:
		var exit *ssh.ExitError
		if err != nil && !errors.As(err, &exit) && !errors.Is(err, io.EOF) {
			t.Logf("command session ended with %v", err)
		}
	case <-ctx.Done():
		// internal-sftp waits for SFTP packets: no shell answered.
	}
	if strings.Contains(out.String(), "shell-ran") || strings.Contains(out.String(), "uid=") {
		t.Errorf("a command ran as the pull account: %q", out.String())
	}
}
