// Command pull benchmarks danzen's SFTP pull (pull.Run) against
// OpenSSH's own sftp client, against one real OpenSSH sshd on 127.0.0.1
// (internal/sshdtest), with the same cipher (aes128-gcm@openssh.com; with
// -no-aes, chacha20-poly1305@openssh.com, as on a CPU without AES).
//
// Two data sets: one big file of pseudo-random (incompressible) data and
// many small files in a few directories. Each tool copies each set into a
// fresh directory, -runs times, interleaved; the medians are reported with
// the ratio danzen/OpenSSH and PASS/MISS against the targets
// (≥ 1.0× on the big file, ≥ 2× on the small files). It is a benchmark, not
// a test: it exits 0 whether the targets are met or not.
//
// Run as root: `make bench-pull` or `go run ./bench/pull -h`. See
// bench/README.md for what is measured and how.
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/danzen-gw/danzen/internal/bytesize"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/sshdtest"
)

// childArg, as the first argument, makes the binary run one danzen pull
// and print its figures as JSON: the parent re-executes itself so that the
// pull's CPU time is the child's own rusage.
const childArg = "__danzen-bench-pull-child"

const (
	gib    = 1 << 30
	clkTck = 100 // USER_HZ: /proc times are in 1/100 s on Linux amd64 and arm64
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		os.Exit(child(os.Args[2:]))
	}
	var o opts
	bigSize := flag.String("big-size", "2GiB", "size of the big file (bytes, or with K/M/G, KiB/MiB/GiB, KB/MB/GB)")
	flag.IntVar(&o.smallCount, "small-count", 2000, "number of small files (4–64 KiB each)")
	flag.IntVar(&o.smallDirs, "small-dirs", 20, "directories the small files are spread over")
	flag.IntVar(&o.runs, "runs", 3, "measured runs per tool and data set; the median is reported")
	flag.BoolVar(&o.keep, "keep", false, "keep the sshd directory (with the export) and the last run's copies, and print where they are")
	flag.StringVar(&o.cache, "cache", "cold", `"cold": sync and drop the page cache before every run; "warm": one unmeasured warm-up run per tool, no dropping`)
	flag.StringVar(&o.sets, "sets", "big,small", "data sets to run, comma-separated")
	def := config.DefaultSource()
	flag.IntVar(&o.conns, "conns", def.Connections, "danzen: SSH connections (source connections)")
	flag.IntVar(&o.workers, "workers", def.Workers, "danzen: parallel file transfers (source workers)")
	flag.DurationVar(&o.stable, "stable", time.Second, `danzen: completion mode "stable" StableFor`)
	flag.StringVar(&o.profile, "cpuprofile", "", "directory to write a pprof CPU profile of every danzen pull into")
	flag.BoolVar(&o.noAES, "no-aes", false, "proxy for a CPU without AES instructions (Raspberry Pi 4): danzen runs with GODEBUG=cpu.aes=off, "+
		"OpenSSH sftp with chacha20-poly1305 and OPENSSL_ia32cap masking AES-NI and PCLMULQDQ")
	flag.Parse()
	var err error
	if o.bigSize, err = parseSize(*bigSize); err != nil || o.bigSize <= 0 {
		fmt.Fprintf(os.Stderr, "bad -big-size %q: %v\n", *bigSize, err)
		os.Exit(2)
	}
	if o.runs < 1 || o.smallCount < 1 || o.smallDirs < 1 || (o.cache != "cold" && o.cache != "warm") {
		fmt.Fprintln(os.Stderr, "-runs, -small-count and -small-dirs must be ≥ 1, -cache cold or warm")
		os.Exit(2)
	}
	// Become the subreaper of everything started below, so that sshd
	// session processes orphaned when a connection ends come back here
	// (and their CPU can be counted) instead of going to PID 1.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "bench/pull: PR_SET_CHILD_SUBREAPER:", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &o); err != nil {
		if ctx.Err() != nil {
			err = errors.New("interrupted")
		}
		fmt.Fprintln(os.Stderr, "bench/pull:", err)
		os.Exit(1)
	}
}

type opts struct {
	bigSize        int64
	smallCount     int
	smallDirs      int
	runs           int
	keep           bool
	cache          string
	sets           string
	conns, workers int
	stable         time.Duration
	profile        string
	noAES          bool
}

// The no-AES proxy. Go's runtime and x/sys/cpu read GODEBUG at start, so
// it is set on the danzen child, not here. OPENSSL_ia32cap clears AES-NI
// (bit 57) and PCLMULQDQ (bit 33) in OpenSSL's first capability word; the
// ":~0x0" keeps the second word (AVX2, AVX-512…) as detected, where
// leaving it out would clear it too.
const (
	noAESGodebug = "cpu.aes=off"
	noAESIA32Cap = "~0x200000200000000:~0x0"
	cipherAES    = "aes128-gcm@openssh.com"
	cipherChaCha = "chacha20-poly1305@openssh.com"
)

