package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/syncbuf"

	"github.com/minio/minio-go/v7"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/duration"
	testrig "github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/s3/s3test"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/status"
)

// s3Rig is a gateway whose only medium is a bucket on a real versitygw.
type s3Rig struct {
	*testrig.Rig
	srv *s3test.Server
	log *syncbuf.Buffer
}

func newS3Rig(t *testing.T, lock *s3test.Lock) *s3Rig {
	t.Helper()
	if testing.Short() {
		t.Skip("runs versitygw (bin/versitygw): make test runs it, -short skips it")
	}
	srv := startS3(t)
	if err := srv.MakeBucket(context.Background(), "hospital-backup", true, lock); err != nil {
		t.Fatal(err)
	}
	x := testrig.New(t, map[string]string{
		"db/emr.dmp":    strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎');\n", 50000),
		"カルテ/患者 一覧.csv": "患者ID,氏名\n1,山田 太郎\n",
	}, nil, 0)
	if err := os.MkdirAll(x.Cfg.SecretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(x.Cfg.SecretsDir, "cloud.s3-secret"), []byte(srv.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	x.Cfg.Media = []config.Medium{{Name: "cloud", Type: config.MediumS3, PasswordFile: "cloud.restic-password",
		S3: &s3.Spec{Name: "cloud", Endpoint: srv.Endpoint, Bucket: "hospital-backup", Prefix: "danzen", AccessKeyID: srv.AccessKey,
			SecretKeyFile: "cloud.s3-secret", CAFile: srv.CAFile, MinRetentionDays: 14}}}
	if err := x.Cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &s3Rig{Rig: x, srv: srv, log: &syncbuf.Buffer{}}
}

func (r *s3Rig) open(t *testing.T) *gateway.Gateway {
	t.Helper()
	g, err := gateway.Open(context.Background(), r.Cfg, gateway.Options{
		RelaySources: r.HW.Sources(), Logger: slog.New(slog.NewTextHandler(r.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	return g
}

// watchArgv records the command lines of every restic process working on
// repo seen until stop is called (other tests may run restic too).
func watchArgv(resticBin, repo string) (stop func() []string) {
	var mu sync.Mutex
	seen := map[string]bool{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			pids, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, p := range pids {
				b, err := os.ReadFile(p)
				if err != nil || !bytes.HasPrefix(b, []byte(resticBin+"\x00")) || !bytes.Contains(b, []byte(repo)) {
					continue
				}
				mu.Lock()
				seen[string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))] = true
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() []string {
		close(done)
		wg.Wait()
		var out []string
		for c := range seen {
			out = append(out, c)
		}
		return out
	}
}

// TestS3CycleRestoresWithStockRestic: a cycle verifies the bucket's lock,
// writes through restic's s3 backend, records the medium offline by
// immutability; the gateway restores from it, stock restic reads it, and
// the secret key is in no log, ledger or command line.
func TestS3CycleRestoresWithStockRestic(t *testing.T) {
	r := newS3Rig(t, &s3test.Lock{Mode: minio.Compliance, Days: 30})
	r.Cfg.Retention.KeepLast = 1 // so that the second cycle forgets and prunes
	g := r.open(t)
	if _, _, err := g.NewPassword("cloud"); err != nil {
		t.Fatal(err)
	}
	if mr, err := g.PrepareMedium(ctxT(t), "cloud", false, nil); err != nil || !mr.CutVerified {
		t.Fatalf("prepare: %v %+v", err, mr)
	}
	cycleKeepsCredentialsOffCommandLine(t, r, g)
	secondCycleOnlyHidesForgotten(t, r, g)
	evidenceSaysImmutable(t, r, g)

	// Restore through the gateway's restore path.
	rr, err := g.Restore(ctxT(t), gateway.RestoreOptions{Medium: "cloud", Actor: "test"}, nil)
	if err != nil || !rr.OK || rr.FilesVerified != 2 || !rr.Medium.CutVerified {
		t.Fatalf("restore: %v %+v", err, rr)
	}
	restoreBucketWithStockRestic(t, r)
	secretInNoLogOrLedger(t, r)
}

// cycleKeepsCredentialsOffCommandLine runs a cycle and checks restic got
// the bucket's CA and no credential on its command line.
func cycleKeepsCredentialsOffCommandLine(t *testing.T, r *s3Rig, g *gateway.Gateway) {
	t.Helper()
	stop := watchArgv(r.Cfg.ResticBinary, "--repo=s3:https://"+r.srv.Endpoint+"/")
	rep, err := g.RunCycle(ctxT(t), nil)
	argv := stop()
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Media[0]
	if !rep.OK() || !m.CutVerified || len(m.Snapshots) != 1 || !m.Checked {
		t.Fatalf("cycle: %+v", m)
	}
	if len(argv) == 0 {
		t.Fatal("no restic process was seen: the command line check tested nothing")
	}
	for _, c := range argv {
		if strings.Contains(c, r.srv.SecretKey) || strings.Contains(c, r.srv.AccessKey) {
			t.Fatalf("a credential is on restic's command line: %s", c)
		}
		if !strings.Contains(c, "--cacert=") {
			t.Errorf("restic ran without the bucket's CA: %s", c)
		}
	}
}

// secondCycleOnlyHidesForgotten: forget --prune on a locked bucket only
// hides: the forgotten snapshot's version stays behind a delete marker,
// locked.
func secondCycleOnlyHidesForgotten(t *testing.T, r *s3Rig, g *gateway.Gateway) {
	t.Helper()
	rep, err := g.RunCycle(ctxT(t), nil)
	if err != nil || rep.Media[0].Forgotten != 1 {
		t.Fatalf("second cycle: %v %+v", err, rep.Media[0])
	}
	var versions, markers int
	for o := range r.srv.Client.ListObjects(context.Background(), "hospital-backup", minio.ListObjectsOptions{Prefix: "danzen/snapshots/", Recursive: true, WithVersions: true}) {
		switch {
		case o.Err != nil:
			t.Fatal(o.Err)
		case o.IsDeleteMarker:
			markers++
		default:
			versions++
		}
	}
	if versions != 2 || markers != 1 {
		t.Errorf("snapshots/: %d versions and %d delete markers, want 2 and 1", versions, markers)
	}
}

// evidenceSaysImmutable: the lock was verified before the upload, then
// the medium is offline by immutability, and the page's status says so.
func evidenceSaysImmutable(t *testing.T, r *s3Rig, g *gateway.Gateway) {
	t.Helper()
	entries, err := ledger.Read(r.Cfg.LedgerDir, ledger.Filter{Medium: "cloud"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var lastCut ledger.CutData
	for _, e := range entries {
		kinds = append(kinds, string(e.Kind))
		if e.Kind == ledger.KindPowerOffVerified {
			if lastCut, err = ledger.Decode[ledger.CutData](e); err != nil {
				t.Fatal(err)
			}
		}
	}
	k := strings.Join(kinds, " ")
	if !strings.Contains(k, "power.on lock.verified mount snapshot") || !strings.HasSuffix(k, "unmount power.off.verified") {
		t.Errorf("ledger kinds: %s", k)
	}
	if !lastCut.Immutable || lastCut.Relay != "" || lastCut.SenseOff || lastCut.DeviceGone {
		t.Errorf("cut evidence %+v: want immutable and no claim of a power cut", lastCut)
	}
	st, err := g.Status(context.Background())
	if err != nil || st.Media[0].State != status.Cut || !st.Media[0].Immutable || !strings.Contains(st.Media[0].Label().String(), "Object Lock") {
		t.Fatalf("status: %v %+v", err, st.Media)
	}
}

// restoreBucketWithStockRestic restores with stock restic, given only the
// bucket's address, CA, key and password.
func restoreBucketWithStockRestic(t *testing.T, r *s3Rig) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(r.Cfg.ResticBinary, "-r", "s3:https://"+r.srv.Endpoint+"/hospital-backup/danzen", "--cacert", r.srv.CAFile,
		"--password-file", r.Cfg.KeyPath("cloud.restic-password"), "--no-cache", "restore", "latest", "--target", out)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+r.srv.AccessKey, "AWS_SECRET_ACCESS_KEY="+r.srv.SecretKey)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stock restic restore: %v\n%s", err, b)
	}
	if b, err := os.ReadFile(filepath.Join(out, "data", "カルテ", "患者 一覧.csv")); err != nil || string(b) != "患者ID,氏名\n1,山田 太郎\n" {
		t.Errorf("stock restic restored %q, %v", b, err)
	}
}

// secretInNoLogOrLedger: the secret key is in neither the gateway's log
// nor the ledger, and the log names the variable it was passed in.
func secretInNoLogOrLedger(t *testing.T, r *s3Rig) {
	t.Helper()
	if strings.Contains(r.log.String(), r.srv.SecretKey) {
		t.Error("the secret key is in the gateway's log")
	}
	files, err := filepath.Glob(filepath.Join(r.Cfg.LedgerDir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ledger files: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, syscall.EISDIR) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(r.srv.SecretKey)) {
			t.Errorf("the secret key is in the ledger file %s", f)
		}
	}
	if !strings.Contains(r.log.String(), "AWS_SECRET_ACCESS_KEY") {
		t.Error("the log does not even name the variable: was the key passed at all?")
	}
}

// TestS3WrongLockIsNotOffline: a bucket whose default retention is
// GOVERNANCE is refused before anything is written, recorded as not
// offline with the setting named, and shown as a fault.
func TestS3WrongLockIsNotOffline(t *testing.T) {
	r := newS3Rig(t, &s3test.Lock{Mode: minio.Governance, Days: 30})
	g := r.open(t)
	if _, _, err := g.NewPassword("cloud"); err != nil {
		t.Fatal(err)
	}
	mr, err := g.PrepareMedium(ctxT(t), "cloud", false, nil)
	if err == nil || mr.CutVerified || !strings.Contains(mr.CutReason.String(), "GOVERNANCE") {
		t.Fatalf("prepare on a governance bucket: %v %+v", err, mr)
	}
	rep, err := g.RunCycle(ctxT(t), nil)
	if err == nil || rep.OK() || rep.Media[0].CutVerified || !strings.Contains(err.Error(), "COMPLIANCE") {
		t.Fatalf("cycle on a governance bucket: %v %+v", err, rep)
	}
	// Nothing but nothing reached the bucket: not even the canary.
	for o := range r.srv.Client.ListObjects(context.Background(), "hospital-backup", minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		t.Errorf("object written to a bucket that failed the check: %s (%v)", o.Key, o.Err)
	}
	entries, err := ledger.Read(r.Cfg.LedgerDir, ledger.Filter{Medium: "cloud", Kinds: []ledger.Kind{ledger.KindLockFailed}})
	if err != nil || len(entries) != 2 {
		t.Fatalf("lock.failed entries: %v %d", err, len(entries))
	}
	var ev s3.Evidence
	if err := json.Unmarshal(entries[1].Data, &ev); err != nil || ev.Setting != s3.SettingMode || ev.Mode != "GOVERNANCE" {
		t.Errorf("evidence %+v %v", ev, err)
	}
	st, err := g.Status(context.Background())
	if err != nil || st.Media[0].State != status.Fault || !strings.Contains(st.Media[0].Reason.String(), "GOVERNANCE") {
		t.Fatalf("status: %v %+v", err, st.Media)
	}
}

// uplink is the hospital's line to the cloud in a test: a TCP forwarder to
// the S3 server that listens only while its fake relay powers it (or
// always, when bypassed: a second line nobody cut; or never, when dead).
type uplink struct {
	addr     string
	target   string
	powered  func() bool
	bypassed atomic.Bool
	dead     atomic.Bool
	stop     chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

func startUplink(t testing.TB, target string, powered func() bool) *uplink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &uplink{addr: l.Addr().String(), target: target, powered: powered, stop: make(chan struct{})}
	if err := l.Close(); err != nil { // only its free port was wanted
		t.Fatal(err)
	}
	u.wg.Add(1)
	go u.run()
	t.Cleanup(func() { close(u.stop); u.wg.Wait() })
	return u
}

// drop closes one end of a line being torn down: what closing says is of
// no interest.
func drop(c io.Closer) { _ = c.Close() }

func (u *uplink) run() {
	defer u.wg.Done()
	var l net.Listener
	for {
		up := (u.powered() && !u.dead.Load()) || u.bypassed.Load()
		switch {
		case up && l == nil:
			var err error
			if l, err = net.Listen("tcp", u.addr); err != nil {
				l = nil
				break
			}
			go u.forward(l)
		case !up && l != nil:
			u.cut(l)
			l = nil
		}
		select {
		case <-u.stop:
			if l != nil {
				u.cut(l)
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// forward relays every connection l accepts to the S3 server.
func (u *uplink) forward(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", u.target)
		if err != nil {
			drop(c)
			continue
		}
		u.mu.Lock()
		u.conns = append(u.conns, c, s)
		u.mu.Unlock()
		go func() { _, _ = io.Copy(s, c); drop(s) }() // ends when the line is cut
		go func() { _, _ = io.Copy(c, s); drop(c) }()
	}
}

// cut takes the line down: the listener and every connection through it.
func (u *uplink) cut(l net.Listener) {
	drop(l)
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, c := range u.conns {
		drop(c)
	}
	u.conns = nil
}

// TestS3UplinkRelay: with the uplink device on a relay, the bucket is
// offline when its lock is proven and the line is cut and verified gone;
// a line that stays up is NOT offline, whatever the lock.
func TestS3UplinkRelay(t *testing.T) {
	r := newS3Rig(t, &s3test.Lock{Mode: minio.Compliance, Days: 30})
	spec := relay.Spec{Name: "relay-uplink", Driver: relay.DriverFake, Chip: "fake0", Line: 40, Sense: &relay.SenseSpec{Chip: "fake0", Line: 41},
		OnTimeout: relay.Duration(2 * time.Second), OffTimeout: relay.Duration(3 * time.Second)}
	fr := r.HW.Board.Add(spec)
	u := startUplink(t, r.srv.Endpoint, fr.Powered)
	r.Cfg.Relays = append(r.Cfg.Relays, spec)
	m := &r.Cfg.Media[0]
	m.Relay, m.S3.Endpoint = spec.Name, u.addr
	m.S3.AppearTimeout, m.S3.GoneTimeout = duration.Duration(10*time.Second), duration.Duration(2*time.Second)
	if err := r.Cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g := r.open(t)
	if _, _, err := g.NewPassword("cloud"); err != nil {
		t.Fatal(err)
	}
	if mr, err := g.PrepareMedium(ctxT(t), "cloud", false, nil); err != nil || !mr.CutVerified {
		t.Fatalf("prepare: %v %+v", err, mr)
	}
	rep, err := g.RunCycle(ctxT(t), nil)
	if err != nil || !rep.Media[0].CutVerified || len(rep.Media[0].Snapshots) != 1 {
		t.Fatalf("cycle: %v %+v", err, rep.Media)
	}
	if fr.Powered() {
		t.Fatal("the uplink is still powered after the cycle")
	}
	cut := lastCut(t, r.Cfg.LedgerDir)
	if !cut.Immutable || !cut.SenseOff || !cut.DeviceGone || cut.Relay != spec.Name {
		t.Errorf("cut evidence %+v: want relay cut, line gone and lock proven", cut)
	}

	u.bypassed.Store(true) // someone plugged in a second line
	rep, err = g.RunCycle(ctxT(t), nil)
	if err == nil || rep.Media[0].CutVerified || !strings.Contains(rep.Media[0].CutReason.String(), "still reachable") {
		t.Fatalf("cycle with the line up: %v %+v", err, rep.Media)
	}
	st, err := g.Status(context.Background())
	if err != nil || st.Media[0].State != status.Fault {
		t.Fatalf("status: %v %+v", err, st.Media)
	}
}

func lastCut(t *testing.T, dir string) ledger.CutData {
	t.Helper()
	es, err := ledger.Read(dir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified}})
	if err != nil || len(es) == 0 {
		t.Fatalf("no cut in the ledger: %v", err)
	}
	cd, err := ledger.Decode[ledger.CutData](es[len(es)-1])
	if err != nil {
		t.Fatal(err)
	}
	return cd
}
