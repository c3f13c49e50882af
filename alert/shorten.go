package alert

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// KindShortenPending: someone asked to keep less (fewer generations, fewer
// media per cycle, a medium removed, a shorter Object Lock minimum). It
// waits for its waiting period and can be cancelled on the page until
// then: a stolen vendor-admin password is the way an attacker would make
// the next night prune the backups away.
const KindShortenPending Kind = "shorten_pending"

// CauseShorten is the cause behind KindShortenPending, explained by
// shortenGuide.
const CauseShorten Cause = "shorten"

func shortenGuide() Guide {
	return Guide{Cause: CauseShorten, Alert: KindShortenPending, Severity: SeverityError,
		What: msg.T("保持する内容を減らす設定変更(保持世代、1回に書き込む媒体数、媒体の削除、最低保持日数)が申請されました。待機期間が過ぎるまで今までの設定のまま動作し、その間は画面で取り消せます。",
			"A change that keeps less (generations kept, media per cycle, a medium removed, a minimum retention) was asked for. The previous settings stay in force until its waiting period ends, and it can be cancelled on the page until then."),
		Staff: msg.T("保守ベンダと院内の担当者に、この変更を依頼したか確認する。誰も依頼していなければ、画面の「設定」で取り消し、送信元のアドレスを病院の情報システム担当に伝える。",
			"Ask the vendor and the staff in charge whether they asked for this change. If nobody did, cancel it on the page's configuration view and give the sending address to the hospital's IT staff."),
		Vendor: msg.T("意図した変更なら、何もしなければ表示された日時に適用されます。意図しない変更なら取り消し、ベンダ管理者のパスワードを変更する。",
			"If the change was meant, it applies by itself at the time shown. If not, cancel it and change the vendor admin's password.")}
}

// ShortenPending: actor asked from client for what changes says; it
// applies at effective unless cancelled.
func ShortenPending(gatewayID string, at time.Time, actor, client string, changes msg.Text, effective time.Time) Alert {
	day := effective.Format("2006-01-02 15:04 MST")
	return Alert{Kind: KindShortenPending, Severity: KindShortenPending.DefaultSeverity(), GatewayID: gatewayID, Time: at,
		Title: msg.T("保持を減らす設定変更が待機中です", "A change that keeps less is waiting"),
		Body: with(msg.Sprintf("%s が %s から申請: %s。%s に適用されます(それまで画面で取り消せます)。",
			"asked by %s from %s: %s. It applies at %s (cancellable on the page until then).", actor, client, changes, day), CauseShorten),
		Detail: changes,
		Key:    key(KindShortenPending, gatewayID, effective.UTC().Format(time.RFC3339)),
	}
}

// ShortenFailed: a held change came due but could not be applied; the
// longer settings stay in force.
func ShortenFailed(gatewayID string, at time.Time, why msg.Text) Alert {
	return Alert{Kind: KindShortenPending, Severity: KindShortenPending.DefaultSeverity(), GatewayID: gatewayID, Time: at,
		Title:  msg.T("待機していた設定変更を適用できませんでした", "A held change could not be applied"),
		Body:   with(why, CauseShorten),
		Detail: why,
		Key:    key(KindShortenPending, gatewayID, "failed"),
	}
}
