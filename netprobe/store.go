package netprobe

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Store keeps reports as JSON files in one directory (scans/ in the data
// directory), one per scan, named by start time so that names sort in time.
type Store struct{ Dir string }

// storeTime has fixed width, so names sort in time.
const storeTime = "20060102T150405.000Z"

// Save writes r atomically and returns its file name.
func (s Store) Save(r *Report) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", msg.Errorf("調査結果の保存先 %s を作れません: %w", "cannot create the scan directory %s: %w", s.Dir, err)
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		return "", err
	}
	name := "scan-" + r.Started.UTC().Format(storeTime) + ".json"
	if err := atomicfile.Write(filepath.Join(s.Dir, name), buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	return name, nil
}

// List returns the stored report names, oldest first.
func (s Store) List() ([]string, error) {
	ents, err := os.ReadDir(s.Dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "scan-") && strings.HasSuffix(n, ".json") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Load reads one stored report.
func (s Store) Load(name string) (*Report, error) {
	if name != filepath.Base(name) {
		return nil, msg.Errorf("調査結果の名前 %q は使えません", "invalid report name %q", name)
	}
	data, err := os.ReadFile(filepath.Join(s.Dir, name))
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, msg.Errorf("調査結果 %s を読めません: %w", "cannot read report %s: %w", name, err)
	}
	return &r, nil
}

// Latest returns the newest report, nil when there is none.
func (s Store) Latest() (*Report, error) {
	names, err := s.List()
	if err != nil || len(names) == 0 {
		return nil, err
	}
	return s.Load(names[len(names)-1])
}

// findingJSON is a Finding as reports store it: its text's "ja" and "en"
// beside the other keys. Finding cannot be encoded as it is: the msg.Text
// it embeds would lend it Text's own JSON methods and drop every other
// field.
type findingJSON struct {
	Rule     string `json:"rule"`
	Caution  bool   `json:"caution"`
	Addr     string `json:"addr,omitempty"`
	Proto    string `json:"proto,omitempty"`
	Port     int    `json:"port,omitempty"`
	JA       string `json:"ja"`
	EN       string `json:"en"`
	CVE      string `json:"cve,omitempty"`
	Advisory string `json:"advisory,omitempty"`
	Checked  string `json:"checked,omitempty"`
}

func (f Finding) stored() findingJSON {
	return findingJSON{Rule: f.Rule, Caution: f.Caution, Addr: f.Addr, Proto: f.Proto, Port: f.Port,
		JA: f.JA, EN: f.EN, CVE: f.CVE, Advisory: f.Advisory, Checked: f.Checked}
}

func (s findingJSON) finding() Finding {
	return Finding{Rule: s.Rule, Caution: s.Caution, Addr: s.Addr, Proto: s.Proto, Port: s.Port,
		Text: msg.T(s.JA, s.EN), CVE: s.CVE, Advisory: s.Advisory, Checked: s.Checked}
}

// MarshalJSON writes f in the stored shape.
func (f Finding) MarshalJSON() ([]byte, error) { return json.Marshal(f.stored()) }

// UnmarshalJSON reads f from the stored shape.
func (f *Finding) UnmarshalJSON(b []byte) error {
	var s findingJSON
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*f = s.finding()
	return nil
}

// notedJSON is a Noted as reports store it: the finding's keys after its
// point's ID and key. Noted needs its own methods, or it would take
// Finding's and lose its ID and key.
type notedJSON struct {
	ID  string `json:"id"`
	Key string `json:"key"`
	findingJSON
}

// MarshalJSON writes n in the stored shape.
func (n Noted) MarshalJSON() ([]byte, error) {
	return json.Marshal(notedJSON{ID: n.ID, Key: n.Key, findingJSON: n.Finding.stored()})
}

// UnmarshalJSON reads n from the stored shape.
func (n *Noted) UnmarshalJSON(b []byte) error {
	var s notedJSON
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*n = Noted{ID: s.ID, Key: s.Key, Finding: s.finding()}
	return nil
}
