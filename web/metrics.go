package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/danzen-gw/danzen/status"
)

// metrics writes the status in Prometheus text format, so a vendor who
// watches many hospitals uses Prometheus and Grafana, not a new console.
func metrics(get func(context.Context) (*status.Status, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := get(r.Context())
		if st == nil {
			http.Error(w, statusError(err).Error(), http.StatusInternalServerError)
			return
		}
		var b bytes.Buffer
		gauge := func(name, help string) { fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name) }
		gauge("danzen_medium_state", "1 for the medium's current state (cut, connected, fault, simulated, unknown).")
		for _, m := range st.Media {
			for _, s := range []status.State{status.Cut, status.Connected, status.Fault, status.Simulated, status.Unknown} {
				fmt.Fprintf(&b, "danzen_medium_state{medium=%q,state=%q} %d\n", m.Name, s, b2i(m.State == s))
			}
		}
		gauge("danzen_medium_offline_verified", "1 when the medium's last cut was verified (sense off and device gone).")
		for _, m := range st.Media {
			fmt.Fprintf(&b, "danzen_medium_offline_verified{medium=%q} %d\n", m.Name, b2i(m.State == status.Cut))
		}
		gauge("danzen_medium_last_snapshot_timestamp_seconds", "Time of the newest snapshot written to the medium.")
		for _, m := range st.Media {
			if m.LastSnapshot != nil {
				fmt.Fprintf(&b, "danzen_medium_last_snapshot_timestamp_seconds{medium=%q} %d\n", m.Name, m.LastSnapshot.Time.Unix())
			}
		}
		gauge("danzen_medium_connected_seconds", "Seconds the medium was connected in the last 30 days.")
		for _, m := range st.Media {
			fmt.Fprintf(&b, "danzen_medium_connected_seconds{medium=%q} %.0f\n", m.Name, m.Period.Connected.Seconds())
		}
		if c := st.LastCycle; c != nil {
			gauge("danzen_last_cycle_ok", "1 when the last cycle succeeded and every cut was verified.")
			fmt.Fprintf(&b, "danzen_last_cycle_ok %d\n", b2i(c.OK))
			gauge("danzen_last_cycle_timestamp_seconds", "End of the last cycle.")
			fmt.Fprintf(&b, "danzen_last_cycle_timestamp_seconds %d\n", c.Time.Unix())
		}
		if d := st.LastDrill; d != nil {
			gauge("danzen_last_drill_ok", "1 when the last restore drill restored and verified every file.")
			fmt.Fprintf(&b, "danzen_last_drill_ok{medium=%q} %d\n", d.Medium, b2i(d.OK))
			gauge("danzen_last_drill_timestamp_seconds", "Start of the last restore drill.")
			fmt.Fprintf(&b, "danzen_last_drill_timestamp_seconds %d\n", d.Started.Unix())
			gauge("danzen_last_drill_restore_seconds", "Time from the last drill's request to every file restored and verified (the measured RTO).")
			fmt.Fprintf(&b, "danzen_last_drill_restore_seconds %.1f\n", float64(d.RestoreMS)/1000)
		}
		if sc := st.LastScan; sc != nil {
			gauge("danzen_last_scan_ok", "1 when the last WAN-edge self-scan ran and stored its report.")
			fmt.Fprintf(&b, "danzen_last_scan_ok %d\n", b2i(sc.Error.IsZero()))
			gauge("danzen_last_scan_timestamp_seconds", "End of the last WAN-edge self-scan.")
			fmt.Fprintf(&b, "danzen_last_scan_timestamp_seconds %d\n", sc.Finished.Unix())
			gauge("danzen_scan_cautions", "注意 (caution) findings in the last WAN-edge self-scan.")
			fmt.Fprintf(&b, "danzen_scan_cautions %d\n", sc.Cautions)
			gauge("danzen_scan_new_cautions", "注意 findings of the last self-scan that the scan before did not have.")
			fmt.Fprintf(&b, "danzen_scan_new_cautions %d\n", sc.NewCautions)
		}
		if !st.NextCycle.IsZero() {
			gauge("danzen_next_cycle_timestamp_seconds", "When the scheduler runs the next cycle.")
			fmt.Fprintf(&b, "danzen_next_cycle_timestamp_seconds %d\n", st.NextCycle.Unix())
		}
		gauge("danzen_ledger_ok", "1 when the evidence ledger's hash chain verifies.")
		fmt.Fprintf(&b, "danzen_ledger_ok %d\n", b2i(st.LedgerErr.IsZero()))
		if v := st.LastFullVerify; v != nil {
			gauge("danzen_ledger_last_full_verify_timestamp_seconds", "When the whole evidence ledger was last verified (daily).")
			fmt.Fprintf(&b, "danzen_ledger_last_full_verify_timestamp_seconds %d\n", v.Time.Unix())
		}
		if rss := residentBytes(); rss > 0 {
			gauge("process_resident_memory_bytes", "Resident memory of danzend.")
			fmt.Fprintf(&b, "process_resident_memory_bytes %d\n", rss)
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(b.Bytes()) // a scraper that went away retries on its own
	}
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// residentBytes reads this process's RSS from /proc (0 if unknown).
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