// refCipher is the cipher OpenSSH sftp is held to: the one danzen picks
// first on such a CPU (and, without AES, OpenSSH's own first choice).
func (o *opts) refCipher() string {
	if o.noAES {
		return cipherChaCha
	}
	return cipherAES
}

// childEnv is the danzen child's environment.
func (o *opts) childEnv() []string {
	env := os.Environ()
	if o.noAES {
		env = append(env, "GODEBUG="+joinGodebug(os.Getenv("GODEBUG"), noAESGodebug))
	}
	return env
}

// sftpEnv is OpenSSH sftp's (and its ssh's) environment.
func (o *opts) sftpEnv() []string {
	env := os.Environ()
	if o.noAES {
		env = append(env, "OPENSSL_ia32cap="+noAESIA32Cap)
	}
	return env
}

// joinGodebug adds setting to a GODEBUG value (a later setting wins).
func joinGodebug(cur, setting string) string {
	if cur == "" {
		return setting
	}
	return cur + "," + setting
}

// dataset is one directory of the export with what every copy must hold.
type dataset struct {
	name   string // directory under /export, and the danzen source name
	files  map[string]fileSum
	bytes  int64
	target float64 // danzen/OpenSSH ratio the issue asks for
	unit   string  // "MB/s" or "files/s": how the rate is judged
}

type fileSum struct {
	size int64
	sha  string
}

func run(ctx context.Context, o *opts) error {
	if os.Geteuid() != 0 {
		return errors.New("run as root: sshd chroots the account, and -cache cold drops the page cache")
	}
	sftpBin, err := exec.LookPath("sftp")
	if err != nil {
		return errors.New("OpenSSH sftp not found: apt-get install openssh-client")
	}
	header(o)

	srv, err := sshdtest.Start(ctx, sshdtest.Options{})
	if err != nil {
		return err
	}
	defer func() {
		if o.keep {
			fmt.Printf("\n-keep: sshd directory (export, keys, config) left at %s\n", srv.Dir)
			return
		}
		warn("stop sshd", srv.Close())
	}()
	master, err := sshdPID(srv.Dir)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "danzen-bench-pull-")
	if err != nil {
		return err
	}
	defer func() {
		if o.keep {
			fmt.Printf("-keep: last run's copies left in %s\n", work)
			return
		}
		warn("remove the work directory", os.RemoveAll(work))
	}()
	kh := filepath.Join(work, "known_hosts")
	if err := os.WriteFile(kh, []byte(srv.KnownHosts+"\n"), 0o600); err != nil {
		return err
	}

	var sets []*dataset
	for _, name := range strings.Split(o.sets, ",") {
		t0 := time.Now()
		var ds *dataset
		switch strings.TrimSpace(name) {
		case "big":
			ds, err = genBig(srv.Export, o.bigSize)
		case "small":
			ds, err = genSmall(srv.Export, o.smallCount, o.smallDirs)
		default:
			err = fmt.Errorf("unknown data set %q (big, small)", name)
		}
		if err != nil {
			return err
		}
		fmt.Printf("generated %-5s %5d files, %s in %.1fs\n", ds.name, len(ds.files), bytesize.Format(ds.bytes), time.Since(t0).Seconds())
		sets = append(sets, ds)
	}
	unix.Sync()

	env := &benchEnv{o: o, srv: srv, master: master, work: work, knownHosts: kh, sftp: sftpBin}
	var results []setResult
	for _, ds := range sets {
		r, err := env.runSet(ctx, ds)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	fmt.Println("\n== summary ==")
	for _, r := range results {
		if err := r.summary(o); err != nil {
			return err
		}
	}
	return nil
}

// warn reports a failure the figures do not depend on (cleaning up).
func warn(what string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench/pull: %s: %v\n", what, err)
	}
}

func header(o *opts) {
	load, _ := os.ReadFile("/proc/loadavg")
	var uts unix.Utsname
	release := "unknown"
	if unix.Uname(&uts) == nil {
		release = unix.ByteSliceToString(uts.Release[:])
	}
	sshV, _ := exec.Command("ssh", "-V").CombinedOutput()
	sftpV := "?"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/pkg/sftp" {
				sftpV = d.Version
			}
		}
	}
	fmt.Printf("danzen bench/pull  %s\n", time.Now().Format("2006-01-02 15:04:05 MST"))
	fmt.Printf("machine: %d CPUs, %s, kernel %s; %s; pkg/sftp %s; %s\n", runtime.NumCPU(), cpuModel(),
		release, runtime.Version(), sftpV, strings.TrimSpace(string(sshV)))
	fmt.Printf("loadavg at start: %s", load)
	fmt.Printf("cipher %s; page cache: %s; runs: %d (median reported); danzen: %d connections, %d workers, stable %s\n",
		o.refCipher(), o.cache, o.runs, o.conns, o.workers, o.stable)
	if o.noAES {
		fmt.Printf("no-AES proxy: danzen with GODEBUG=%s; OpenSSH sftp with OPENSSL_ia32cap=%s\n", noAESGodebug, noAESIA32Cap)
	}
	fmt.Println()
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// ---- data generation ----

