package alert

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// KindClockUnsynced: no NTP server has set the clock; the gateway runs on
// its hardware clock, or on no correct time at all. Cycles still run on
// schedule (a missed night is worse than one at a drifting hour).
const KindClockUnsynced Kind = "clock_unsynced"

// CauseClock is the cause behind KindClockUnsynced, explained by
// clockGuide.
const CauseClock Cause = "clock"

// clockGuide explains an unsynchronised clock; Guides lists it with the
// warnings.
func clockGuide() Guide {
	return Guide{Cause: CauseClock, Alert: KindClockUnsynced, Severity: SeverityWarning,
		What: msg.T("時刻が同期されていません。NTP サーバーから時刻を取得できず、ハードウェア時計(RTC)で動作しているか、RTC のない機種(Raspberry Pi 4)では時刻が大きくずれているおそれがあります。バックアップは予定どおり続けますが、記録の時刻と実行時刻がずれることがあります。",
			"Time not synchronised: no NTP server answered, so the gateway runs on its hardware clock (RTC), or on a board without one (Raspberry Pi 4) its time may be far off. Backups still run on schedule, but their times and the records' may be off."),
		Staff: msg.T("院内の NTP サーバー(時刻サーバー)とゲートウェイの間のネットワークが動いているか確認し、保守ベンダに連絡する。",
			"Check that the hospital's NTP (time) server and the network to the gateway work, and call the vendor."),
		Vendor: msg.T("画面の「ネットワークと時刻」で院内の NTP サーバーを設定し、ゲートウェイから届くこと(ファイアウォールで UDP 123 が通ること)を確認する。Raspberry Pi 4 では NTP サーバーか RTC 拡張ボードが必要。",
			"Set the hospital's NTP server on the page's Network and time step and check that the gateway reaches it (UDP 123 through any firewall). A Raspberry Pi 4 needs an NTP server or an RTC add-on board.")}
}

// ClockUnsynced: the clock is not synchronised by NTP; situation says how
// it is set now (the hardware clock, or nothing), detail why (the
// servers tried and their answers).
func ClockUnsynced(gatewayID string, at time.Time, situation, detail msg.Text) Alert {
	return Alert{Kind: KindClockUnsynced, Severity: KindClockUnsynced.DefaultSeverity(), GatewayID: gatewayID, Time: at, Detail: detail,
		Title: msg.T("時刻が同期されていません", "Time not synchronised"),
		Body:  with(situation, CauseClock),
		Key:   key(KindClockUnsynced, gatewayID),
	}
}
