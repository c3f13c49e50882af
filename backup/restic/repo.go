package restic

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Defaults used when the corresponding Repo field is zero.
const (
	DefaultRetryLock   = time.Minute
	DefaultStopGrace   = 30 * time.Second
	DefaultCompression = "auto"
)

// Repo is one restic repository and how to run restic against it.
// Methods do not modify it; a Repo may be used from several goroutines
// if OnEvent is safe for that.
type Repo struct {
	// Binary is the restic executable; "" means "restic" from PATH.
	Binary string
	// Location is the repository (-r): a local path ("/mnt/disk/danzen",
	// relative paths are made absolute) or a backend URL ("s3:https://…").
	Location string
	// PasswordFile holds the repository password. It is passed with
	// --password-file and must not be readable by group or others
	// (mode 0600 or 0400).
	PasswordFile string
	// Host is the gateway's ID. Backups are recorded under it (--host) and
	// Forget only considers snapshots of this host, so the retention
	// groups stay stable whatever the machine's hostname is. Required.
	Host string
	// CacheDir becomes RESTIC_CACHE_DIR and TempDir becomes TMPDIR; both
	// are created (0700) if missing. Point them at the staging volume.
	// Empty: restic's defaults (~/.cache/restic, /tmp).
	CacheDir string
	TempDir  string
	// Env holds extra "KEY=value" variables for restic (S3 credentials
	// and the like). They are passed only in the environment and only
	// their names are logged. RESTIC_PASSWORD*, RESTIC_REPOSITORY* are
	// refused: use Location and PasswordFile.
	Env []string
	// CACert is a PEM file of certificate authorities restic trusts for
	// an HTTPS backend (--cacert), for object stores with a private CA.
	CACert string
	// RetryLock is how long operations that lock wait for a lock held by
	// another process (--retry-lock). 0 means DefaultRetryLock; negative
	// means fail at once.
	RetryLock time.Duration
	// Compression is --compression for writing operations: "auto"
	// (default), "off", "fastest", "max".
	Compression string
	// StopGrace is how long restic gets after SIGINT (context cancelled)
	// to remove its lock and exit before it is killed. 0 means
	// DefaultStopGrace.
	StopGrace time.Duration
	// OnEvent receives restic's JSON messages as they arrive. Calls for
	// one operation never overlap; restic's output waits while it runs, so
	// it should return quickly. May be nil.
	OnEvent func(Event)
	// Logger logs each command line (without secrets) and its outcome.
	// nil means slog.Default().
	Logger *slog.Logger
}

// invocation describes one restic run.
type invocation struct {
	op       string   // subcommand
	args     []string // after the subcommand
	dir      string   // working directory ("" = inherit)
	lock     bool     // pass --retry-lock
	compress bool     // pass --compression
	noRepo   bool     // no -r / password (e.g. version)
	from     *Repo    // secondary repository (copy, init --from-repo)
}

func (r *Repo) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

func (r *Repo) binary() string {
	if r.Binary != "" {
		return r.Binary
	}
	return "restic"
}

// location returns the -r value, with a plain relative path made absolute
// (restic runs in other working directories, e.g. for backup).
func (r *Repo) location() (string, error) {
	loc := r.Location
	if loc == "" {
		return "", msg.New("restic: リポジトリの場所が設定されていません", "restic: repository location is empty")
	}
	if scheme, _, ok := strings.Cut(loc, ":"); ok {
		switch scheme {
		case "local", "sftp", "s3", "rest", "b2", "azure", "gs", "swift", "rclone":
			return loc, nil
		}
	}
	return filepath.Abs(loc)
}

// displayLocation is the location for messages and logs: URL user
// information (rest:https://user:pass@…) is removed.
func (r *Repo) displayLocation() string {
	loc := r.Location
	if i := strings.Index(loc, "://"); i >= 0 {
		scheme, rest := loc[:i+3], loc[i+3:]
		if at := strings.IndexByte(rest, '@'); at >= 0 && at < strings.IndexAny(rest+"/", "/") {
			return scheme + "***@" + rest[at+1:]
		}
	}
	return loc
}

// checkPasswordFile makes sure the password file exists, is a regular file
// and is private.
func checkPasswordFile(path string) (string, error) {
	if path == "" {
		return "", msg.Errorf("パスワードファイルが設定されていません: %w", "no password file configured: %w", ErrPasswordFile)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("password file %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", msg.Errorf("パスワードファイル %s を読めません: %w: %w", "cannot use password file %s: %w: %w", abs, ErrPasswordFile, err)
	}
	if !fi.Mode().IsRegular() {
		return "", msg.Errorf("パスワードファイル %s が通常ファイルではありません: %w", "password file %s is not a regular file: %w", abs, ErrPasswordFile)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", msg.Errorf("パスワードファイル %s が他のユーザーから読めます(モード %04o、0600 にしてください): %w",
			"password file %s has mode %04o, want 0600: %w", abs, fi.Mode().Perm(), ErrPasswordFile)
	}
	return abs, nil
}

