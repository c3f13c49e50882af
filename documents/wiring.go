package documents

import (
	"fmt"
	"html"
	"strings"

	"github.com/danzen-gw/danzen/relay"
)

// headerPin maps a Raspberry Pi 4/5 GPIO line (BCM numbering, which is the
// line offset on pinctrl-bcm2711 and pinctrl-rp1 alike) to its pin on the
// 40-pin header.
var headerPin = map[int]int{
	0: 27, 1: 28, 2: 3, 3: 5, 4: 7, 5: 29, 6: 31, 7: 26, 8: 24, 9: 21, 10: 19, 11: 23, 12: 32, 13: 33,
	14: 8, 15: 10, 16: 36, 17: 11, 18: 12, 19: 35, 20: 38, 21: 40, 22: 15, 23: 16, 24: 18, 25: 22, 26: 37, 27: 13,
}

// Header pins that are not lines: ground and the relay module's 5 V.
const (
	pinGND = 6
	pin5V  = 2
)

// raspberryChip reports whether chip names the Raspberry Pi's main GPIO
// controller, whose lines are the header's BCM GPIO numbers.
func raspberryChip(chip string) bool {
	switch chip {
	case "pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835", "gpiochip0", "/dev/gpiochip0":
		return true
	}
	return false
}

// pinName names a line for the person wiring it: "GPIO17 (header pin 11)"
// on a Raspberry Pi (pi: the configuration is for the Pi image), "chip X
// line N" elsewhere.
func pinName(l lang, pi bool, chip string, line int) string {
	if p, ok := headerPin[line]; ok && pi && raspberryChip(chip) {
		return l.f("GPIO%d(40ピンヘッダの%d番ピン)", "GPIO%d (header pin %d)", line, p)
	}
	return l.f("%s のライン %d(ボードの説明書で端子を確認)", "%s line %d (find the terminal in the board's manual)", chip, line)
}

// shortPin is the label drawn in the diagram.
func shortPin(pi bool, chip string, line int) string {
	if p, ok := headerPin[line]; ok && pi && raspberryChip(chip) {
		return fmt.Sprintf("GPIO%d · pin %d", line, p)
	}
	return fmt.Sprintf("%s:%d", chip, line)
}

// senseByAux reports which of relay's documented sense wirings the spec
// fits: active_low=false is the force-guided relay's NC auxiliary contact
// to ground; active_low=true an optocoupler on the medium's supply.
func senseByAux(s *relay.SenseSpec) bool { return !s.ActiveLow }

// mediumSupplySVG draws the medium and its supply, whose + runs through
// the relay's COM → NO contact.
func mediumSupplySVG(w func(string, ...any), l lang, medium string) {
	e := html.EscapeString
	w(`<rect x="560" y="30" width="190" height="60" fill="#eef7ee" stroke="#333"/>`)
	w(`<text x="570" y="52" font-weight="bold">%s</text>`, e(l.t("媒体の電源(ACアダプタ)", "medium's supply (adapter)")))
	w(`<text x="570" y="75">+ → COM, − → %s</text>`, e(l.t("媒体の −", "medium −")))
	w(`<rect x="560" y="130" width="190" height="60" fill="#eef2fb" stroke="#333"/>`)
	w(`<text x="570" y="152" font-weight="bold">%s</text>`, e(l.f("媒体 %s", "medium %s", medium)))
	w(`<text x="570" y="175">+ ← NO</text>`)
}

