package config

import (
	"slices"
	"strconv"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
)

// ParsePorts reads scan.tcp_ports, "1-1024,3389,8443", into a sorted list without repeats.
// "" means all 65,535 ports.
func ParsePorts(s string) ([]int, error) {
	if s == "" {
		s = "1-65535"
	}
	seen := make(map[int]bool)
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
			return nil, msg.Errorf("ポート指定 %q が読めません（例: 1-1024,3389）", "cannot read port spec %q (e.g. 1-1024,3389)", part)
		}
		for p := a; p <= b; p++ {
			seen[p] = true
		}
	}
	out := make([]int, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}