// stream is a fast pseudo-random byte source: AES-CTR keystream.
type stream struct{ c cipher.Stream }

func newStream(seed byte) *stream {
	key := make([]byte, 16)
	key[0] = seed
	b, _ := aes.NewCipher(key)
	return &stream{cipher.NewCTR(b, make([]byte, aes.BlockSize))}
}

func (s *stream) fill(p []byte) {
	clear(p)
	s.c.XORKeyStream(p, p)
}

// old is the mtime given to generated files, so they are plainly stable.
var old = time.Now().Add(-time.Hour).Truncate(time.Second)

func genBig(export string, size int64) (*dataset, error) {
	ds := &dataset{name: "big", files: map[string]fileSum{}, target: 1.0, unit: "MB/s"}
	dir := filepath.Join(export, ds.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, "dump.bin")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // for the error paths: success closes and checks it below
	// Generate, hash and write in a pipeline of two buffers.
	src := newStream(1)
	h := sha256.New()
	bufs := [2][]byte{make([]byte, 8<<20), make([]byte, 8<<20)}
	var wg sync.WaitGroup
	var werr error
	for i, left := 0, size; left > 0; i++ {
		b := bufs[i%2][:min(int64(len(bufs[0])), left)]
		src.fill(b)
		wg.Wait()
		if werr != nil {
			return nil, werr
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.Write(b)
			_, werr = f.Write(b)
		}()
		left -= int64(len(b))
	}
	wg.Wait()
	if werr != nil {
		return nil, werr
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.Chtimes(p, old, old); err != nil {
		return nil, err
	}
	ds.files["dump.bin"] = fileSum{size, hex.EncodeToString(h.Sum(nil))}
	ds.bytes = size
	return ds, nil
}

func genSmall(export string, count, dirs int) (*dataset, error) {
	ds := &dataset{name: "small", files: map[string]fileSum{}, target: 2.0, unit: "files/s"}
	rng := rand.New(rand.NewPCG(1, 2))
	src := newStream(2)
	buf := make([]byte, 64<<10)
	for i := range count {
		size := 4<<10 + rng.IntN(60<<10+1)
		b := buf[:size]
		src.fill(b)
		rel := fmt.Sprintf("d%02d/f%05d.bin", i%dirs, i)
		p := filepath.Join(export, ds.name, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		if err := os.Chtimes(p, old, old); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		ds.files[rel] = fileSum{int64(size), hex.EncodeToString(sum[:])}
		ds.bytes += int64(size)
	}
	return ds, nil
}

// ---- running the tools ----

type benchEnv struct {
	o          *opts
	srv        *sshdtest.Server
	master     int // sshd listener pid: its cutime/cstime collect every session's CPU
	work       string
	knownHosts string
	sftp       string
}

// trial is one copy of one data set by one tool.
type trial struct {
	tool      string        // "danzen" or "sftp"
	wall      time.Duration // the whole client process, start to exit
	xfer      time.Duration // danzen: EventListed → EventPullDone; sftp: = wall
	syncfs    time.Duration // sftp: a syncfs of the copy after sftp exited
	cpu       float64       // client CPU seconds (user+sys, the process and its waited-for children)
	xferCPU   float64       // danzen: its CPU between EventListed and EventPullDone
	serverCPU float64       // the sshd session processes' CPU seconds
	kernel    float64       // CPU seconds of kernel threads (writeback, …) meanwhile
	others    float64       // CPU seconds used by every other process meanwhile
	maxRSS    int64         // KiB
	load      string
	cipher    string // danzen: negotiated
}

type setResult struct {
	ds     *dataset
	danzen []trial
	sftp   []trial
	setup  time.Duration // sftp's connect + auth + exit, see sftpSetup
}

func (e *benchEnv) runSet(ctx context.Context, ds *dataset) (setResult, error) {
	res := setResult{ds: ds}
	fmt.Printf("\n== %s: %d files, %s; %s runs ==\n", ds.name, len(ds.files), bytesize.Format(ds.bytes), e.o.cache)
	var err error
	if res.setup, err = e.sftpSetup(ctx); err != nil {
		return res, err
	}
	fmt.Printf("  an OpenSSH sftp session that only connects, authenticates and runs pwd: %.2fs (median of 5)\n", res.setup.Seconds())
	var lastDanzen, lastSFTP string
	one := func(tool string, n int, measured bool) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Each copy goes into a fresh directory; the previous one of the
		// same tool is removed first so memory and disk stay bounded.
		prev := &lastDanzen
		if tool == "sftp" {
			prev = &lastSFTP
		}
		if *prev != "" {
			if err := os.RemoveAll(*prev); err != nil {
				return err
			}
		}
		dir := filepath.Join(e.work, fmt.Sprintf("%s-%s-%d", ds.name, tool, n))
		*prev = dir
		if e.o.cache == "cold" {
			unix.Sync()
			if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
				return fmt.Errorf("drop caches: %w", err)
			}
		}
		var t trial
		var err error
		if tool == "danzen" {
			t, err = e.runDanzen(ctx, ds, dir)
		} else {
			t, err = e.runSFTP(ctx, ds, dir)
		}
		if err != nil {
			return fmt.Errorf("%s %s run %d: %w", ds.name, tool, n, err)
		}
		label := fmt.Sprintf("run %d", n)
		if !measured {
			label = "warm-up"
		} else if tool == "danzen" {
			res.danzen = append(res.danzen, t)
		} else {
			res.sftp = append(res.sftp, t)
		}
		t.print(label, ds)
		return nil
	}
	if e.o.cache == "warm" {
		for _, tool := range []string{"danzen", "sftp"} {
			if err := one(tool, 0, false); err != nil {
				return res, err
			}
		}
	}
	for n := 1; n <= e.o.runs; n++ {
		// Alternate which tool goes first, so a drift in the machine's
		// load does not always favour the same one.
		order := []string{"danzen", "sftp"}
		if n%2 == 0 {
			order = []string{"sftp", "danzen"}
		}
		for _, tool := range order {
			if err := one(tool, n, true); err != nil {
				return res, err
			}
		}
	}
	if !e.o.keep {
		return res, errors.Join(os.RemoveAll(lastDanzen), os.RemoveAll(lastSFTP))
	}
	return res, nil
}

