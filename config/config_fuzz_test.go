package config

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzParse: any bytes parse to a valid configuration or an error; a
// decodable file validates or gives a *ValidationError (never a panic or
// another error type); a configuration that parses survives a save and a
// reparse unchanged in validity.
func FuzzParse(f *testing.F) {
	def, _ := json.Marshal(Default())
	f.Add(def)
	src := DefaultSource()
	src.Name, src.Host, src.User, src.KeyFile, src.ExportDir = "emr", "192.0.2.10", "danzen-pull", "emr.key", "/export"
	withSrc := Default()
	withSrc.Sources = []Source{src}
	b, _ := json.Marshal(withSrc)
	f.Add(b)
	for _, s := range []string{
		`{}`, `{"schedule":"61 25 * * *"}`, `{"sources":[{"name":"../x","port":-1,"include":["[","**/**/a"]}]}`,
		`{"retention":{"keep_last":-5}}`, `{"bandwidth_limit":"9999999999999999999 MB/s"}`, `{"staging_dir":"relative"}`,
		`{"media":[{"name":"a","type":"tape"},{"name":"a","type":"s3"}]}`, `{"sources":[{"completion":{"mode":"marker","marker":"{name}{name}"}}]}`,
		`{"unknown":1}`, `{"schedule":"0 2 * * *"} {}`, `null`, `[]`, "\xff", strings.Repeat(`{"sources":[`, 50),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned a configuration with an error")
			}
			d := Default()
			if decodeStrict(data, d) == nil {
				var ve *ValidationError
				if verr := d.Validate(); verr == nil || !errors.As(verr, &ve) || len(ve.Fields) == 0 {
					t.Fatalf("decodable configuration: Validate gave %T %v, want a *ValidationError", verr, verr)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed configuration does not validate again: %v", err)
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("saved configuration does not parse back: %v\n%s", err, out)
		}
	})
}
