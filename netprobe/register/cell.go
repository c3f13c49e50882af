package register

import (
	"strings"
	"unicode"
)

// formulaStart are the first characters that make a spreadsheet read a
// cell as a formula (=HYPERLINK(…), +cmd|…, -2+3, @SUM(…)).
const formulaStart = "=+-@"

// Cell makes text that came from the register or from a device safe to
// put in a CSV cell, on a page or on a terminal: line breaks and tabs
// become spaces, other control characters (a terminal's escape sequences,
// bidirectional overrides that reorder what is shown) become U+FFFD, and a
// cell that a spreadsheet would run as a formula is prefixed with ' so
// that it shows as text. ReadCSV takes the ' off again.
func Cell(s string) string {
	if strings.IndexFunc(s, unsafeRune) >= 0 {
		s = strings.Map(func(r rune) rune {
			switch {
			case r == '\t' || r == '\n' || r == '\r':
				return ' '
			case unsafeRune(r):
				return unicode.ReplacementChar
			}
			return r
		}, s)
	}
	if s != "" && strings.ContainsRune(formulaStart, rune(s[0])) {
		return "'" + s
	}
	return s
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// uncell undoes Cell's ' before a formula character, so that an exported
// register imports unchanged.
func uncell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune(formulaStart, rune(s[1])) {
		return s[1:]
	}
	return s
}