// childSpec is what the parent passes to the danzen child.
type childSpec struct {
	Port       int           `json:"port"`
	KeyFile    string        `json:"key_file"`
	KnownHosts string        `json:"known_hosts"`
	ExportDir  string        `json:"export_dir"`
	Name       string        `json:"name"`
	Staging    string        `json:"staging"`
	Conns      int           `json:"conns"`
	Workers    int           `json:"workers"`
	Stable     time.Duration `json:"stable"`
	Profile    string        `json:"profile,omitempty"`
}

// childResult is what the child prints.
type childResult struct {
	Listed   int64   `json:"listed_unix_ns"`
	Done     int64   `json:"done_unix_ns"`
	ListCPU  float64 `json:"cpu_at_listed"`
	DoneCPU  float64 `json:"cpu_at_done"`
	Files    int     `json:"files_transferred"`
	Bytes    int64   `json:"bytes_transferred"`
	Err      string  `json:"error,omitempty"`
	Problems int     `json:"problems"`
	Cipher   string  `json:"cipher"` // negotiated, as the pull logged it
}

func (e *benchEnv) runDanzen(ctx context.Context, ds *dataset, dir string) (trial, error) {
	self, err := os.Executable()
	if err != nil {
		return trial{}, err
	}
	spec := childSpec{Port: e.srv.Port, KeyFile: e.srv.ClientKeyFile, KnownHosts: e.srv.KnownHosts,
		ExportDir: "/export/" + ds.name, Name: ds.name, Staging: dir, Conns: e.o.conns, Workers: e.o.workers, Stable: e.o.stable}
	if e.o.profile != "" {
		spec.Profile = filepath.Join(e.o.profile, filepath.Base(dir)+".pprof")
	}
	js, _ := json.Marshal(spec)
	cmd := exec.CommandContext(ctx, self, childArg, string(js))
	cmd.Env = e.o.childEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return trial{}, err
	}
	t := trial{tool: "danzen"}
	m := e.startMeasure(&t)
	start := time.Now()
	err = cmd.Run()
	t.wall = time.Since(start)
	e.endMeasure(m, &t, cmd.ProcessState)
	if err != nil {
		return t, fmt.Errorf("%v\n%s%s", err, stdout.String(), stderr.String())
	}
	var r childResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return t, fmt.Errorf("child output: %v: %q", err, stdout.String())
	}
	if r.Err != "" {
		return t, errors.New("pull.Run: " + r.Err)
	}
	if r.Listed == 0 || r.Done == 0 {
		return t, errors.New("pull.Run emitted no pull.listed or pull.done event")
	}
	t.xfer = time.Duration(r.Done - r.Listed)
	t.xferCPU = r.DoneCPU - r.ListCPU
	t.cipher = r.Cipher
	if r.Files != len(ds.files) || r.Bytes != ds.bytes {
		return t, fmt.Errorf("manifest says %d files, %d bytes transferred; want %d, %d", r.Files, r.Bytes, len(ds.files), ds.bytes)
	}
	man, err := pull.LoadManifest(dir, ds.name)
	if err != nil || man == nil {
		return t, fmt.Errorf("manifest: %v", err)
	}
	for _, f := range man.Files {
		if want, ok := ds.files[f.Path]; !ok || want.sha != f.SHA256 || want.size != f.Size {
			return t, fmt.Errorf("manifest entry %s (%d bytes, %s) does not match the export", f.Path, f.Size, f.SHA256)
		}
	}
	return t, verify(pull.DataDir(dir, ds.name), ds)
}

