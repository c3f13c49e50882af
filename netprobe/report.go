package netprobe

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/netprobe/kev"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// Report is one scan: every point of the register in its order, what was
// found at each address, the findings and the change since the last scan.
type Report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	FeedDate string    `json:"feed_date"` // the known-exploited feed used
	TCPPorts string    `json:"tcp_ports"` // the ports connected to, as ranges
	Targets  []Target  `json:"targets"`
	Changes  *Diff     `json:"changes,omitempty"` // nil on a first scan
	// SNMPCommunities is how many communities SNMP was asked with (0: not
	// asked), for the coverage statement.
	SNMPCommunities int `json:"snmp_communities,omitempty"`
}

// Target is one row of the report: a point of the register.
type Target struct {
	No       int            `json:"no"`
	Point    register.Point `json:"point"`
	Hosts    []Host         `json:"hosts"`
	Findings []Finding      `json:"findings"`
}

// Host is one scanned address of a point.
type Host struct {
	Addr            string  `json:"addr"`
	WAN             bool    `json:"wan"`
	Unreachable     bool    `json:"unreachable"`
	Filtered        int     `json:"filtered"` // ports that neither accepted nor refused
	Ports           []Port  `json:"ports"`
	TCPSeconds      float64 `json:"tcp_seconds"`
	IdentifySeconds float64 `json:"identify_seconds"`
	// Echoed are the UDP ports that sent the probe back unchanged.
	Echoed []int `json:"udp_echoed,omitempty"`
	// NotScanned says why the address was not touched (a public address
	// not confirmed as the hospital's, an address no device can have).
	NotScanned msg.Text `json:"not_scanned,omitzero"`
}

// checked reports whether the scan looked at h at all: a host it did
// not reach or did not touch says nothing about its ports.
func (h Host) checked() bool { return !h.Unreachable && h.NotScanned.IsZero() }

// Finding is one line of 調査結果. Caution marks the 注目情報 注意.
type Finding struct {
	Rule    string `json:"rule"`
	Caution bool   `json:"caution"`
	Addr    string `json:"addr,omitempty"`
	Proto   string `json:"proto,omitempty"`
	Port    int    `json:"port,omitempty"`
	// Text is what was found, in both languages. Embedded, so that f.JA
	// and f.EN read as they did when Finding had fields of its own; the
	// stored JSON keeps "ja" and "en" beside the other keys (store.go).
	msg.Text
	// The feed entry of a known_exploited finding: its CVE, the vendor
	// advisory and how far its range was confirmed (kev.Entry.Checked).
	CVE      string `json:"cve,omitempty"`
	Advisory string `json:"advisory,omitempty"`
	Checked  string `json:"checked,omitempty"`
}

// Rules.
const (
	RuleKEV         = "known_exploited"
	RuleRemote      = "remote_access"
	RuleOldTLS      = "old_tls"
	RuleSNMPDefault = "snmp_default_community"
	RuleMgmtWAN     = "management_on_wan"
	RuleNewlyOpen   = "newly_open"
	RuleFirmware    = "firmware_differs"
	RuleNotScanned  = "not_scanned"
	RuleInfo        = "info"
)

// Key identifies a finding across scans, for the diff and for alerts. A
// device can be in the range of several known-exploited CVEs: each is its
// own finding, so a CVE added to the feed is a new 注意.
func (f Finding) Key(id string) string {
	k := fmt.Sprintf("%s/%s/%s/%s/%d", id, f.Rule, f.Addr, f.Proto, f.Port)
	if f.Rule == RuleKEV {
		k += "/" + f.cve()
	}
	return k
}

// cveID finds the CVE a known_exploited finding is about: both judgeVersions
// and judgeHints begin their text with the product and the CVE, and reports
// saved before Finding.CVE existed have only the text.
var cveID = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)

func (f Finding) cve() string {
	if f.CVE != "" {
		return f.CVE
	}
	return cveID.FindString(f.JA)
}

