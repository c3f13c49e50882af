package status

import (
	"testing"
	"time"
)

func BenchmarkTrackerStatus(b *testing.B) {
	t := &testing.T{}
	_ = t
	r := &rig{t: &testing.T{}}
	_ = r
	b.Skip()
}

func BenchmarkStatusOnBench(b *testing.B) {
	dir := "/var/tmp/danzen-bench-ledger-2607391478/1-month/ledger"
	tr := NewTracker(dir, TrackerOptions{})
	tr.Start()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Status([]string{"disk-a", "disk-b", "disk-c"}, now); err != nil {
			b.Fatal(err)
		}
	}
}
