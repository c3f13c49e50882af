package netprobe

import (
	"slices"

	"github.com/danzen-gw/danzen/netprobe/kev"
)

// weight ranks a finding for the order of a row: what an attacker uses
// first comes first. Lower is heavier.
func weight(f Finding) int {
	switch {
	case f.Rule == RuleKEV && (kev.Ransomware(f.cve()) || kev.PreAuthRCE(f.cve())):
		return 0 // known ransomware use or code execution without a login
	case f.Rule == RuleKEV:
		return 1
	case f.Caution && (f.Rule == RuleFirmware || f.Rule == RuleVersionUnknown):
		return 2 // the KEV result may rest on the wrong version, or be missing
	case f.Rule == RuleRemote, f.Rule == RuleMgmtWAN, f.Rule == RuleSNMPDefault, f.Rule == RuleNewlyOpen:
		return 3 // exposure of management and remote-access services
	case f.Rule == RuleOldTLS:
		return 4 // configuration
	case f.Caution:
		return 5
	case f.Rule == RuleCoverage:
		return 7 // the statement of what was checked closes the row
	}
	return 6
}

// orderFindings sorts a row's findings by weight, keeping the order of
// equal ones.
func orderFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int { return weight(a) - weight(b) })
}
