package netprobe

import (
	"bytes"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// TestOutputNeutralisesRegisterText: a register field or a device's banner
// quoted in a finding reaches the CSV, the page and the terminal (Rows) as
// text that neither runs as a spreadsheet formula nor moves a terminal's
// cursor.
func TestOutputNeutralisesRegisterText(t *testing.T) {
	r := &Report{Targets: []Target{{No: 1,
		Point:    register.Point{ID: "CAF00001", Maker: "=HYPERLINK(\"http://evil.example/\")", Model: "60F\x1b[2J"},
		Findings: []Finding{{Rule: RuleRemote, Caution: true, Text: msg.Text{JA: "@SUM(1) バナー\x1b]0;x\x07", EN: "-1+1 banner\u202e"}}},
	}}}
	rows := r.Rows()
	if got := rows[0].Device; got != "'=HYPERLINK(\"http://evil.example/\") 60F\ufffd[2J" {
		t.Errorf("device %q", got)
	}
	if l := rows[0].Lines[0]; l.JA != "'@SUM(1) バナー\ufffd]0;x\ufffd" || l.EN != "'-1+1 banner\ufffd" {
		t.Errorf("finding %q / %q", l.JA, l.EN)
	}
	var csv, page bytes.Buffer
	if err := r.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(&page, when.Zone{}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"csv": csv.String(), "html": page.String()} {
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("%s keeps a control character:\n%q", name, out)
		}
	}
	if !strings.Contains(csv.String(), `"'=HYPERLINK(""http://evil.example/"") 60F`) {
		t.Errorf("csv:\n%s", csv.String())
	}
}
