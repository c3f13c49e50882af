package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/clock"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netconf"
	"github.com/danzen-gw/danzen/status"
)

// Step 1: network and time. DHCP or a static IPv4 address, the host name,
// the hospital's time servers and the time zone. A change of how the page
// is reached applies with a rollback timer: the page answers with the new
// address to open, and unless the change is confirmed there within two
// minutes the settings before come back (gateway.ChangeNetwork). The clock's
// state is shown here and on the dashboard.

// networker is what the network step needs from the core.
type networker interface {
	NetworkView() gateway.NetworkView
	ChangeNetwork(ctx context.Context, actor, reachedAt string, n config.Network, timeZone string) (gateway.NetworkResult, error)
	ConfirmNetwork(ctx context.Context, actor string, local netip.Addr) error
	ClockStatus() (clock.Status, bool)
}

func (s *Server) networkRoutes(mux *http.ServeMux, need func(auth.Action, http.Handler) http.Handler) {
	mux.Handle("GET /commission/network", need(auth.EditConfig, http.HandlerFunc(s.networkStepPage)))
	mux.Handle("POST /commission/network", need(auth.EditConfig, http.HandlerFunc(s.networkStepSave)))
	mux.Handle("POST /commission/network/confirm", need(auth.EditConfig, http.HandlerFunc(s.networkStepConfirm)))
}

type networkBody struct {
	Sections []sectionView
	Summary  *formSummary
	Other    []msg.Text
	Error    msg.Text
	// Managed: the settings are applied here (the appliance).
	Managed   bool
	Addresses string
	Clock     clockView
	Pending   *pendingView
}

// pendingView is a change waiting for its confirmation.
type pendingView struct {
	Deadline string
	// NewURL is where to open the page (static); empty under DHCP, whose
	// address the DHCP server picks.
	NewURL   string
	Hostname string
	Applied  bool
	// AtNew: this page was opened at an address of the new settings.
	AtNew bool
}

// clockView is the clock as the page shows it.
type clockView struct {
	Known   bool // this danzend keeps the time (the appliance)
	Synced  bool
	Text    msg.Text
	Problem msg.Text
	NoRTC   msg.Text // a board without a hardware clock
}

// networkForm binds the step's fields to n and the time zone.
func networkForm(n *config.Network, tz *string) bindings {
	sec := msg.T("ネットワーク", "Network")
	var b bindings
	g, set := bindString(&n.Mode)
	b.add(sec, "mode", msg.T("アドレスの決め方", "Address"), msg.T("DHCP: 院内の DHCP サーバーから受け取る。固定: 下のアドレスを使う", "DHCP: from the hospital's DHCP server. Static: the address below"),
		selectField, g, set, opt(config.NetworkDHCP, "DHCP", "DHCP"), opt(config.NetworkStatic, "固定アドレス", "Static address"))
	g, set = bindString(&n.Address)
	b.add(sec, "address", msg.T("固定アドレス", "Static address"), msg.T("例: 192.168.10.20/24(/24 は 255.255.255.0)", "e.g. 192.168.10.20/24 (/24 is 255.255.255.0)"), textField, g, set)
	g, set = bindString(&n.Gateway)
	b.add(sec, "gateway", msg.T("デフォルトゲートウェイ", "Default gateway"), msg.T("固定アドレスのとき。省略するとサブネット内だけに届きます", "static only; without one only the local subnet is reached"), textField, g, set)
	g, set = bindLines(&n.DNS)
	b.add(sec, "dns", msg.T("DNS サーバー", "DNS servers"), msg.T("固定アドレスのとき。1行に1つ、3つまで。名前を使わなければ不要", "static only; one a line, at most 3; not needed unless a host is given by name"), linesField, g, set)
	g, set = bindString(&n.Hostname)
	b.add(sec, "hostname", msg.T("ホスト名", "Host name"), msg.T("空欄で danzen", "empty for danzen"), textField, g, set)
	g, set = bindString(&n.Interface)
	b.add(sec, "interface", msg.T("インターフェース", "Interface"), msg.T("通常は eth0", "usually eth0"), textField, g, set)
	tsec := msg.T("時刻", "Time")
	g, set = bindLines(&n.NTPServers)
	b.add(tsec, "ntp_servers", msg.T("NTP サーバー", "NTP servers"), msg.T("院内の時刻サーバー(名前か IP アドレス)、1行に1つ。既定の設定はありません。ない場合、時刻は同期されません", "the hospital's time servers (name or IP address), one a line; none is preset, and without one the time is not synchronised"),
		linesField, g, set)
	g, set = bindString(tz)
	b.add(tsec, "time_zone", msg.T("タイムゾーン", "Time zone"), msg.T("例: Asia/Tokyo(スケジュールと画面の時刻)", "e.g. Asia/Tokyo (for the schedule and the times shown)"), textField, g, set)
	return b
}