func checkEnv(env []string) error {
	for _, kv := range env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return msg.Errorf("restic: 環境変数 %q の形式が不正です(KEY=value)", "restic: extra environment entry %q is not KEY=value", k)
		}
		// Variables that would put a secret or another repository in the
		// environment behind the caller's back.
		switch k {
		case "RESTIC_PASSWORD", "RESTIC_PASSWORD_COMMAND", "RESTIC_PASSWORD_FILE",
			"RESTIC_REPOSITORY", "RESTIC_REPOSITORY_FILE",
			"RESTIC_FROM_PASSWORD", "RESTIC_FROM_PASSWORD_COMMAND", "RESTIC_FROM_PASSWORD_FILE",
			"RESTIC_FROM_REPOSITORY", "RESTIC_FROM_REPOSITORY_FILE":
			return msg.Errorf("restic: 環境変数 %s は使えません(Location と PasswordFile を使ってください)",
				"restic: %s must not be set in Repo.Env; use Location and PasswordFile", k)
		}
	}
	return nil
}

func envNames(env []string) []string {
	names := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		names = append(names, k)
	}
	return names
}

// environ builds restic's environment: the process environment without
// any RESTIC_* or TMPDIR, then RESTIC_CACHE_DIR and TMPDIR from the Repo,
// then the extra variables.
func (r *Repo) environ(cacheDir, tempDir string, extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RESTIC_") || strings.HasPrefix(kv, "TMPDIR=") {
			continue
		}
		env = append(env, kv)
	}
	// Progress twice a second is plenty for the page and the console;
	// restic's default with --json is 60 a second, CPU a Pi should not spend.
	env = append(env, "RESTIC_PROGRESS_FPS=2")
	if cacheDir != "" {
		env = append(env, "RESTIC_CACHE_DIR="+cacheDir)
	}
	if tempDir != "" {
		env = append(env, "TMPDIR="+tempDir)
	}
	return append(env, extra...)
}

func prepareDir(what, dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("restic %s %s: %w", what, dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", msg.Errorf("restic: %s %s を作成できません: %w", "restic: cannot create %s %s: %w", what, abs, err)
	}
	return abs, nil
}

// run executes restic and returns its parsed output. A nil error means
// exit status 0. Otherwise the error is a *BinaryError, an *ExitError, or
// a configuration error.
func (r *Repo) run(ctx context.Context, inv invocation) (*parser, error) {
	log := r.logger()
	p := newParser(inv.op, r.OnEvent, log)
	if err := ctx.Err(); err != nil {
		return p, &ExitError{Op: inv.op, Repo: r.displayLocation(), Code: ErrInterrupted, Cause: err}
	}
	args, env, err := r.arguments(&inv)
	if err != nil {
		return p, err
	}
	stdout, stderr := &lineWriter{p: p, stream: "stdout"}, &lineWriter{p: p, stream: "stderr"}
	cmd, err := r.command(ctx, inv, args, env, stdout, stderr)
	if err != nil {
		log.Error("restic cannot be run", "op", inv.op, "err", err)
		return p, err
	}
	log.Info("restic start", "op", inv.op, "repo", r.displayLocation(), "argv", append([]string{cmd.Args[0]}, redactArgs(args, r, inv.from)...),
		"dir", inv.dir, "env", envNames(env))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		err = fmt.Errorf("restic %s: start %s in %q: %w", inv.op, cmd.Args[0], inv.dir, err)
		log.Error("restic did not start", "op", inv.op, "err", err)
		return p, err
	}
	waitErr := cmd.Wait()
	stdout.flush()
	stderr.flush()
	return p, r.outcome(ctx, inv.op, cmd, p, waitErr, time.Since(start).Round(time.Millisecond))
}

// arguments builds restic's command line (subcommand, its flags, the
// global flags, then the positional arguments) and the extra environment
// it runs with, checking the repository settings on the way.
func (r *Repo) arguments(inv *invocation) (args, env []string, err error) {
	global := []string{"--json"}
	env = append([]string(nil), r.Env...)
	if !inv.noRepo {
		repo, err := r.repoFlags(inv)
		if err != nil {
			return nil, nil, err
		}
		global = append(global, repo...)
	}
	if f := inv.from; f != nil {
		floc, err := f.location()
		if err != nil {
			return nil, nil, msg.Errorf("コピー元リポジトリ: %w", "source repository: %w", err)
		}
		fpw, err := checkPasswordFile(f.PasswordFile)
		if err != nil {
			return nil, nil, msg.Errorf("コピー元リポジトリ %s: %w", "source repository %s: %w", f.displayLocation(), err)
		}
		inv.args = append(inv.args, "--from-repo="+floc, "--from-password-file="+fpw)
		env = append(env, f.Env...)
	}
	if err := checkEnv(env); err != nil {
		return nil, nil, err
	}
	// Flags after the positional arguments would be fine for restic, but
	// keep the conventional order: subcommand flags and global flags
	// first, positional arguments last.
	return reorder(append(append([]string{inv.op}, inv.args...), global...)), env, nil
}