// Cautions counts the 注意 findings.
func (r *Report) Cautions() int {
	n := 0
	for _, t := range r.Targets {
		for _, f := range t.Findings {
			if f.Caution {
				n++
			}
		}
	}
	return n
}

// remoteAccess are ports whose reachability alone is a 注意: remote
// desktop, file sharing, clear-text login and remote-control tools.
var remoteAccess = map[int]msg.Text{
	23: msg.Plain("Telnet"), 445: msg.Plain("SMB"), 3389: rdp, 5800: msg.Plain("VNC (HTTP)"),
	5900: msg.Plain("VNC"), 5901: msg.Plain("VNC"), 5902: msg.Plain("VNC"), 5903: msg.Plain("VNC"),
	5938: msg.Plain("TeamViewer"), 7070: msg.Plain("AnyDesk"), 4899: msg.Plain("Radmin"),
	5631: msg.Plain("pcAnywhere"), 5632: msg.Plain("pcAnywhere"),
}

var rdp = msg.T("RDP (リモートデスクトップ)", "RDP (remote desktop)")

var remoteServices = map[string]msg.Text{"telnet": msg.Plain("Telnet"), "vnc": msg.Plain("VNC"), "rdp": rdp}

func (r *Report) judge(feed *kev.Feed, prev *Report) {
	var before map[string]Host
	if prev != nil {
		before = map[string]Host{}
		for _, t := range prev.Targets {
			for _, h := range t.Hosts {
				before[t.Point.ID+" "+h.Addr] = h
			}
		}
	}
	var prevPorts []int // the TCP ports the last scan looked at
	if prev != nil {
		prevPorts, _ = config.ParsePorts(prev.TCPPorts)
	}
	for i := range r.Targets {
		t := &r.Targets[i]
		p := t.Point
		add := func(f Finding) { t.Findings = append(t.Findings, f) }
		vendor := kev.VendorOf(p.Maker, p.Model, p.Firmware)
		if len(p.Addresses()) == 0 {
			add(Finding{Rule: RuleInfo, Text: msg.T("調査不可 (IPアドレス不明)", "not scanned (address unknown)")})
		} else if !p.Scan {
			add(Finding{Rule: RuleInfo, Text: msg.T("脆弱性診断の希望なし（未調査）", "no diagnosis requested (not scanned)")})
		}
		for _, h := range t.Hosts {
			if !h.NotScanned.IsZero() {
				add(Finding{Rule: RuleNotScanned, Caution: true, Addr: h.Addr, Text: h.NotScanned})
				continue
			}
			if h.Unreachable {
				add(Finding{Rule: RuleInfo, Addr: h.Addr, Text: msg.Sprintf("%s に到達できません（調査不可）", "%s is unreachable (not scanned)", h.Addr)})
				continue
			}
			old, seen := before[p.ID+" "+h.Addr]
			for _, port := range h.Ports {
				judgePort(add, h, port)
				if port.HTTP != nil && port.HTTP.Vendor != "" && vendor == "" {
					vendor = port.HTTP.Vendor
				}
				if seen && old.checked() && !hasPort(old.Ports, port) && (port.Proto == "udp" || slices.Contains(prevPorts, port.Port)) {
					add(Finding{Rule: RuleNewlyOpen, Caution: true, Addr: h.Addr, Proto: port.Proto, Port: port.Port,
						Text: msg.Sprintf("%s %d/%s は前回の調査では閉じていました。意図した変更か確認してください",
							"%s %d/%s was closed in the last scan; check that the change was intended", h.Addr, port.Port, port.Proto)})
				}
			}
			if len(h.Ports) == 0 && h.Filtered > 0 {
				add(Finding{Rule: RuleInfo, Addr: h.Addr, Text: msg.Sprintf("%s: 開いているポートはなく、%d ポートが無応答です（停止中か、すべて遮断）",
					"%s: no open ports, %d ports silent (switched off, or everything dropped)", h.Addr, h.Filtered)})
			} else if len(h.Ports) == 0 {
				add(Finding{Rule: RuleInfo, Addr: h.Addr, Text: msg.Sprintf("%s: 開いているポートはありません", "%s: no open ports", h.Addr)})
			} else {
				var list []string
				for _, port := range h.Ports {
					list = append(list, port.String())
				}
				add(Finding{Rule: RuleInfo, Addr: h.Addr, Text: msg.Sprintf("%s で応答: %s", "%s answers on: %s", h.Addr, strings.Join(list, ", "))})
			}
		}
		judgeVersions(add, feed, vendor, t)
		judgeHints(add, feed, vendor, t)
		withAdvisories(feed, t.Findings)
		withFixes(feed, t)
		t.Findings = append(t.Findings, coverage(r, feed, vendor, t)...)
		orderFindings(t.Findings)
	}
	if prev != nil {
		d := r.Diff(prev)
		r.Changes = &d
	}
}

