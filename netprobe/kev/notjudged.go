package kev

import "github.com/danzen-gw/danzen/internal/msg"

// NotJudged is a KEV entry for a vendor of the feed that the feed leaves
// out, and why (SOURCES.md, "In KEV, not in the feed"). A report names
// them so that no finding about them is not read as "not affected".
type NotJudged struct {
	CVE    string
	Vendor string
	Why    msg.Text
}

var (
	localOnly = msg.T("ローカル（CLI・管理者）からのみ悪用可能なため、外部からの調査では判定しない",
		"exploitable only locally (CLI or an administrator already on the device), so an outside scan does not judge it")
	notRead = msg.T("影響を受ける版の範囲をまだ確認していないため未判定",
		"its affected releases have not been checked yet, so it is not judged")
	noBound = msg.T("公開情報に修正版（上限）がなく範囲を定められないため未判定",
		"the public record gives no fixed release, so the range cannot be set and it is not judged")
	sharedNumbers = msg.T("SRA の版番号が SonicOS・SMA と重なり区別できないため未判定",
		"SRA release numbers overlap SonicOS and SMA ones and cannot be told apart, so it is not judged")
	otherProduct = msg.T("Apache HTTP Server の脆弱性として登録され、SMA の範囲を確認していないため未判定",
		"listed under Apache HTTP Server and its SMA releases have not been checked, so it is not judged")
)

var notJudged = []NotJudged{
	{"CVE-2021-44168", "fortinet", localOnly},
	{"CVE-2022-41328", "fortinet", localOnly},
	{"CVE-2018-13374", "fortinet", notRead},
	{"CVE-2017-15944", "paloalto", notRead},
	{"CVE-2022-0028", "paloalto", notRead},
	{"CVE-2016-6367", "cisco", localOnly},
	{"CVE-2024-20359", "cisco", localOnly},
	{"CVE-2014-2120", "cisco", notRead},
	{"CVE-2016-6366", "cisco", notRead},
	{"CVE-2018-0296", "cisco", notRead},
	{"CVE-2020-3259", "cisco", notRead},
	{"CVE-2020-3580", "cisco", notRead},
	{"CVE-2023-20269", "cisco", notRead},
	{"CVE-2024-20481", "cisco", notRead},
	{"CVE-2019-11539", "ivanti", notRead},
	{"CVE-2020-8218", "ivanti", notRead},
	{"CVE-2020-8243", "ivanti", notRead},
	{"CVE-2020-8260", "ivanti", notRead},
	{"CVE-2021-22893", "ivanti", noBound},
	{"CVE-2021-22894", "ivanti", notRead},
	{"CVE-2021-22899", "ivanti", notRead},
	{"CVE-2021-22900", "ivanti", notRead},
	{"CVE-2020-8193", "citrix", notRead},
	{"CVE-2020-8195", "citrix", notRead},
	{"CVE-2020-8196", "citrix", notRead},
	{"CVE-2022-27518", "citrix", noBound},
	{"CVE-2019-7481", "sonicwall", notRead},
	{"CVE-2019-7483", "sonicwall", notRead},
	{"CVE-2020-5135", "sonicwall", notRead},
	{"CVE-2021-20028", "sonicwall", sharedNumbers},
	{"CVE-2024-38475", "sonicwall", otherProduct},
}

// NotJudgedFor returns the KEV entries of vendor that the feed does not
// judge, in SOURCES.md's order (local-only first).
func NotJudgedFor(vendor string) []NotJudged {
	var out []NotJudged
	for _, n := range notJudged {
		if n.Vendor == vendor {
			out = append(out, n)
		}
	}
	return out
}
