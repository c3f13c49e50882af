package gateway_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/drivetest"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/duration"
	testrig "github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/s3/s3test"
	"github.com/danzen-gw/danzen/media/tape"
	"github.com/danzen-gw/danzen/media/tape/tapefake"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
)

// contractRigs are the hardware each registered medium type runs the
// drive contract on. A new medium type adds its rig here.
func contractRigs() map[string][]contractRig {
	return map[string][]contractRig{
		config.MediumDisk: {{"loop-device", diskContract}},
		config.MediumTape: {{"tapefake", tapeContract}},
		config.MediumS3:   {{"versitygw", s3Contract(false)}, {"versitygw-uplink-relay", s3Contract(true)}},
	}
}

type contractRig struct {
	name  string
	suite func(t *testing.T) drivetest.Suite
}

// TestDriveContract runs backup/drivetest's contract for every medium
// type in the gateway's registry, with the drives the registry builds.
// The rigs share no hardware, so they run side by side.
func TestDriveContract(t *testing.T) {
	if testing.Short() {
		t.Skip("needs root (loop devices), restic and versitygw: make test runs it, -short skips it")
	}
	rigs := contractRigs()
	for _, mt := range gateway.MediumTypes() {
		rs, ok := rigs[mt.Name]
		if !ok {
			t.Errorf("medium type %q has no rig for the drive contract: add one to contractRigs", mt.Name)
			continue
		}
		for _, r := range rs {
			t.Run(mt.Name+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				r.suite(t).Run(t)
			})
		}
	}
}

// contractFaults are the faults a switched medium's rig models.
var contractFaults = []drivetest.Fault{drivetest.NeverAppears, drivetest.NeverGoes, drivetest.WrongMedium, drivetest.AlreadyThere}

// contractRelay is the fake relay a contract medium hangs on.
func contractRelay() relay.Spec {
	return relay.Spec{Name: "relay-contract", Driver: relay.DriverFake, Chip: "fake0", Line: 0, Sense: &relay.SenseSpec{Chip: "fake0", Line: 1},
		OnTimeout: relay.Duration(2 * time.Second), OffTimeout: relay.Duration(3 * time.Second)}
}

