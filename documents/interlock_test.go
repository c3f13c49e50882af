package documents_test

import (
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
)

// TestRunbookDrawsTheInterlock: with an interlock timer configured the
// parts list names it with its window, the runbook says how to program it
// and how the day-one check proves it, and the drawings put its contact
// in the coils' +24V line; without one none of that is printed.
func TestRunbookDrawsTheInterlock(t *testing.T) {
	part := map[string]string{"ja": "インターロック用タイマースイッチ", "en": "interlock timer switch"}
	window := map[string]string{"ja": "01:00–05:00(毎日)(Asia/Tokyo)", "en": "01:00–05:00 (every day) (Asia/Tokyo)"}
	check := map[string]string{"ja": "時間帯の外でもう一度実行します", "en": "then run it again outside the window"}
	override := map[string]string{"ja": "タイマーを手動オンにし", "en": "switch the timer on by hand"}

	w := newWorld(t)
	rb := runbook(t, w.cfg)
	for _, l := range documents.Langs {
		mustNotContain(t, "no interlock."+l, rb[l], part[l], check[l])
	}
	w.cfg.Interlock = &config.Interlock{Start: "01:00", End: "05:00"}
	w.cfg.Restore.DrillSchedule = ""
	rb = runbook(t, w.cfg)
	for _, l := range documents.Langs {
		mustContain(t, "interlock."+l, rb[l], part[l], window[l], check[l], override[l])
	}
	set, files := build(t, gather(t, w.cfg))
	n := 0
	for _, d := range set.Docs {
		for _, f := range d.Figures {
			if !strings.HasPrefix(f.File, "wiring-") {
				continue
			}
			n++
			svg := files[f.File]
			if !strings.Contains(svg, `data-net="24v-t"`) || !strings.Contains(svg, "+24V T") || strings.Count(svg, ">+24V T<") < 3 {
				t.Errorf("%s does not put the timer's contact in the coils' +24V line", f.File)
			}
		}
	}
	if n == 0 {
		t.Fatal("no wiring drawing")
	}
}