// sftpCmd is OpenSSH's sftp running a batch file against the test sshd
// with the benchmark's cipher, the pinned host key and no user config.
func (e *benchEnv) sftpCmd(ctx context.Context, batch string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.sftp, "-q", "-b", batch, "-i", e.srv.ClientKeyFile,
		"-F", "/dev/null",
		"-o", "UserKnownHostsFile="+e.knownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes",
		"-o", "Ciphers="+e.o.refCipher(),
		"-P", strconv.Itoa(e.srv.Port), sshdtest.User+"@127.0.0.1")
	cmd.Env = e.o.sftpEnv()
	return cmd
}

// sftpSetup is the median wall time of an sftp session that only connects,
// authenticates, runs "pwd" and leaves: the part of an sftp run that
// danzen's pull.listed → pull.done figure has no counterpart for.
func (e *benchEnv) sftpSetup(ctx context.Context) (time.Duration, error) {
	batch := filepath.Join(e.work, "batch-pwd")
	if err := os.WriteFile(batch, []byte("pwd\n"), 0o600); err != nil {
		return 0, err
	}
	var ds []time.Duration
	for range 5 {
		cmd := e.sftpCmd(ctx, batch)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("sftp pwd: %v: %s", err, out)
		}
		ds = append(ds, time.Since(start))
		reapOrphans(e.master)
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

func (e *benchEnv) runSFTP(ctx context.Context, ds *dataset, dir string) (trial, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return trial{}, err
	}
	// "get -r /export/X DIR/X" with DIR/X absent creates DIR/X holding
	// the contents of /export/X.
	dest := filepath.Join(dir, ds.name)
	batch := filepath.Join(e.work, "batch-"+ds.name)
	if err := os.WriteFile(batch, []byte(fmt.Sprintf("get -r /export/%s %s\n", ds.name, dest)), 0o600); err != nil {
		return trial{}, err
	}
	cmd := e.sftpCmd(ctx, batch)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t := trial{tool: "sftp"}
	m := e.startMeasure(&t)
	start := time.Now()
	err := cmd.Run()
	t.wall = time.Since(start)
	t.xfer = t.wall
	e.endMeasure(m, &t, cmd.ProcessState)
	if err != nil {
		return t, fmt.Errorf("%v\n%s", err, out.String())
	}
	// sftp does not sync what it wrote; danzen's figure includes a
	// syncfs. Time one here so the two can also be compared like for like.
	if t.syncfs, err = timeSyncfs(dir); err != nil {
		return t, err
	}
	return t, verify(dest, ds)
}

// timeSyncfs syncs the filesystem holding dir and says how long it took.
func timeSyncfs(dir string) (time.Duration, error) {
	start := time.Now()
	f, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }() // opened only to name the filesystem
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return 0, fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return time.Since(start), nil
}

// verify checks that a copy holds exactly the data set's files, with the
// right sizes and contents.
func verify(root string, ds *dataset) error {
	seen := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		want, ok := ds.files[rel]
		if !ok {
			return fmt.Errorf("copy has an unexpected file %s", p)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Size() != want.size {
			return fmt.Errorf("copy %s is %d bytes, want %d: INCOMPLETE", p, fi.Size(), want.size)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		_ = f.Close() // read-only: the copy's error and the hash are what count
		if err != nil {
			return err
		}
		if hex.EncodeToString(h.Sum(nil)) != want.sha {
			return fmt.Errorf("copy %s has the wrong content (SHA-256 differs)", p)
		}
		seen++
		return nil
	})
	if err != nil {
		return err
	}
	if seen != len(ds.files) {
		return fmt.Errorf("copy in %s has %d files, want %d: INCOMPLETE", root, seen, len(ds.files))
	}
	return nil
}

// ---- measuring ----

type measure struct {
	busy    float64 // machine busy CPU seconds (/proc/stat)
	server  float64 // sshd listener's cutime+cstime
	kthread map[int]float64
}

func (e *benchEnv) startMeasure(t *trial) measure {
	load, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(load))
	if len(f) >= 3 {
		t.load = strings.Join(f[:3], " ")
	}
	return measure{busy: machineBusy(), server: childrenCPU(e.master), kthread: kthreadCPU()}
}

