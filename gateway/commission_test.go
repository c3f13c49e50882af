package gateway_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/media/tape"
	"github.com/danzen-gw/danzen/media/tape/tapefake"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
)

// newGatewayDir is a fresh gateway's configuration in a temporary state
// directory, as a first start makes it.
func newGatewayDir(t *testing.T) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	loaded, err := gateway.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	return loaded.Config, filepath.Join(dir, "config.json")
}

func openAt(t *testing.T, cfg *config.Config, path string, opts gateway.Options) *gateway.Gateway {
	t.Helper()
	if err := config.Save(path, cfg); err != nil {
		t.Fatal(err)
	}
	opts.ConfigPath = path
	g, err := gateway.Open(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	return g
}

func commission(t *testing.T, cfg *config.Config, step, item string) []ledger.CommissionData {
	t.Helper()
	es, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindCommission}})
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.CommissionData
	for _, e := range es {
		d, err := ledger.Decode[ledger.CommissionData](e)
		if err != nil {
			t.Fatal(err)
		}
		if d.Step == step && d.Item == item {
			out = append(out, d)
		}
	}
	return out
}

func stepsOf(t *testing.T, g *gateway.Gateway) []string {
	t.Helper()
	steps, err := g.CommissionSteps()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range steps {
		mark := "-"
		if s.Done {
			mark = "+"
		}
		out = append(out, mark+s.Step+"/"+s.Item)
	}
	return out
}

// TestCommissionStepsFollowTheLedger: a new gateway lists every step as
// not done; a step is done when its latest entry says so, also after a
// restart, and a later failure undoes it.
func TestCommissionStepsFollowTheLedger(t *testing.T) {
	cfg, path := newGatewayDir(t)
	g := openAt(t, cfg, path, gateway.Options{})
	want := []string{"-network/", "-source/", "-relay/", "-medium/", "-alerts/", "-first-cycle/"}
	if got := stepsOf(t, g); !slices.Equal(got, want) {
		t.Fatalf("a new gateway's steps: %v, want %v", got, want)
	}
	rec := func(ok bool) {
		t.Helper()
		if err := g.Record(context.Background(), ledger.Entry{Kind: ledger.KindCommission, Actor: "vendor", Message: msg.T("テスト", "test"),
			Payload: ledger.CommissionData{Step: gateway.StepNetwork, OK: ok}}); err != nil {
			t.Fatal(err)
		}
	}
	rec(true)
	if got := stepsOf(t, g); got[0] != "+network/" {
		t.Fatalf("after the network step: %v", got)
	}
	rec(false)
	if got := stepsOf(t, g); got[0] != "-network/" {
		t.Fatalf("a failed redo still counts as done: %v", got)
	}
	rec(true)
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	g2 := openAt(t, cfg, path, gateway.Options{})
	if got := stepsOf(t, g2); got[0] != "+network/" || gateway.Commissioned(mustSteps(t, g2)) {
		t.Fatalf("after a restart: %v", got)
	}
}

func mustSteps(t *testing.T, g *gateway.Gateway) []gateway.CommissionStep {
	t.Helper()
	s, err := g.CommissionSteps()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wiringRig is a fresh gateway with one fake relay whose contact powers
// a loop disk, and no medium yet.
type wiringRig struct {
	hw   *demo.Hardware
	cfg  *config.Config
	path string
	g    *gateway.Gateway
}

func newWiringRig(t *testing.T, mode looptest.Mode, withMedium bool) *wiringRig {
	t.Helper()
	return newWiringRigWith(t, mode, withMedium, demo.HardwareOptions{}, nil)
}

// newWiringRigWith is newWiringRig on hardware made with hwo; adjust, if
// set, changes the configuration and the options before the gateway opens.
func newWiringRigWith(t *testing.T, mode looptest.Mode, withMedium bool, hwo demo.HardwareOptions, adjust func(*demo.Hardware, *config.Config, *gateway.Options)) *wiringRig {
	t.Helper()
	if testing.Short() {
		t.Skip("needs root and loop devices: make test runs it, -short skips it")
	}
	cfg, path := newGatewayDir(t)
	name := "wire-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))[len("test"):]
	name = name[:min(len(name), 40)]
	hw, err := demo.NewHardwareWith(context.Background(), filepath.Join(t.TempDir(), "disks"), []string{name}, 32<<20, slog.New(slog.DiscardHandler), hwo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := hw.Close(); err != nil {
			t.Errorf("close the test disk: %v", err)
		}
	})
	hw.Powers[name].SetMode(mode)
	cfg.Relays, cfg.RelayModules = hw.Relays, hw.Modules
	if withMedium {
		m := hw.Media[0]
		m.Disk.AppearTimeout, m.Disk.GoneTimeout = config.Duration(3*time.Second), config.Duration(3*time.Second)
		cfg.Media = []config.Medium{m}
	}
	opts := gateway.Options{RelaySources: hw.Sources()}
	if adjust != nil {
		adjust(hw, cfg, &opts)
	}
	return &wiringRig{hw: hw, cfg: cfg, path: path, g: openAt(t, cfg, path, opts)}
}

