package alert

import (
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
)

// The pull's alerts: something in the export did not reach a snapshot, or
// the export itself looks wrong. Each is keyed by source and cleared when
// a later pull shows it mended.
const (
	KindPullRefused Kind = "pull_refused" // files refused that the previous pull did not refuse
	KindPullPending Kind = "pull_pending" // files not complete in two pulls in a row
	KindPullEmpty   Kind = "pull_empty"   // the export held no complete file
	KindPullDropped Kind = "pull_dropped" // the staged files or bytes fell by more than the source's share
)

// The causes behind them, explained by pullGuide.
const (
	CausePullRefused Cause = "pull-refused"
	CausePullPending Cause = "pull-pending"
	CausePullEmpty   Cause = "pull-empty"
	CausePullDropped Cause = "pull-dropped"
)

// pullGuide explains one of the pull's causes; Guides lists them with
// the rest.
func pullGuide(c Cause) Guide {
	switch c {
	case CausePullEmpty:
		return Guide{Cause: CausePullEmpty, Alert: KindPullEmpty, Severity: SeverityError,
			What: msg.T("電子カルテのエクスポートに、完了したファイルが1つもありませんでした。今回はこの取得元から何もバックアップしていません。",
				"The e-chart export held no complete file: nothing of this source was backed up this time."),
			Staff: msg.T("電子カルテのエクスポート処理が動いているか、電子カルテベンダに確認する。翌日も続くときは保守ベンダに連絡する。",
				"Ask the e-chart vendor whether the export runs. If it happens again the next day, call the maintenance vendor."),
			Vendor: msg.T("エクスポート先のフォルダ、完了マーカー、取得元の設定(エクスポート先、対象のパターン、完了の判定)を確認する。",
				"Check the export folder, the done-marker and the source's settings (export directory, patterns, completion rule).")}
	case CausePullDropped:
		return Guide{Cause: CausePullDropped, Alert: KindPullDropped, Severity: SeverityError,
			What: msg.T("バックアップするファイルの数か量が、前回の取得から大きく減りました。エクスポートの不具合か、ファイルの削除が考えられます。",
				"The files or bytes backed up fell sharply since the previous pull: the export may be broken, or files were deleted."),
			Staff: msg.T("電子カルテサーバーでファイルが消えていないか確認し、保守ベンダに連絡する。元に戻るまでこの通知は続く。",
				"Check on the e-chart server whether files disappeared, and call the maintenance vendor. The alert stays until the export is back."),
			Vendor: msg.T("電子カルテベンダとエクスポートを調べる。意図した削除であれば、減った後の量が次からの基準になる(数日で解消)。",
				"Examine the export with the e-chart vendor. If the deletion was intended, the smaller export becomes the norm once it stays so.")}
	case CausePullPending:
		return Guide{Cause: CausePullPending, Alert: KindPullPending, Severity: SeverityError,
			What: msg.T("エクスポートのファイルが2回続けて未完了(書き込み中、または完了マーカーがない)でした。新しい版はバックアップされていません(前の版があれば残っています)。",
				"Files of the export were not complete in two pulls in a row (still being written, or no done-marker): their new version is not backed up (an older one stays, if there is one)."),
			Staff: msg.T("エクスポート処理が止まっていないか、電子カルテベンダに確認する。",
				"Ask the e-chart vendor whether the export has stalled."),
			Vendor: msg.T("エクスポートの終了時刻とバックアップの時刻、完了の判定(完了マーカー、安定時間)が合っているか確認する。",
				"Check that the export ends before the backup starts and that the completion rule (done-marker, stable time) fits it.")}
	case CausePullRefused:
		return Guide{Cause: CausePullRefused, Alert: KindPullRefused, Severity: SeverityWarning,
			What: msg.T("エクスポートに、取り込めないファイル(安全でない名前、シンボリックリンク、通常ファイルでないもの)があります。これらはどのスナップショットにも入りません。",
				"The export holds files danzen does not stage (an unsafe name, a symbolic link, not a regular file): they are in no snapshot."),
			Staff: msg.T("必要なファイルかどうか電子カルテベンダに確認する。不要なら対応は要らない(同じファイルで再び通知はしない)。",
				"Ask the e-chart vendor whether the files are needed. If not, nothing needs doing (the same files are not announced again)."),
			Vendor: msg.T("必要なファイルであれば、名前(制御文字など)や種類(リンクでなく通常ファイル)を直すよう電子カルテベンダに依頼する。",
				"If they are needed, have the e-chart vendor fix their names (control characters …) or types (a regular file, not a link).")}
	}
	return Explain(CauseOther)
}