func (e *benchEnv) endMeasure(m measure, t *trial, ps *os.ProcessState) {
	if ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			t.cpu = tv(ru.Utime) + tv(ru.Stime)
			t.maxRSS = ru.Maxrss
		}
	}
	// The session's sshd processes are reaped by the listener shortly
	// after the client leaves; their CPU shows in its cutime then.
	deadline := time.Now().Add(5 * time.Second)
	for hasChildren(e.master) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Session processes orphaned on the way out (OpenSSH's internal-sftp
	// child can outlive its parent) are re-parented to this process, the
	// subreaper: reap them and count their rusage too.
	for {
		srv, cli, left := reapOrphans(e.master)
		t.serverCPU += srv
		t.cpu += cli
		if (!left && !hasChildren(e.master)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.serverCPU += childrenCPU(e.master) - m.server
	for pid, v := range kthreadCPU() {
		t.kernel += v - m.kthread[pid]
	}
	t.others = max(0, machineBusy()-m.busy-t.cpu-t.serverCPU-t.kernel)
}

// kthreadCPU maps every kernel thread (kthreadd's children) to its CPU
// seconds: writeback of what a tool wrote is done there.
func kthreadCPU() map[int]float64 {
	out := map[int]float64{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := procStat(pid)
		if len(f) < 13 || (f[1] != "2" && pid != 2) {
			continue
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		out[pid] = (u + s) / clkTck
	}
	return out
}

// reapOrphans waits for this process's exited children other than the
// sshd listener (the tools themselves are already waited for by then) and
// returns their CPU seconds, split into sshd's and the rest, and whether
// any such child is still running.
func reapOrphans(master int) (server, client float64, left bool) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", os.Getpid(), os.Getpid()))
	for _, s := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(s)
		if pid == master || pid <= 0 {
			continue
		}
		f := procStat(pid)
		if len(f) == 0 || f[0] != "Z" {
			left = true
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		var ru syscall.Rusage
		var ws syscall.WaitStatus
		if n, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, &ru); err != nil || n != pid {
			continue
		}
		if strings.TrimSpace(string(comm)) == "sshd" {
			server += tv(ru.Utime) + tv(ru.Stime)
		} else {
			client += tv(ru.Utime) + tv(ru.Stime)
		}
	}
	return server, client, left
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// machineBusy is the CPU seconds all CPUs spent not idle since boot.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal guest guest_nice
	var busy float64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest is already in user
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return busy / clkTck
}

func procStat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
}

// childrenCPU is a process's cutime+cstime: the CPU of its reaped children.
func childrenCPU(pid int) float64 {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	cu, _ := strconv.ParseFloat(f[13], 64)
	cs, _ := strconv.ParseFloat(f[14], 64)
	return (cu + cs) / clkTck
}

func hasChildren(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err == nil {
		return len(bytes.TrimSpace(b)) > 0
	}
	return false
}

// sshdPID finds the sshd listener sshdtest started (its command line
// names a config file in the server's directory).
func sshdPID(dir string) (int, error) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cl, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		f := procStat(pid)
		if bytes.Contains(cl, []byte(dir)) && len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
			return pid, nil
		}
	}
	return 0, errors.New("cannot find the test sshd's process")
}

// ---- the danzen child ----

func child(args []string) int {
	var r childResult
	// The parent reads r from stdout: without it, it reports the child's
	// stderr instead.
	report := func() int {
		if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, "bench/pull child:", err)
			return 1
		}
		return 0
	}
	fail := func(err error) int {
		r.Err = err.Error()
		return report()
	}
	if len(args) != 1 {
		return fail(errors.New("usage: " + childArg + " JSON"))
	}
	var s childSpec
	if err := json.Unmarshal([]byte(args[0]), &s); err != nil {
		return fail(err)
	}
	if s.Profile != "" {
		f, err := os.Create(s.Profile)
		if err != nil {
			return fail(err)
		}
		defer func() { warn("cpuprofile", f.Close()) }()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	src := config.DefaultSource()
	src.Name = s.Name
	src.Host = "127.0.0.1"
	src.Port = s.Port
	src.User = sshdtest.User
	src.KeyFile = s.KeyFile
	src.KnownHosts = []string{s.KnownHosts}
	src.ExportDir = s.ExportDir
	src.Connections = s.Conns
	src.Workers = s.Workers
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(s.Stable)}
	var mu sync.Mutex
	ciph := &cipherLog{}
	m, err := pull.Run(context.Background(), src, pull.Options{
		Staging: s.Staging,
		KeyFile: s.KeyFile,
		Logger:  slog.New(ciph),
		Events: func(ev pull.Event) {
			switch ev.Kind {
			case pull.EventListed, pull.EventDone:
				now := time.Now().UnixNano()
				cpu := selfCPU()
				mu.Lock()
				if ev.Kind == pull.EventListed {
					r.Listed, r.ListCPU = now, cpu
				} else {
					r.Done, r.DoneCPU = now, cpu
				}
				mu.Unlock()
			}
		},
	})
	if err != nil {
		return fail(err)
	}
	r.Files, r.Bytes = m.FilesTransferred, m.BytesTransferred
	r.Cipher = ciph.get()
	r.Problems = len(m.Pending) + len(m.Failed) + len(m.Refused)
	if r.Problems > 0 {
		return fail(fmt.Errorf("%d pending/failed/refused files", r.Problems))
	}
	return report()
}

