// Package kev owns the known-exploited-vulnerabilities feed for edge
// products: an embedded copy built from CISA KEV (public domain) joined with
// the vendors' fixed releases, the checks a newer uploaded feed must pass,
// and per-vendor version comparison.
package kev

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

//go:embed feed.json
var embedded []byte

// Feed is one version of the catalogue.
type Feed struct {
	// Date (YYYY-MM-DD) is the newest KEV dateAdded among the entries; an
	// upload older than the feed in use is refused. SOURCES.md says what
	// the entries were checked against.
	Date    string  `json:"date"`
	Source  string  `json:"source"`
	Entries []Entry `json:"entries"`
}

// Entry is one exploited vulnerability and the releases it affects.
type Entry struct {
	CVE          string `json:"cve"`
	Vendor       string `json:"vendor"`
	Product      string `json:"product"`
	KEVDateAdded string `json:"kev_date_added"`
	// NameJA and NameEN keep the feed file's shape (name_ja, name_en);
	// Name gives them as one text.
	NameJA string `json:"name_ja"`
	NameEN string `json:"name_en"`
	// Advisory is the vendor's advisory ID (FG-IR-…, PAN-SA-…/CVE page,
	// cisco-sa-…, CTX…, SNWLID-…, Ivanti KB) the ranges come from.
	Advisory string `json:"advisory"`
	// Sources name where KEV membership and every range were checked.
	Sources []string `json:"sources"`
	// Checked is CheckedConfirmed when every bound was read in the vendor's
	// CVE record or advisory, or in a restatement of it named in Sources (a
	// national CERT, a scanner vendor's plugin); CheckedPartial when Note
	// names what could not be confirmed.
	Checked  string  `json:"checked"`
	Note     string  `json:"note,omitempty"`
	Affected []Range `json:"affected"`
}

// Name is what the vulnerability is, in both languages.
func (e Entry) Name() msg.Text { return msg.T(e.NameJA, e.NameEN) }

// Values of Entry.Checked.
const (
	CheckedConfirmed = "confirmed"
	CheckedPartial   = "partial"
)

