package documents

import (
	"regexp"
	"runtime/debug"
	"strconv"
	"testing"
)

// cssUnescape reads back a CSS string literal as cssString writes it:
// "\" followed by exactly six hex digits is one character.
func cssUnescape(t *testing.T, lit string) string {
	t.Helper()
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		t.Fatalf("%s is not a quoted CSS string", lit)
	}
	esc := regexp.MustCompile(`\\[0-9A-F]{6}`)
	body := lit[1 : len(lit)-1]
	if rest := esc.ReplaceAllString(body, ""); regexp.MustCompile(`["\\<>/:;{}\n]`).MatchString(rest) {
		t.Fatalf("%s has an unescaped special character: %q", lit, rest)
	}
	return esc.ReplaceAllStringFunc(body, func(h string) string {
		r, err := strconv.ParseUint(h[1:], 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		return string(rune(r))
	})
}

// TestCSSStringKeepsAnyText: whatever a person typed comes back unchanged
// from the CSS string, and nothing in it can end the string, the rule or
// the style element.
func TestCSSStringKeepsAnyText(t *testing.T) {
	for _, s := range []string{
		"さくらクリニック",
		"運用管理規程 別紙: オフラインバックアップ運用手順",
		`"}</style><script>alert(1)</script>`,
		"a\\\"; } @top-left { content: url(javascript:x) } /* \n */",
		"医療法人 桜会 — 本院 (2F) 100%",
	} {
		lit := string(cssString(s))
		if got := cssUnescape(t, lit); got != s {
			t.Errorf("cssString(%q) = %s reads back as %q", s, lit, got)
		}
	}
	if got := string(cssString("運用管理規程 別紙: 手順")); got != `"運用管理規程 別紙\00003A 手順"` {
		t.Errorf("got %s", got)
	}
}

// TestVersionOf: the paper names the build that made it, and says so
// plainly when the build carries no version.
func TestVersionOf(t *testing.T) {
	for _, c := range []struct {
		info *debug.BuildInfo
		l    lang
		want string
	}{
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}}, ja, "danzen v1.2.0 (0123456789ab)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}, en,
			"danzen development build 0123456789ab (with uncommitted changes)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, ja, "danzen 開発版(版は不明)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.3.1"}}, en, "danzen v0.3.1"},
	} {
		if got := versionOf(c.l, c.info); got != c.want {
			t.Errorf("versionOf = %q, want %q", got, c.want)
		}
	}
}
