package netprobe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/netprobe/kev"
)

// VersionHint is what an SSL-VPN portal gives away about its firmware to
// anyone, without a login: a version it states, or only a build date or a
// content hash that someone would have to look up.
type VersionHint struct {
	Source string `json:"source"` // the path (and header) it came from
	Raw    string `json:"raw"`    // as exposed
	// Vendor is the feed vendor whose syntax Version is in; "" when the
	// version cannot be compared with the feed.
	Vendor  string `json:"vendor,omitempty"`
	Version string `json:"version,omitempty"`
	// Exact: the page states the whole release. Otherwise Version is the
	// lowest and Upper the highest release the hint allows.
	Exact      bool   `json:"exact"`
	Upper      string `json:"upper,omitempty"`
	BuildDate  string `json:"build_date,omitempty"` // YYYY-MM-DD of a build timestamp
	Hash       string `json:"hash,omitempty"`       // a build's content hash
	Confidence string `json:"confidence"`           // high: stated; low: inferred
}

const (
	ConfidenceHigh = "high"
	ConfidenceLow  = "low"
)

// hintProbes are the public files each vendor's portal serves that carry a
// hint, beyond the login page already read: one GET per portal.
var hintProbes = map[string][]string{
	"cisco":    {"/CSCOSSLC/config-auth"},
	"ivanti":   {"/dana-na/nc/nc_gina_ver.txt"},
	"citrix":   {"/vpn/js/rdx/core/lang/rdx_en.json.gz"},
	"paloalto": {"/global-protect/portal/css/login.css"},
	"fortinet": {"/remote/fgt_lang?lang=en"},
}

// portalHints reads the hints of the vendor's portal: the login page at
// path (already fetched: page, body) and the vendor's hint files fetched
// with get, which bounds time and size.
func portalHints(get func(string) (*http.Response, []byte, error), base, vendor, path string, page *http.Response, body []byte) []VersionHint {
	hs := readHints(pageParsers[vendor], path, page.Header, body)
	for _, p := range hintProbes[vendor] {
		r, b, err := get(base + p)
		if err != nil || r.StatusCode != http.StatusOK {
			continue
		}
		hs = append(hs, readHints(fileParsers[vendor], p, r.Header, b)...)
	}
	return hs
}

// hintParser finds a hint in one response.
type hintParser func(hdr http.Header, body []byte) (VersionHint, bool)

// pageParsers read the vendors' login pages, fileParsers the files of
// hintProbes.
var (
	pageParsers = map[string]hintParser{
		"ivanti":    func(_ http.Header, b []byte) (VersionHint, bool) { return parseIvantiCSS(b) },
		"citrix":    func(_ http.Header, b []byte) (VersionHint, bool) { return parseCitrixHash(b) },
		"sonicwall": func(h http.Header, b []byte) (VersionHint, bool) { return parseSonicWallSMA(h.Get("Server"), b) },
	}
	fileParsers = map[string]hintParser{
		"cisco":  func(_ http.Header, b []byte) (VersionHint, bool) { return parseASAConfigAuth(b) },
		"ivanti": func(_ http.Header, b []byte) (VersionHint, bool) { return parseIvantiGinaVer(b) },
		"citrix": func(_ http.Header, b []byte) (VersionHint, bool) { return parseGzipStamp(b) },
	}
)

// readHints reads one response from path with parse (nil: none).
func readHints(parse hintParser, path string, hdr http.Header, body []byte) []VersionHint {
	if parse != nil {
		if h, ok := parse(hdr, body); ok {
			h.Source = path
			return []VersionHint{h}
		}
	}
	// Nothing stated: the validators of a static file may still date the
	// build (GlobalProtect's login page was one, with its ETag).
	return headerDates(path, hdr)
}

var asaVersion = regexp.MustCompile(`<version\s+who="sg"\s*>\s*([^<\s]{1,40})\s*</version>`)

// parseASAConfigAuth reads the version an ASA states in its AnyConnect
// XML (`<version who="sg">9.16(4)57</version>`); old releases answer a
// plain GET of /CSCOSSLC/config-auth with it.
func parseASAConfigAuth(body []byte) (VersionHint, bool) {
	m := asaVersion.FindSubmatch(body)
	if m == nil || !bytes.Contains(body, []byte("<config-auth")) {
		return VersionHint{}, false
	}
	v := printable(m[1])
	if v == "" {
		return VersionHint{}, false
	}
	h := VersionHint{Raw: v, Version: v, Exact: true, Confidence: ConfidenceHigh}
	if _, err := kev.ParseVersion("cisco", v); err == nil {
		h.Vendor = "cisco"
	}
	return h, true
}

