package documents

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/media/s3"
)

// s3Kind describes an object-locked S3 bucket, with or without a relay
// that powers the uplink device between uploads.
var s3Kind = mediumKind{
	label: func(l lang, m *config.Medium) string {
		return l.t("S3クラウド(オブジェクトロック)", "S3 cloud (Object Lock)")
	},
	offline:   s3Offline,
	procedure: s3Procedure,
	parts:     s3Parts,
	prepare:   s3Prepare,
	restore:   s3Restore,
}

func s3Pairs(b *builder, m *config.Medium) []kvPair {
	l, s := b.l, m.S3
	pairs := []kvPair{
		pair(l.t("エンドポイント", "endpoint"), code(s.Endpoint)),
		pair(l.t("バケット", "bucket"), code(s.Bucket)),
		pair(l.t("リポジトリ", "repository"), code(s.Location())),
		pair(l.t("最低保持日数(COMPLIANCE)", "minimum retention (COMPLIANCE)"), text(l.f("%d日", "%d days", s.MinRetentionDays))),
		pair(l.t("アクセスキーID", "access key ID"), code(s.AccessKeyID)),
	}
	if m.Relay != "" {
		pairs = append(pairs, relayPairs(b, relayOf(b.cfg, m))...)
	}
	return pairs
}

func s3Offline(b *builder, m *config.Medium) []Block {
	l := b.l
	if m.S3 == nil {
		return []Block{vendorNote(l, m)}
	}
	blocks := []Block{ptext(l.f("媒体 %s はオブジェクトロック(COMPLIANCEモード、既定の保持期間 %d 日以上)とバージョニングを有効にしたバケットです。保持期間中のデータは、ゲートウェイの鍵を含め誰も削除・上書きできません(追記不能)。アップロードの前に毎回、バケットのロック設定を読み戻し、確認用オブジェクト(%s)の版の削除が拒否されることを確かめます。拒否されなければ書き込まず、オフラインではないと記録します。",
		"Medium %s is a bucket with Object Lock (COMPLIANCE mode, default retention of at least %d days) and versioning. While retained, no one — the gateway's key included — can delete or overwrite the data (immutable). Before every upload the gateway reads the lock configuration back and makes sure that deleting a version of the canary object (%s) is refused; otherwise it writes nothing and records the medium as not offline.",
		m.Name, m.S3.MinRetentionDays, s3.CanaryName))}
	if m.Relay != "" {
		blocks = append(blocks, ptext(l.f("さらに、アップロードの間だけリレー %s で回線装置に給電し、その後の切断を確認します。", "In addition, relay %s powers the uplink device only during uploads, and its cut is verified afterwards.", m.Relay)))
	}
	return append(blocks, kv([2]string{l.t("項目", "item"), l.t("設定値", "value")}, s3Pairs(b, m)...))
}

func s3Procedure(b *builder, m *config.Medium) []Block {
	l := b.l
	if m.S3 == nil {
		return []Block{vendorNote(l, m)}
	}
	st := [][]Span{
		titem(l.t("バケットのオブジェクトロック設定(COMPLIANCE、保持日数)とバージョニングを読み戻して確認する。", "Read back the bucket's Object Lock configuration (COMPLIANCE, retention days) and versioning.")),
		titem(l.t("確認用オブジェクトの版の削除を試み、拒否されることを確認する(拒否されなければ中止し警報)。", "Try to delete a version of the canary object and make sure it is refused (otherwise stop and alert).")),
		titem(l.t("restic でバックアップ、検査を行う。保持期間中の版は世代整理(forget)でも消えない。", "Back up and check with restic; versions still retained survive any forget.")),
	}
	return []Block{steps(st...), note(text(l.f("保持期間(%d日)はこの媒体で保持する世代の期間以上にしてください。非常時は復旧手順書に従い、任意のPCから restic で復元できます。", "The retention (%d days) must cover the generations kept on this medium. In an emergency, restore with restic from any PC as the recovery sheet says.", m.S3.MinRetentionDays)))}
}

func s3Parts(b *builder, m *config.Medium) [][]Cell {
	l := b.l
	rows := [][]Cell{{cell(text(l.t("S3バケット(オブジェクトロック・バージョニング有効) — ", "S3 bucket (Object Lock and versioning) — ")), code(m.Name)), tcell("1"), tcell(l.t("契約: ", "contract: ") + endpointOf(m))}}
	if m.Relay != "" {
		rows = append(rows, []Cell{tcell(l.f("回線装置(媒体 %s 用、リレーで給電)", "uplink device (medium %s, powered by its relay)", m.Name)), tcell("1"), tcell(l.t("電源をリレーのCOM→NOに通す", "its supply runs through the relay's COM → NO"))})
	}
	return rows
}

func endpointOf(m *config.Medium) string {
	if m.S3 == nil {
		return "—"
	}
	return m.S3.Endpoint
}

