package faults_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
	"github.com/danzen-gw/danzen/status"
)

// The child process: danzen's core on a configuration file, with relays
// persisted under a board directory. It prints one line per phase so the
// test can kill it at a chosen moment.
const (
	envChild  = "DANZEN_FAULT_CHILD" // "cycle", "open" or "drill"
	envConfig = "DANZEN_FAULT_CONFIG"
	envBoard  = "DANZEN_FAULT_BOARD"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		if err := child(mode, os.Getenv(envConfig), os.Getenv(envBoard)); err != nil {
			fmt.Println("RESULT fail", strings.ReplaceAll(err.Error(), "\n", " "))
			os.Exit(1)
		}
		fmt.Println("RESULT ok")
		os.Exit(0)
	}
	if err := becomeSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, "faults: PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(2)
	}
	code := m.Run()
	printTable()
	os.Exit(code)
}

func child(mode, cfgPath, boardDir string) error {
	ctx := context.Background()
	// Parse, not Load: this child gives the "fake" relays their pins
	// (the board below), as the demo does; Load refuses them for the CLI.
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	cfg, err := config.Parse(data)
	if err != nil {
		return err
	}
	board := fake.NewBoard(cfg.Relays...)
	if err := board.Persist(boardDir); err != nil {
		return err
	}
	g, err := gateway.Open(ctx, cfg, gateway.Options{RelaySources: map[string]relay.PinSource{relay.DriverFake: board}})
	if err != nil {
		return err
	}
	defer func() {
		// The parent judges the child by its RESULT line and the board;
		// a relay that did not verify off is said on stderr.
		if err := g.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "closing the gateway:", err)
		}
	}()
	var mu sync.Mutex
	seen := map[string]bool{}
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		if !seen[s] {
			seen[s] = true
			fmt.Println(s)
		}
	}
	events := func(ev backup.CycleEvent) {
		switch {
		case ev.Phase == "send-back":
			say("SENDING BACK")
		case ev.Pull != nil && ev.Pull.BytesDone > 0:
			say("PULLING")
		case ev.Restic != nil:
			say("RESTIC " + ev.Restic.Op)
		default:
			say("PHASE " + ev.Phase)
		}
	}
	switch mode {
	case "open":
		return nil
	case "cycle":
		_, err := g.RunCycle(ctx, events)
		return err
	case "drill":
		_, err := g.Drill(ctx, "", "fault-suite", events)
		return err
	case "restore":
		_, err := g.Restore(ctx, gateway.RestoreOptions{Medium: "disk-a", Actor: "fault-suite"}, events)
		return err
	case "sendback":
		_, err := g.Restore(ctx, gateway.RestoreOptions{Medium: "disk-a", Actor: "fault-suite", Target: sendBackTarget, TargetDir: os.Getenv(envSendBackDir)}, events)
		return err
	}
	return fmt.Errorf("unknown child mode %q", mode)
}

// world is one scenario's gateway world: sshd with an export big enough
// to be caught mid-transfer, two disks, relays persisted in files.
type world struct {
	r       *rig.Rig
	board   string
	cfgPath string
}

func newWorld(t *testing.T) *world {
	return newWorldWith(t, map[string]string{
		"db/emr.dmp": strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎', '2026-11-26');\n", 1_500_000), // ~90 MB
		"csv/患者.csv": "患者ID,氏名\n1,山田 太郎\n",
	}, 512<<20)
}

