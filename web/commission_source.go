package web

import (
	"cmp"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/hostkey"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Step 2: the e-chart source. The person enters the host, port, account
// and export directory; the gateway makes its own ed25519 key (the
// private key never leaves it) and shows the exact authorized_keys line
// for the e-chart server's administrator, limited to the gateway's
// address; the host key is fetched, compared and pinned (the flow of the
// configuration form, with its CHANGED handling); "Test" lists what a
// pull would stage, leave out and leave pending, writing nothing.

// sourceFields are the source's settings this step edits; the others
// (include, exclude, completion, transfer) keep their defaults and are
// edited on the configuration page.
var sourceFields = []string{"name", "host", "port", "user", "export_dir"}

type sourceBody struct {
	Orig, Base string
	Sections   []sectionView
	Summary    *formSummary
	Other      []msg.Text
	Error      msg.Text
	// The key and the line for authorized_keys.
	Key        msg.Text
	KeyBad     bool
	Line       string
	From       string
	FromHow    msg.Text
	FromErr    msg.Text
	KnownHosts []knownHost
	HostKeyErr msg.Text
	Pin        *pinView
	Test       *sourceTest
	TestErr    msg.Text
	Step       *stepItem
	EditHref   string
}

// sourceTest is a test listing as the page shows it.
type sourceTest struct {
	Summary    msg.Text
	Pull       []string
	MorePull   int
	Pending    []problemView
	Refused    []problemView
	StableWait msg.Text
}

type problemView struct {
	Path string
	Text msg.Text
}

// maxListed bounds how many files of each list the test shows.
const maxListed = 50

// sourceStepItem is the step's part of a source in a copy of the
// configuration: its connection fields only.
func sourceStepItem(c *config.Config, name string) (item, bool) {
	it, ok := sourceItem(c, name)
	if !ok {
		return it, false
	}
	it.binds = slices.DeleteFunc(it.binds, func(b binding) bool { return !slices.Contains(sourceFields, b.key) })
	return it, true
}

func (s *Server) sourceStepPage(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	next, err := cloneConfig(s.core.Config())
	if err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/commission")
		return
	}
	it, ok := sourceStepItem(next, name)
	if !ok {
		s.message(w, r, http.StatusNotFound, msg.Sprintf("その項目は設定にありません: %s", "not in the configuration: %s", name), true, "/commission")
		return
	}
	s.renderSourceStep(w, r, name, it, formState{}, nil)
}

// renderSourceStep shows the step for the source called name ("" for a
// new one) as it stands in it (a configuration copy, with what was typed);
// st carries a refused or unfinished form back, extra what a request found.
func (s *Server) renderSourceStep(w http.ResponseWriter, r *http.Request, name string, it item, st formState, extra func(*sourceBody)) {
	cur := s.core.Config()
	b := sourceBody{Orig: name, Base: cmp.Or(r.PostFormValue("base"), versionOf(cur)), Sections: views(it.binds, st.raw, st.errs), Other: st.other, Error: st.err}
	b.Summary = summarize(b.Sections, b.Other)
	for j, line := range *it.ssh.knownHosts {
		b.KnownHosts = append(b.KnownHosts, knownHostOf(j, line))
	}
	if st.extras != nil {
		fb := formBody{Account: &accountExtras{}}
		st.extras(&fb)
		b.Pin, b.HostKeyErr = fb.Account.Pin, fb.Account.HostKeyErr
	}
	if name != "" {
		s.sourceKeyView(r, cur, name, &b)
		b.Step = s.stepItem(gateway.StepSource, name)
		b.EditHref = "/config/source?name=" + url.QueryEscape(name) + "&next=" + url.QueryEscape("/commission/source?name="+name)
	}
	if extra != nil {
		extra(&b)
	}
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "commission_source.html", "/commission", msg.T("取得元(電子カルテサーバ)", "The e-chart source"), flash, bad, b)
}

// sourceKeyView fills in the key's state, the authorized_keys line and
// the pinned host keys of the saved source called name.
func (s *Server) sourceKeyView(r *http.Request, cfg *config.Config, name string, b *sourceBody) {
	src, err := cfg.Source(name)
	if err != nil {
		return
	}
	p, err := secretPath(cfg, src.KeyFile, sshKey)
	if err != nil {
		b.Key, b.KeyBad = msg.TextOf(err), true
		return
	}
	st := secretState(p)
	b.Key, b.KeyBad = st.text, !st.ok
	pub, err := publicKeyOf(p)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			b.Key, b.KeyBad = b.Key.Append("", msg.T("(鍵として読めません)", " (not a readable key)")), true
		}
		return
	}
	b.From, b.FromHow, b.FromErr = fromAddress(r, cfg.Network, src.Host, src.Port)
	b.Line = authorizedKeysLine(pub, b.From, cfg.GatewayID)
}

