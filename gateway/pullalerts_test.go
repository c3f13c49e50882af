package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	testrig "github.com/danzen-gw/danzen/internal/rig"
)

// alertSink is the hospital's webhook: every alert it received.
type alertSink struct {
	mu  sync.Mutex
	got []alert.Alert
}

func newAlertSink(t *testing.T) (*alertSink, string) {
	t.Helper()
	s := &alertSink{}
	hook := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
		var a alert.Alert
		if err := json.NewDecoder(req.Body).Decode(&a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		s.mu.Lock()
		s.got = append(s.got, a)
		s.mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	return s, hook.URL
}

// wait returns the alerts of kind for source (resolved or not) once n of
// them arrived, failing the test after a while.
func (s *alertSink) wait(t *testing.T, kind alert.Kind, source string, resolved bool, n int) []alert.Alert {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		var out []alert.Alert
		for _, a := range s.got {
			if a.Kind == kind && a.Resolved == resolved && strings.HasSuffix(a.Key, "/"+source) {
				out = append(out, a)
			}
		}
		all := slices.Clone(s.got)
		s.mu.Unlock()
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d %s alerts (resolved %v) for %s; received %+v", n, kind, resolved, source, all)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPullAlertsRaiseAndClear: through the configured alert channel, a
// refused file not refused before, a file pending in two pulls in a row,
// a source with no complete file and a source whose staged files fell by
// more than its share each raise their alert, and each clears once a
// later pull shows it mended.
func TestPullAlertsRaiseAndClear(t *testing.T) {
	x := testrig.New(t, map[string]string{"a.dmp": "a", "b.dmp": "b", "c.dmp": "c", "d.dmp": "d", "e.dmp": "e"}, nil, 0)
	s := x.SSHD
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	write := func(rel, data string, mtime time.Time) {
		t.Helper()
		if err := s.WriteFile(rel, []byte(data), mtime); err != nil {
			t.Fatal(err)
		}
	}
	write("EXPORT_COMPLETE", "", past.Add(time.Minute))
	write("late.dmp", "being written", time.Now().Add(time.Hour)) // newer than the marker: pending
	write("void/started.dmp", "being written", past)              // the second export: never marked done
	if err := os.Symlink("/etc/passwd", filepath.Join(s.Export, "link.dmp")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(s.Export, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("bad\x01name.dmp", "x", past)

	emr := s.Source("emr")
	emr.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "EXPORT_COMPLETE"}
	emr.Exclude = []string{"void/**"}
	void := s.Source("void")
	void.ExportDir = "/export/void"
	void.Completion = config.Completion{Mode: config.CompletionMarker, Marker: "DONE"}
	x.Cfg.Sources = []config.Source{emr, void}
	sink, url := newAlertSink(t)
	x.Cfg.Alerts.Webhook = &alert.WebhookSpec{URL: url}
	g := (&rig{sshd: s, hw: x.HW, cfg: x.Cfg, dir: x.Dir}).open(t)
	cycle := func() {
		t.Helper()
		if _, err := g.RunCycle(ctxT(t), nil); err != nil {
			t.Logf("cycle: %v", err)
		}
	}

	// First night: three files refused, nothing of void complete.
	cycle()
	refused := sink.wait(t, alert.KindPullRefused, "emr", false, 1)[0]
	for _, name := range []string{"link.dmp", "pipe", `"bad\x01name.dmp"`} {
		if !strings.Contains(refused.Body.JA, name) || !strings.Contains(refused.Body.EN, name) {
			t.Errorf("the refusal alert does not name %s:\n%s", name, refused.Body)
		}
	}
	if refused.Severity != alert.SeverityWarning {
		t.Errorf("refusal alert severity %s", refused.Severity)
	}
	sink.wait(t, alert.KindPullEmpty, "void", false, 1)

	// Second night: late.dmp still pending; three of the five files gone.
	for _, f := range []string{"a.dmp", "b.dmp", "c.dmp"} {
		if err := os.Remove(filepath.Join(s.Export, f)); err != nil {
			t.Fatal(err)
		}
	}
	cycle()
	if p := sink.wait(t, alert.KindPullPending, "emr", false, 1)[0]; !strings.Contains(p.Body.EN, "late.dmp") {
		t.Errorf("the pending alert does not name late.dmp:\n%s", p.Body)
	}
	if d := sink.wait(t, alert.KindPullDropped, "emr", false, 1)[0]; !strings.Contains(d.Body.EN, "from 6 files") || !strings.Contains(d.Body.EN, "to 3 files") {
		t.Errorf("the drop alert does not give the figures:\n%s", d.Body)
	}

	// Third night: everything mended.
	for _, f := range []string{"link.dmp", "pipe", "bad\x01name.dmp"} {
		if err := os.Remove(filepath.Join(s.Export, f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a.dmp", "b.dmp", "c.dmp"} {
		write(f, f, past)
	}
	write("late.dmp", "finished", past)
	write("void/DONE", "", past.Add(time.Minute))
	cycle()
	sink.wait(t, alert.KindPullRefused, "emr", true, 1)
	sink.wait(t, alert.KindPullPending, "emr", true, 1)
	sink.wait(t, alert.KindPullDropped, "emr", true, 1)
	sink.wait(t, alert.KindPullEmpty, "void", true, 1)
}