// newWorldWith is newWorld with another export and disk size, for a
// scenario that needs no file big enough to be caught mid-transfer.
func newWorldWith(t *testing.T, export map[string]string, diskSize int64) *world {
	t.Helper()
	board := filepath.Join(t.TempDir(), "board")
	must(t, os.MkdirAll(board, 0o755))
	r := rig.NewWith(t, export, []string{"disk-a"}, diskSize, demo.HardwareOptions{
		PowerFrom: func(name string) func() bool { return func() bool { return fake.CoilPersisted(board, name) } },
	})
	r.Cfg.Retention.KeepLast = 1 // every second cycle prunes
	r.Cfg.CheckSubset = ""
	w := &world{r: r, board: board, cfgPath: filepath.Join(r.Dir, "config.json")}
	if err := config.Save(w.cfgPath, r.Cfg); err != nil {
		t.Fatal(err)
	}
	// The medium's password and repository, prepared in this process.
	g, err := gateway.Open(context.Background(), r.Cfg, gateway.Options{RelaySources: w.sources(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer closeGateway(t, g)
	if _, _, err := g.NewPassword("disk-a"); err != nil {
		t.Fatal(err)
	}
	if mr, err := g.PrepareMedium(context.Background(), "disk-a", false, nil); err != nil || !mr.CutVerified {
		t.Fatalf("prepare: %v %+v", err, mr)
	}
	return w
}

func (w *world) sources(t *testing.T) map[string]relay.PinSource {
	b := fake.NewBoard(w.r.Cfg.Relays...)
	if err := b.Persist(w.board); err != nil {
		t.Fatal(err)
	}
	return map[string]relay.PinSource{relay.DriverFake: b}
}

// open opens a gateway on cfg with the world's persisted relays, and
// returns the board for relay faults.
func (w *world) open(t *testing.T, cfg *config.Config) (*gateway.Gateway, *fake.Board) {
	t.Helper()
	b := fake.NewBoard(cfg.Relays...)
	if err := b.Persist(w.board); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{RelaySources: map[string]relay.PinSource{relay.DriverFake: b}})
	if err != nil {
		t.Fatal(err)
	}
	return g, b
}

// run starts the child in mode; if killAt is set, the child is killed
// with SIGKILL on the first output line starting with it. It returns the
// lines seen and whether the child succeeded.
func (w *world) run(t *testing.T, mode, killAt string) ([]string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+mode, envConfig+"="+w.cfgPath, envBoard+"="+w.board)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		l := sc.Text()
		lines = append(lines, l)
		if killAt != "" && !killed && strings.HasPrefix(l, killAt) {
			must(t, cmd.Process.Kill()) // SIGKILL: no deferred cleanup runs
			killed = true
		}
	}
	if _, err := io.Copy(io.Discard, out); err != nil {
		t.Logf("reading the rest of the child's output: %v", err)
	}
	err = cmd.Wait()
	if killed {
		reapOrphanedRestic(t)
	}
	if killAt != "" && !killed {
		t.Fatalf("%s never reached %q: %v\n%s\n%s", mode, killAt, lines, stderr.String(), err)
	}
	if err != nil && !killed {
		t.Logf("%s child failed: %v\n%s\n%s", mode, err, strings.Join(lines, "\n"), stderr.String())
	}
	return lines, err == nil
}

