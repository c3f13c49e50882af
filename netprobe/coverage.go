package netprobe

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/netprobe/kev"
)

// RuleCoverage is the statement closing each row: what the scan checked at
// the point and what it could not, so that a row without 注意 is never
// read as "checked and clean" when it was not checked.
const RuleCoverage = "coverage"

// udpNames are the services the UDP probes ask, in udpProbes' order.
var udpNames = listOf(msg.T("・", ", "), "IKE", "IKE NAT-T", "NTP", "DNS", "SSDP")

// coverage states what was checked at t and what could not be. vendor is
// the feed vendor of the device ("" when the feed does not cover it).
func coverage(r *Report, feed *kev.Feed, vendor string, t *Target) []Finding {
	p := t.Point
	if len(p.Addresses()) == 0 || !p.Scan {
		return []Finding{{Rule: RuleCoverage, Text: msg.T("調査範囲: 未調査（いずれの項目も確認していません）",
			"coverage: not scanned (nothing was checked)")}}
	}
	var checked, missed []msg.Text
	reached := 0
	for _, h := range t.Hosts {
		switch {
		case !h.NotScanned.IsZero():
			missed = append(missed, h.NotScanned)
			continue
		case h.Unreachable:
			missed = append(missed, msg.Sprintf("%s に到達できず何も確認できません", "%s unreachable: nothing could be checked", h.Addr))
			continue
		case len(h.Ports) == 0 && h.Filtered > 0:
			missed = append(missed, msg.Sprintf("%s は全ポート無応答（遮断か停止）のためサービスを確認できません",
				"%s: every port silent (dropped or switched off), no service could be checked", h.Addr))
		}
		reached++
		if len(h.Echoed) > 0 {
			missed = append(missed, msg.Sprintf("%s の UDP %s は送った内容をそのまま返す（エコー）ため、その先のサービスは判定できません",
				"%s: UDP %s answered with an echo of the probe, so what is behind it cannot be judged", h.Addr, intList(h.Echoed)))
		}
	}
	checked = append(checked, msg.Sprintf("TCP %[1]s（%[3]d アドレス中 %[2]d に到達）", "TCP %s (%d of %d addresses reached)",
		cmp.Or(r.TCPPorts, "-"), reached, len(t.Hosts)), msg.Sprintf("UDP %s", "UDP %s", udpNames))
	if communities := r.SNMPCommunities; communities > 0 {
		checked = append(checked, msg.Sprintf("SNMP（コミュニティ名 %d 件）", "SNMP (%d communities)", communities))
	} else {
		missed = append(missed, msg.T("SNMP は確認していません（コミュニティ名の設定なし）", "SNMP not asked (no community configured)"))
	}
	c, m := kevCoverage(feed, vendor, t)
	checked, missed = append(checked, c...), append(missed, m...)
	out := []Finding{{Rule: RuleCoverage, Text: msg.Sprintf("調査した範囲: %s", "checked: %s", joinTexts(msg.T("、", "; "), checked))}}
	if len(missed) == 0 {
		return append(out, Finding{Rule: RuleCoverage, Text: msg.T("調査できなかった項目: なし", "could not be checked: nothing")})
	}
	for _, t := range missed {
		out = append(out, Finding{Rule: RuleCoverage, Text: msg.Sprintf("調査できなかった項目: %s", "could not be checked: %s", t)})
	}
	return out
}

// kevCoverage says which versions were compared with the feed and which
// KEV entries of the vendor the feed does not judge.
func kevCoverage(feed *kev.Feed, vendor string, t *Target) (checked, missed []msg.Text) {
	if vendor == "" {
		return []msg.Text{msg.T("悪用が確認された脆弱性の照合: 対象製品ではありません", "known-exploited check: not a product the feed covers")}, nil
	}
	var versions []string
	for _, v := range versionsOf(t) {
		if _, err := kev.ParseVersion(vendor, v); err == nil {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		missed = append(missed, msg.T("版が分からないため、悪用が確認された脆弱性を照合していません",
			"version unknown: known-exploited vulnerabilities not checked"))
	} else {
		checked = append(checked, msg.Sprintf("悪用が確認された脆弱性（%s 版）と版 %s を照合", "known-exploited feed of %s against version %s",
			feed.Date, strings.Join(versions, ", ")))
	}
	// One line per reason, in the order the reasons first appear.
	var whys []msg.Text
	cves := map[msg.Text][]string{}
	for _, n := range kev.NotJudgedFor(vendor) {
		if _, ok := cves[n.Why]; !ok {
			whys = append(whys, n.Why)
		}
		cves[n.Why] = append(cves[n.Why], n.CVE)
	}
	for _, why := range whys {
		missed = append(missed, msg.Sprintf("%s は判定していません（%s）", "%s not judged: %s", listOf(msg.T("・", ", "), cves[why]...), why))
	}
	return checked, missed
}

// versionsOf is every version known for t: the register's, those the
// device announces and those its SSL-VPN portal states exactly, once each.
func versionsOf(t *Target) []string {
	var out []string
	add := func(v string) {
		if v = strings.TrimSpace(v); v != "" && !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, v) }) {
			out = append(out, v)
		}
	}
	add(t.Point.Firmware)
	for _, h := range t.Hosts {
		for _, p := range h.Ports {
			if p.Service.Device {
				add(p.Service.Version)
			}
			if p.HTTP == nil {
				continue
			}
			for _, hint := range p.HTTP.Hints {
				if hint.Exact { // an inferred release is judged as such by judgeHints
					add(hint.Version)
				}
			}
		}
	}
	return out
}

