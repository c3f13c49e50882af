package faults_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
)

// TestInjectedFaults gives one gateway a run of hardware and restic
// faults, one at a time: each must fail its cycle with a message that
// names the cause, never leave the medium reported offline while it is
// not, and the cycle after the repair must succeed. A drill at the end
// proves nothing written in between was lost.
func TestInjectedFaults(t *testing.T) {
	w := newWorld(t)
	pwFile := w.r.Cfg.KeyPath(w.r.Cfg.Media[0].PasswordFile)
	goodPW, err := os.ReadFile(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	power := w.r.HW.Powers["disk-a"]
	for _, f := range []struct {
		name, want     string // want: a word the failure must contain
		inject, repair func(cfg *config.Config, b *fake.Board)
	}{
		{"restic binary missing", "restic",
			func(cfg *config.Config, _ *fake.Board) { cfg.ResticBinary = "/nonexistent/restic" }, nil},
		{"wrong repository password", "password",
			func(*config.Config, *fake.Board) { must(t, os.WriteFile(pwFile, []byte("not the password\n"), 0o600)) },
			func(*config.Config, *fake.Board) { must(t, os.WriteFile(pwFile, goodPW, 0o600)) }},
		{"medium never appears after power-on", "disk-a",
			func(*config.Config, *fake.Board) { power.SetMode(looptest.NeverAppears) },
			func(*config.Config, *fake.Board) { power.SetMode(looptest.Healthy) }},
		{"relay welded", "relay-disk-a",
			func(_ *config.Config, b *fake.Board) { b.Relay("relay-disk-a").SetMode(fake.Welded) }, nil},
		{"sense wire broken", "relay-disk-a",
			func(_ *config.Config, b *fake.Board) { b.Relay("relay-disk-a").SetMode(fake.SenseBroken) }, nil},
	} {
		t.Run(strings.ReplaceAll(f.name, " ", "_"), func(t *testing.T) {
			res := row{fault: f.name, reached: "cycle"}
			cfg := *w.r.Cfg
			b := fake.NewBoard(cfg.Relays...)
			if err := b.Persist(w.board); err != nil {
				t.Fatal(err)
			}
			f.inject(&cfg, b)
			g, err := gateway.Open(context.Background(), &cfg, gateway.Options{RelaySources: map[string]relay.PinSource{relay.DriverFake: b}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := g.RunCycle(context.Background(), nil)
			closeGateway(t, g)
			if err == nil || rep.OK() {
				t.Errorf("the cycle with %s succeeded", f.name)
			} else if !strings.Contains(err.Error(), f.want) {
				t.Errorf("the failure does not name the cause (%q): %v", f.want, err)
			}
			res.falseOffln += w.falseOffline(t)
			if f.repair != nil {
				f.repair(&cfg, b)
			}
			if _, ok := w.run(t, "cycle", ""); ok {
				res.survived = 1
			} else {
				t.Errorf("the cycle after repairing %s failed", f.name)
			}
			res.falseOffln += w.falseOffline(t)
			record(res)
		})
	}
	if _, ok := w.run(t, "drill", ""); !ok {
		t.Error("the drill after the faults failed: data written in between is not restorable")
	}
	if err := stagingComplete(w.r.Cfg.StagingDir, "emr"); err != nil {
		t.Error(err)
	}
}

// Staging fills up during the pull: the pull stops with the cause named,
// no medium is powered for a night with nothing new, and once there is
// room again the next cycle succeeds.
func TestStagingFull(t *testing.T) {
	w := newWorld(t)
	res := row{fault: "staging disk full during the pull", reached: "pull"}
	mnt := smallExt4(t, 48<<20, "staging")

	cfg := *w.r.Cfg
	cfg.StagingDir = mnt // 48 MB for a 90 MB export
	g, b := w.open(t, &cfg)
	commands := b.Relay("relay-disk-a").Commands()
	rep, err := g.RunCycle(context.Background(), nil)
	closeGateway(t, g)
	switch {
	case err == nil || rep.OK():
		t.Error("a cycle on a full staging disk succeeded")
	case !strings.Contains(err.Error(), "staging disk is full"):
		t.Errorf("the failure does not say staging is full: %v", err)
	case len(rep.Media) != 0 || b.Relay("relay-disk-a").Commands() > commands+1:
		t.Errorf("a medium was powered for a night with nothing new: %+v", rep.Media)
	}
	res.falseOffln += w.falseOffline(t)
	if _, ok := w.run(t, "cycle", ""); ok { // the configured, roomy staging again
		res.survived = 1
	} else {
		t.Error("the cycle with room again failed")
	}
	record(res)
}