// authorizedKeysLine is the line the e-chart server's administrator adds
// to the account's authorized_keys: no forwarding, no terminal (restrict),
// and only from the gateway's address.
func authorizedKeysLine(pub, from, gatewayID string) string {
	opts := "restrict"
	if from != "" {
		opts += `,from="` + from + `"`
	}
	return opts + " " + pub + " danzen@" + gatewayID
}

// fromAddress is the gateway's address as the e-chart server sees it, for
// from= in authorized_keys, and how it was found: as typed (?from=, an IP
// address or network, for a server behind NAT), the address the gateway
// sends from toward the server's host (its route; with the static address
// of step 1, that one), or else the address this page was reached on.
func fromAddress(r *http.Request, n config.Network, host string, port int) (string, msg.Text, msg.Text) {
	if typed := r.URL.Query().Get("from"); typed != "" {
		if _, err := netip.ParseAddr(typed); err == nil {
			return typed, msg.T("入力されたアドレス", "the address entered"), msg.Text{}
		}
		if _, err := netip.ParsePrefix(typed); err == nil {
			return typed, msg.T("入力されたネットワーク", "the network entered"), msg.Text{}
		}
		return "", msg.Text{}, msg.Sprintf("IPアドレスまたは「アドレス/長さ」で入力してください: %q", "enter an IP address or address/length: %q", typed)
	}
	if ip := routeSource(host, port); ip != "" {
		how := msg.Sprintf("このゲートウェイが %s へ接続するときの送信元アドレス", "the address this gateway connects to %s from", host)
		if pre, err := n.Prefix(); err == nil && n.Static() && pre.Addr().String() == ip {
			how = how.Append("", msg.T("(手順1で設定した固定アドレス)", " (the static address set in step 1)"))
		}
		return ip, how, msg.Text{}
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return ap.Addr().Unmap().String(), msg.T("この画面を開いたアドレス(電子カルテサーバへの経路を確認できませんでした)",
				"the address this page was reached on (the route to the e-chart server could not be found)"), msg.Text{}
		}
	}
	return "", msg.Text{}, msg.T("ゲートウェイのアドレスがわかりません。下で入力してください", "the gateway's address is unknown: enter it below")
}

// routeSource is the local address the kernel picks to reach host:port
// ("" when it cannot tell). A UDP socket sends nothing when connected.
func routeSource(host string, port int) string {
	if host == "" {
		return ""
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.Dial("udp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return ""
	}
	defer func() { _ = c.Close() }() // nothing was sent
	if ap, err := netip.ParseAddrPort(c.LocalAddr().String()); err == nil {
		return ap.Addr().Unmap().String()
	}
	return ""
}

// sourceStepSave saves the connection fields (a new source or a change),
// with the host key: "Fetch host key" shows the key the server offers,
// and saving with its fingerprint confirmed pins it, through the
// configuration form's flow (what is pinned is what the server offers at
// confirmation, never what the browser sent). A source that has no key
// yet gets the gateway's own.
func (s *Server) sourceStepSave(w http.ResponseWriter, r *http.Request) {
	cur := s.core.Config()
	next, err := cloneConfig(cur)
	if err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/commission")
		return
	}
	orig := r.PostFormValue("orig")
	it, ok := sourceStepItem(next, orig)
	if !ok {
		s.message(w, r, http.StatusNotFound, msg.Sprintf("その項目は設定にありません: %s", "not in the configuration: %s", orig), true, "/commission")
		return
	}
	st := readForm(r, it)
	it.commit()
	src := &next.Sources[indexOf(it.prefix)]
	if src.KeyFile == "" {
		src.KeyFile = src.Name + ".ssh-key"
	}
	pinned, stop := s.accountHostKey(r, it.ssh, &st)
	if stop {
		s.renderSourceStep(w, r, orig, it, st, nil)
		return
	}
	if !s.applySourceStep(w, r, orig, it, &st, cur, next, pinned) {
		return
	}
	if err := s.ensureSourceKey(r, src.Name); err != nil {
		s.failure(w, r, http.StatusOK, err, "/commission/source?name="+url.QueryEscape(src.Name))
		return
	}
	done := "saved"
	if pinned != nil {
		done = "pinned"
	}
	http.Redirect(w, r, withDone("/commission/source?name="+url.QueryEscape(src.Name), done), http.StatusSeeOther)
}

