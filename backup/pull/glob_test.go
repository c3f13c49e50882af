package pull

import "testing"

func TestUnsafeName(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "a/b", "../x", "x\x00y", "tab\tname", "esc\x1b", "nl\nname", "\xff\xfe"} {
		if unsafeName(bad).IsZero() {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"emr.dmp", "患者 一覧.csv", ".hidden", "a..b", "スキャン_001.pdf"} {
		if why := unsafeName(good); !why.IsZero() {
			t.Errorf("%q refused: %s", good, why)
		}
	}
}

func TestMatchGlob(t *testing.T) {
	for _, c := range []struct {
		pat, p string
		want   bool
	}{
		{"**", "a/b/c.dmp", true},
		{"**/*.csv", "x.csv", true},
		{"**/*.csv", "a/b/x.csv", true},
		{"db/*.dmp", "db/emr.dmp", true},
		{"db/*.dmp", "db/sub/emr.dmp", false},
		{"db/**", "db/sub/emr.dmp", true},
		{"tmp/**", "db/x", false},
		{"*.dmp", "a/x.dmp", false},
	} {
		if got := matchGlob(c.pat, c.p); got != c.want {
			t.Errorf("matchGlob(%q, %q) = %v", c.pat, c.p, got)
		}
	}
	s := selector{include: []string{"**"}, exclude: []string{"**/*.tmp"}}
	if s.selected("a/b.tmp") || !s.selected("a/b.dmp") {
		t.Error("exclude does not win over include")
	}
}