func judgePort(add func(Finding), h Host, port Port) {
	where := msg.Plain(fmt.Sprintf("%s %d/%s", h.Addr, port.Port, port.Proto))
	f := Finding{Addr: h.Addr, Proto: port.Proto, Port: port.Port}
	with := func(rule string, caution bool, t msg.Text) Finding {
		g := f
		g.Rule, g.Caution, g.Text = rule, caution, where.Append(": ", t)
		return g
	}
	name, remote := remoteAccess[port.Port]
	if s, ok := remoteServices[port.Service.Name]; ok {
		name, remote = s, true
	}
	if remote && port.Proto == "tcp" {
		add(with(RuleRemote, true, msg.Sprintf("%s に接続できます。外部からの侵入口になるため、不要なら閉じ、必要なら接続元を限定してください",
			"%s is reachable; it is a way in from outside: close it if unused, otherwise restrict who may connect", name)))
	}
	if port.Service.Name == "snmp" {
		community := strings.TrimPrefix(port.Service.Banner, "community ")
		if community == "public" || community == "private" {
			add(with(RuleSNMPDefault, true, msg.Sprintf("SNMP が既定のコミュニティ名 %q に応答します（%s）。コミュニティ名を変更するか SNMP を止めてください",
				"SNMP answers the default community %q (%s); change the community or turn SNMP off", community, port.Service.Product)))
		} else {
			add(with(RuleInfo, false, msg.Sprintf("SNMP 応答: %s", "SNMP answers: %s", port.Service.Product)))
		}
	}
	if port.Proto == "udp" && port.Service.Name != "snmp" {
		name := map[string]string{"ike": "IPsec VPN (IKE)", "ike-natt": "IPsec VPN (IKE NAT-T)", "ntp": "NTP", "dns": "DNS", "ssdp": "UPnP (SSDP)"}[port.Service.Name]
		add(with(RuleInfo, false, msg.Sprintf("%s が応答します: %s", "%s answers: %s", name, port.Service.Product)))
	}
	if t := port.TLS; t != nil {
		judgeTLS(func(rule string, caution bool, text msg.Text) { add(with(rule, caution, text)) }, t)
	}
	if hi := port.HTTP; hi != nil {
		if hi.Portal != "" {
			add(with(RuleInfo, false, msg.Sprintf("SSL-VPN ログイン画面 %s（%s）を確認", "SSL-VPN login page %s (%s) found", hi.Portal, hi.PortalPath)))
		}
		for _, hint := range hi.Hints {
			add(with(RuleInfo, false, hint.describe()))
		}
		if h.WAN && hi.Portal == "" && (hi.Login || hi.Status == 401) {
			add(with(RuleMgmtWAN, true, msg.T("管理画面（ログイン画面）がグローバルアドレスから見えます。LAN 側からのみに限定してください",
				"a management (login) page is reachable on the global address; restrict it to the LAN side")))
		}
	}
	if h.WAN && (port.Service.Name == "ssh" || port.Service.Name == "telnet") {
		add(with(RuleMgmtWAN, true, msg.Sprintf("リモート管理 (%s) がグローバルアドレスから見えます。LAN 側からのみに限定してください",
			"remote administration (%s) is reachable on the global address; restrict it to the LAN side", port.Service.Name)))
	}
}