// repoFlags are the global flags that name and open the repository, and
// those the operation asks for (locking, compression).
func (r *Repo) repoFlags(inv *invocation) ([]string, error) {
	if r.Host == "" {
		return nil, msg.New("restic: ゲートウェイIDが設定されていません", "restic: Repo.Host (the gateway ID) is empty")
	}
	loc, err := r.location()
	if err != nil {
		return nil, err
	}
	pw, err := checkPasswordFile(r.PasswordFile)
	if err != nil {
		return nil, err
	}
	flags := []string{"--repo=" + loc, "--password-file=" + pw}
	if r.CACert != "" {
		flags = append(flags, "--cacert="+r.CACert)
	}
	if inv.lock {
		switch {
		case r.RetryLock == 0:
			flags = append(flags, "--retry-lock="+DefaultRetryLock.String())
		case r.RetryLock > 0:
			flags = append(flags, "--retry-lock="+r.RetryLock.String())
		}
	}
	if inv.compress {
		c := r.Compression
		if c == "" {
			c = DefaultCompression
		}
		flags = append(flags, "--compression="+c)
	}
	return flags, nil
}

// command prepares restic's process: its directories and environment,
// SIGINT on cancellation (then a kill after StopGrace), and its output
// going to stdout and stderr.
func (r *Repo) command(ctx context.Context, inv invocation, args, env []string, stdout, stderr io.Writer) (*exec.Cmd, error) {
	cacheDir, err := prepareDir("cache dir", r.CacheDir)
	if err != nil {
		return nil, err
	}
	tempDir, err := prepareDir("temp dir", r.TempDir)
	if err != nil {
		return nil, err
	}
	bin := r.binary()
	if _, err := exec.LookPath(bin); err != nil {
		return nil, &BinaryError{Path: bin, Err: err}
	}
	grace := r.StopGrace
	if grace <= 0 {
		grace = DefaultStopGrace
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = inv.dir
	cmd.Env = r.environ(cacheDir, tempDir, env)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = grace
	dieWithParent(cmd)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, nil
}

// outcome turns how restic ended into nil or an *ExitError carrying its
// exit code, the items it reported and its last words, and logs it.
func (r *Repo) outcome(ctx context.Context, op string, cmd *exec.Cmd, p *parser, waitErr error, elapsed time.Duration) error {
	log := r.logger()
	code := 0
	if st := cmd.ProcessState; st != nil {
		code = st.ExitCode() // -1 when killed by a signal
	}
	if waitErr == nil || (cmd.ProcessState != nil && cmd.ProcessState.Success()) {
		log.Info("restic done", "op", op, "repo", r.displayLocation(), "elapsed", elapsed)
		return nil
	}
	xe := &ExitError{Op: op, Repo: r.displayLocation(), Code: ExitCode(code), Items: p.itemErrors(), Tail: p.tailLines()}
	if x := p.exitStatus(); x != nil {
		xe.Message = x.Message
	} else {
		xe.Message = strings.Join(xe.Tail, "\n")
	}
	if ctx.Err() != nil {
		xe.Code = ErrInterrupted
		xe.Cause = ctx.Err()
	} else if cmd.ProcessState == nil {
		return fmt.Errorf("restic %s: %w", op, waitErr)
	}
	log.Warn("restic failed", "op", op, "repo", r.displayLocation(), "exit", code, "elapsed", elapsed,
		"items", len(xe.Items), "message", oneLine(xe.Message))
	return xe
}

// reorder moves positional arguments (those not starting with "-") of the
// subcommand behind all flags. Every flag this package passes is in the
// --name=value form, so no flag value is mistaken for a positional
// argument. The subcommand (args[0]) stays first.
func reorder(args []string) []string {
	out := []string{args[0]}
	var pos []string
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "-") {
			out = append(out, a)
		} else {
			pos = append(pos, a)
		}
	}
	if len(pos) > 0 {
		out = append(out, "--")
		out = append(out, pos...)
	}
	return out
}

// redactArgs replaces repository locations in the argument list by their
// display form (no URL credentials). Passwords are never in args.
func redactArgs(args []string, r, from *Repo) []string {
	out := make([]string, len(args))
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "--repo="):
			a = "--repo=" + r.displayLocation()
		case strings.HasPrefix(a, "--from-repo=") && from != nil:
			a = "--from-repo=" + from.displayLocation()
		}
		out[i] = a
	}
	return out
}
