package netprobe

import (
	"bytes"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/internal/when/whentest"
)

// TestScanReportShowsTheConfiguredZone renders a stored report (UTC on
// disk) as on the appliance (no TZ: Local is UTC): the page says when in
// the gateway's zone, with the zone.
func TestScanReportShowsTheConfiguredZone(t *testing.T) {
	whentest.LocalUTC(t)
	r, err := Store{Dir: "testdata/stored"}.Load("scan-20261206T162207.460Z.json")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteHTML(&b, when.Of("Asia/Tokyo")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2026-12-07 01:22 JST", "since the last scan (2026-12-07 00:22 JST)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the page lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "UTC") {
		t.Error("the page still says UTC")
	}
}
