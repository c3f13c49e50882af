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
	adjacentOnly = msg.T("同一セグメント（隣接）からのみ悪用可能なため、外部からの調査では判定しない",
		"exploitable only from an adjacent network segment, so an outside scan does not judge it")
	featureOnly = msg.T("特定の機能（SNMP・Smart Install・IKE・DHCP リレーなど）が有効な場合のみ悪用可能で、影響を受ける版の範囲もまだ確認していないため未判定",
		"exploitable only with a particular feature on (SNMP, Smart Install, IKE, DHCP relay …), and its affected releases have not been checked yet, so it is not judged")
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
	// Cisco IOS XE rows of KEV (cisagov/kev-data 2025.08.25, products
	// "IOS and IOS XE", "IOS XE Software" …; CVE-2025-20352 from its
	// cvelistV5 record), by the catalogue's short description.
	{"CVE-2018-0167", "iosxe", adjacentOnly}, // LLDP
	{"CVE-2018-0175", "iosxe", adjacentOnly}, // LLDP
	{"CVE-2017-6663", "iosxe", adjacentOnly}, // Autonomic Networking
	{"CVE-2018-0171", "iosxe", featureOnly},  // Smart Install
	{"CVE-2018-0156", "iosxe", featureOnly},  // Smart Install
	{"CVE-2017-3881", "iosxe", featureOnly},  // Cluster Management Protocol
	{"CVE-2025-20352", "iosxe", featureOnly}, // SNMP, with a community or SNMPv3 user
	{"CVE-2017-6736", "iosxe", featureOnly},  // SNMP
	{"CVE-2017-6737", "iosxe", featureOnly},  // SNMP
	{"CVE-2017-6738", "iosxe", featureOnly},  // SNMP
	{"CVE-2017-6739", "iosxe", featureOnly},  // SNMP
	{"CVE-2017-6740", "iosxe", featureOnly},  // SNMP
	{"CVE-2017-6742", "iosxe", featureOnly},  // SNMP
	{"CVE-2017-6743", "iosxe", featureOnly},  // SNMP
	{"CVE-2016-6415", "iosxe", featureOnly},  // IKEv1
	{"CVE-2018-0158", "iosxe", featureOnly},  // IKEv1
	{"CVE-2018-0159", "iosxe", featureOnly},  // IKEv1
	{"CVE-2017-12237", "iosxe", featureOnly}, // IKEv2
	{"CVE-2023-20109", "iosxe", featureOnly}, // GET VPN, with control of a group member or key server
	{"CVE-2017-12240", "iosxe", featureOnly}, // DHCP relay
	{"CVE-2018-0172", "iosxe", featureOnly},  // DHCP option 82
	{"CVE-2018-0173", "iosxe", featureOnly},  // DHCP option 82
	{"CVE-2018-0174", "iosxe", featureOnly},  // DHCP option 82
	{"CVE-2018-0151", "iosxe", featureOnly},  // QoS subsystem
	{"CVE-2017-12319", "iosxe", featureOnly}, // BGP over EVPN
	{"CVE-2017-6627", "iosxe", notRead},      // UDP packet processing
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
