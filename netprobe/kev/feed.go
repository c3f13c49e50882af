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
	"strings"
	"time"
)

//go:embed feed.json
var embedded []byte

// Feed is one version of the catalogue.
type Feed struct {
	Date    string  `json:"date"` // YYYY-MM-DD: newest entry or catalogue version
	Source  string  `json:"source"`
	Entries []Entry `json:"entries"`
}

// Entry is one exploited vulnerability and the releases it affects.
type Entry struct {
	CVE          string  `json:"cve"`
	Vendor       string  `json:"vendor"`
	Product      string  `json:"product"`
	KEVDateAdded string  `json:"kev_date_added"`
	NameJA       string  `json:"name_ja"`
	NameEN       string  `json:"name_en"`
	Affected     []Range `json:"affected"`
}

// Range is one release train: From ≤ v < Fixed, or From ≤ v ≤ Last where
// the train never got a fix.
type Range struct {
	From  string `json:"from"`
	Fixed string `json:"fixed,omitempty"`
	Last  string `json:"last,omitempty"`
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
// known, every range made of versions the vendor's comparator reads and
// ordered From < Fixed (or From ≤ Last).
func Parse(data []byte) (*Feed, error) {
	var f Feed
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return nil, fmt.Errorf("脆弱性フィードを読めません / cannot parse the vulnerability feed: %w", err)
	}
	if _, err := time.Parse(time.DateOnly, f.Date); err != nil {
		return nil, fmt.Errorf("フィードの日付 %q が YYYY-MM-DD ではありません / the feed's date %q is not YYYY-MM-DD", f.Date, f.Date)
	}
	if len(f.Entries) == 0 {
		return nil, errors.New("フィードに項目がありません / the feed has no entries")
	}
	var errs []error
	for i, e := range f.Entries {
		where := fmt.Sprintf("entries[%d] %s", i, e.CVE)
		if !cvePattern.MatchString(e.CVE) {
			errs = append(errs, fmt.Errorf("%s: CVE 番号の形式が誤りです / malformed CVE ID", where))
		}
		if _, ok := grammars[e.Vendor]; !ok {
			errs = append(errs, fmt.Errorf("%s: 未知のベンダ %q / unknown vendor %q", where, e.Vendor, e.Vendor))
			continue
		}
		if len(e.Affected) == 0 || e.NameJA == "" || e.NameEN == "" {
			errs = append(errs, fmt.Errorf("%s: 影響範囲と名称（日英）が必要です / affected ranges and names in both languages are required", where))
		}
		for j, r := range e.Affected {
			if err := r.check(e.Vendor); err != nil {
				errs = append(errs, fmt.Errorf("%s affected[%d]: %w", where, j, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("脆弱性フィードに誤りがあります / the vulnerability feed is invalid:\n%w", err)
	}
	return &f, nil
}

func (r Range) check(vendor string) error {
	from, err := ParseVersion(vendor, r.From)
	if err != nil {
		return err
	}
	if (r.Fixed == "") == (r.Last == "") {
		return errors.New("fixed か last のどちらか一方が必要です / exactly one of fixed and last is required")
	}
	if r.Fixed != "" {
		to, err := ParseVersion(vendor, r.Fixed)
		if err != nil {
			return err
		}
		if from.Compare(to) >= 0 {
			return fmt.Errorf("from %s が fixed %s 以上です / from %s is not below fixed %s", r.From, r.Fixed, r.From, r.Fixed)
		}
		return nil
	}
	to, err := ParseVersion(vendor, r.Last)
	if err != nil {
		return err
	}
	if from.Compare(to) > 0 {
		return fmt.Errorf("from %s が last %s より後です / from %s is after last %s", r.From, r.Last, r.From, r.Last)
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
		return nil, fmt.Errorf("read vulnerability feed %s: %w", path, err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
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
		return nil, fmt.Errorf("フィード（%s）は内蔵版（%s）より古いため使いません / the feed (%s) is older than the built-in one (%s) and is not used",
			f.Date, emb.Date, f.Date, emb.Date)
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
	from, _ := ParseVersion(vendor, r.From) // checked by Parse of the feed
	if v.Compare(from) < 0 {
		return false
	}
	if r.Fixed != "" {
		to, _ := ParseVersion(vendor, r.Fixed)
		return v.Compare(to) < 0
	}
	to, _ := ParseVersion(vendor, r.Last)
	return v.Compare(to) <= 0
}

// VendorOf maps the register's maker and model (or an identified product)
// to a feed vendor, "" when the feed does not cover the device.
func VendorOf(maker, model string) string {
	s := strings.ToLower(maker + " " + model)
	switch {
	case strings.Contains(s, "forti"):
		return "fortinet"
	case strings.Contains(s, "palo alto"), strings.Contains(s, "paloalto"), strings.Contains(s, "pan-os"), strings.Contains(s, "globalprotect"):
		return "paloalto"
	case strings.Contains(s, "cisco") && (strings.Contains(s, "asa") || strings.Contains(s, "firepower")):
		return "cisco"
	case strings.Contains(s, "ivanti"), strings.Contains(s, "pulse"):
		return "ivanti"
	case strings.Contains(s, "citrix"), strings.Contains(s, "netscaler"):
		return "citrix"
	case strings.Contains(s, "sonicwall"), strings.Contains(s, "sonicos"):
		return "sonicwall"
	}
	return ""
}