// cipherLog is a slog handler that keeps the "cipher" the pull logs when
// it connects, and drops everything else.
type cipherLog struct {
	mu     sync.Mutex
	cipher string
}

func (h *cipherLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *cipherLog) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *cipherLog) WithGroup(string) slog.Handler                { return h }

func (h *cipherLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "cipher" {
			h.mu.Lock()
			h.cipher = a.Value.String()
			h.mu.Unlock()
		}
		return true
	})
	return nil
}

func (h *cipherLog) get() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cipher
}

func selfCPU() float64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6 + float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
}

// ---- reporting ----

func (t trial) print(label string, ds *dataset) {
	gb := float64(ds.bytes) / gib
	switch t.tool {
	case "danzen":
		fmt.Printf("  %-7s danzen  listed→done %6.2fs %7.1f MB/s %s | process %6.2fs | client CPU %5.2fs (%4.2f s/GiB; %5.2fs listed→done) | sshd CPU %5.2fs | kernel %5.2fs | others %5.2fs | RSS %4d MiB | load %s\n",
			label, t.xfer.Seconds(), mbps(ds.bytes, t.xfer), fps(len(ds.files), t.xfer), t.wall.Seconds(),
			t.cpu, t.cpu/gb, t.xferCPU, t.serverCPU, t.kernel, t.others, t.maxRSS>>10, t.load)
	default:
		fmt.Printf("  %-7s sftp    process     %6.2fs %7.1f MB/s %s | +syncfs %5.2fs | client CPU %5.2fs (%4.2f s/GiB) | sshd CPU %5.2fs | kernel %5.2fs | others %5.2fs | RSS %4d MiB | load %s\n",
			label, t.wall.Seconds(), mbps(ds.bytes, t.wall), fps(len(ds.files), t.wall), t.syncfs.Seconds(),
			t.cpu, t.cpu/gb, t.serverCPU, t.kernel, t.others, t.maxRSS>>10, t.load)
	}
}

// fig is the medians of one tool's CPU and memory figures.
type fig struct{ cpu, srv, ker, oth, rss float64 }

// median of f over ts.
func median(ts []trial, f func(trial) float64) float64 {
	v := make([]float64, len(ts))
	for i, t := range ts {
		v[i] = f(t)
	}
	return medianOf(v)
}

func medianOf(v []float64) float64 {
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func figures(ts []trial) fig {
	return fig{
		cpu: median(ts, func(t trial) float64 { return t.cpu }),
		srv: median(ts, func(t trial) float64 { return t.serverCPU }),
		ker: median(ts, func(t trial) float64 { return t.kernel }),
		oth: median(ts, func(t trial) float64 { return t.others }),
		rss: median(ts, func(t trial) float64 { return float64(t.maxRSS >> 10) }),
	}
}

// times are a data set's median seconds, each tool on each basis.
type times struct {
	dXfer  float64 // danzen, pull.listed → pull.done
	dWhole float64 // danzen's process minus the stable wait
	sWall  float64 // sftp's process
	sSync  float64 // sftp's process and a syncfs of its copy
}

func (r setResult) times(o *opts) times {
	return times{
		dXfer:  median(r.danzen, func(t trial) float64 { return t.xfer.Seconds() }),
		dWhole: median(r.danzen, func(t trial) float64 { return t.wall.Seconds() - o.stable.Seconds() }),
		sWall:  median(r.sftp, func(t trial) float64 { return t.wall.Seconds() }),
		sSync:  median(r.sftp, func(t trial) float64 { return (t.wall + t.syncfs).Seconds() }),
	}
}

// summary prints a data set's medians as a table, then the ratios
// judged against the target.
func (r setResult) summary(o *opts) error {
	ds := r.ds
	tm := r.times(o)
	d, s := figures(r.danzen), figures(r.sftp)
	fmt.Printf("\n%s: %d files, %s (medians of %d runs, page cache %s)\n", ds.name, len(ds.files), bytesize.Format(ds.bytes), len(r.danzen), o.cache)
	if err := r.table(o, tm, d, s); err != nil {
		return err
	}
	r.verdicts(o, tm, d, s)
	r.ciphers(o)
	return nil
}

// ciphers prints what danzen's connections negotiated beside the cipher
// sftp is held to: the ratios compare like with like only when they agree.
func (r setResult) ciphers(o *opts) {
	var got []string
	for _, t := range r.danzen {
		if c := cmp.Or(t.cipher, "(not logged)"); !slices.Contains(got, c) {
			got = append(got, c)
		}
	}
	fmt.Printf("      cipher: danzen negotiated %s; OpenSSH sftp held to %s\n", strings.Join(got, ", "), o.refCipher())
	if len(got) != 1 || got[0] != o.refCipher() {
		fmt.Printf("      !!! danzen did not use %s: the ratios above compare different ciphers\n", o.refCipher())
	}
}

// table prints one row per tool and basis.
func (r setResult) table(o *opts, tm times, d, s fig) error {
	ds := r.ds
	gb := float64(ds.bytes) / gib
	t := &table{tw: tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)}
	t.printf("\tseconds\tMB/s\tfiles/s\tclient CPU s\tclient CPU s/GiB\tsshd CPU s/GiB\tkernel thr. CPU s\tothers CPU s\tmax RSS MiB\t\n")
	row := func(name string, secs float64, f *fig) {
		fps := "–"
		if len(ds.files) > 1 {
			fps = fmt.Sprintf("%.0f", float64(len(ds.files))/secs)
		}
		t.printf("%s\t%.2f\t%.1f\t%s\t", name, secs, float64(ds.bytes)/1e6/secs, fps)
		if f == nil {
			t.printf("\t\t\t\t\t\t\n")
			return
		}
		t.printf("%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t\n", f.cpu, f.cpu/gb, f.srv/gb, f.ker, f.oth, f.rss)
	}
	row("danzen, pull.listed → pull.done", tm.dXfer, &d)
	row(fmt.Sprintf("danzen, whole process − %s stable wait", o.stable), tm.dWhole, nil)
	row("OpenSSH sftp, whole process", tm.sWall, &s)
	row("OpenSSH sftp + syncfs of the copy", tm.sSync, nil)
	row("OpenSSH sftp − connection setup", tm.sWall-r.setup.Seconds(), nil)
	return t.flush()
}