// Range is a span of releases: From ≤ v < Fixed, From ≤ v ≤ Last, or, with
// AllOfTrain, every release of From's train (same first two numbers) from
// From on, for a train the vendor never fixed. An empty From means no
// lower bound ("before Fixed").
type Range struct {
	From       string `json:"from,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
	Last       string `json:"last,omitempty"`
	AllOfTrain bool   `json:"all_of_train,omitempty"`
}

// Embedded returns the feed built into this binary.
func Embedded() *Feed {
	f, err := Parse(embedded)
	if err != nil {
		panic("embedded KEV feed: " + err.Error()) // caught by the package's tests
	}
	return f
}

var cvePattern = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// Parse decodes and checks a feed: every CVE well-formed, every vendor
// known, every entry naming its advisory and sources and how far its ranges
// were confirmed, every KEV date no newer than the feed's date, every range
// made of versions the vendor's comparator reads and ordered From < Fixed
// (or From ≤ Last).
func Parse(data []byte) (*Feed, error) {
	var f Feed
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return nil, msg.Wrap(err, "脆弱性フィードを読めません", "cannot parse the vulnerability feed")
	}
	if _, err := time.Parse(time.DateOnly, f.Date); err != nil {
		return nil, msg.Errorf("フィードの日付 %q が YYYY-MM-DD ではありません", "the feed's date %q is not YYYY-MM-DD", f.Date)
	}
	if strings.TrimSpace(f.Source) == "" {
		return nil, msg.New("フィードの出典（source）がありません", "the feed does not say what it was built from (source)")
	}
	if len(f.Entries) == 0 {
		return nil, msg.New("フィードに項目がありません", "the feed has no entries")
	}
	var errs errorList
	for i, e := range f.Entries {
		where := fmt.Sprintf("entries[%d] %s", i, e.CVE)
		for _, err := range e.check(f.Date) {
			errs = append(errs, msg.Errorf("%s: %w", "%s: %w", where, err))
		}
	}
	if len(errs) > 0 {
		return nil, msg.Errorf("脆弱性フィードに誤りがあります:\n%w", "the vulnerability feed is invalid:\n%w", errs)
	}
	return &f, nil
}

// errorList is every fault found in a feed, one a line, each read in the
// reader's language (errors.Join would give both languages on each line).
type errorList []error

func (l errorList) Error() string { return l.Localize(msg.Both) }

func (l errorList) Localize(lang msg.Lang) string {
	lines := make([]string, len(l))
	for i, err := range l {
		lines[i] = msg.In(err, lang)
	}
	return strings.Join(lines, "\n")
}

func (l errorList) Unwrap() []error { return l }

func (e Entry) check(feedDate string) []error {
	var errs []error
	fail := func(err error) { errs = append(errs, err) }
	if !cvePattern.MatchString(e.CVE) {
		fail(msg.New("CVE 番号の形式が誤りです", "malformed CVE ID"))
	}
	if _, err := time.Parse(time.DateOnly, e.KEVDateAdded); err != nil {
		fail(msg.Errorf("KEV 登録日 %q が YYYY-MM-DD ではありません", "KEV date added %q is not YYYY-MM-DD", e.KEVDateAdded))
	} else if e.KEVDateAdded > feedDate {
		fail(msg.Errorf("KEV 登録日 %s がフィードの日付 %s より後です", "KEV date added %s is after the feed's date %s", e.KEVDateAdded, feedDate))
	}
	if e.NameJA == "" || e.NameEN == "" || e.Product == "" {
		fail(msg.New("製品名と名称（日英）が必要です", "the product and names in both languages are required"))
	}
	if strings.TrimSpace(e.Advisory) == "" || len(e.Sources) == 0 || slices.ContainsFunc(e.Sources, func(s string) bool { return strings.TrimSpace(s) == "" }) {
		fail(msg.New("ベンダの勧告と確認に使った出典が必要です", "the vendor advisory and the sources the entry was checked against are required"))
	}
	switch e.Checked {
	case CheckedConfirmed:
	case CheckedPartial:
		if strings.TrimSpace(e.Note) == "" {
			fail(msg.New("一部未確認（partial）の項目には未確認の範囲を note に書いてください", "a partial entry must say in note which bound is unconfirmed"))
		}
	default:
		fail(msg.Errorf("checked は %q か %q です（%q）", "checked must be %q or %q, not %q", CheckedConfirmed, CheckedPartial, e.Checked))
	}
	if _, ok := grammars[e.Vendor]; !ok {
		fail(msg.Errorf("未知のベンダ %q", "unknown vendor %q", e.Vendor))
		return errs
	}
	if len(e.Affected) == 0 {
		fail(msg.New("影響範囲がありません", "no affected ranges"))
	}
	for j, r := range e.Affected {
		if err := r.check(e.Vendor); err != nil {
			fail(msg.Errorf("affected[%d]: %w", "affected[%d]: %w", j, err))
		}
	}
	return errs
}

func (r Range) check(vendor string) error {
	n := 0
	for _, set := range []bool{r.Fixed != "", r.Last != "", r.AllOfTrain} {
		if set {
			n++
		}
	}
	if n != 1 {
		return msg.New("fixed・last・all_of_train のどれか一つが必要です", "exactly one of fixed, last and all_of_train is required")
	}
	if r.From == "" {
		if r.AllOfTrain {
			return msg.New("all_of_train には from が必要です", "all_of_train needs from")
		}
	} else if _, err := ParseVersion(vendor, r.From); err != nil {
		return err
	}
	to := r.Fixed + r.Last
	if to == "" {
		return nil
	}
	v, err := ParseVersion(vendor, to)
	if err != nil {
		return err
	}
	if r.From == "" {
		return nil
	}
	from, _ := ParseVersion(vendor, r.From)
	switch c := from.Compare(v); {
	case r.Fixed != "" && c >= 0:
		return msg.Errorf("from %s が fixed %s 以上です", "from %s is not below fixed %s", r.From, r.Fixed)
	case r.Last != "" && c > 0:
		return msg.Errorf("from %s が last %s より後です", "from %s is after last %s", r.From, r.Last)
	}
	return nil
}

// Load returns the newer of the embedded feed and the uploaded file at
// path. A missing file, or one older than the embedded feed (after a
// firmware update), means the embedded feed; a file that fails the checks
// is an error.
func Load(path string) (*Feed, error) {
	emb := Embedded()
	if path == "" {
		return emb, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return emb, nil
	}
	if err != nil {
		return nil, msg.Errorf("脆弱性フィード %s を読めません: %w", "cannot read the vulnerability feed %s: %w", path, err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, msg.Errorf("%s: %w", "%s: %w", path, err)
	}
	if f.Date < emb.Date {
		return emb, nil
	}
	return f, nil
}

// Accept checks an uploaded feed before it replaces the embedded one: it
// must parse and must not be older than what the firmware carries.
func Accept(data []byte) (*Feed, error) {
	f, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if emb := Embedded(); f.Date < emb.Date {
		return nil, msg.Errorf("フィード（%s）は内蔵版（%s）より古いため使いません", "the feed (%s) is older than the built-in one (%s) and is not used",
			f.Date, emb.Date)
	}
	return f, nil
}

// Match returns the entries whose ranges contain version. vendor is a
// feed vendor name (see VendorOf).
func (f *Feed) Match(vendor, version string) ([]Entry, error) {
	v, err := ParseVersion(vendor, version)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, e := range f.Entries {
		if e.Vendor != vendor {
			continue
		}
		for _, r := range e.Affected {
			if r.contains(vendor, v) {
				out = append(out, e)
				break
			}
		}
	}
	return out, nil
}

func (r Range) contains(vendor string, v Version) bool {
	// The versions were checked by Parse of the feed.
	if r.From != "" {
		from, _ := ParseVersion(vendor, r.From)
		if v.Compare(from) < 0 {
			return false
		}
		if r.AllOfTrain {
			return v.sameTrain(from)
		}
	}
	if r.Fixed != "" {
		to, _ := ParseVersion(vendor, r.Fixed)
		return v.Compare(to) < 0
	}
	to, _ := ParseVersion(vendor, r.Last)
	return v.Compare(to) <= 0
}

// ciscoIOSXEModels are Cisco models that run IOS XE (16.x, 17.x): ISR
// 1000/4000, Catalyst 8000 and 9000, ASR 1000, CSR 1000v. Catalyst
// switches on classic IOS also match: their "15.2(7)E4" is then refused
// with the reason (refuseIOSXE), never read as an IOS XE release.
var ciscoIOSXEModels = regexp.MustCompile(`\b(?:isr|catalyst|cat[89]k|cat8000|c8\d{3}|c9\d{3}|c11\d{2}|asr\s*-?1\d{3}|asr1k|csr\s*-?1000)`)

// VendorOf maps the register's maker and model (or an identified product)
// to a feed vendor, "" when the feed does not cover the device. firmware,
// the register's release text when the caller has it, picks Cisco IOS XE
// when it says so ("IOS XE 17.9.4a"); an ASA model keeps the ASA's
// comparator whatever the firmware text says.
func VendorOf(maker, model string, firmware ...string) string {
	s := strings.ToLower(maker + " " + model)
	cisco := strings.Contains(s, "cisco") || strings.Contains(s, "シスコ")
	switch {
	case strings.Contains(s, "forti"):
		return "fortinet"
	case strings.Contains(s, "palo alto"), strings.Contains(s, "paloalto"), strings.Contains(s, "pan-os"), strings.Contains(s, "globalprotect"):
		return "paloalto"
	case cisco && (strings.Contains(s, "asa") || strings.Contains(s, "firepower")):
		return "cisco"
	case iosXE.MatchString(s) || iosXE.MatchString(strings.Join(firmware, " ")) || (cisco && ciscoIOSXEModels.MatchString(s)):
		return "iosxe"
	case strings.Contains(s, "ivanti"), strings.Contains(s, "pulse"):
		return "ivanti"
	case strings.Contains(s, "citrix"), strings.Contains(s, "netscaler"):
		return "citrix"
	case strings.Contains(s, "sonicwall"), strings.Contains(s, "sonicos"):
		return "sonicwall"
	}
	return ""
}