func (s *Server) networkStepPage(w http.ResponseWriter, r *http.Request) {
	cfg := s.core.Config()
	n, tz := cfg.Network, cfg.TimeZone
	s.renderNetwork(w, r, networkForm(&n, &tz), nil, nil, msg.Text{})
}

func (s *Server) networkStepSave(w http.ResponseWriter, r *http.Request) {
	cfg := s.core.Config()
	n, tz := cfg.Network, cfg.TimeZone
	binds := networkForm(&n, &tz)
	raw := map[string]string{}
	for _, b := range binds {
		v := r.PostFormValue(b.key)
		if err := b.set(v); err != nil {
			raw[b.key] = v
		}
	}
	if n.Interface == config.DefaultInterface {
		n.Interface = "" // the default, not a choice
	}
	res, err := s.core.ChangeNetwork(r.Context(), actor(r), localAddr(r).String(), n, tz)
	switch {
	case err != nil:
		s.renderNetwork(w, r, binds, raw, err, msg.Text{})
	case res.Pending != nil:
		// Rendered here, not redirected: the address may be gone before a
		// redirect comes back.
		s.renderNetwork(w, r, binds, nil, nil, msg.T("新しい設定を数秒後に適用します。下のアドレスでこのページを開き、2分以内に「確認」を押してください",
			"The new settings apply in a few seconds: open this page at the address below and press Confirm within 2 minutes"))
	default:
		http.Redirect(w, r, "/commission/network?done=saved", http.StatusSeeOther)
	}
}

func (s *Server) networkStepConfirm(w http.ResponseWriter, r *http.Request) {
	if err := s.core.ConfirmNetwork(r.Context(), actor(r), localAddr(r)); err != nil {
		cfg := s.core.Config()
		n, tz := cfg.Network, cfg.TimeZone
		s.renderNetwork(w, r, networkForm(&n, &tz), nil, err, msg.Text{})
		return
	}
	http.Redirect(w, r, "/commission/network?done=confirmed", http.StatusSeeOther)
}

// renderNetwork draws the step: the pending change, the clock, the form
// with err's messages beside their fields.
func (s *Server) renderNetwork(w http.ResponseWriter, r *http.Request, binds bindings, raw map[string]string, err error, flash msg.Text) {
	v := s.core.NetworkView()
	errs, other := networkErrors(binds, err)
	b := networkBody{Managed: v.Managed, Addresses: prefixes(v.Addresses), Clock: s.clockView()}
	b.Sections = views(binds, raw, errs)
	b.Summary, b.Other = summarize(b.Sections, other), other
	var ve *config.ValidationError
	if err != nil && !errors.As(err, &ve) {
		b.Error = msg.TextOf(err)
	}
	if p := v.Pending; p != nil {
		b.Pending = s.pendingOf(r, *p, v.Addresses)
	}
	bad := false
	if flash.IsZero() {
		flash, bad = networkFlash(r)
	}
	s.render(w, r, http.StatusOK, "commission_network.html", "/commission", msg.T("ネットワークと時刻", "Network and time"), flash, bad, b)
}