// judgeTLS says what is weak in a TLS service: old protocol versions (a
// 注意), weak ciphers and a certificate to look at.
func judgeTLS(add func(rule string, caution bool, t msg.Text), t *TLSInfo) {
	var old []string
	for _, v := range t.Versions {
		if v == "TLS1.0" || v == "TLS1.1" {
			old = append(old, v)
		}
	}
	if len(old) > 0 {
		add(RuleOldTLS, true, msg.Sprintf("%s を受け付けます。TLS1.2 以上のみに設定するか、ファームウェアを更新してください",
			"accepts %s; allow only TLS 1.2 and later, or update the firmware", listOf(msg.T("・", " and "), old...)))
	}
	if len(t.WeakCiphers) > 0 {
		add(RuleInfo, false, msg.Sprintf("弱い暗号方式を受け付けます: %s", "accepts weak cipher suites: %s", strings.Join(t.WeakCiphers, ", ")))
	}
	var cert []msg.Text
	if t.SelfSigned {
		cert = append(cert, msg.T("自己署名", "self-signed"))
	}
	if t.VendorDefault {
		cert = append(cert, msg.T("メーカー既定の証明書の可能性", "looks like the maker's default certificate"))
	}
	if t.KeyType == "RSA" && t.KeyBits < 2048 {
		cert = append(cert, msg.Sprintf("鍵長 %d ビット（2048 未満）", "%d-bit key (below 2048)", t.KeyBits))
	}
	if !t.NotAfter.IsZero() && time.Until(t.NotAfter) < 30*24*time.Hour {
		cert = append(cert, msg.Sprintf("有効期限 %s", "expires %s", t.NotAfter.Format("2006-01-02")))
	}
	if len(cert) > 0 {
		add(RuleInfo, false, msg.Sprintf("証明書: %s", "certificate: %s", joinTexts(msg.T("、", ", "), cert)))
	}
}

// listOf joins names that read the same in both languages with a
// separator that does not.
func listOf(sep msg.Text, names ...string) msg.Text {
	return msg.T(strings.Join(names, sep.JA), strings.Join(names, sep.EN))
}

// joinTexts joins ts language by language, each with its own separator.
func joinTexts(sep msg.Text, ts []msg.Text) msg.Text {
	var ja, en []string
	for _, t := range ts {
		ja, en = append(ja, t.Localize(msg.JA)), append(en, t.Localize(msg.EN))
	}
	return msg.T(strings.Join(ja, sep.JA), strings.Join(en, sep.EN))
}

// withAdvisories completes the known_exploited findings with their feed
// entry: the vendor advisory to read, and where not every bound of the
// range could be confirmed (SOURCES.md), a word that it may be wider or
// narrower than shown.
func withAdvisories(feed *kev.Feed, fs []Finding) {
	entries := map[string]kev.Entry{}
	for _, e := range feed.Entries {
		entries[e.CVE] = e
	}
	for i := range fs {
		f := &fs[i]
		if f.Rule != RuleKEV {
			continue
		}
		e, ok := entries[f.cve()]
		if !ok {
			continue
		}
		f.CVE, f.Advisory, f.Checked = e.CVE, e.Advisory, e.Checked
		if e.Advisory != "" {
			f.Text = msg.Sprintf("%s。ベンダ勧告: %s", "%s; vendor advisory: %s", f.Text, e.Advisory)
		}
		if e.Checked == kev.CheckedPartial {
			f.Text = msg.Sprintf("%s（影響範囲は一部未確認）", "%s (affected range not fully confirmed)", f.Text)
		}
	}
}

