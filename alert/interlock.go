package alert

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// KindInterlockOpen: the hardware interlock (the timer switch in the relay
// coils' supply) let power through outside its window: a relay reached ON
// when the timer should have held its coil dead. Whoever controls the
// gateway can then power a medium at will, which is what the interlock is
// there to stop. The medium it reached is NOT offline until a proven cut.
const KindInterlockOpen Kind = "interlock_open"

// CauseInterlock is the cause behind KindInterlockOpen, explained by
// interlockGuide.
const CauseInterlock Cause = "interlock"

func interlockGuide() Guide {
	return Guide{Cause: CauseInterlock, Alert: KindInterlockOpen, Severity: SeverityCritical,
		What: msg.T("インターロック(リレーのコイル電源に入れたタイマースイッチ)が、設定した時間帯の外で電源を通しました。時間帯の外でも媒体に給電できてしまう状態で、この媒体はオフラインではありません。",
			"The interlock (the timer switch in the relay coils' supply) let power through outside its window: a medium can be powered outside the window, and it is not offline."),
		Staff: msg.T("タイマースイッチの表示(時刻、曜日、手動オン・常時オンになっていないか)と、タイマーの接点がコイル電源の + 線に直列に入っているかを確認する。直らなければ保守ベンダに連絡する。",
			"Check the timer switch's display (time, weekdays, not left on manual or permanent on) and that its contact is in series with the + line of the coil supply. If that does not solve it, call the vendor."),
		Vendor: msg.T("タイマーの時刻・時間帯を設定の interlock と同じに合わせ直し、配線図どおりに配線してから、画面の配線テストを時間帯の外で実行して電源が通らないことを確かめる。",
			"Set the timer's clock and window to the configured interlock again, wire it as the drawing shows, then run the page's wiring test outside the window and see that no power passes.")}
}

// InterlockOpen: relay reached ON at at, outside the interlock window
// (window says it); medium is the medium it powers ("" if none yet).
func InterlockOpen(gatewayID, relay, medium string, at time.Time, window, detail msg.Text) Alert {
	return Alert{Kind: KindInterlockOpen, Severity: KindInterlockOpen.DefaultSeverity(), GatewayID: gatewayID, Medium: medium, Time: at,
		Title: msg.Sprintf("インターロックが時間帯 %s の外でリレー %s に電源を通しました", "Interlock let relay %[2]s power up outside its window %[1]s", window, relay),
		Body: with(msg.Sprintf("リレー %s は、インターロックの時間帯 %s の外でオンになりました(センス入力が ON)。",
			"Relay %s switched on outside the interlock window %s (the sense input reads ON).", relay, window), CauseInterlock),
		Detail: detail,
		Key:    key(KindInterlockOpen, gatewayID, relay),
	}
}
