package documents_test

import (
	"path/filepath"
	"testing"

	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/when/whentest"
	"github.com/danzen-gw/danzen/netprobe"
)

// TestDocumentsShowTimesInTheHospitalsZone builds the documents as on the
// appliance (no TZ: the process's Local zone is UTC): every time printed
// is in the configured Asia/Tokyo and says so (JST), since a printed
// report is read far from the gateway and long after.
func TestDocumentsShowTimesInTheHospitalsZone(t *testing.T) {
	whentest.LocalUTC(t)
	w := newWorld(t)
	cfgDir := t.TempDir()
	rep := &netprobe.Report{Started: at(7, 3, 0).UTC(), Finished: at(7, 3, 5).UTC(), FeedDate: "2026-09-30", TCPPorts: "1-65535"}
	if _, err := (netprobe.Store{Dir: filepath.Join(cfgDir, "scans")}).Save(rep); err != nil {
		t.Fatal(err)
	}
	in := gather(t, w.cfg)
	if in.Scan, in.ScanErr = documents.LatestScan(cfgDir, w.cfg); in.Scan == nil {
		t.Fatalf("stored scan not found: %v", in.ScanErr)
	}
	_, files := build(t, in)
	for _, lang := range documents.Langs {
		mustContain(t, "evidence."+lang, doc(t, files, "evidence-report", lang),
			"2026-10-01 00:00 JST",    // the period
			"2026-10-01 02:30:00 JST", // a record: the first cycle's verified cut
			"2026-10-05 10:00 JST")    // the drill
		mustContain(t, "plan."+lang, doc(t, files, "offline-backup-plan", lang), "2026-10-05 10:00 JST")
		mustContain(t, "scan."+lang, doc(t, files, "self-scan-report", lang), "2026-10-07 03:00 JST", "2026-10-07 03:05 JST")
	}
}