// applySourceStep validates and applies the changed source and records a
// pinned host key; when it cannot, it shows the form again with why and
// returns false.
func (s *Server) applySourceStep(w http.ResponseWriter, r *http.Request, orig string, it item, st *formState, cur, next *config.Config, pinned *hostkey.Offer) bool {
	if r.PostFormValue("base") != versionOf(cur) {
		st.err = staleMessage()
	}
	// Accepting a CHANGED host key is guarded here as on the settings form.
	who := actor(r)
	guarded := pinned != nil && pinned.State == hostkey.Changed
	if guarded && st.err.IsZero() {
		var refused msg.Text
		if who, refused = s.confirmGuarded(r); !refused.IsZero() {
			st.err = refused
		}
	}
	if pinned != nil {
		// Not saved yet: the confirmation must come back with the form.
		st.extras = func(b *formBody) {
			b.Account.Pin = s.pinView(pinned)
			b.Account.Pin.Confirmed = true
		}
	}
	if len(st.errs) == 0 && st.err.IsZero() {
		ve, problem := s.apply(r.Context(), actor(r), next)
		if ve != nil || (problem != nil && !errors.Is(problem, errUnchanged)) {
			st.errs, st.other = matchErrors(it.prefix, it.binds, ve)
			st.err = msg.TextOf(problem)
		}
	} else {
		addValidation(st, it, cur, next)
	}
	if len(st.errs) > 0 || len(st.other) > 0 || !st.err.IsZero() {
		s.renderSourceStep(w, r, orig, it, *st, nil)
		return false
	}
	if pinned != nil {
		for _, e := range pinned.Entries(who) {
			s.record(r.Context(), e)
		}
	}
	if guarded {
		s.recordGuarded(r, who, "hostkey.accept", orig, guardedText("hostkey.accept", orig))
	}
	return true
}

// ensureSourceKey generates the source's key when its file does not
// exist yet; an existing key is kept (its line may be installed already).
func (s *Server) ensureSourceKey(r *http.Request, name string) error {
	cfg := s.core.Config()
	src, err := cfg.Source(name)
	if err != nil {
		return err
	}
	p, err := secretPath(cfg, src.KeyFile, sshKey)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	_, err = s.writeAccountKey(r.Context(), actor(r), "source", name, p, true, "")
	return err
}

// sourceStepKey generates a new key for the source, replacing the old
// one: the line installed on the server stops working.
func (s *Server) sourceStepKey(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("orig")
	back := "/commission/source?name=" + url.QueryEscape(name)
	cfg := s.core.Config()
	src, err := cfg.Source(name)
	if err != nil {
		s.failure(w, r, http.StatusOK, err, "/commission")
		return
	}
	p, err := secretPath(cfg, src.KeyFile, sshKey)
	if err == nil {
		_, err = s.writeAccountKey(r.Context(), actor(r), "source", name, p, true, "")
	}
	if err != nil {
		s.failure(w, r, http.StatusOK, err, back)
		return
	}
	http.Redirect(w, r, withDone(back, "key"), http.StatusSeeOther)
}

// sourceStepTest connects and lists what a pull would do, writing nothing.
func (s *Server) sourceStepTest(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("orig")
	p, err := s.core.TestSource(r.Context(), name, actor(r))
	next, cerr := cloneConfig(s.core.Config())
	if cerr != nil {
		s.failure(w, r, http.StatusInternalServerError, cerr, "/commission")
		return
	}
	it, ok := sourceStepItem(next, name)
	if !ok || name == "" {
		s.message(w, r, http.StatusNotFound, msg.Sprintf("その項目は設定にありません: %s", "not in the configuration: %s", name), true, "/commission")
		return
	}
	s.renderSourceStep(w, r, name, it, formState{}, func(b *sourceBody) {
		if err != nil {
			b.TestErr = msg.TextOf(err)
			return
		}
		b.Test = testView(p)
		b.Step = s.stepItem(gateway.StepSource, name) // recorded by the test just now
	})
}

func testView(p *pull.Preview) *sourceTest {
	t := &sourceTest{Summary: gateway.PreviewSummary(p)}
	for i, f := range p.Pull {
		if i == maxListed {
			t.MorePull = len(p.Pull) - maxListed
			break
		}
		line := f.Path + " (" + bytesize.Format(f.Size) + ")"
		if f.Unchanged {
			line += " =" // staged as it is
		}
		t.Pull = append(t.Pull, line)
	}
	for i, pr := range p.Pending {
		if i < maxListed {
			t.Pending = append(t.Pending, problemView{Path: pr.Path, Text: pr.Text})
		}
	}
	for i, pr := range p.Refused {
		if i < maxListed {
			t.Refused = append(t.Refused, problemView{Path: pr.Path, Text: pr.Text})
		}
	}
	if p.StableWait > 0 {
		t.StableWait = msg.Sprintf("完了の判定は「一定時間変化なし」です。実際の取得では %s の間に変化したファイルは次回に回されます(テストでは待ちません)",
			"the completion rule is \"unchanged for a while\": a real pull leaves files that change within %s for the next night (the test does not wait)", humanDuration(p.StableWait))
	}
	return t
}