// withFixes completes each known_exploited finding of t with its weight
// and the way out: the first fixed release of the device's train, or that
// the train has no fix; and, as for any exploited device, that it should be
// checked for compromise following the vendor's advisory.
func withFixes(feed *kev.Feed, t *Target) {
	entries := map[string]kev.Entry{}
	for _, e := range feed.Entries {
		entries[e.CVE] = e
	}
	versions := versionsOf(t)
	for i := range t.Findings {
		f := &t.Findings[i]
		e, ok := entries[f.cve()]
		if f.Rule != RuleKEV || !ok {
			continue
		}
		if kev.Ransomware(e.CVE) {
			f.Text = msg.Sprintf("%s。ランサムウェア攻撃での悪用が知られています", "%s; known to be used in ransomware campaigns", f.Text)
		}
		if fix, ok := fixOf(e, versions); ok {
			f.Text = msg.Sprintf("%s。%s", "%s; %s", f.Text, fix)
		}
		f.Text = msg.Sprintf("%s。侵害されていないか、ベンダの手順に従って確認してください",
			"%s; check the device for compromise following the vendor's guidance", f.Text)
	}
}

// fixOf says how the first of versions that e affects is fixed.
func fixOf(e kev.Entry, versions []string) (msg.Text, bool) {
	for _, v := range versions {
		fix, ok := e.FixFor(v)
		switch {
		case !ok:
			continue
		case fix.OtherTrain && fix.Fixed != "":
			return msg.Sprintf("%s の系列には修正版がありません。%s 以降の系列へ移行してください",
				"the train of %s has no fix: move to %s or a later supported release", v, fix.Fixed), true
		case fix.OtherTrain:
			return msg.Sprintf("%s の系列には修正版がありません。%s より後のサポートされている版へ移行してください",
				"the train of %s has no fix: move to a supported release after %s", v, fix.LastAffected), true
		case fix.NoFix:
			return msg.Sprintf("%s の系列には修正版がありません。サポートされている系列へ移行してください",
				"the train of %s has no fix: move to a supported train", v), true
		case fix.Fixed != "":
			return msg.Sprintf("%s の系列の最初の修正版は %s です", "the first fixed release of the train of %s is %s", v, fix.Fixed), true
		default:
			return msg.Sprintf("%s の系列では %s より後の版で修正されています", "the train of %s is fixed in the releases after %s", v, fix.LastAffected), true
		}
	}
	return msg.Text{}, false
}

// intList writes ports as "161, 500".
func intList(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// echoes collects the UDP ports that sent a probe back unchanged (a UDP
// echo service, or a middlebox reflecting): such a port is not "open" to
// the probe, but what is behind it could not be judged either. It is safe
// for the probes' goroutines.
type echoes struct {
	mu    sync.Mutex
	ports []int
}

// watch wraps a probe's parse to note an echoed request on port.
func (e *echoes) watch(port int, parse func(req, reply []byte) (string, error)) func(req, reply []byte) (string, error) {
	return func(req, reply []byte) (string, error) {
		if bytes.Equal(req, reply) {
			e.mu.Lock()
			if !slices.Contains(e.ports, port) {
				e.ports = append(e.ports, port)
			}
			e.mu.Unlock()
		}
		return parse(req, reply)
	}
}

// list returns the echoed ports in order.
func (e *echoes) list() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	slices.Sort(e.ports)
	return slices.Clone(e.ports)
}