var ginaVersion = regexp.MustCompile(`(?i)<PARAM\s+NAME="ProductVersion"\s+VALUE="(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,7})"`)

// parseIvantiGinaVer reads nc_gina_ver.txt's ProductVersion. Its four
// numbers are major, minor, release and build ("22.7.2.3191" is 22.7R2,
// build 3191): the point release (the 5 of 22.7R2.5) is not in it, so the
// hint spans the whole release train.
func parseIvantiGinaVer(body []byte) (VersionHint, bool) {
	m := ginaVersion.FindSubmatch(body)
	if m == nil {
		return VersionHint{}, false
	}
	train := fmt.Sprintf("%s.%sR%s", m[1], m[2], m[3])
	return VersionHint{
		Raw:        fmt.Sprintf("%s.%s.%s.%s", m[1], m[2], m[3], m[4]),
		Vendor:     "ivanti",
		Version:    fmt.Sprintf("%s build %s", train, m[4]),
		Upper:      train + ".99999",
		Confidence: ConfidenceLow,
	}, true
}

var ivantiCSS = regexp.MustCompile(`/dana-na/css/ds(?:_|\.css\?)([0-9a-f]{64})`)

// parseIvantiCSS reads the build hash in the login page's stylesheet name.
func parseIvantiCSS(body []byte) (VersionHint, bool) {
	m := ivantiCSS.FindSubmatch(body)
	if m == nil {
		return VersionHint{}, false
	}
	return VersionHint{Raw: string(m[0]), Hash: string(m[1]), Confidence: ConfidenceLow}, true
}

var citrixHash = regexp.MustCompile(`\.(?:css|js)\?v=([0-9a-f]{32})\b`)

// parseCitrixHash reads the per-build hash NetScaler appends to its
// resources on /vpn/index.html.
func parseCitrixHash(body []byte) (VersionHint, bool) {
	m := citrixHash.FindSubmatch(body)
	if m == nil {
		return VersionHint{}, false
	}
	return VersionHint{Raw: string(m[0]), Hash: string(m[1]), Confidence: ConfidenceLow}, true
}

// parseGzipStamp reads the modification time in a gzip header (RFC 1952):
// NetScaler's rdx_en.json.gz keeps the time of the build that made it.
func parseGzipStamp(body []byte) (VersionHint, bool) {
	if len(body) < 10 || body[0] != 0x1f || body[1] != 0x8b || body[2] != 8 {
		return VersionHint{}, false
	}
	stamp := binary.LittleEndian.Uint32(body[4:8])
	d, ok := plausibleDate(int64(stamp))
	if !ok {
		return VersionHint{}, false
	}
	return VersionHint{Raw: "gzip mtime " + strconv.FormatUint(uint64(stamp), 10), BuildDate: d, Confidence: ConfidenceLow}, true
}

var (
	smaStyles = regexp.MustCompile(`swl_styles[._-](\d+\.\d+\.\d+\.\d+-\d+[a-z]*)`)
	smaServer = regexp.MustCompile(`^SMA/(\d+\.\d+(?:\.\d+)*)$`)
)

// parseSonicWallSMA reads the firmware SonicWall's SMA puts in its
// stylesheet names (swl_styles.10.2.1.0-17sv) or Server header (SMA/12.4).
// SMA is not SonicOS, so the version is shown but not compared.
func parseSonicWallSMA(server string, body []byte) (VersionHint, bool) {
	if m := smaStyles.FindSubmatch(body); m != nil {
		return VersionHint{Raw: string(m[0]), Vendor: "sonicwall", Version: string(m[1]), Exact: true, Confidence: ConfidenceHigh}, true
	}
	if m := smaServer.FindStringSubmatch(server); m != nil {
		return VersionHint{Raw: firstLines(printable([]byte("Server: " + server))), Version: m[1], Confidence: ConfidenceLow}, true
	}
	return VersionHint{}, false
}

// headerDates reads build times from a static file's validators: its
// Last-Modified, and an ETag that embeds the modification time as hex
// seconds (nginx's "mtime-size"; PAN-OS and FortiOS end theirs with it).
// A file inside a read-only firmware image is as old as the build; a
// Last-Modified as recent as the response's Date is a generated page's.
func headerDates(path string, hdr http.Header) []VersionHint {
	var hs []VersionHint
	seen := map[string]bool{}
	add := func(raw, d string) {
		if !seen[d] {
			seen[d] = true
			hs = append(hs, VersionHint{Source: path, Raw: raw, BuildDate: d, Confidence: ConfidenceLow})
		}
	}
	if e := hdr.Get("ETag"); e != "" {
		if d, ok := parseETagDate(e); ok {
			add(firstLines(printable([]byte("ETag: "+e))), d)
		}
	}
	if lm := hdr.Get("Last-Modified"); lm != "" {
		t, err := http.ParseTime(lm)
		now, nerr := http.ParseTime(hdr.Get("Date"))
		if err == nil && (nerr != nil || now.Sub(t) > 24*time.Hour) {
			if d, ok := plausibleDate(t.Unix()); ok {
				add(firstLines(printable([]byte("Last-Modified: "+lm))), d)
			}
		}
	}
	return hs
}

