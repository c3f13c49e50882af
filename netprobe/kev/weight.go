package kev

// ransomware holds the CVEs of the feed whose KEV knownRansomwareCampaignUse
// is "Known" in cisagov/kev-data catalogVersion 2025.08.25 (the IOS XE web
// UI pair, CVE-2023-20198 and CVE-2023-20273, is "Unknown" there). CVE-2025-20333,
// CVE-2025-20362, CVE-2025-40602, CVE-2025-59718 and CVE-2025-7775 were
// added to KEV after that version and count as "Unknown" until it is read
// again.
var ransomware = map[string]bool{
	"CVE-2018-13379": true, "CVE-2018-13382": true, "CVE-2018-13383": true, "CVE-2019-11510": true,
	"CVE-2019-1579": true, "CVE-2019-19781": true, "CVE-2019-6693": true, "CVE-2020-12812": true,
	"CVE-2020-2021": true, "CVE-2021-20016": true, "CVE-2021-20038": true, "CVE-2022-40684": true,
	"CVE-2022-42475": true, "CVE-2023-27997": true, "CVE-2023-3519": true, "CVE-2023-4966": true,
	"CVE-2024-0012": true, "CVE-2024-21762": true, "CVE-2024-3400": true, "CVE-2024-40766": true,
	"CVE-2024-55591": true, "CVE-2025-0282": true, "CVE-2025-22457": true, "CVE-2025-23006": true,
	"CVE-2025-24472": true, "CVE-2025-5777": true,
}

// preAuthRCE holds the CVEs of the feed that run code on the device
// without any login, by the entry's name and advisory: the worst an
// exposed edge device can have. CVE-2023-20198 is there because its record
// says the actors used it without a login to create a privilege 15 user
// and then, with CVE-2023-20273 (the same releases), wrote an implant as
// root.
var preAuthRCE = map[string]bool{
	"CVE-2023-20198": true,
	"CVE-2019-1579":  true, "CVE-2019-19781": true, "CVE-2021-20038": true, "CVE-2022-42475": true,
	"CVE-2023-27997": true, "CVE-2023-3519": true, "CVE-2024-21762": true, "CVE-2024-23113": true,
	"CVE-2024-3400": true, "CVE-2025-0282": true, "CVE-2025-22457": true, "CVE-2025-23006": true,
	"CVE-2025-7775": true,
}

// Ransomware reports whether KEV knows cve to be used in ransomware
// campaigns (knownRansomwareCampaignUse "Known").
func Ransomware(cve string) bool { return ransomware[cve] }

// PreAuthRCE reports whether cve is remote code execution without a login.
func PreAuthRCE(cve string) bool { return preAuthRCE[cve] }
