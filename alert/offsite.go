package alert

import (
	"time"

	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
)

// KindOffsiteOverdue: a medium kept off-site was not brought back by the
// run at which the rotation writes it again. The other media are written
// meanwhile, so backups go on; the away medium's copy only grows older.
const KindOffsiteOverdue Kind = "offsite_overdue"

// KindOffsiteLapsed: the hospital keeps one medium off-site (offsite.
// expected), yet every medium has been in the server room for longer
// than offsite.max_all_home: a fire or flood there would take them all.
const KindOffsiteLapsed Kind = "offsite_lapsed"

// The causes behind the two kinds, explained by offsiteGuides.
const (
	CauseOffsiteOverdue Cause = "offsite-overdue"
	CauseOffsiteLapsed  Cause = "offsite-lapsed"
)

func offsiteGuides() []Guide {
	return []Guide{
		{Cause: CauseOffsiteLapsed, Alert: KindOffsiteLapsed, Severity: SeverityError,
			What: msg.T("院外保管の輪番が途切れています。すべての媒体がサーバ室にあり、火災・水害ではすべてを同時に失います。",
				"The off-site rotation has lapsed: every medium is in the server room, and a fire or flood there would take them all."),
			Staff: msg.T("輪番の媒体を1台取り外して院外(別棟・別施設)に運び、画面の「院外保管」で持ち出しを記録し、取扱記録簿に記入する。",
				"Take one rotated medium out to another building or site, mark it taken on the page's off-site view, and write it in the handling log."),
			Vendor: msg.T("輪番の間隔(offsite.max_all_home)と媒体の台数が病院の運用に合っているか確認する。",
				"Check that the period (offsite.max_all_home) and the number of media fit how the hospital works.")},
		{Cause: CauseOffsiteOverdue, Alert: KindOffsiteOverdue, Severity: SeverityWarning,
			What: msg.T("院外保管中の媒体が、輪番で次に書き込む日までに戻っていません。他の媒体へのバックアップは続いていますが、この媒体の世代は古くなっていきます。",
				"A medium kept off-site was not back by the run at which the rotation writes it again. The other media are still written; this medium's generations only grow older."),
			Staff: msg.T("院外の媒体を持ち帰ってつなぎ、画面の「院外保管」で返却を記録し、取扱記録簿に記入する。代わりに別の媒体を持ち出す。",
				"Bring the medium back, plug it in, mark it returned on the page's off-site view and write it in the handling log; take another medium away in its place."),
			Vendor: msg.T("院外保管の期間が輪番(rotation.per_cycle とスケジュール)より長い運用なら、輪番の設定を病院と見直す。",
				"If the hospital keeps a medium away longer than the rotation (rotation.per_cycle and the schedule) allows, review the rotation with them.")},
	}
}

// OffsiteOverdue: medium, off-site since since, was due back at due.
func OffsiteOverdue(gatewayID, medium string, at, since, due time.Time, z when.Zone) Alert {
	return Alert{Kind: KindOffsiteOverdue, Severity: KindOffsiteOverdue.DefaultSeverity(), GatewayID: gatewayID, Medium: medium, Time: at,
		Title: msg.Sprintf("院外保管中の媒体 %s が戻っていません", "Off-site medium %s is overdue", medium),
		Body: with(msg.Sprintf("媒体 %s は %s から院外保管中で、%s までに戻す予定でした。",
			"Medium %s has been off-site since %s and was due back by %s.", medium, z.Minute(since), z.Minute(due)), CauseOffsiteOverdue),
		Key: key(KindOffsiteOverdue, gatewayID, medium),
	}
}

// OffsiteLapsed: every medium has been home since since, longer than
// limit.
func OffsiteLapsed(gatewayID string, at, since time.Time, limit time.Duration, z when.Zone) Alert {
	return Alert{Kind: KindOffsiteLapsed, Severity: KindOffsiteLapsed.DefaultSeverity(), GatewayID: gatewayID, Time: at,
		Title: msg.T("院外保管の媒体がありません", "No medium is kept off-site"),
		Body: with(msg.Sprintf("%s から、すべての媒体がサーバ室にあります(許容 %s)。",
			"Every medium has been in the server room since %s (allowed: %s).", z.Minute(since), duration.Words(limit)), CauseOffsiteLapsed),
		Key: key(KindOffsiteLapsed, gatewayID),
	}
}
