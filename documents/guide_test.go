package documents_test

import (
	"testing"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/msg"
)

// TestAnnexSaysWhatThePageSays: the annex's table of what to do on each
// alert is the guide the page and the alerts read, word for word, with
// who acts (hospital staff, the vendor) for every cause.
func TestAnnexSaysWhatThePageSays(t *testing.T) {
	w := newWorld(t)
	_, files := build(t, gather(t, w.cfg))
	for _, l := range documents.Langs {
		ml := msg.JA
		if l == "en" {
			ml = msg.EN
		}
		annex := doc(t, files, "operations-annex", l)
		for _, g := range alert.Guides() {
			mustContain(t, "annex."+l+" "+string(g.Cause), annex, g.What.Localize(ml), g.Staff.Localize(ml), g.Vendor.Localize(ml))
		}
		mustContain(t, "annex."+l, annex, map[string]string{"ja": "病院職員の対応", "en": "what hospital staff do"}[l],
			map[string]string{"ja": "保守ベンダの対応", "en": "what the vendor does"}[l])
	}
}