// parseETagDate finds a hex Unix time in an ETag: the first of nginx's
// two parts, an 8-digit last part, or the end of a short undivided tag.
// Others (content hashes, Apache's microsecond times) mean nothing as a
// time.
func parseETagDate(etag string) (string, bool) {
	e := strings.ToLower(strings.Trim(strings.TrimPrefix(strings.TrimSpace(etag), "W/"), `"`))
	parts := strings.FieldsFunc(e, func(r rune) bool { return r == '-' || r == '_' })
	for _, p := range parts {
		if strings.Trim(p, "0123456789abcdef") != "" {
			return "", false
		}
	}
	var hex string
	switch last := len(parts) - 1; {
	case len(parts) == 2 && len(parts[0]) == 8 && len(parts[1]) < 8:
		hex = parts[0]
	case len(parts) >= 2 && len(parts[last]) == 8:
		hex = parts[last]
	case len(parts) == 1 && len(e) >= 8 && len(e) <= 12:
		hex = e[len(e)-8:]
	default:
		return "", false
	}
	n, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return "", false
	}
	return plausibleDate(int64(n))
}

// plausibleDate formats a Unix time as a date if it can be a firmware
// build: after 2005, before 2100.
func plausibleDate(unix int64) (string, bool) {
	t := time.Unix(unix, 0).UTC()
	if t.Year() < 2005 || t.Year() >= 2100 {
		return "", false
	}
	return t.Format("2006-01-02"), true
}

// bestHint is the hint to show as the port's version: the most precise one.
func bestHint(hs []VersionHint) (VersionHint, bool) {
	var best VersionHint
	found := false
	for _, h := range hs {
		if h.Version == "" {
			continue
		}
		if !found || (h.Exact && !best.Exact) {
			best, found = h, true
		}
	}
	return best, found
}

// describe says in both languages what the hint tells, for 調査結果.
func (h VersionHint) describe() msg.Text {
	conf := map[string]msg.Text{ConfidenceHigh: msg.T("確度: 高", "confidence: high"), ConfidenceLow: msg.T("確度: 低", "confidence: low")}[h.Confidence]
	var what msg.Text
	switch {
	case h.Version != "" && h.Exact:
		what = msg.Sprintf("版 %s", "version %s", h.Version)
	case h.Version != "":
		what = msg.Sprintf("版 %s（系列のみ。正確な版は不明）", "version %s (release train only, the exact release is unknown)", h.Version)
	case h.BuildDate != "":
		what = msg.Sprintf("ビルド日付 %s（版は特定できません）", "build date %s (no version)", h.BuildDate)
	default:
		what = msg.Sprintf("ビルドのハッシュ %s（版は特定できません）", "build hash %s (no version)", h.Hash)
	}
	return msg.Sprintf("SSL-VPN ポータルの版の手がかり（%s、%s）: %s", "SSL-VPN portal version hint (%s, %s): %s", h.Source, conf, what)
}

// bounds parses the range of releases the hint allows.
func (h VersionHint) bounds() (lo, hi kev.Version, ok bool) {
	if h.Vendor == "" || h.Version == "" {
		return lo, hi, false
	}
	lo, err := kev.ParseVersion(h.Vendor, h.Version)
	if err != nil {
		return lo, hi, false
	}
	hi = lo
	if !h.Exact && h.Upper != "" {
		if hi, err = kev.ParseVersion(h.Vendor, h.Upper); err != nil {
			return lo, hi, false
		}
	}
	return lo, hi, true
}

// agrees reports whether the register's firmware is one of the releases
// the hint allows (or, where the register's text cannot be parsed, reads
// the same).
func (h VersionHint) agrees(registered string) bool {
	lo, hi, ok := h.bounds()
	if !ok {
		return sameVersion(h.Version, registered)
	}
	r, err := kev.ParseVersion(h.Vendor, registered)
	if err != nil {
		return sameVersion(h.Version, registered)
	}
	return r.Compare(lo) >= 0 && r.Compare(hi) <= 0
}

// hintMatch is a feed entry whose affected releases meet the hint's:
// Certain when every release the hint allows is affected.
type hintMatch struct {
	kev.Entry
	Certain bool
}

