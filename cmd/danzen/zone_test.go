package main_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/when/whentest"
	"github.com/danzen-gw/danzen/ledger"
)

// TestCLIPrintsTimesInTheHospitalsZone runs the CLI as on the appliance
// (TZ empty: the process's Local zone is UTC) on a gateway in Asia/Tokyo:
// a drill started at 17:00 UTC is printed as 02:00 JST the next day.
func TestCLIPrintsTimesInTheHospitalsZone(t *testing.T) {
	whentest.LocalUTC(t) // and TZ="" for the CLI it runs
	dir := t.TempDir()
	cfg := config.Default()
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	cfg.TimeZone = "Asia/Tokyo"
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	src := config.DefaultSource()
	src.Name, src.Host, src.User, src.KeyFile, src.ExportDir = "emr", "10.1.2.30", "danzen", "emr.key", "/export"
	src.KnownHosts = []string{knownhosts.Line([]string{src.Host}, hostKey)}
	cfg.Sources = []config.Source{src}
	cfgPath := filepath.Join(dir, "config.json")
	if err := config.Save(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)
	l, err := ledger.OpenWith(cfg.LedgerDir, ledger.Options{Now: func() time.Time { return started.Add(10 * time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Append(context.Background(), ledger.Entry{Kind: ledger.KindDrill, Medium: "disk-a", Payload: ledger.RestoreData{
		ID: "drill-1", Drill: true, Medium: "disk-a", Snapshot: "4f3c2a1b", SnapTime: started.Add(-time.Hour), Source: "emr",
		Dest: "scratch", Started: started, Files: 3, FilesVerified: 3, CutVerified: true, OK: true}})
	if cerr := l.Close(); err != nil || cerr != nil {
		t.Fatalf("writing the ledger: %v, %v", err, cerr)
	}
	out, code := runIn(t, "en_US.UTF-8", build(t), "drill", "--list", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("drill --list exited %d:\n%s", code, out)
	}
	for _, want := range []string{"drill-1 2026-12-07 02:00:00 JST", "(emr, 2026-12-07 01:00:00 JST)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the CLI lacks %q:\n%s", want, out)
		}
	}
}