// sameVersion compares loosely: the register may write "Rev.14.01.38" for
// an announced "14.01.38", or add a build number.
func sameVersion(announced, registered string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		s = strings.TrimPrefix(s, "rev.")
		return strings.TrimPrefix(s, "v")
	}
	a, r := norm(announced), norm(registered)
	return a != "" && (a == r || strings.HasPrefix(r, a+" ") || strings.HasPrefix(r, a+","))
}

func hasPort(ports []Port, p Port) bool {
	return slices.ContainsFunc(ports, func(q Port) bool { return q.Proto == p.Proto && q.Port == p.Port })
}

// Diff is what changed since the previous scan.
type Diff struct {
	Previous    time.Time `json:"previous"`
	Opened      []string  `json:"opened"` // "CAF00001 192.0.2.1 443/tcp"
	Closed      []string  `json:"closed"`
	NewCautions []Noted   `json:"new_cautions"` // what to alert on
	Resolved    []Noted   `json:"resolved"`     // cautions of the last scan that are gone
}

// Noted is a finding with the connection point it belongs to.
type Noted struct {
	ID  string `json:"id"`
	Key string `json:"key"` // stable across scans (alert de-duplication)
	Finding
}

// unchecked are the "ID address" keys of the hosts r did not check.
func (r *Report) unchecked() map[string]bool {
	m := map[string]bool{}
	for _, t := range r.Targets {
		for _, h := range t.Hosts {
			if !h.checked() {
				m[t.Point.ID+" "+h.Addr] = true
			}
		}
	}
	return m
}

// Diff compares r with prev. What r could not check (an unreachable or
// untouched address) keeps its ports and cautions: a device that was off
// or not scanned has not closed anything, and its 注意 is not resolved.
func (r *Report) Diff(prev *Report) Diff {
	d := Diff{Previous: prev.Started}
	// Ports are compared only where both scans looked; a caution is
	// resolved only where this scan looked.
	uncheckedNow := r.unchecked()
	unchecked := prev.unchecked()
	maps.Copy(unchecked, uncheckedNow)
	ports := func(rep *Report) map[string]bool {
		m := map[string]bool{}
		for _, t := range rep.Targets {
			for _, h := range t.Hosts {
				if unchecked[t.Point.ID+" "+h.Addr] {
					continue
				}
				for _, p := range h.Ports {
					m[fmt.Sprintf("%s %s %d/%s", t.Point.ID, h.Addr, p.Port, p.Proto)] = true
				}
			}
		}
		return m
	}
	cautions := func(rep *Report) map[string]Noted {
		m := map[string]Noted{}
		for _, t := range rep.Targets {
			for _, f := range t.Findings {
				if f.Caution {
					k := f.Key(t.Point.ID)
					m[k] = Noted{ID: t.Point.ID, Key: k, Finding: f}
				}
			}
		}
		return m
	}
	now, then := ports(r), ports(prev)
	for k := range now {
		if !then[k] {
			d.Opened = append(d.Opened, k)
		}
	}
	for k := range then {
		if !now[k] {
			d.Closed = append(d.Closed, k)
		}
	}
	cn, cp := cautions(r), cautions(prev)
	for k, f := range cn {
		if _, ok := cp[k]; !ok {
			d.NewCautions = append(d.NewCautions, f)
		}
	}
	for k, f := range cp {
		if _, ok := cn[k]; !ok && !uncheckedNow[f.ID+" "+f.Addr] {
			d.Resolved = append(d.Resolved, f)
		}
	}
	slices.Sort(d.Opened)
	slices.Sort(d.Closed)
	byText := func(a, b Noted) int { return strings.Compare(a.Key, b.Key) }
	slices.SortFunc(d.NewCautions, byText)
	slices.SortFunc(d.Resolved, byText)
	return d
}
