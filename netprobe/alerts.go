package netprobe

import (
	"strings"

	"github.com/danzen-gw/danzen/alert"
)

// NewCautions are the 注意 findings to alert on: those new since the
// previous scan, or all of them on a first scan.
func (r *Report) NewCautions() []Noted {
	if r.Changes != nil {
		return r.Changes.NewCautions
	}
	var out []Noted
	for _, t := range r.Targets {
		for _, f := range t.Findings {
			if f.Caution {
				out = append(out, Noted{ID: t.Point.ID, Key: f.Key(t.Point.ID), Finding: f})
			}
		}
	}
	return out
}

// Alerts turns NewCautions into scan_finding alerts, one per finding,
// keyed so that the same finding is not sent twice.
func (r *Report) Alerts(gatewayID string) []alert.Alert {
	device := map[string]string{}
	for _, t := range r.Targets {
		device[t.Point.ID] = strings.TrimSpace(t.Point.ID + " " + t.Point.Device())
	}
	var out []alert.Alert
	for _, n := range r.NewCautions() {
		out = append(out, alert.ScanFinding(gatewayID, r.Finished, n.Key, device[n.ID], n.Text))
	}
	return out
}