// contractGateway opens a gateway whose only medium is m, on the relay of
// board if it has one, with secrets (file name → content) in its secrets
// directory; it creates the medium's password and returns the medium as
// the registry builds it.
func contractGateway(t testing.TB, board *fake.Board, m config.Medium, opts gateway.Options, secrets map[string]string) drivetest.Rig {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.GatewayID = "gw-contract"
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	cfg.ResticBinary = testrig.Restic(t)
	if m.Relay != "" {
		cfg.Relays = []relay.Spec{contractRelay()}
	}
	cfg.Media = []config.Medium{m}
	opts.RelaySources = map[string]relay.PinSource{relay.DriverFake: board}
	if err := os.MkdirAll(cfg.SecretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range secrets {
		if err := os.WriteFile(cfg.KeyPath(name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	g, err := gateway.Open(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	if _, _, err := g.NewPassword(m.Name); err != nil {
		t.Fatal(err)
	}
	target, err := g.TargetFor(m.Name, false)
	if err != nil {
		t.Fatal(err)
	}
	return drivetest.Rig{Target: target, Reader: func() (backup.Drive, error) {
		rt, err := g.TargetFor(m.Name, true)
		return rt.Drive, err
	}}
}

// follow couples a device's power to powered until the test ends.
func follow(t testing.TB, run func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// latch is a supply that stays on once the relay powered it: a device
// that never goes.
func latch(powered func() bool) func() bool {
	var on atomic.Bool
	return func() bool {
		if powered() {
			on.Store(true)
		}
		return on.Load()
	}
}

// diskContract: a disk image on a loop device behind a fake relay.
func diskContract(*testing.T) drivetest.Suite {
	return drivetest.Suite{Faults: contractFaults, Timeout: 20 * time.Second, New: newDiskContractRig}
}

func newDiskContractRig(t testing.TB, f drivetest.Fault) drivetest.Rig {
	dir := t.TempDir()
	img, err := looptest.CreateExt4(filepath.Join(dir, "disk.img"), 64<<20, looptest.ImageOptions{Label: "contract"})
	if err != nil {
		t.Fatal(err)
	}
	spec := disk.Spec{Name: "disk-c", FSUUID: img.UUID, MediaID: "DANZEN-CONTRACT", MountDir: filepath.Join(dir, "mnt"),
		AppearTimeout: disk.Duration(5 * time.Second), GoneTimeout: disk.Duration(5 * time.Second)}
	power := looptest.NewPower(img.Path, nil)
	t.Cleanup(func() {
		if err := power.Close(); err != nil {
			t.Errorf("detach the disk image: %v", err)
		}
	})
	var untouched func() error
	switch f {
	case drivetest.NeverAppears:
		power.SetMode(looptest.NeverAppears)
	case drivetest.NeverGoes:
		power.SetMode(looptest.NeverDisappears)
	case drivetest.AlreadyThere:
		power.SetMode(looptest.NeverDisappears)
		if err := power.SetPower(true); err != nil {
			t.Fatal(err)
		}
	case drivetest.WrongMedium:
		spec.FSUUID = looptest.NewUUID() // the configured disk is another one
		untouched = unchangedFile(t, img.Path)
	}
	board := fake.NewBoard(contractRelay())
	follow(t, func(ctx context.Context) {
		power.Follow(ctx, board.Relay(contractRelay().Name).Powered, 10*time.Millisecond)
	})
	r := contractGateway(t, board, config.Medium{Name: spec.Name, Type: config.MediumDisk, Relay: contractRelay().Name,
		Disk: &spec, PasswordFile: "disk-c.restic-password"}, gateway.Options{}, nil)
	r.Untouched = untouched
	r.Detached = func() error {
		if mounted(spec.MountDir) {
			return fmt.Errorf("%s is still mounted", spec.MountDir)
		}
		return nil
	}
	return r
}

// unchangedFile reports, when called, whether path changed since now.
func unchangedFile(t testing.TB, path string) func() error {
	sum := func() ([32]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return [32]byte{}, err
		}
		defer func() { _ = f.Close() }() // read-only
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return [32]byte{}, err
		}
		return [32]byte(h.Sum(nil)), nil
	}
	before, err := sum()
	if err != nil {
		t.Fatal(err)
	}
	return func() error {
		after, err := sum()
		if err == nil && after != before {
			err = fmt.Errorf("%s was written to", filepath.Base(path))
		}
		return err
	}
}

// tapeContract: an LTO drive (tapefake) behind a fake relay.
func tapeContract(*testing.T) drivetest.Suite {
	return drivetest.Suite{Faults: contractFaults, Timeout: 20 * time.Second, New: newTapeContractRig}
}

func newTapeContractRig(t testing.TB, f drivetest.Fault) drivetest.Rig {
	dir := t.TempDir()
	spec := tape.Spec{Name: "lto", SpoolDir: filepath.Join(dir, "spool"), RecordSize: tape.MinRecordSize,
		AppearTimeout: tape.Duration(5 * time.Second), GoneTimeout: tape.Duration(3 * time.Second)}
	cart := tapefake.NewCartridge(1 << 30)
	var untouched func() error
	if f == drivetest.WrongMedium {
		untouched = labelForOtherMedium(t, cart)
	}
	drive := tapefake.NewDrive("/dev/nst-contract")
	drive.Insert(cart)
	board := fake.NewBoard(contractRelay())
	powered := board.Relay(contractRelay().Name).Powered
	switch f {
	case drivetest.NeverAppears:
		powered = func() bool { return false }
	case drivetest.NeverGoes:
		powered = latch(powered)
	case drivetest.AlreadyThere:
		powered = func() bool { return true }
	}
	follow(t, func(ctx context.Context) { drive.Follow(ctx, powered, 5*time.Millisecond) })
	r := contractGateway(t, board, config.Medium{Name: spec.Name, Type: config.MediumTape, Relay: contractRelay().Name,
		Tape: &spec, PasswordFile: "lto.restic-password"}, gateway.Options{TapeHosts: map[string]tape.Host{spec.Name: drive}}, nil)
	r.Untouched = untouched
	return r
}

// labelForOtherMedium makes cart another medium's tape, as that medium's
// own driver labels it, and returns what reports a change to it since.
func labelForOtherMedium(t testing.TB, cart *tapefake.Cartridge) func() error {
	t.Helper()
	other := tapefake.NewDrive("/dev/nst-other")
	other.Insert(cart)
	d, err := tape.New(tape.Spec{Name: "other-lto", SpoolDir: filepath.Join(t.TempDir(), "spool"), RecordSize: tape.MinRecordSize},
		tape.Options{Host: other})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.BeforePowerOn(); err != nil {
		t.Fatal(err)
	}
	other.SetPower(true)
	if _, err := d.Attach(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if err := d.Detach(context.Background()); err != nil {
		t.Fatal(err)
	}
	other.SetPower(false)
	other.Remove()
	files, used := len(cart.Files()), cart.Used()
	return func() error {
		if n, u := len(cart.Files()), cart.Used(); n != files || u != used {
			return fmt.Errorf("the other medium's tape changed: %d files, %d bytes (was %d, %d)", n, u, files, used)
		}
		return nil
	}
}

// s3Contract: a bucket on versitygw, without a relay or behind an uplink
// on one.
func s3Contract(relayed bool) func(t *testing.T) drivetest.Suite {
	return func(t *testing.T) drivetest.Suite {
		srv := startS3(t)
		var n atomic.Int32
		faults := []drivetest.Fault{drivetest.WrongMedium}
		if relayed {
			faults = contractFaults
		}
		return drivetest.Suite{Faults: faults, Timeout: 20 * time.Second, New: func(t testing.TB, f drivetest.Fault) drivetest.Rig {
			return newS3ContractRig(t, srv, fmt.Sprintf("contract-%d", n.Add(1)), relayed, f)
		}}
	}
}

// startS3 runs a versitygw until the test ends.
func startS3(t testing.TB) *s3test.Server { return s3test.Run(t) }

func newS3ContractRig(t testing.TB, srv *s3test.Server, bucket string, relayed bool, f drivetest.Fault) drivetest.Rig {
	lock := &s3test.Lock{Mode: minio.Compliance, Days: 30}
	if f == drivetest.WrongMedium {
		lock.Mode = minio.Governance // a bucket whose lock anyone privileged may lift
	}
	if err := srv.MakeBucket(context.Background(), bucket, true, lock); err != nil {
		t.Fatal(err)
	}
	spec := s3.Spec{Name: "cloud", Endpoint: srv.Endpoint, Bucket: bucket, Prefix: "danzen", AccessKeyID: srv.AccessKey,
		SecretKeyFile: "cloud.s3-secret", CAFile: srv.CAFile, MinRetentionDays: 14,
		AppearTimeout: duration.Duration(5 * time.Second), GoneTimeout: duration.Duration(3 * time.Second)}
	m := config.Medium{Name: "cloud", Type: config.MediumS3, S3: &spec, PasswordFile: "cloud.restic-password"}
	board := fake.NewBoard(contractRelay())
	if relayed {
		powered := board.Relay(contractRelay().Name).Powered
		if f == drivetest.NeverGoes {
			powered = latch(powered)
		}
		u := startUplink(t, srv.Endpoint, powered)
		u.dead.Store(f == drivetest.NeverAppears)
		u.bypassed.Store(f == drivetest.AlreadyThere)
		m.Relay, spec.Endpoint = contractRelay().Name, u.addr
	}
	r := contractGateway(t, board, m, gateway.Options{}, map[string]string{spec.SecretKeyFile: srv.SecretKey + "\n"})
	r.Untouched = func() error { return emptyBucket(srv, bucket) }
	return r
}

// emptyBucket reports an object (or version) in bucket.
func emptyBucket(srv *s3test.Server, bucket string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // ends the listing when it stops early
	o, ok := <-srv.Client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true})
	switch {
	case !ok:
		return nil
	case o.Err != nil:
		return o.Err
	}
	return fmt.Errorf("%s was written to a bucket that failed the check", o.Key)
}