// wiringSVG draws one GPIO relay: the gateway's pins (the header's on a
// Raspberry Pi), the relay's coil and its normally-open contact in the
// medium's supply, and the sense input.
func wiringSVG(l lang, pi bool, r relay.Spec, medium string) string {
	e := html.EscapeString
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 330" width="760" height="330" role="img" font-family="Noto Sans CJK JP, Noto Sans, sans-serif" font-size="12">`)
	w(`<title>%s</title>`, e(l.f("リレー %s の配線(媒体 %s)", "Wiring of relay %s (medium %s)", r.Name, medium)))
	w(`<rect x="0" y="0" width="760" height="330" fill="#fff"/>`)
	// The gateway's header.
	w(`<rect x="10" y="30" width="210" height="250" fill="#f4f6f8" stroke="#333"/>`)
	w(`<text x="20" y="50" font-weight="bold">%s</text>`, e(l.t("ゲートウェイ GPIO", "gateway GPIO")))
	w(`<text x="20" y="90">%s</text>`, e(l.t("リレー出力", "relay output")+": "+shortPin(pi, r.Chip, r.Line)))
	if pi {
		w(`<text x="20" y="120">VCC: pin %d (5V)</text>`, pin5V)
		w(`<text x="20" y="150">GND: pin %d</text>`, pinGND)
	} else {
		w(`<text x="20" y="120">%s</text>`, e(l.t("VCC: ボードの 5V(説明書で確認)", "VCC: the board's 5 V (see its manual)")))
		w(`<text x="20" y="150">%s</text>`, e(l.t("GND: ボードの GND", "GND: the board's GND")))
	}
	if r.Sense != nil {
		w(`<text x="20" y="200">%s</text>`, e(l.t("センス入力", "sense input")+": "+shortPin(pi, r.Sense.Chip, r.Sense.Line)))
		pull := r.Sense.Pull
		if pull == "" {
			pull = l.t("既定", "default")
		}
		w(`<text x="20" y="220">pull: %s, active_low: %t</text>`, e(pull), r.Sense.ActiveLow)
	} else {
		w(`<text x="20" y="200" fill="#b00020">%s</text>`, e(l.t("センス入力なし: 切断を証明できません", "no sense input: cuts cannot be proven")))
	}
	// The relay.
	w(`<rect x="290" y="30" width="170" height="150" fill="#fffbe6" stroke="#333"/>`)
	w(`<text x="300" y="50" font-weight="bold">%s</text>`, e(l.f("リレー %s", "relay %s", r.Name)))
	w(`<text x="300" y="70">IN · VCC · GND</text>`)
	w(`<text x="300" y="110">COM</text><text x="300" y="135">NO %s</text>`, e(l.t("(常時開: 使用)", "(normally open: used)")))
	w(`<text x="300" y="160" fill="#666">NC %s</text>`, e(l.t("(使用しない)", "(not used)")))
	w(`<line x1="220" y1="86" x2="290" y2="66" stroke="#1565c0" stroke-width="2"/>`)
	w(`<line x1="220" y1="116" x2="290" y2="66" stroke="#c62828" stroke-width="1.5"/>`)
	w(`<line x1="220" y1="146" x2="290" y2="66" stroke="#000" stroke-width="1.5"/>`)
	// The medium's supply through COM → NO.
	mediumSupplySVG(w, l, medium)
	w(`<line x1="460" y1="106" x2="560" y2="70" stroke="#c62828" stroke-width="2"/>`)
	w(`<line x1="460" y1="131" x2="560" y2="170" stroke="#c62828" stroke-width="2"/>`)
	// The sense wiring.
	if r.Sense != nil {
		if senseByAux(r.Sense) {
			w(`<rect x="290" y="220" width="300" height="60" fill="#fdeef0" stroke="#333"/>`)
			w(`<text x="300" y="242">%s</text>`, e(l.t("強制ガイドリレーの補助接点(NC)", "force-guided relay's auxiliary contact (NC)")))
			w(`<text x="300" y="265">%s</text>`, e(l.t("一端 → センス入力、他端 → GND", "one side → sense input, other → GND")))
		} else {
			w(`<rect x="290" y="220" width="300" height="60" fill="#fdeef0" stroke="#333"/>`)
			w(`<text x="300" y="242">%s</text>`, e(l.t("フォトカプラ: LED側は媒体の + と − (抵抗経由)", "optocoupler: LED across medium + and − (with resistor)")))
			w(`<text x="300" y="265">%s</text>`, e(l.t("出力: コレクタ → センス入力、エミッタ → GND", "output: collector → sense input, emitter → GND")))
			w(`<line x1="590" y1="240" x2="620" y2="190" stroke="#c62828" stroke-width="1.5"/>`)
		}
		w(`<line x1="220" y1="196" x2="290" y2="250" stroke="#6a1b9a" stroke-width="2"/>`)
	}
	w(`<text x="10" y="315" fill="#333">%s</text>`, e(l.t("NO接点のため、ゲートウェイの停止・再起動・停電時は媒体に給電されません。", "The NO contact leaves the medium unpowered whenever the gateway stops, restarts or loses power.")))
	w(`</svg>`)
	return b.String()
}
