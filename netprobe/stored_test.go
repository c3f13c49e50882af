package netprobe

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/when"
)

// TestStoredReports loads reports written before a finding's text became
// a msg.Text (testdata/stored: two scans of the fake edge, and the first
// again with the diff against the second, so every section of the page
// shows) and renders them: each must encode back to the very bytes on
// disk, and its page, CSV and new cautions must read as the code of then
// rendered them (testdata/render).
func TestStoredReports(t *testing.T) {
	s := Store{Dir: "testdata/stored"}
	names, err := s.List()
	if err != nil || len(names) != 3 {
		t.Fatalf("stored reports %v: %v", names, err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			r, err := s.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range r.Targets {
				for _, f := range tg.Findings {
					if f.Rule == "" || f.JA == "" || f.EN == "" {
						t.Errorf("%s: a finding lost its rule or text: %#v", tg.Point.ID, f)
					}
				}
			}
			var js, html, csv bytes.Buffer
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteHTML(&html, when.Zone{}); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteCSV(&csv); err != nil {
				t.Fatal(err)
			}
			cautions, err := json.MarshalIndent(r.NewCautions(), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Alerts("gw-test")) != len(r.NewCautions()) {
				t.Errorf("%d alerts for %d new cautions", len(r.Alerts("gw-test")), len(r.NewCautions()))
			}
			base := strings.TrimSuffix(name, ".json")
			for _, c := range []struct {
				file string
				got  []byte
			}{
				{filepath.Join("testdata/stored", name), js.Bytes()},
				{filepath.Join("testdata/render", base+".html"), html.Bytes()},
				{filepath.Join("testdata/render", base+".csv"), csv.Bytes()},
				{filepath.Join("testdata/render", base+".cautions.json"), cautions},
			} {
				want, err := os.ReadFile(c.file)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(c.got, want) {
					t.Errorf("%s differs:\n%s", c.file, firstDifference(string(c.got), string(want)))
				}
			}
		})
	}
}

// firstDifference shows where got and want part, with a little context.
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(i-80, 0)
	return "got:  …" + got[from:min(i+80, len(got))] + "\nwant: …" + want[from:min(i+80, len(want))]
}