func (r *wiringRig) relay() string { return r.hw.Relays[0].Name }

// lastCut is the latest cut recorded for the rig's medium.
func (r *wiringRig) lastCut(t *testing.T) ledger.Entry {
	t.Helper()
	cuts, err := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Medium: r.hw.Media[0].Name, Kinds: []ledger.Kind{ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified}})
	if err != nil || len(cuts) == 0 {
		t.Fatalf("cuts of %s: %v %+v", r.hw.Media[0].Name, err, cuts)
	}
	return cuts[len(cuts)-1]
}

func stepStates(j gateway.CommissionJob) map[string]gateway.JobState {
	out := map[string]gateway.JobState{}
	for _, s := range j.Steps {
		out[s.ID] = s.State
	}
	return out
}

// TestWiringTestSeesTheDiskComeAndGo: the relay's power brings up a disk,
// the test names it by its ext4 UUID, sees it go after the cut, records
// the step, and "enrol this disk" makes it the relay's medium by what
// appeared.
func TestWiringTestSeesTheDiskComeAndGo(t *testing.T) {
	r := newWiringRig(t, looptest.Healthy, false)
	j, err := r.g.WiringTest(context.Background(), r.relay(), "vendor")
	if err != nil {
		t.Fatal(err)
	}
	st := stepStates(j)
	for _, id := range []string{gateway.WireRelayOn, gateway.WireSenseOn, gateway.WireAppeared, gateway.WireRelayOff, gateway.WireSenseOff, gateway.WireGone} {
		if st[id] != gateway.JobOK {
			t.Errorf("step %s: %s (%+v)", id, st[id], j.Steps)
		}
	}
	img := r.hw.Images[r.hw.Media[0].Name]
	if j.Running() || !j.Err.IsZero() || j.Wiring == nil || len(j.Wiring.Appeared) != 1 {
		t.Fatalf("wiring test: %+v", j)
	}
	seen := j.Wiring.Appeared[0]
	if seen.Kind != "loop" || len(seen.Ext4()) != 1 || seen.Ext4()[0].FSUUID != img.UUID {
		t.Fatalf("the disk that appeared: %+v (image UUID %s)", seen, img.UUID)
	}
	if c := commission(t, r.cfg, gateway.StepRelay, r.relay()); len(c) != 1 || !c[0].OK || !strings.Contains(c[0].Detail.EN, img.UUID) {
		t.Fatalf("recorded: %+v", c)
	}
	if r.hw.Board.Relay(r.relay()).Powered() {
		t.Fatal("the relay stayed on")
	}

	name, err := r.g.EnrolDisk(context.Background(), "vendor", r.relay(), seen.Ext4()[0].Name, "vault-1")
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.g.Config().Medium(name)
	if err != nil || m.Relay != r.relay() || m.Disk == nil || m.Disk.FSUUID != img.UUID || m.Disk.MediaID != "DANZEN-VAULT-1" || m.PasswordFile != "vault-1.restic-password" {
		t.Fatalf("enrolled medium: %+v %v", m, err)
	}
	// With its medium configured, the test's power session is evidence
	// of that medium: on, and cut with proof.
	if _, err := r.g.WiringTest(context.Background(), r.relay(), "vendor"); err != nil {
		t.Fatal(err)
	}
	es, err := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Medium: name, Kinds: []ledger.Kind{ledger.KindPowerOn, ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified}})
	if err != nil || len(es) != 2 || es[0].Kind != ledger.KindPowerOn || es[1].Kind != ledger.KindPowerOffVerified {
		t.Fatalf("power evidence of the enrolled medium: %v %+v", err, es)
	}
}