func s3Prepare(b *builder, m *config.Medium) []Block {
	l := b.l
	if m.S3 == nil {
		return []Block{vendorNote(l, m)}
	}
	s := m.S3
	lock := fmt.Sprintf(`{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"COMPLIANCE","Days":%d}}}`, s.MinRetentionDays)
	st := [][]Span{
		item(strong(l.t("シークレットキーを紙に控える: ", "Write the secret key down: ")), text(l.t("クラウド事業者でゲートウェイ用のアクセスキーを作ったときに表示されたシークレットキーを紙に書き写し(アクセスキーID、バケット名と共に)、読み合わせて確かめてから、この媒体のリポジトリのパスワードと同じ封筒に封をし、保管場所に保管する: ", "when the provider creates the gateway's access key, copy the secret key it shows onto paper (with the access key ID and the bucket name), read it back to check it, and seal it in the same envelope as this medium's repository password, kept at: ")), b.field("password_storage"),
			text(l.t("。事業者も、ゲートウェイの画面も、後からは表示しません。控えがないと、ゲートウェイを失ったときにこの媒体から復元できません。", ". Neither the provider nor the gateway's page shows it again: without this paper, nothing can be restored from this medium once the gateway is lost."))),
		titem(l.f("媒体の設定(%s → %s。新しいバケットは%s)の%sにシークレットキーを入力する。保存後は表示されません。",
			"In the medium's settings (%s → %s; a new bucket: %s), enter the secret key under %s; it is never shown again once saved.",
			l.qf(pageMediumStep, m.Name), l.q(pageEditMedium), l.q(pageAddMedium), l.q(pageS3Secret))),
	}
	if m.Relay != "" {
		st = append(st, titem(l.f("回線装置のリレー %s の配線テストを先に行う(%s)。", "Run the wiring test of the uplink device's relay %s first (%s).", m.Relay, l.qf(pageRelayStep, m.Relay))))
	}
	st = append(st, b.passwordSteps(m, l.f("バケットのオブジェクトロック設定(COMPLIANCE、%d日以上)を読み戻し、確認用オブジェクト %s を書いてその版の削除が拒否されることを確かめてから、リポジトリを作る",
		"does the gateway read the bucket's Object Lock configuration back (COMPLIANCE, %d days or more), write the canary object %s and make sure deleting a version of it is refused, and only then create the repository",
		s.MinRetentionDays, s3.CanaryName))...)
	return []Block{
		ptext(l.t("クラウド事業者の管理画面、または作業用PCのCLIで、オブジェクトロックを有効にしてバケットを作る(作成後には有効にできない事業者があります)。例(AWS CLI):", "At the cloud provider's console, or with its CLI on the bench PC, create the bucket with Object Lock enabled (some providers cannot enable it later). For example with the AWS CLI:")),
		codeBlock(fmt.Sprintf("aws s3api create-bucket --bucket %s --object-lock-enabled-for-bucket --endpoint-url https://%s\naws s3api put-object-lock-configuration --bucket %s --endpoint-url https://%s --object-lock-configuration '%s'",
			s.Bucket, s.Endpoint, s.Bucket, s.Endpoint, lock)),
		ptext(l.t("ゲートウェイ用のアクセスキーには、ロックの解除・保持期間の短縮(BypassGovernanceRetention、PutBucketObjectLockConfiguration 等)の権限を与えない。", "Give the gateway's access key no right to lift or shorten the lock (no BypassGovernanceRetention, PutBucketObjectLockConfiguration …).")),
		steps(st...),
	}
}

func s3Restore(b *builder, m *config.Medium) []Block {
	l := b.l
	if m.S3 == nil {
		return []Block{vendorNote(l, m)}
	}
	s := m.S3
	pw := "/root/" + filepath.Base(m.PasswordFile)
	key := "/root/" + filepath.Base(s.SecretKeyFile)
	region := s.Region
	if region == "" {
		region = s3.DefaultRegion
	}
	opts := ""
	if s.CAFile != "" {
		opts = " --cacert /root/" + filepath.Base(s.CAFile)
	}
	kit := "/root/" + kitDir
	var c strings.Builder
	c.WriteString(kitInstall(kit))
	fmt.Fprintf(&c, "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=\"$(cat %s)\"\nexport AWS_DEFAULT_REGION=%s\n", s.AccessKeyID, key, region)
	c.WriteString(b.resticRestore(m.Name, s.Location(), pw, opts))
	blocks := []Block{
		kv([2]string{l.t("項目", "item"), l.t("内容", "value")}, append(s3Pairs(b, m),
			pair(l.t("復旧キットの場所", "recovery kit location"), code(kitDir+"/"), text(l.f("(バケット %s の中のこの接頭辞)", " (this prefix in bucket %s)", s.Bucket))),
			pair(l.t("シークレットキーの保管場所", "secret key kept at"), b.field("password_storage")))...),
	}
	blocks = append(blocks, b.restoreChoice(m)...)
	return append(blocks,
		ptext(l.f("S3 の媒体を使うPCは、エンドポイント %s に接続できる必要があります(接続先はこの事業者だけに限ってください)。バケットの %s/ にある復旧キットを、事業者の管理画面または S3 クライアントで同じアクセスキーを使って %s にダウンロードし、SHA-256 を確かめてから使います。",
			"The PC for an S3 medium must reach endpoint %s (let it reach that provider only). Download the recovery kit under %s/ in the bucket into %s, with the provider's console or an S3 client and the same access key, and check its SHA-256 before use.", s.Endpoint, kitDir, kit)),
		ptext(l.f("リポジトリのパスワードを %s に、シークレットキーを %s に、封筒の紙から書き写し(chmod 600)、作業後に削除してください。どちらも保管場所は: ", "Copy the repository password into %s and the secret key into %s from the papers in the envelope (chmod 600), and delete them afterwards. Both are kept at: ", pw, key)),
		para(b.field("password_storage")),
		codeBlock(c.String()),
	)
}