// networkErrors sorts a validation's messages to the step's fields
// ("network.ntp_servers[1]" to ntp_servers, "time_zone" to time_zone).
func networkErrors(binds bindings, err error) (map[string][]msg.Text, []msg.Text) {
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		return nil, nil
	}
	keys := map[string]bool{}
	for _, b := range binds {
		keys[b.key] = true
	}
	out := map[string][]msg.Text{}
	var other []msg.Text
	for _, fe := range ve.Fields {
		key := strings.TrimPrefix(fe.Field, "network.")
		base, _, indexed := strings.Cut(key, "[")
		switch {
		case keys[key]:
			out[key] = append(out[key], fe.Text)
		case indexed && keys[base]:
			out[base] = append(out[base], msg.Sprintf("%s: %s", "%s: %s", key, fe.Text))
		default:
			other = append(other, msg.Sprintf("%s: %s", "%s: %s", fe.Field, fe.Text))
		}
	}
	return out, other
}

// pendingOf is the pending change as the page shows it.
func (s *Server) pendingOf(r *http.Request, p netconf.Pending, now []netip.Prefix) *pendingView {
	v := &pendingView{Deadline: s.zone().Stamp(p.Deadline), Applied: p.Applied, Hostname: p.To.Hostname}
	if v.Hostname == "" {
		v.Hostname = "danzen"
	}
	if pre, err := p.To.Prefix(); err == nil && p.To.Static() {
		v.NewURL = "https://" + hostPort(pre.Addr().String(), r) + "/commission/network"
	}
	local := localAddr(r)
	for _, a := range now {
		if p.Applied && a.Addr() == local {
			v.AtNew = true
		}
	}
	return v
}

// hostPort is addr with the port the page was opened on.
func hostPort(addr string, r *http.Request) string {
	if _, port, err := net.SplitHostPort(r.Host); err == nil && port != "443" {
		return net.JoinHostPort(addr, port)
	}
	return addr
}

// localAddr is the gateway's address this request came in on.
func localAddr(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return ap.Addr().Unmap()
		}
	}
	return netip.Addr{}
}

func prefixes(ps []netip.Prefix) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return strings.Join(out, ", ")
}

// networkFlash turns the step's ?done= codes into text.
func networkFlash(r *http.Request) (msg.Text, bool) {
	switch r.URL.Query().Get("done") {
	case "saved":
		return msg.T("保存しました。ネットワークと時刻の手順は完了です", "Saved: the network and time step is done."), false
	case "confirmed":
		return msg.T("新しいアドレスで確認し、設定を保存しました。ネットワークと時刻の手順は完了です", "Confirmed from the new address and saved: the network and time step is done."), false
	}
	return msg.Text{}, false
}

// clockView is how the clock is set, for this step and the dashboard.
func (s *Server) clockView() clockView {
	st, known := s.core.ClockStatus()
	if !known {
		return clockView{Text: msg.T("このゲートウェイは時刻を設定しません(装置ではなく、動作中の PC の時刻を使います)",
			"this danzend does not set the clock (not the appliance): the host's own time is used")}
	}
	v := clockView{Known: true, Synced: st.Synced(), Text: clockText(st, s.zone()), Problem: st.Problem}
	if !st.HasRTC {
		v.NoRTC = gateway.NoRTCWarning()
	}
	return v
}

// clockText says how the clock is set.
func clockText(st clock.Status, z when.Zone) msg.Text {
	switch st.State {
	case ledger.ClockNTP:
		return msg.Sprintf("NTP で同期済み(%s、%s)", "synchronised by NTP (%s, %s)", st.Source, z.Stamp(st.LastSync))
	case ledger.ClockRTC:
		return msg.T("時刻が同期されていません: ハードウェア時計(RTC)で動作中", "time not synchronised: running on the hardware clock (RTC)")
	}
	return msg.T("時刻が同期されていません: 時計が大きくずれているおそれがあります", "time not synchronised: the clock may be far off")
}

// clockAttention is the dashboard's "needs attention" entry while the
// clock is not synchronised.
func clockAttention(v clockView) []status.Failure {
	if !v.Known || v.Synced {
		return nil
	}
	return []status.Failure{{Cause: alert.CauseClock, Detail: v.Text.Append(" — ", v.Problem)}}
}