// TestEnrolTakesOnlyWhatAppeared: a volume the wiring test did not see,
// or one without ext4, is refused and nothing changes.
func TestEnrolTakesOnlyWhatAppeared(t *testing.T) {
	cfg, path := newGatewayDir(t)
	cfg.Relays = []relay.Spec{{Name: "sim", Driver: relay.DriverSimulated}}
	g := openAt(t, cfg, path, gateway.Options{})
	if _, err := g.EnrolDisk(context.Background(), "vendor", "sim", "sdz1", "x"); err == nil {
		t.Fatal("enrolled before any wiring test")
	}
	if _, err := g.WiringTest(context.Background(), "sim", "vendor"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.EnrolDisk(context.Background(), "vendor", "sim", "no-such-volume", "x"); err == nil {
		t.Fatal("enrolled a volume the test never saw")
	}
	if len(g.Config().Media) != 0 {
		t.Fatalf("media after refusals: %+v", g.Config().Media)
	}
}

// TestWiringTestOfASimulatedRelay: a simulated relay switches nothing, so
// nothing is proven: the test lists the unused disks connected now and is
// recorded as not passed, saying why.
func TestWiringTestOfASimulatedRelay(t *testing.T) {
	cfg, path := newGatewayDir(t)
	cfg.Relays = []relay.Spec{{Name: "sim", Driver: relay.DriverSimulated}}
	g := openAt(t, cfg, path, gateway.Options{})
	start := time.Now()
	j, err := g.WiringTest(context.Background(), "sim", "vendor")
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("a simulated relay's test waited %s", time.Since(start))
	}
	st := stepStates(j)
	if st[gateway.WireRelayOn] != gateway.JobOK || st[gateway.WireSenseOn] != gateway.JobSkipped || st[gateway.WireAppeared] != gateway.JobSkipped ||
		st[gateway.WireGone] != gateway.JobSkipped || j.Err.IsZero() || !j.Wiring.Simulated {
		t.Fatalf("simulated wiring test: %+v", j)
	}
	c := commission(t, cfg, gateway.StepRelay, "sim")
	if len(c) != 1 || c[0].OK || !strings.Contains(c[0].Detail.EN, "not offline") {
		t.Fatalf("recorded: %+v", c)
	}
}

// TestWiringTestCatchesAFaultyPath: a disk that never appears, and one
// that never goes (welded contact), fail the test with the step that
// failed, and the medium's cut is recorded as not verified.
func TestWiringTestCatchesAFaultyPath(t *testing.T) {
	for _, tc := range []struct {
		mode   looptest.Mode
		failed string
	}{{looptest.NeverAppears, gateway.WireAppeared}, {looptest.NeverDisappears, gateway.WireGone}} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			r := newWiringRig(t, tc.mode, true)
			j, err := r.g.WiringTest(context.Background(), r.relay(), "vendor")
			if err != nil {
				t.Fatal(err)
			}
			if st := stepStates(j); st[tc.failed] != gateway.JobFailed || j.Err.IsZero() {
				t.Fatalf("steps: %+v", j.Steps)
			}
			if c := commission(t, r.cfg, gateway.StepRelay, r.relay()); len(c) != 1 || c[0].OK {
				t.Fatalf("recorded: %+v", c)
			}
			// The start-up cut is verified; the test's own is not.
			if last := r.lastCut(t); last.Kind != ledger.KindPowerOffUnverified {
				t.Fatalf("the test's cut: %+v", last)
			}
		})
	}
}