// maxNames bounds the file names an alert lists.
const maxNames = 20

// nameList is names one per line, indented, at most maxNames of them.
func nameList(names []string) msg.Text {
	var b strings.Builder
	for _, n := range names[:min(len(names), maxNames)] {
		b.WriteString("  " + n + "\n")
	}
	list := msg.Plain(b.String())
	if len(names) > maxNames {
		list = list.Append("", msg.Sprintf("  … ほか %d 件\n", "  … %d more\n", len(names)-maxNames))
	}
	return list
}

// pullAlert is one of the pull's alerts about source: its guide's cause
// explains what to do after the situation.
func pullAlert(k Kind, c Cause, gatewayID, source string, at time.Time, title, situation msg.Text) Alert {
	return Alert{Kind: k, Severity: k.DefaultSeverity(), GatewayID: gatewayID, Time: at, Title: title,
		Body: with(situation, c), Key: key(k, gatewayID, source)}
}

// PullRefused: files in source's export that danzen refuses to stage,
// refused for the first time in this pull. They are in no snapshot.
func PullRefused(gatewayID, source string, at time.Time, names []string) Alert {
	return pullAlert(KindPullRefused, CausePullRefused, gatewayID, source, at,
		msg.Sprintf("取得元 %s にバックアップできないファイルがあります", "Files in the export of source %s cannot be backed up", source),
		msg.Sprintf("電子カルテのエクスポート %s に、前回はなかった、取り込めないファイルがあります。どのスナップショットにも入りません:\n%s",
			"The e-chart export %s holds files, new since the previous pull, that danzen does not stage. They are in no snapshot:\n%s",
			source, nameList(names)))
}

// PullPending: files of source not complete in two pulls in a row: the
// export is not finishing.
func PullPending(gatewayID, source string, at time.Time, names []string) Alert {
	return pullAlert(KindPullPending, CausePullPending, gatewayID, source, at,
		msg.Sprintf("取得元 %s のエクスポートが完了しません", "The export of source %s is not finishing", source),
		msg.Sprintf("電子カルテのエクスポート %s の次のファイルは、2回続けて未完了でした。新しい版はバックアップされていません:\n%s",
			"These files of the e-chart export %s were not complete in two pulls in a row; their new version is not backed up:\n%s",
			source, nameList(names)))
}

// PullEmpty: source's export held no complete file, so this pull backed
// nothing of it up.
func PullEmpty(gatewayID, source string, at time.Time) Alert {
	return pullAlert(KindPullEmpty, CausePullEmpty, gatewayID, source, at,
		msg.Sprintf("取得元 %s に完了したファイルがありません", "No complete file in the export of source %s", source),
		msg.Sprintf("電子カルテのエクスポート %s には、完了したファイルが1つもありませんでした。今回はこの取得元から何もバックアップしていません。",
			"The e-chart export %s held no complete file: nothing of this source was backed up this time.", source))
}

// PullDropped: what is staged of source fell by more than percent since
// the pull before the fall (from the before figures to the after ones)
// and has not come back: the export is broken or files were deleted.
func PullDropped(gatewayID, source string, at time.Time, percent, filesBefore, filesAfter int, bytesBefore, bytesAfter int64) Alert {
	return pullAlert(KindPullDropped, CausePullDropped, gatewayID, source, at,
		msg.Sprintf("取得元 %s のファイルが大きく減りました", "The export of source %s shrank sharply", source),
		msg.Sprintf("電子カルテのエクスポート %s のバックアップ対象が、%d ファイル(%s)から %d ファイル(%s)に減りました(%d%% を超える減少)。",
			"What is backed up of the e-chart export %s fell from %d files (%s) to %d files (%s), more than %d%%.",
			source, filesBefore, bytesize.Format(bytesBefore), filesAfter, bytesize.Format(bytesAfter), percent))
}
