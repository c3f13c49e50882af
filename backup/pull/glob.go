package pull

import (
	"path"
	"strings"
)

// matchGlob reports whether the "/"-separated relative path p matches
// pattern, where "**" stands for any number (also zero) of path segments
// and every other segment follows path.Match.
func matchGlob(pattern, p string) bool {
	return matchSegs(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchSegs(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if matchSegs(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// selector decides which relative paths a source pulls.
type selector struct{ include, exclude []string }

func (s selector) selected(p string) bool {
	for _, g := range s.exclude {
		if matchGlob(g, p) {
			return false
		}
	}
	for _, g := range s.include {
		if matchGlob(g, p) {
			return true
		}
	}
	return false
}
