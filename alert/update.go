package alert

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// KindUpdateRefused: an update of the gateway's firmware was refused (not
// signed by the vendor's key, altered, for another board, older than the
// running build) or failed while being written. The gateway keeps running
// its current root. A refused update can be someone on the LAN trying to
// install a root of their own.
const KindUpdateRefused Kind = "update_refused"

// CauseUpdate is the cause behind KindUpdateRefused, explained by
// updateGuide.
const CauseUpdate Cause = "update"

func updateGuide() Guide {
	return Guide{Cause: CauseUpdate, Alert: KindUpdateRefused, Severity: SeverityError,
		What: msg.T("ゲートウェイのファームウェア更新が拒否されたか、書き込みに失敗しました。ゲートウェイは今までのファームウェアで動作を続けています。ベンダが署名していない更新は、院内 LAN に入り込んだ攻撃者によるものかもしれません。",
			"An update of the gateway's firmware was refused, or failed while it was written. The gateway keeps running its current firmware. An update the vendor did not sign may come from an attacker on the hospital LAN."),
		Staff: msg.T("保守ベンダに、この時刻に更新作業をしたか確認する。していなければ、送信元のアドレスを病院の情報システム担当に伝え、その端末を調べる。",
			"Ask the vendor whether they updated the gateway at this time. If not, give the sending address to the hospital's IT staff and have that computer examined."),
		Vendor: msg.T("更新ファイルが、このゲートウェイに登録された鍵(画面の「ファームウェア更新」に指紋を表示)で署名され、同じ機種用で、動作中より新しいビルドか確認して、送り直す。",
			"Check that the update bundle is signed with the key pinned in this gateway (its fingerprint is on the page's firmware update view), is for the same board and is a newer build than the running one, then send it again.")}
}

// UpdateRefused: an update sent from client was refused or failed; why
// says why in both languages.
func UpdateRefused(gatewayID string, at time.Time, client string, why msg.Text) Alert {
	return Alert{Kind: KindUpdateRefused, Severity: KindUpdateRefused.DefaultSeverity(), GatewayID: gatewayID, Time: at,
		Title:  msg.T("ファームウェア更新を拒否しました", "Firmware update refused"),
		Body:   with(msg.Sprintf("送信元 %s。%s", "sent from %s: %s", client, why), CauseUpdate),
		Detail: why,
		Key:    key(KindUpdateRefused, gatewayID),
	}
}
