package alert

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// KindRecoveryKit: the recovery kit (restic for Linux and Windows, the
// recovery sheet) could not be written to a medium. The backup itself is
// valid, but an offline PC would have no restic from that medium.
const KindRecoveryKit Kind = "recovery_kit"

// CauseRecoveryKit is the cause behind KindRecoveryKit.
const CauseRecoveryKit Cause = "recovery_kit"

func recoveryKitGuide() Guide {
	return Guide{Cause: CauseRecoveryKit, Alert: KindRecoveryKit, Severity: SeverityWarning,
		What: msg.T("媒体に復旧キット(ネットワークのないPCで復元するための restic と復旧手順書、danzen-recovery フォルダ)を書けませんでした。バックアップ自体は有効ですが、この媒体だけでは restic を用意できません。",
			"The recovery kit (restic and the recovery sheet an offline PC needs to restore, the danzen-recovery folder) could not be written to a medium. The backup itself is valid, but this medium alone cannot provide restic."),
		Staff: msg.T("保守ベンダに連絡する。それまでは、他の媒体の復旧キットか、印刷した復旧手順書と事前に用意した restic で復元できることを確かめておく。",
			"Call the vendor. Until it is mended, make sure a restore can use another medium's kit, or the printed recovery sheet and a restic prepared beforehand."),
		Vendor: msg.T("状態画面と証跡台帳の recovery.kit の記録で原因(キットの破損・容量不足・書き込み失敗)を確かめ、直した後のサイクルで書き込まれることを確認する。",
			"Read the cause in the status page and the ledger's recovery.kit entry (a damaged kit, no space, a write error), mend it, and check that the next cycle writes the kit.")}
}

// RecoveryKitNotWritten: the kit could not be written to medium; detail
// says why.
func RecoveryKitNotWritten(gatewayID, medium string, at time.Time, detail msg.Text) Alert {
	return Alert{Kind: KindRecoveryKit, Severity: KindRecoveryKit.DefaultSeverity(), GatewayID: gatewayID, Medium: medium, Time: at, Detail: detail,
		Title: msg.Sprintf("媒体 %s に復旧キットを書けませんでした", "Recovery kit not written to medium %s", medium),
		Body:  with(msg.Sprintf("媒体 %s に復旧キットを書けませんでした。バックアップ自体は有効です。", "The recovery kit could not be written to medium %s. The backup itself is valid.", medium), CauseRecoveryKit),
		Key:   key(KindRecoveryKit, gatewayID, medium),
	}
}