// TestWiringTestWaitsForTheMediumsDisk: when the relay powers a medium
// whose disk is known, another disk that appears meanwhile (a USB stick
// plugged in) is not taken for it: the step fails naming the disk that
// did appear, which can still be enrolled, and the cut is not proven.
func TestWiringTestWaitsForTheMediumsDisk(t *testing.T) {
	r := newWiringRig(t, looptest.NeverAppears, true)
	other, err := looptest.CreateExt4(filepath.Join(t.TempDir(), "stick.img"), 16<<20, looptest.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The stick is plugged in while the relay is on.
	plugged := make(chan *looptest.Loop, 1)
	go func() {
		defer close(plugged)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if r.hw.Board.Relay(r.relay()).Powered() {
				l, err := looptest.Attach(other.Path)
				if err != nil {
					t.Errorf("plug in the stick: %v", err)
					return
				}
				plugged <- l
				return
			}
		}
	}()
	j, err := r.g.WiringTest(context.Background(), r.relay(), "vendor")
	if l := <-plugged; l != nil {
		t.Cleanup(func() {
			if err := l.Detach(); err != nil {
				t.Errorf("unplug the stick: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	st := stepStates(j)
	if st[gateway.WireAppeared] != gateway.JobFailed || j.Err.IsZero() || !strings.Contains(j.Err.EN, "another disk did") {
		t.Fatalf("another disk was taken for the medium's: %+v", j.Steps)
	}
	if !slices.ContainsFunc(j.Wiring.Appeared, func(s disk.Seen) bool { return len(s.Ext4()) == 1 && s.Ext4()[0].FSUUID == other.UUID }) {
		t.Fatalf("the stick is not offered for enrolment: %+v", j.Wiring.Appeared)
	}
	if last := r.lastCut(t); last.Kind != ledger.KindPowerOffUnverified {
		t.Fatalf("the test's cut was taken as proven: %+v", last)
	}
}

// TestWiringTestOfATapeDrive: a relay that powers a tape medium's drive
// is tested by the drive appearing and going.
func TestWiringTestOfATapeDrive(t *testing.T) {
	cfg, path := newGatewayDir(t)
	rs := relay.Spec{Name: "relay-lto", Driver: relay.DriverFake, Chip: "fake0", Line: 0, Sense: &relay.SenseSpec{Chip: "fake0", Line: 1},
		OnTimeout: relay.Duration(2 * time.Second), OffTimeout: relay.Duration(2 * time.Second)}
	spec := tape.Spec{Name: "lto", SpoolDir: filepath.Join(t.TempDir(), "spool"), RecordSize: tape.MinRecordSize,
		AppearTimeout: tape.Duration(3 * time.Second), GoneTimeout: tape.Duration(3 * time.Second)}
	cfg.Relays = []relay.Spec{rs}
	cfg.Media = []config.Medium{{Name: "lto", Type: config.MediumTape, Relay: rs.Name, Tape: &spec, PasswordFile: "lto.restic-password"}}
	board := fake.NewBoard(rs)
	drive := tapefake.NewDrive("/dev/nst-wiring")
	follow(t, func(ctx context.Context) { drive.Follow(ctx, board.Relay(rs.Name).Powered, 5*time.Millisecond) })
	g := openAt(t, cfg, path, gateway.Options{RelaySources: map[string]relay.PinSource{relay.DriverFake: board},
		TapeHosts: map[string]tape.Host{"lto": drive}})
	j, err := g.WiringTest(context.Background(), rs.Name, "vendor")
	if err != nil {
		t.Fatal(err)
	}
	st := stepStates(j)
	if st[gateway.WireAppeared] != gateway.JobOK || st[gateway.WireGone] != gateway.JobOK || !j.Err.IsZero() {
		t.Fatalf("tape wiring test: %+v", j.Steps)
	}
}

// TestCommissioningToTheFirstCycle walks the steps behind the page on a
// real sshd, loop disk and restic: the source's test listing writes
// nothing; preparing needs the password's last characters typed back; a
// used password cannot be discarded; alerts are tested per channel; the
// first cycle writes every medium.
func TestCommissioningToTheFirstCycle(t *testing.T) {
	r := newRig(t, []string{"disk-a", "disk-b"}, 128<<20)
	cfgPath := filepath.Join(r.dir, "config.json")
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hook.Close)
	r.cfg.Alerts = alert.Spec{Webhook: &alert.WebhookSpec{URL: hook.URL + "/ok"}}
	g := openAt(t, r.cfg, cfgPath, gateway.Options{RelaySources: r.hw.Sources()})
	ctx := ctxT(t)

	checkTestListing(t, g, r.cfg)
	if _, created, err := g.NewPassword("disk-a"); err != nil || !created {
		t.Fatal(err)
	}
	if _, err := g.PrepareOnPage(ctx, "disk-a", "vendor", "wrong!!!", false); !errors.Is(err, gateway.ErrTypedBack) {
		t.Fatalf("wrong characters typed back: %v", err)
	}
	if mounts, _ := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Medium: "disk-a", Kinds: []ledger.Kind{ledger.KindMount}}); len(mounts) != 0 {
		t.Fatal("the medium was reached although the password was not typed back")
	}
	if err := g.DiscardPassword(ctx, "disk-a", "vendor"); err != nil {
		t.Fatalf("an unused password cannot be discarded: %v", err)
	}
	pw, created, err := g.NewPassword("disk-a")
	if err != nil || !created {
		t.Fatal(err)
	}
	j, err := g.PrepareOnPage(ctx, "disk-a", "vendor", pw[len(pw)-gateway.TypedBackLen:], false)
	if err != nil || !j.Err.IsZero() || len(j.Steps) == 0 {
		t.Fatalf("prepare: %v %+v", err, j)
	}
	if c := commission(t, r.cfg, gateway.StepMedium, "disk-a"); len(c) != 1 || !c[0].OK || !strings.Contains(c[0].Detail.EN, "cut verified") {
		t.Fatalf("medium step: %+v", c)
	}
	if err := g.DiscardPassword(ctx, "disk-a", "vendor"); err == nil {
		t.Fatal("the password of a prepared medium was discarded")
	}
	r.prepare(t, g, "disk-b")

	res, err := g.TestAlerts(ctx, "vendor")
	if err != nil || len(res) != 1 || res[0].Channel != alert.ChannelWebhook || res[0].Err != nil {
		t.Fatalf("alert test: %v %+v", err, res)
	}
	if c := commission(t, r.cfg, gateway.StepAlerts, ""); len(c) != 1 || !c[0].OK {
		t.Fatalf("alerts step: %+v", c)
	}

	if err := g.StartFirstCycle(ctx, "vendor"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Minute); len(commission(t, r.cfg, gateway.StepFirstCycle, "")) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first cycle never ended")
		}
	}
	c := commission(t, r.cfg, gateway.StepFirstCycle, "")
	if !c[0].OK || !strings.Contains(c[0].Detail.EN, "disk-a") || !strings.Contains(c[0].Detail.EN, "disk-b") {
		t.Fatalf("first cycle: %+v", c)
	}
	checkFirstCycleJob(t, g, "disk-a", "disk-b")
	if busy, _ := g.Running(); busy {
		t.Fatal("the gateway still says it is busy")
	}
	got := stepsOf(t, g)
	want := []string{"-network/", "+source/emr", "-relay/relay-disk-a", "-relay/relay-disk-b", "+medium/disk-a", "-medium/disk-b", "+alerts/", "+first-cycle/"}
	if !slices.Equal(got, want) {
		t.Fatalf("steps: %v, want %v", got, want)
	}
}

