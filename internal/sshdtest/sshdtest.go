// Package sshdtest runs a real OpenSSH sshd on 127.0.0.1 as the e-chart
// server for tests and benchmarks, with the account restricted exactly as
// the README tells a vendor to restrict it (backup.SSHDMatchBlock).
//
// It needs root (sshd drops privileges and chroots) and Debian's
// openssh-server; `make test` provides both.
package sshdtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/syncbuf"
)

// User is the restricted account the tests log in as.
const User = "danzen-pull"

// RestoreUser is the separate write-enabled account restores are sent
// back to ("/restore" in the chroot).
const RestoreUser = "danzen-restore"

// base holds the test servers' directories. Not /tmp: a ChrootDirectory
// and all its parents must be root-owned and not group/world-writable.
const base = "/var/lib/danzen-test"

// Options shape a server.
type Options struct {
	RSAClientKey bool     // an RSA client key instead of ed25519
	ExtraConfig  []string // lines added before the Match block
}

// Server is a running sshd.
type Server struct {
	Port          int
	Dir           string // private: config, keys, logs
	Root          string // the chroot
	Export        string // host path of the export directory ("/export" inside the chroot)
	ClientKeyFile string // 0600 private key accepted for User
	ClientPub     string // authorized_keys form
	// RestoreDir is the host path of RestoreUser's writable directory;
	// RestoreKeyFile its key (a different one from the pull key).
	RestoreDir     string
	RestoreKeyFile string
	KnownHosts     string // known_hosts line pinning the host key
	cmd            *exec.Cmd
	sshd, cfgPath  string
	log            *syncbuf.Buffer // sshd writes it while a test reads it
}

// Start launches sshd and waits until it accepts connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	sshd, err := prepareHost()
	if err != nil {
		return nil, err
	}
	s, err := newServer()
	if err != nil {
		return nil, err
	}
	if err := s.configure(ctx, sshd, opts); err != nil {
		if rerr := os.RemoveAll(s.Dir); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	if err := s.launch(); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// prepareHost finds sshd and creates the accounts and directories every
// server shares.
func prepareHost() (string, error) {
	if os.Geteuid() != 0 {
		return "", errors.New("sshdtest needs root (sshd chroots the account): run the tests through `make test`")
	}
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/sshd"); serr != nil {
			return "", errors.New("sshd not found: install openssh-server (make test does)")
		}
		sshd = "/usr/sbin/sshd"
	}
	for _, u := range []string{User, RestoreUser} {
		if err := ensureUser(u); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return "", err
	}
	return sshd, mkdirChroot(base)
}

// mkdirChroot creates d as sshd accepts on a chroot's path: root-owned and
// 0755 even under a stricter umask.
func mkdirChroot(d string) error {
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.Chmod(d, 0o755)
}

// newServer creates a server's private directory and its chroot.
func newServer() (*Server, error) {
	dir, err := os.MkdirTemp(base, "sshd-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Root: filepath.Join(dir, "root"), log: &syncbuf.Buffer{}}
	s.Export = filepath.Join(s.Root, "export")
	for _, d := range []string{dir, s.Root, s.Export, filepath.Join(dir, "etc")} {
		if err := mkdirChroot(d); err != nil {
			return nil, errors.Join(err, os.RemoveAll(dir))
		}
	}
	return s, nil
}

// configure writes the keys, picks a port and writes an sshd_config that
// sshd -t accepts.
func (s *Server) configure(ctx context.Context, sshd string, opts Options) error {
	if err := s.writeKeys(opts.RSAClientKey); err != nil {
		return err
	}
	restorePub, err := s.writeRestoreAccount()
	if err != nil {
		return err
	}
	if s.Port, err = freePort(); err != nil {
		return err
	}
	hostPub, err := os.ReadFile(filepath.Join(s.Dir, "etc", "host_key.pub"))
	if err != nil {
		return err
	}
	s.KnownHosts = fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, strings.TrimSpace(string(hostPub)))
	acct := backup.SSHDAccount{User: User, Chroot: s.Root, ExportDir: "/export", GatewayIP: "127.0.0.1"}
	racct := backup.SSHDAccount{User: RestoreUser, Chroot: s.Root, ExportDir: "/restore", GatewayIP: "127.0.0.1", Write: true}
	cfg := s.sshdConfig(opts.ExtraConfig) + backup.SSHDMatchBlock(acct) + backup.SSHDMatchBlock(racct)
	cfgPath := filepath.Join(s.Dir, "etc", "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	ak := backup.AuthorizedKeysLine(acct, s.ClientPub) + "\n"
	if err := os.WriteFile(filepath.Join(s.Dir, "etc", "authorized_keys_"+User), []byte(ak), 0o644); err != nil {
		return err
	}
	rak := backup.AuthorizedKeysLine(racct, restorePub) + "\n"
	if err := os.WriteFile(filepath.Join(s.Dir, "etc", "authorized_keys_"+RestoreUser), []byte(rak), 0o644); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, sshd, "-t", "-f", cfgPath).CombinedOutput(); err != nil {
		return fmt.Errorf("sshd -t rejected the configuration: %w\n%s", err, out)
	}
	s.sshd, s.cfgPath = sshd, cfgPath
	return nil
}

