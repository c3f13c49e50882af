package gateway_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/rtu"
	"github.com/danzen-gw/danzen/relay/rtu/rtusim"
	"github.com/danzen-gw/danzen/status"
)

// A relay module that does not answer at start-up leaves its medium NOT
// offline, in the ledger and on the dashboard's medium card, with the
// module's own words for why.
func TestSilentRelayModuleAtStartIsNotOffline(t *testing.T) {
	mod := rtusim.New(1, 4)
	mod.SetFault(rtusim.FaultNoAnswer)
	dev, stop, err := rtusim.StartPTY(context.Background(), mod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.GatewayID = "gw-modbus"
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	cfg.RelayModules = []rtu.ModuleSpec{{Name: "m1", Device: dev, Address: 1, Timeout: rtu.Duration(200 * time.Millisecond)}}
	cfg.Relays = []relay.Spec{{Name: "relay-a", Driver: relay.DriverModbus, Chip: "m1", Line: 0, Sense: &relay.SenseSpec{Chip: "m1", Line: 0},
		OnTimeout: relay.Duration(time.Second), OffTimeout: relay.Duration(time.Second)}}
	cfg.Media = []config.Medium{{Name: "disk-a", Type: config.MediumDisk, Relay: "relay-a", PasswordFile: "disk-a.restic-password",
		Disk: &disk.Spec{Name: "disk-a", Serial: "NO-SUCH-DISK", MediaID: "DANZEN-DISK-A", GoneTimeout: disk.Duration(time.Second)}}}
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	es, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Medium: "disk-a", Kinds: []ledger.Kind{ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified}})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Kind != ledger.KindPowerOffUnverified {
		t.Fatalf("start-up cut of a silent module: %+v", es)
	}
	d, err := ledger.Decode[ledger.CutData](es[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.Reason.EN, "m1") || d.SenseOff {
		t.Errorf("the ledger's reason does not name the module: %+v", d)
	}
	st, err := g.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st.Media {
		if m.Name == "disk-a" && (m.State != status.Fault || m.Reason.EN != d.Reason.EN) {
			t.Errorf("the medium card: %s %q, want fault %q", m.State, m.Reason.EN, d.Reason.EN)
		}
	}
}