// falseOffline counts media the ledger calls cut while their relay is
// energised or their disk still attached.
func (w *world) falseOffline(t *testing.T) int {
	t.Helper()
	st, err := status.Compute(w.r.Cfg.LedgerDir, []string{"disk-a"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range st.Media {
		powered := fake.CoilPersisted(w.board, "relay-"+m.Name) || w.r.HW.Powers[m.Name].Loop() != nil
		if m.State == status.Cut && powered {
			t.Errorf("FALSE OFFLINE: the ledger says %s is cut while it is powered", m.Name)
			n++
		}
	}
	return n
}

// stagingComplete checks that every file under a source's staged data is
// one the manifest lists, with its size and SHA-256: no partial file sits
// under a final name.
func stagingComplete(staging, source string) error {
	dir := pull.SourceDir(staging, source)
	v, err := backup.VerifyRestore(context.Background(), dir, nil)
	if err != nil {
		return fmt.Errorf("staging does not match its manifest: %w", err)
	}
	n := 0
	err = filepath.WalkDir(filepath.Join(dir, "data"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil || n != v.Files {
		return fmt.Errorf("staging holds %d files, its manifest %d: %v", n, v.Files, err)
	}
	return nil
}

type row struct {
	fault, reached                 string
	survived, dataLost, falseOffln int
}

var (
	tableMu sync.Mutex
	table   []row
)

func record(r row) {
	tableMu.Lock()
	defer tableMu.Unlock()
	table = append(table, r)
}

func printTable() {
	if len(table) == 0 {
		return
	}
	var injected, survived, lost, falseOff int
	fmt.Println("\n| fault | injected at | survived | data lost | false offline |\n|---|---|---|---|---|")
	for _, r := range table {
		fmt.Printf("| %s | %s | %d | %d | %d |\n", r.fault, r.reached, r.survived, r.dataLost, r.falseOffln)
		injected++
		survived += r.survived
		lost += r.dataLost
		falseOff += r.falseOffln
	}
	fmt.Printf("| **total: %d faults injected** | | %d | %d | %d |\n", injected, survived, lost, falseOff)
}

// TestKilledAtEachPhase kills danzen with SIGKILL at each phase of a cycle
// and checks everything the next start and the next cycle must restore.
func TestKilledAtEachPhase(t *testing.T) {
	for _, sc := range []struct {
		name, killAt string
		first        bool   // one good cycle first (so the killed one prunes, or there is something to restore)
		mode         string // the killed job: "cycle" unless set
	}{
		{"during the pull", "PULLING", false, ""},
		{"between relay on and mount", "PHASE attach", false, ""},
		{"during restic backup", "RESTIC backup", false, ""},
		{"during prune", "PHASE forget", true, ""},
		{"between unmount and relay off", "PHASE power-off", false, ""},
		{"during a restore", "RESTIC restore", true, "restore"},
		{"during the drill's check --read-data", "PHASE check", true, "drill"},
	} {
		t.Run(strings.ReplaceAll(sc.name, " ", "_"), func(t *testing.T) {
			w := newWorld(t)
			if sc.first {
				if _, ok := w.run(t, "cycle", ""); !ok {
					t.Fatal("the first cycle failed")
				}
				// A changed export, so the killed cycle has a new
				// generation and prunes the old one.
				must(t, os.WriteFile(filepath.Join(w.r.SSHD.Export, "csv", "患者.csv"), []byte("患者ID,氏名\n1,山田 太郎\n2,佐藤 花子\n"), 0o644))
			}
			mode := sc.mode
			if mode == "" {
				mode = "cycle"
			}
			lines, _ := w.run(t, mode, sc.killAt)
			res := row{fault: "SIGKILL " + sc.name, reached: lines[len(lines)-1]}
			// Right after the kill nothing may claim the medium is cut
			// while the relay still holds it.
			res.falseOffln += w.falseOffline(t)

			// The next start: relays off and proven, the interruption
			// recorded, and no false claim.
			if _, ok := w.run(t, "open", ""); !ok {
				t.Error("the start after the kill failed")
			}
			if fake.CoilPersisted(w.board, "relay-disk-a") || w.r.HW.Powers["disk-a"].Loop() != nil {
				t.Error("after the start, the relay is energised or the disk attached")
			}
			res.falseOffln += w.falseOffline(t)
			if left, _ := os.ReadDir(filepath.Join(w.r.Cfg.StagingDir, "restore")); len(left) > 0 {
				t.Errorf("the start left an unfinished restore on the gateway: %v", left)
			}
			// A killed cycle leaves its cycle.start open; a killed restore
			// or drill leaves the medium's power session open.
			ents, err := ledger.Read(w.r.Cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindJobInterrupted}})
			if err != nil || len(ents) != 1 {
				t.Errorf("the interruption is not recorded once: %v %+v", err, ents)
			}

			// The next cycle succeeds, a drill restores and verifies the
			// newest snapshot and reads every pack (restic check
			// --read-data), and staging holds only complete files.
			okCycle := false
			if _, ok := w.run(t, "cycle", ""); ok {
				okCycle = true
			} else {
				t.Error("the cycle after the kill failed")
			}
			okDrill := false
			if _, ok := w.run(t, "drill", ""); ok {
				okDrill = true
			} else {
				t.Error("the drill after the kill failed")
				res.dataLost = 1
			}
			if err := stagingComplete(w.r.Cfg.StagingDir, "emr"); err != nil {
				t.Error(err)
				res.dataLost = 1
			}
			if rep, err := ledger.Verify(w.r.Cfg.LedgerDir); err != nil {
				t.Errorf("ledger: %v\n%s", err, rep)
			}
			res.falseOffln += w.falseOffline(t)
			if okCycle && okDrill && !t.Failed() {
				res.survived = 1
			}
			record(res)
		})
	}
}

// A configuration truncated by a power cut during a save: the start uses
// the previous good one, reports the fault, and the cycle still runs.
func TestTruncatedConfigurationAtStart(t *testing.T) {
	w := newWorld(t)
	if err := config.Save(w.cfgPath, w.r.Cfg); err != nil { // the first save becomes .prev
		t.Fatal(err)
	}
	data, _ := os.ReadFile(w.cfgPath)
	if err := os.WriteFile(w.cfgPath, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	res := row{fault: "configuration truncated at start", reached: "start"}
	loaded, err := gateway.LoadOrCreate(filepath.Dir(w.cfgPath))
	if err != nil || loaded.Fallback == nil || loaded.Config.GatewayID != w.r.Cfg.GatewayID {
		t.Fatalf("damaged configuration: %v %+v", err, loaded)
	}
	g, err := gateway.Open(context.Background(), loaded.Config, gateway.Options{RelaySources: w.sources(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer closeGateway(t, g)
	g.ReportFault(context.Background(), "config.fallback", loaded.Fallback)
	if rep, err := g.RunCycle(context.Background(), nil); err != nil || !rep.OK() {
		t.Errorf("cycle on the previous configuration: %v", err)
	} else {
		res.survived = 1
	}
	ents, _ := ledger.Read(w.r.Cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindConfigFallback}})
	if len(ents) != 1 {
		t.Error("the fallback is not in the ledger")
		res.survived = 0
	}
	res.falseOffln = w.falseOffline(t)
	record(res)
}