// sshdConfig is the server-wide part of sshd_config, before the Match
// blocks.
func (s *Server) sshdConfig(extra []string) string {
	return strings.Join(append([]string{
		"Port " + strconv.Itoa(s.Port),
		"ListenAddress 127.0.0.1",
		"HostKey " + filepath.Join(s.Dir, "etc", "host_key"),
		"PidFile " + filepath.Join(s.Dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(s.Dir, "etc", "authorized_keys_%u"),
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin no",
		"AllowUsers " + User + " " + RestoreUser,
		"Subsystem sftp internal-sftp",
		"LogLevel VERBOSE",
	}, extra...), "\n") + "\n"
}

// launch starts sshd and waits until it accepts connections.
func (s *Server) launch() error {
	s.cmd = exec.Command(s.sshd, "-D", "-e", "-f", s.cfgPath)
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			_ = c.Close() // only a probe: sshd accepting it is the answer
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sshd did not start listening: %w\n%s", err, s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop SIGKILLs sshd and every session, as a crash or a pulled plug on
// the e-chart server would; the server keeps its port, keys and export
// for Restart.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		// Errors here mean the processes are gone already, which is
		// what Stop wants; Wait reports the SIGKILL itself.
		_, _ = s.KillSessions()
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	s.cmd = nil
}

// Restart starts a stopped server again on the same port. With
// newHostKey it first gets a fresh host key, as a reinstalled or an
// impersonating server shows: KnownHosts keeps pinning the old one.
func (s *Server) Restart(newHostKey bool) error {
	s.Stop()
	if newHostKey {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		if err := writeKey(filepath.Join(s.Dir, "etc", "host_key"), priv); err != nil {
			return err
		}
	}
	return s.launch()
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Log returns what sshd printed.
func (s *Server) Log() string { return s.log.String() }

// Source returns a configured source for this server, with defaults.
func (s *Server) Source(name string) config.Source {
	src := config.DefaultSource()
	src.Name = name
	src.Host = "127.0.0.1"
	src.Port = s.Port
	src.User = User
	src.KeyFile = s.ClientKeyFile
	src.KnownHosts = []string{s.KnownHosts}
	src.ExportDir = "/export"
	return src
}

// RestoreTarget returns a configured restore target for RestoreUser.
func (s *Server) RestoreTarget(name string) config.RestoreTarget {
	return config.RestoreTarget{Name: name, Host: "127.0.0.1", Port: s.Port, User: RestoreUser,
		KeyFile: s.RestoreKeyFile, KnownHosts: []string{s.KnownHosts}, BaseDir: "/restore"}
}

// writeRestoreAccount creates RestoreUser's key and its writable directory
// inside the chroot, and returns the public key.
func (s *Server) writeRestoreAccount() (string, error) {
	s.RestoreDir = filepath.Join(s.Root, "restore")
	if err := os.MkdirAll(s.RestoreDir, 0o755); err != nil {
		return "", err
	}
	out, err := exec.Command("id", "-u", RestoreUser).Output()
	if err != nil {
		return "", fmt.Errorf("id -u %s: %w", RestoreUser, err)
	}
	uid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return "", err
	}
	if err := os.Chown(s.RestoreDir, uid, -1); err != nil {
		return "", err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	s.RestoreKeyFile = filepath.Join(s.Dir, "restore_key")
	if err := writeKey(s.RestoreKeyFile, priv); err != nil {
		return "", err
	}
	pub, err := os.ReadFile(s.RestoreKeyFile + ".pub")
	return strings.TrimSpace(string(pub)), err
}

// WriteFile puts a file into the export, readable by the account.
func (s *Server) WriteFile(rel string, data []byte, mtime time.Time) error {
	p := filepath.Join(s.Export, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	if !mtime.IsZero() {
		return os.Chtimes(p, mtime, mtime)
	}
	return nil
}

// KillSessions SIGKILLs every per-connection sshd process, cutting all
// open connections while the listener stays up.
func (s *Server) KillSessions() (int, error) {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0, errors.New("not running")
	}
	kids, err := descendants(s.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	killed := 0
	for _, pid := range kids {
		// ESRCH: the session ended on its own between listing and kill.
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			killed++
		} else if !errors.Is(err, syscall.ESRCH) {
			return killed, fmt.Errorf("kill sshd session %d: %w", pid, err)
		}
	}
	return killed, nil
}

// Close stops sshd and removes its directories.
func (s *Server) Close() error {
	s.Stop()
	return os.RemoveAll(s.Dir)
}

func (s *Server) writeKeys(rsaClient bool) error {
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if err := writeKey(filepath.Join(s.Dir, "etc", "host_key"), hostPriv); err != nil {
		return err
	}
	var clientPriv any
	if rsaClient {
		clientPriv, err = rsa.GenerateKey(rand.Reader, 3072)
	} else {
		_, clientPriv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return err
	}
	s.ClientKeyFile = filepath.Join(s.Dir, "client_key")
	if err := writeKey(s.ClientKeyFile, clientPriv); err != nil {
		return err
	}
	pub, err := os.ReadFile(s.ClientKeyFile + ".pub")
	s.ClientPub = strings.TrimSpace(string(pub))
	return err
}

// writeKey writes an OpenSSH private key (0600) and its .pub.
func writeKey(path string, priv any) error {
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return err
	}
	return os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644)
}