// table writes rows through a tabwriter and keeps the first error.
type table struct {
	tw  *tabwriter.Writer
	err error
}

func (t *table) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.tw, format, args...)
	}
}

func (t *table) flush() error {
	if t.err == nil {
		t.err = t.tw.Flush()
	}
	return t.err
}

// verdicts prints the danzen/OpenSSH ratios, PASS or MISS against the
// target, on each basis.
func (r setResult) verdicts(o *opts, tm times, d, s fig) {
	ds := r.ds
	gb := float64(ds.bytes) / gib
	verdict := func(r float64) string {
		if math.Round(r*100)/100 >= ds.target { // as printed
			return "PASS"
		}
		return "MISS"
	}
	ratio := tm.sWall / tm.dXfer
	fmt.Printf("  >>> %s: danzen/OpenSSH %s = %.2f×  (danzen pull.listed → pull.done vs the whole sftp process; target ≥ %.1f×)  %s\n",
		ds.name, ds.unit, ratio, ds.target, verdict(ratio))
	tOnly := (tm.sWall - r.setup.Seconds()) / tm.dXfer
	whole := tm.sWall / tm.dWhole
	fmt.Printf("      transfer only (sftp minus its %.2fs connection setup):   %.2f×  %s\n", r.setup.Seconds(), tOnly, verdict(tOnly))
	fmt.Printf("      whole processes (danzen minus the %s stable wait):       %.2f×  %s\n", o.stable, whole, verdict(whole))
	fmt.Printf("      sftp + a syncfs of its copy (danzen syncs, sftp does not): %.2f×\n", tm.sSync/tm.dXfer)
	paired, pm := r.pairedRatios()
	fmt.Printf("      per-run ratios, first basis (run n of each, back to back): %s; median %.2f×\n", strings.Join(paired, ", "), pm)
	fmt.Printf("      CPU s/GiB, client + sshd: danzen %.2f + %.2f = %.2f, OpenSSH %.2f + %.2f = %.2f (danzen also hashes SHA-256 and fsyncs)\n",
		d.cpu/gb, d.srv/gb, (d.cpu+d.srv)/gb, s.cpu/gb, s.srv/gb, (s.cpu+s.srv)/gb)
}

// pairedRatios are the ratios of runs n of both tools, which ran back to
// back: less exposed to a drift in the machine's other load than the
// ratio of medians. It returns them as printed, and their median.
func (r setResult) pairedRatios() ([]string, float64) {
	var v []float64
	var printed []string
	for i := range min(len(r.danzen), len(r.sftp)) {
		x := r.sftp[i].wall.Seconds() / r.danzen[i].xfer.Seconds()
		v = append(v, x)
		printed = append(printed, fmt.Sprintf("%.2f", x))
	}
	return printed, medianOf(v)
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

// fps formats a files/s figure, or blanks for a single file.
func fps(n int, d time.Duration) string {
	if n < 2 {
		return strings.Repeat(" ", 15)
	}
	return fmt.Sprintf("%7.0f files/s", float64(n)/d.Seconds())
}

// parseSize reads "2GiB", "512MiB", "100MB", "1G", "4096".
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
		{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil {
				return 0, err
			}
			return int64(v * float64(u.mult)), nil
		}
	}
	return strconv.ParseInt(t, 10, 64)
}