// TestAlertsStepSkipped: without an alert channel the step can be
// skipped, which counts until a channel is configured.
func TestAlertsStepSkipped(t *testing.T) {
	cfg, path := newGatewayDir(t)
	g := openAt(t, cfg, path, gateway.Options{})
	if err := g.SkipAlerts(context.Background(), "vendor"); err != nil {
		t.Fatal(err)
	}
	alerts := func(g *gateway.Gateway) gateway.CommissionStep {
		t.Helper()
		i := slices.IndexFunc(mustSteps(t, g), func(s gateway.CommissionStep) bool { return s.Step == gateway.StepAlerts })
		return mustSteps(t, g)[i]
	}
	if st := alerts(g); !st.Done || !st.Skipped {
		t.Fatalf("skipped: %+v", st)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Alerts = alert.Spec{Webhook: &alert.WebhookSpec{URL: "http://127.0.0.1:1/hook"}}
	g2 := openAt(t, cfg, path, gateway.Options{})
	if st := alerts(g2); st.Done {
		t.Fatalf("a skip counts although a channel is configured now: %+v", st)
	}
	if err := g2.SkipAlerts(context.Background(), "vendor"); err == nil {
		t.Fatal("skipped although a channel is configured")
	}
}

// checkTestListing runs the source's test listing, which lists the
// export, writes nothing to staging and records the step.
func checkTestListing(t *testing.T, g *gateway.Gateway, cfg *config.Config) {
	t.Helper()
	p, err := g.TestSource(ctxT(t), "emr", "vendor")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range p.Pull {
		paths = append(paths, f.Path)
	}
	if !slices.Contains(paths, "db/emr.dmp") || !slices.Contains(paths, "カルテ/患者 一覧.csv") || p.Bytes() == 0 {
		t.Fatalf("test listing: %+v", p)
	}
	if _, err := os.Stat(filepath.Join(cfg.StagingDir, "sources")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the test listing wrote to staging: %v", err)
	}
	if c := commission(t, cfg, gateway.StepSource, "emr"); len(c) != 1 || !c[0].OK {
		t.Fatalf("source step: %+v", c)
	}
}

// checkFirstCycleJob waits for the first cycle's job to end and checks
// that the page saw each medium's phases, every one ended well.
func checkFirstCycleJob(t *testing.T, g *gateway.Gateway, media ...string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		j, ok := g.CommissionJob(gateway.StepFirstCycle, "")
		if ok && !j.Running() {
			st := stepStates(j)
			for _, id := range []string{"pull"} {
				if st[id] != gateway.JobOK {
					t.Errorf("first cycle step %s: %q (%+v)", id, st[id], j.Steps)
				}
			}
			for _, m := range media {
				for _, phase := range []string{"power-on", "backup", "power-off"} {
					if st[m+"/"+phase] != gateway.JobOK {
						t.Errorf("first cycle step %s/%s: %q (%+v)", m, phase, st[m+"/"+phase], j.Steps)
					}
				}
			}
			if !j.Err.IsZero() || j.Actor != "vendor" {
				t.Fatalf("first cycle job: %+v", j)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the first cycle's job never ended")
		}
	}
}

// TestAlertTestSaysWhichChannelFailed: a channel that refuses the test is
// named, recorded, and the alerts step is not done.
func TestAlertTestSaysWhichChannelFailed(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "nope", http.StatusForbidden) }))
	t.Cleanup(hook.Close)
	cfg, path := newGatewayDir(t)
	g := openAt(t, cfg, path, gateway.Options{})
	if _, err := g.TestAlerts(context.Background(), "vendor"); !errors.Is(err, gateway.ErrNoAlertChannel) {
		t.Fatalf("no channel: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Alerts = alert.Spec{Webhook: &alert.WebhookSpec{URL: hook.URL}}
	g2 := openAt(t, cfg, path, gateway.Options{})
	res, err := g2.TestAlerts(context.Background(), "vendor")
	if err != nil || len(res) != 1 || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "403") {
		t.Fatalf("refused test: %v %+v", err, res)
	}
	tests, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindAlertTest}})
	if err != nil || len(tests) != 1 {
		t.Fatalf("alert tests recorded: %v %+v", err, tests)
	}
	if d, err := ledger.Decode[ledger.AlertTestData](tests[0]); err != nil || d.OK || d.Channel != "webhook" || d.Error.IsZero() {
		t.Fatalf("recorded test: %+v %v", d, err)
	}
	if c := commission(t, cfg, gateway.StepAlerts, ""); len(c) != 1 || c[0].OK {
		t.Fatalf("alerts step: %+v", c)
	}
}