// NewHostKeyLine returns a known_hosts line for this server's address with
// a freshly generated key: what a changed (or impersonated) server shows.
func (s *Server) NewHostKeyLine() (string, error) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))), nil
}

// ensureUser creates a restricted account once. Its password field is
// "*": a "!" (locked) field makes sshd refuse even key logins without PAM.
func ensureUser(user string) error {
	if _, err := exec.Command("id", "-u", user).Output(); err != nil {
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
			"--shell", "/usr/sbin/nologin", user).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "already exists") {
			return fmt.Errorf("useradd %s: %w: %s", user, err, out)
		}
	}
	if out, err := exec.Command("usermod", "-p", "*", user).CombinedOutput(); err != nil {
		return fmt.Errorf("usermod %s: %w: %s", user, err, out)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// descendants lists every process below pid, deepest last.
func descendants(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name may contain spaces: fields follow the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 {
			pp, _ := strconv.Atoi(f[1])
			parent[p] = pp
		}
	}
	var out []int
	frontier := []int{pid}
	for len(frontier) > 0 {
		var next []int
		for p, pp := range parent {
			for _, f := range frontier {
				if pp == f {
					next = append(next, p)
				}
			}
		}
		out = append(out, next...)
		frontier = next
	}
	return out, nil
}

// Run starts a server for one test and stops it when the test ends,
// showing sshd's log if the test failed. It skips under -short: sshd needs
// root, which make check does not have; make test runs it.
func Run(t testing.TB, opts Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts sshd, which needs root: make test runs it, -short skips it")
	}
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.Log())
		}
		if err := s.Close(); err != nil {
			t.Errorf("stop sshd: %v", err)
		}
	})
	return s
}

// Authorize replaces the authorized_keys of User with line, as the
// e-chart server's administrator pastes what the gateway's page shows
// ("" removes every key). sshd reads the file at each login.
func (s *Server) Authorize(line string) error {
	if line != "" {
		line = strings.TrimSpace(line) + "\n"
	}
	return os.WriteFile(filepath.Join(s.Dir, "etc", "authorized_keys_"+User), []byte(line), 0o644)
}
