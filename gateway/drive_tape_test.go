package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	testrig "github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/tape"
	"github.com/danzen-gw/danzen/media/tape/tapefake"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
)

// tapeRig is a gateway with one LTO drive (tapefake) behind a fake relay:
// the drive is there only while the relay powers it.
type tapeRig struct {
	x     *testrig.Rig
	drive *tapefake.Drive
	spec  tape.Spec
	g     *gateway.Gateway
}

func newTapeRig(t *testing.T, files map[string]string, cart *tapefake.Cartridge) *tapeRig {
	t.Helper()
	x := testrig.New(t, files, nil, 0)
	rs := relay.Spec{Name: "relay-lto", Driver: relay.DriverFake, Chip: "fake0", Line: 40,
		Sense: &relay.SenseSpec{Chip: "fake0", Line: 41}, OnTimeout: relay.Duration(2 * time.Second), OffTimeout: relay.Duration(3 * time.Second)}
	r := x.HW.Board.Add(rs)
	spec := tape.Spec{Name: "lto", SpoolDir: filepath.Join(x.Dir, "spool", "lto"), RecordSize: tape.MinRecordSize,
		AppearTimeout: tape.Duration(5 * time.Second), GoneTimeout: tape.Duration(3 * time.Second)}
	x.Cfg.Relays = append(x.Cfg.Relays, rs)
	x.Cfg.Media = append(x.Cfg.Media, config.Medium{Name: "lto", Type: config.MediumTape, Relay: rs.Name, Tape: &spec, PasswordFile: "lto.restic-password"})
	if err := x.Cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	drive := tapefake.NewDrive("/dev/nst0")
	drive.Insert(cart)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); drive.Follow(ctx, r.Powered, 5*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })
	g, err := gateway.Open(context.Background(), x.Cfg, gateway.Options{RelaySources: x.HW.Sources(), TapeHosts: map[string]tape.Host{"lto": drive}})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	tr := &tapeRig{x: x, drive: drive, spec: spec, g: g}
	if _, _, err := g.NewPassword("lto"); err != nil {
		t.Fatal(err)
	}
	return tr
}

func (tr *tapeRig) catalogue(t *testing.T) (*tape.Catalogue, *tape.TapeRecord) {
	t.Helper()
	c, err := tape.LoadCatalogue(tr.spec)
	if err != nil {
		t.Fatal(err)
	}
	return c, c.Tape(c.Current)
}

// lastCut is the evidence of the newest cut of the tape medium.
func (tr *tapeRig) lastCut(t *testing.T) (ledger.Entry, ledger.CutData) {
	t.Helper()
	es, err := ledger.Read(tr.x.Cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified}})
	if err != nil || len(es) == 0 {
		t.Fatalf("no cut recorded: %v", err)
	}
	cd, err := ledger.Decode[ledger.CutData](es[len(es)-1])
	if err != nil {
		t.Fatal(err)
	}
	return es[len(es)-1], cd
}

func (tr *tapeRig) assertOffline(t *testing.T) {
	t.Helper()
	e, cd := tr.lastCut(t)
	if e.Kind != ledger.KindPowerOffVerified || !cd.SenseOff || !cd.DeviceGone || !cd.Ejected {
		t.Fatalf("cut evidence: %s %+v", e.Kind, cd)
	}
	if tr.drive.Present() || tr.drive.Loaded() {
		t.Fatal("drive still powered or cartridge still loaded")
	}
}

