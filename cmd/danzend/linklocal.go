package main

import (
	"context"
	"io"
	"log/slog"
	"sync"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netconf"
)

// recorder writes ledger entries (the gateway).
type recorder interface {
	Record(ctx context.Context, e ledger.Entry) error
}

// linkLocalNotice tells the person at the gateway (serial console, HDMI)
// where the page is when no DHCP server answered and the link-local
// fallback was added, and records it in the ledger as a change of the
// gateway's address: at once when the gateway is open, else when it opens.
type linkLocalNotice struct {
	con  io.Writer
	log  *slog.Logger
	port string // ":8443", or "" for 443 (portOf)

	mu   sync.Mutex
	rec  recorder
	held []ledger.Entry // told before the gateway was open
}

// linkLocal is netconf.Linux's OnLinkLocal.
func (n *linkLocalNotice) linkLocal(ev netconf.LinkLocal) {
	t := linkLocalText(ev, n.port)
	say(n.con, n.log, t)
	e := ledger.Entry{Kind: ledger.KindNetworkChange, Message: t,
		Payload: ledger.NetworkData{Mode: config.NetworkDHCP, Address: ev.Address.String()}}
	n.mu.Lock()
	rec := n.rec
	if rec == nil {
		n.held = append(n.held, e)
	}
	n.mu.Unlock()
	if rec != nil {
		n.record(rec, e)
	}
}

// attach records to rec from now on, first what was held (nil: the
// gateway is closing; later notices are logged only).
func (n *linkLocalNotice) attach(rec recorder) {
	n.mu.Lock()
	n.rec = rec
	held := n.held
	if rec != nil {
		n.held = nil
	}
	n.mu.Unlock()
	if rec == nil {
		return
	}
	for _, e := range held {
		n.record(rec, e)
	}
}

func (n *linkLocalNotice) record(rec recorder, e ledger.Entry) {
	if err := rec.Record(context.Background(), e); err != nil {
		n.log.Error("evidence ledger write failed", "kind", e.Kind, "err", err)
	}
}

// linkLocalText says where the page is, and which address was taken when
// the fixed one is in use by another device.
func linkLocalText(ev netconf.LinkLocal, port string) msg.Text {
	url := "https://" + ev.Address.Addr().String() + port + "/"
	t := msg.Sprintf("DHCP の応答がありません。ページは %s にあります。PC を直接、または同じスイッチにつないでください(Windows は約1分後に 169.254.x.y のアドレスを自分に付けます)",
		"no DHCP answer: the page is at %s — connect a PC directly or on the same switch; Windows gives itself a 169.254.x.y address after about a minute", url)
	if ev.TakenBy == nil {
		return t
	}
	return msg.Sprintf("%s は別の機器(MAC アドレス %s)が使っているため、このゲートウェイは %s を使います。",
		"%s is in use by another device (MAC address %s), so this gateway took %s. ", netconf.LinkLocalAddress, ev.TakenBy.String(), ev.Address.Addr().String()).Append("", t)
}
