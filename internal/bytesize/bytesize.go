// Package bytesize writes byte counts for people, one way everywhere: in
// decimal units (kB, MB, GB …), as disk makers, the page and the
// configuration's "200MB" do, so a size reads the same on the CLI, the
// page, a mail and a printed document.
package bytesize

import "fmt"

// integer is any integer type a size comes in.
type integer interface {
	~int | ~int32 | ~int64 | ~uint | ~uint32 | ~uint64
}

// Format writes n bytes: "999 B", "1.5 MB", "12.3 GB", and without a
// decimal from 100 up ("150 MB"), three figures being plenty for a person.
// A negative count (never a real size) reads "0 B".
func Format[N integer](n N) string {
	units := [...]string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	if n < 0 {
		n = 0
	}
	v, i := float64(n), 0
	// 999.5 MB would print as "1000 MB": it is 1.0 GB.
	for i < len(units)-1 && (v >= 1000 || (i > 0 && v >= 999.5)) {
		v /= 1000
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%d B", uint64(n))
	case v >= 99.95:
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
