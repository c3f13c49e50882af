package netprobe

import (
	"net/http"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/netprobe/kev"
)

// FuzzHints feeds the hint parsers arbitrary bodies and validators: they
// must not fail, and every hint must be one the report can use.
func FuzzHints(f *testing.F) {
	for _, b := range []string{asaConfigAuth, asaAuthRequest, ginaVer, ivantiWelcome, citrixIndex, smaWelcome,
		`<config-auth><version who="sg">9.16(4)</version>`, `<PARAM NAME="ProductVersion" VALUE="999.999.999.9999999">`} {
		f.Add([]byte(b), `"6e185d5daf9a"`, "Fri, 15 Dec 2023 21:58:52 GMT", "SMA/12.4")
	}
	f.Add(gzipFile(f, "rdx_en.json", time.Date(2023, 5, 12, 7, 33, 58, 0, time.UTC)), `W/"657ccc1c-871bb"`, "", "")
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0xff, 0xff, 0xff, 0xff, 0, 3}, `"ffffffffffffffff"`, "Thu, 01 Jan 1970 00:00:00 GMT", "SMA/")
	feed := hintFeed()
	vendors := []string{"cisco", "ivanti", "citrix", "paloalto", "fortinet", "sonicwall", ""}
	f.Fuzz(func(t *testing.T, body []byte, etag, lastModified, server string) {
		hdr := http.Header{}
		hdr.Set("ETag", etag)
		hdr.Set("Last-Modified", lastModified)
		hdr.Set("Server", server)
		for _, v := range vendors {
			for _, h := range append(readHints(pageParsers[v], "/p", hdr, body), readHints(fileParsers[v], "/f", hdr, body)...) {
				if h.Source == "" || (h.Confidence != ConfidenceHigh && h.Confidence != ConfidenceLow) || len(h.Raw) > 200 || len(h.Version) > 200 {
					t.Fatalf("%s: %+v", v, h)
				}
				if h.Version == "" && h.BuildDate == "" && h.Hash == "" {
					t.Fatalf("%s: hint without content: %+v", v, h)
				}
				if h.Exact && h.Version == "" {
					t.Fatalf("%s: exact without a version: %+v", v, h)
				}
				if h.BuildDate != "" {
					if _, err := time.Parse("2006-01-02", h.BuildDate); err != nil {
						t.Fatalf("%s: build date %q", v, h.BuildDate)
					}
				}
				if h.Vendor != "" {
					if _, _, ok := h.bounds(); !ok {
						t.Fatalf("%s: vendor %s but the version does not parse: %+v", v, h.Vendor, h)
					}
					if _, err := kev.ParseVersion(h.Vendor, h.Version); err != nil {
						t.Fatal(err)
					}
				}
				if d := h.describe(); d.JA == "" || d.EN == "" {
					t.Fatal("no description")
				}
				matchHint(feed, h)
				h.agrees(string(body))
			}
		}
	})
}