func randomText(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// TestTapeCyclesAppendAndRestore: the repository is spooled on the
// gateway; each cycle appends only its new files to the tape and verifies
// them; the cut is proven with the cartridge ejected; a restore reads the
// tape back, and stock GNU tar plus stock restic do the same without
// danzen, by the recovery commands' method.
func TestTapeCyclesAppendAndRestore(t *testing.T) {
	cart := tapefake.NewCartridge(1 << 30)
	tr := newTapeRig(t, map[string]string{
		"db/emr.dmp":    strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎');\n", 50000),
		"scan/a.dat":    randomText(300 << 10),
		"カルテ/患者 一覧.csv": "患者ID,氏名\n1,山田 太郎\n",
	}, cart)
	ctx := ctxT(t)
	if mr, err := tr.g.PrepareMedium(ctx, "lto", false, nil); err != nil || !mr.CutVerified {
		t.Fatalf("prepare: %v %+v", err, mr)
	}
	tr.assertOffline(t)
	_, rec := tr.catalogue(t)
	if rec == nil || len(rec.Files) != 1 || !rec.Files[0].Baseline {
		t.Fatalf("after prepare: %+v", rec)
	}
	rec = tr.cyclesAppendOnlyWhatIsNew(t, ctx)

	// Restore through danzen: the tape is read back and restic restores
	// every file with the SHA-256 of its pull.
	rr, err := tr.g.Restore(ctx, gateway.RestoreOptions{Medium: "lto", Actor: "test"}, nil)
	if err != nil || !rr.OK || rr.FilesVerified != 4 || len(rr.Mismatches) > 0 || !rr.Medium.CutVerified {
		t.Fatalf("restore: %v %+v", err, rr)
	}
	tr.assertOffline(t)

	// The drill reads the tape back too and checks every pack.
	if dr, err := tr.g.Drill(ctx, "lto", "test", nil); err != nil || !dr.OK || !dr.CheckOK {
		t.Fatalf("drill: %v %+v", err, dr)
	}
	tr.assertOffline(t)
	tr.ledgerHoldsWhatWentToTape(t)
	tr.restoreWithoutDanzen(t, cart, rec)
}

// cyclesAppendOnlyWhatIsNew runs two cycles, with a night of changes
// between them: each appends one archive, the second only what is new.
// It returns the tape's record after them.
func (tr *tapeRig) cyclesAppendOnlyWhatIsNew(t *testing.T, ctx context.Context) *tape.TapeRecord {
	t.Helper()
	rep, err := tr.g.RunCycle(ctx, nil)
	if err != nil || !rep.OK() {
		t.Fatalf("cycle 1: %v %+v", err, rep)
	}
	tr.assertOffline(t)
	_, rec := tr.catalogue(t)
	first := rec.Files[len(rec.Files)-1]
	if first.Number != 2 || first.Baseline || len(first.Entries) < 3 {
		t.Fatalf("cycle 1 archive: %+v", first)
	}
	if err := tr.x.SSHD.WriteFile("scan/b.dat", []byte(randomText(200<<10)), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rep, err := tr.g.RunCycle(ctx, nil); err != nil || !rep.OK() {
		t.Fatalf("cycle 2: %v %+v", err, rep)
	}
	tr.assertOffline(t)
	_, rec = tr.catalogue(t)
	second := rec.Files[len(rec.Files)-1]
	if second.Number != 3 || second.Baseline || len(second.Entries) == 0 {
		t.Fatalf("cycle 2 archive: %+v", second)
	}
	before := map[string]bool{}
	for _, f := range rec.Files[:2] {
		for _, e := range f.Entries {
			before[e.Path] = true
		}
	}
	for _, e := range second.Entries {
		if before[e.Path] {
			t.Errorf("cycle 2 archived %s again", e.Path)
		}
	}
	t.Logf("archives: prepare %d files, cycle 1 %d files %d bytes, cycle 2 %d files %d bytes",
		len(rec.Files[0].Entries), len(first.Entries), first.Bytes, len(second.Entries), second.Bytes)
	return rec
}

// ledgerHoldsWhatWentToTape: the ledger records every label, archive,
// read-back and eject, and still verifies.
func (tr *tapeRig) ledgerHoldsWhatWentToTape(t *testing.T) {
	t.Helper()
	es, err := ledger.Read(tr.x.Cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{tape.EventLabel, tape.EventArchive, tape.EventRestore, tape.EventEject}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[ledger.Kind]int{}
	for _, e := range es {
		kinds[e.Kind]++
	}
	if kinds[tape.EventLabel] != 1 || kinds[tape.EventArchive] != 3 || kinds[tape.EventRestore] != 2 || kinds[tape.EventEject] != 5 {
		t.Fatalf("tape evidence: %v", kinds)
	}
	if vr, err := ledger.Verify(tr.x.Cfg.LedgerDir); err != nil {
		t.Fatalf("ledger: %v\n%s", err, vr)
	}
}

// restoreWithoutDanzen reads the tape with GNU tar at the documented
// blocking factor, then restores with stock restic, from the baseline on,
// as RecoveryCommands say.
func (tr *tapeRig) restoreWithoutDanzen(t *testing.T, cart *tapefake.Cartridge, rec *tape.TapeRecord) {
	t.Helper()
	cmds := strings.Join(tape.RecoveryCommands(tr.spec, rec, "/restore/tape"), "\n")
	if !strings.Contains(cmds, "for n in 1 2 3;") || !strings.Contains(cmds, "tar -x -b 512 -f /dev/nst0") {
		t.Fatalf("recovery commands:\n%s", cmds)
	}
	tr.drive.Remove()
	dir := t.TempDir()
	for i, recs := range cart.Files()[1:] {
		img := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(img, bytes.Join(recs, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("tar", "-x", "-b", "512", "-f", img, "-C", dir).CombinedOutput(); err != nil {
			t.Fatalf("tar file %d: %v\n%s", i+1, err, out)
		}
	}
	out := filepath.Join(t.TempDir(), "restored")
	cmd := exec.Command(resticBin(t), "-r", filepath.Join(dir, "repo"), "--password-file", tr.x.Cfg.KeyPath("lto.restic-password"),
		"--no-cache", "restore", "latest", "--target", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stock restic restore: %v\n%s", err, b)
	}
	var found int
	err := filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, filepath.Join("scan", "b.dat")) {
			found++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != 1 {
		t.Fatal("stock restic did not restore the newest file from the tape archives")
	}
}

// TestTapeFullThenNewTape: the tape fills mid-archive; the cycle fails
// with a message asking for a new tape, the cut is still proven, the full
// tape is refused, and a new tape gets a full baseline. A write-protected
// tape is refused with a clear message.
func TestTapeFullThenNewTape(t *testing.T) {
	tr := newTapeRig(t, map[string]string{"scan/a.dat": randomText(900 << 10)}, tapefake.NewCartridge(4*tape.MinRecordSize))
	ctx := ctxT(t)
	if _, err := tr.g.PrepareMedium(ctx, "lto", false, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := tr.g.RunCycle(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "新しい(空の)テープを入れてください") || !strings.Contains(err.Error(), "insert a new (blank) tape") {
		t.Fatalf("tape full: %v", err)
	}
	if rep.Media[0].CutVerified != true {
		t.Fatalf("cut after a full tape: %+v", rep.Media[0])
	}
	tr.assertOffline(t)
	if _, err := tr.g.RunCycle(ctx, nil); err == nil || !strings.Contains(err.Error(), "is full") {
		t.Fatalf("full tape again: %v", err)
	}

	wp := tapefake.NewCartridge(1 << 30)
	wp.SetWriteProtected(true)
	tr.drive.Remove()
	tr.drive.Insert(wp)
	if _, err := tr.g.RunCycle(ctx, nil); err == nil || !strings.Contains(err.Error(), "書き込み禁止") || !strings.Contains(err.Error(), "write-protected") {
		t.Fatalf("write-protected tape: %v", err)
	}
	tr.assertOffline(t)

	fresh := tapefake.NewCartridge(1 << 30)
	tr.drive.Remove()
	tr.drive.Insert(fresh)
	if rep, err := tr.g.RunCycle(ctx, nil); err != nil || !rep.OK() {
		t.Fatalf("cycle on a new tape: %v %+v", err, rep)
	}
	tr.assertOffline(t)
	c, rec := tr.catalogue(t)
	if len(c.Tapes) != 2 || !c.Tapes[0].Full || len(rec.Files) != 1 || !rec.Files[0].Baseline {
		t.Fatalf("catalogue: %+v / %+v", c, rec)
	}
	var hasData, hasConfig bool
	for _, e := range rec.Files[0].Entries {
		hasData = hasData || strings.HasPrefix(e.Path, "data/")
		hasConfig = hasConfig || e.Path == "config"
	}
	if !hasData || !hasConfig {
		t.Fatalf("new tape's first archive is not a baseline: %+v", rec.Files[0])
	}
	if rr, err := tr.g.Restore(ctx, gateway.RestoreOptions{Medium: "lto", Actor: "test"}, nil); err != nil || !rr.OK {
		t.Fatalf("restore from the new tape: %v %+v", err, rr)
	}

	// A relay that welds during the session keeps the drive powered:
	// ejected, but NOT offline; and the next session refuses to start,
	// unpowered, because its cut before the power-on fails too.
	rep, err = tr.g.RunCycle(ctx, func(ev backup.CycleEvent) {
		if ev.Phase == "detach" {
			tr.x.HW.Board.Relay("relay-lto").SetMode(fake.Welded)
		}
	})
	if err == nil || rep.Media[0].CutVerified {
		t.Fatalf("welded relay: %v %+v", err, rep.Media[0])
	}
	if e, cd := tr.lastCut(t); e.Kind != ledger.KindPowerOffUnverified || cd.SenseOff || cd.DeviceGone || !cd.Ejected {
		t.Fatalf("welded relay evidence: %s %+v", e.Kind, cd)
	}
	if _, err := tr.g.RunCycle(ctx, nil); err == nil || !strings.Contains(err.Error(), "the cut before the power-on is not verified either") {
		t.Fatalf("session after a welded relay: %v", err)
	}
}
