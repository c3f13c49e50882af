package bytesize

import (
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{-5, "0 B"}, {0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {1_500_000, "1.5 MB"}, {12_300_000_000, "12.3 GB"},
		{50_000_000, "50.0 MB"}, {99_949_999, "99.9 MB"}, {99_950_000, "100 MB"}, {100_000_000, "100 MB"}, {999_499_999, "999 MB"},
		{999_500_000, "1.0 GB"}, {2e12, "2.0 TB"}, {math.MaxInt64, "9.2 EB"},
	} {
		if got := Format(c.n); got != c.want {
			t.Errorf("Format(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := Format(uint64(math.MaxUint64)); got != "18.4 EB" {
		t.Errorf("Format(MaxUint64) = %q", got)
	}
	if got := Format(uint32(4096)); got != "4.1 kB" {
		t.Errorf("Format(uint32 4096) = %q", got)
	}
}