// matchHint compares the releases the hint allows with the feed. The
// feed decides what a range contains (Match); only where a range may
// begin or end inside the hint's span is read here.
func matchHint(feed *kev.Feed, h VersionHint) []hintMatch {
	lo, hi, ok := h.bounds()
	if !ok {
		return nil
	}
	matched := func(v string) map[string]bool {
		es, _ := feed.Match(h.Vendor, v)
		m := map[string]bool{}
		for _, e := range es {
			m[e.CVE] = true
		}
		return m
	}
	atLo, atHi := matched(h.Version), matched(h.Version)
	if !h.Exact && h.Upper != "" {
		atHi = matched(h.Upper)
	}
	within := func(s string, hiOpen bool) bool { // lo < s ≤ hi (or < hi)
		v, err := kev.ParseVersion(h.Vendor, s)
		if err != nil {
			return false
		}
		c := v.Compare(hi)
		return v.Compare(lo) > 0 && (c < 0 || (!hiOpen && c == 0))
	}
	var out []hintMatch
	for _, e := range feed.Entries {
		if e.Vendor != h.Vendor {
			continue
		}
		some, gap := atLo[e.CVE] || atHi[e.CVE], false
		for _, r := range e.Affected {
			if r.From != "" && within(r.From, false) && matched(r.From)[e.CVE] {
				some = true // a range begins inside the span
			}
			if r.Fixed != "" && within(r.Fixed, false) || r.Last != "" && within(r.Last, true) {
				gap = true // a range ends inside it
			}
		}
		if some {
			out = append(out, hintMatch{e, atLo[e.CVE] && atHi[e.CVE] && !gap})
		}
	}
	return out
}

// judgeHints adds what the SSL-VPN portals of t announce: a
// known-exploited 注意 for a version in a feed range (each version once,
// at the first address that showed it), and a firmware_differs 注意 per
// address where the register's firmware is not one the portal allows.
// registered is the vendor the register's firmware is judged as.
func judgeHints(add func(Finding), feed *kev.Feed, registered string, t *Target) {
	reg := t.Point.Firmware
	done := map[string]bool{}
	for _, h := range t.Hosts {
		for _, p := range h.Ports {
			if p.HTTP == nil {
				continue
			}
			for _, hint := range p.HTTP.Hints {
				if hint.Version == "" || (hint.Vendor == "" && !hint.Exact) {
					continue // nothing to hold the register against
				}
				from := msg.Sprintf("SSL-VPN ポータル（%s %d/%s %s）", "the SSL-VPN portal (%s %d/%s %s)", h.Addr, p.Port, p.Proto, hint.Source)
				f := Finding{Addr: h.Addr, Proto: p.Proto, Port: p.Port}
				if reg != "" && !hint.agrees(reg) {
					g := f
					g.Rule, g.Caution = RuleFirmware, true
					g.Text = msg.Sprintf("%sが示す版 %s が台帳の版 %s と異なります。台帳を更新するか、機器の版を確認してください",
						"%s announces %s but the register says %s; update the register or check the device", from, hint.Version, reg)
					if !hint.Exact {
						g.Text = msg.Sprintf("%s（推定、確度: 低）", "%s (inferred, confidence: low)", g.Text)
					}
					add(g)
				}
				key := hint.Vendor + " " + hint.Version + " " + hint.Upper
				if hint.Vendor == "" || done[key] || (reg != "" && hint.agrees(reg) && registered == hint.Vendor) {
					// The register's version is one the portal allows and at
					// least as precise: its own claim is judged instead.
					continue
				}
				done[key] = true
				for _, m := range matchHint(feed, hint) {
					g := f
					g.Rule, g.Caution = RuleKEV, true
					if m.Certain {
						g.Text = msg.Sprintf("%s %s: %sが示す版 %s は悪用が確認された脆弱性 %s（%s）の影響範囲です。修正版へのアップデートを急いでください（脆弱性情報 %s 版）",
							"%s %s: %s announces %s, in the range of the known exploited %s (%s); update to a fixed release urgently (feed of %s)",
							m.Product, m.CVE, from, hint.Version, m.CVE, m.Name(), feed.Date)
					} else {
						g.Text = msg.Sprintf("%s %s: %sから推定した版 %s（確度: 低）は悪用が確認された脆弱性 %s（%s）の影響範囲にかかります。機器の管理画面で正確な版を確認し、台帳に記入してください（脆弱性情報 %s 版）",
							"%[1]s %[2]s: the version %[4]s inferred from %[3]s (confidence: low) may be in the range of the known exploited %[5]s (%[6]s); read the exact release on the device and enter it in the register (feed of %[7]s)",
							m.Product, m.CVE, from, hint.Version, m.CVE, m.Name(), feed.Date)
					}
					add(g)
				}
			}
		}
	}
}
