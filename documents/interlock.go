package documents

import (
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/relay"
)

// The optional hardware interlock (config.Interlock): a timer switch in
// the + line of the relay coils' 24 V supply, programmed for the backup
// window, so that outside it no command of the gateway reaches a coil.

// timedRail names the coils' +24 V after the timer's contact.
const timedRail = "+24V T"

// interlocked are the relays behind the timer.
func (b *builder) interlocked() []string {
	var out []string
	for _, r := range b.cfg.Relays {
		if b.cfg.Interlocked(r.Name) {
			out = append(out, r.Name)
		}
	}
	return out
}

// interlockWindow is the window as configured, for people.
func (b *builder) interlockWindow() (string, bool) {
	w, _, ok := b.cfg.InterlockWindow()
	if !ok {
		return "", false
	}
	return b.l.in(w.Text()) + b.l.t("(", " (") + b.cfg.TimeZone + b.l.t(")", ")"), true
}

// interlockParts is the timer's row of the parts list.
func (b *builder) interlockParts() [][]Cell {
	l := b.l
	window, ok := b.interlockWindow()
	if !ok {
		return nil
	}
	return [][]Cell{{tcell(l.t("インターロック用タイマースイッチ(DINレール取付、デジタル週間タイマー、例: OMRON H5S、Panasonic TB シリーズ)",
		"interlock timer switch (DIN rail, digital weekly timer, e.g. OMRON H5S or Panasonic TB series)")), tcell("1"),
		tcell(l.f("時間帯 %s だけ接点を閉じる。接点はリレーのコイル電源 +24V の + 線に直列(接点定格はコイル電流の合計以上、DC 24V)。停電中も時刻と設定を保つ電池付き。対象リレー: %s",
			"closes its contact only during %s. The contact goes in series with the + line of the relays' 24 V coil supply (rated for the coils' total current at 24 V DC). With a battery that keeps the time and program through a power cut. Relays: %s",
			window, strings.Join(b.interlocked(), ", ")))}}
}

// interlockSection says how the timer is wired, programmed and checked.
func (b *builder) interlockSection() []Section {
	l := b.l
	window, ok := b.interlockWindow()
	if !ok {
		return nil
	}
	modbus := slices.ContainsFunc(b.cfg.Relays, func(r relay.Spec) bool {
		return r.Driver == relay.DriverModbus && b.cfg.Interlocked(r.Name)
	})
	wiring := l.t("タイマースイッチの接点(COM と NO)を、DC 24V 電源の +24V とリレーのコイル側の間に直列に入れます。図では接点を通った後の線を「+24V T」と書いています。コイル駆動 IC の COM(9) もこの +24V T につなぎます(コイルの逆起電力を逃がすため)。",
		"Put the timer switch's contact (COM and NO) in series between the 24 V DC supply's +24V and the relays' coil side. The drawings call the line after the contact \"+24V T\". Connect the coil driver's COM (9) to +24V T too (it takes the coil's back EMF).")
	if modbus {
		wiring += l.t("リレーモジュールでは、各 CH 接点の共通端子に入る +24V をタイマーの接点経由(+24V T)にします。モジュール自体の電源は通常の +24V のままにします。",
			" On a relay module, the +24V that feeds the common of the CH contacts comes through the timer's contact (+24V T); the module's own supply stays on the plain +24V.")
	}
	return []Section{{Title: l.t("インターロック(タイマースイッチ)", "Interlock (timer switch)"), Blocks: []Block{
		ptext(l.f("リレーのコイル電源はタイマースイッチを通ります。タイマーが閉じるのは時間帯 %s だけです。時間帯の外では、ゲートウェイがどう命令しても(乗っ取られていても)コイルに電流が流れず、媒体に給電されません。ゲートウェイの時刻とは独立に動くことが要点です。",
			"The relays' coil supply runs through a timer switch that closes only during %s. Outside that window no command of the gateway, even of a gateway someone took over, can energise a coil or power a medium. The point is that the timer keeps its own time, apart from the gateway's.", window)),
		ptext(wiring),
		steps(
			[]Span{text(l.t("タイマーの時計を現地時刻に合わせる(設定の time_zone と同じ)。", "Set the timer's clock to local time (the configuration's time_zone)."))},
			[]Span{text(l.f("曜日ごとに ON を開始時刻、OFF を終了時刻に設定する: %s。終了が開始より前なら翌日の終了時刻で OFF。", "Program ON at the start and OFF at the end, on each day: %s. An end before the start is the next day's.", window))},
			[]Span{text(l.t("自動運転にする。手動オン・常時オンのまま残さない。設定を変えたら、設定(interlock)も同じに変える。", "Leave it on automatic, never on manual or permanent on. When its program changes, change the configuration's interlock to match."))},
			[]Span{text(l.t("筐体を施錠し、タイマーの操作部に封印シールを貼る。", "Lock the enclosure and seal the timer's panel."))},
		),
		ptext(l.t("初日の確認: 時間帯の中で各リレーの配線テストを実行して合格させ、次に時間帯の外でもう一度実行します。画面の「インターロック」の段階が「センス入力は OFF のまま、装置も現れませんでした」となれば、タイマーが電源を止めていることの証明です(証跡台帳に interlock として記録)。ここで電源が通れば、段階は不合格になり警報 interlock_open が出ます。サイクルごとに、時間帯とスケジュールが合っているかも台帳に記録します。",
			"Day-one check: run each relay's wiring test inside the window until it passes, then run it again outside the window. When the page's \"interlock\" step says the sense input stayed OFF and no device appeared, the timer is proven to hold the power off (recorded in the evidence ledger as interlock). If power goes through, the step fails and the alert interlock_open is raised. Each cycle records in the ledger whether it ran inside the window and whether the schedule fits it.")),
		note(bad(l.t("時間帯の外で復元・訓練するときは、タイマーを手動オンにし、終わったら必ず自動に戻してください。戻し忘れると、インターロックが効きません。",
			"To restore or run a drill outside the window, switch the timer on by hand, and back to automatic when done. Left on manual, the interlock does nothing."))),
	}}}
}

// drawTimer draws the timer switch's contact from the supply's +24V at
// (x, y) to the coils' rail +24V T.
func drawTimer(d *drawing, l lang, x, y int) {
	d.wire("24v", [2]int{x, y}, [2]int{x + 50, y})
	d.box(x+50, y-18, 130, 36, "#fbe9e7")
	d.text(x+58, y-3, l.t("タイマー接点", "timer contact"), true, "")
	d.text(x+58, y+12, "COM–NO (H5S / TB)", false, "")
	d.flag("24v-t", x+180, y, 20, timedRail)
}
