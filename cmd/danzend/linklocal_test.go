package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netconf"
)

type entries struct {
	mu sync.Mutex
	es []ledger.Entry
}

func (r *entries) Record(_ context.Context, e ledger.Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.es = append(r.es, e)
	return nil
}

func (r *entries) all() []ledger.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ledger.Entry(nil), r.es...)
}

// The console names the page's address in both languages as soon as the
// fallback is added; the ledger gets it as a change of address, held
// until the gateway is open.
func TestLinkLocalNotice(t *testing.T) {
	var con bytes.Buffer
	n := &linkLocalNotice{con: &con, log: slog.New(slog.DiscardHandler), port: portOf(":8443")}
	n.linkLocal(netconf.LinkLocal{Interface: "eth0", Address: netip.MustParsePrefix("169.254.10.10/16")})
	out := con.String()
	for _, want := range []string{
		"no DHCP answer: the page is at https://169.254.10.10:8443/ — connect a PC directly or on the same switch; Windows gives itself a 169.254.x.y address after about a minute",
		"DHCP の応答がありません。ページは https://169.254.10.10:8443/ にあります",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}
	rec := &entries{}
	n.attach(rec)
	got := rec.all()
	if len(got) != 1 || got[0].Kind != ledger.KindNetworkChange || !strings.Contains(got[0].Message.Localize(msg.EN), "https://169.254.10.10:8443/") {
		t.Fatalf("ledger = %+v", got)
	}
	if d, ok := got[0].Payload.(ledger.NetworkData); !ok || d.Mode != "dhcp" || d.Address != "169.254.10.10/16" {
		t.Fatalf("data = %#v", got[0].Payload)
	}

	// Taken by another device: the console says which address instead.
	con.Reset()
	mac, _ := net.ParseMAC("3a:b7:17:ea:0f:6c")
	n.linkLocal(netconf.LinkLocal{Interface: "eth0", Address: netip.MustParsePrefix("169.254.1.39/16"), TakenBy: mac})
	if out := con.String(); !strings.Contains(out, "169.254.10.10 is in use by another device (MAC address 3a:b7:17:ea:0f:6c), so this gateway took 169.254.1.39") ||
		!strings.Contains(out, "the page is at https://169.254.1.39:8443/") {
		t.Errorf("console:\n%s", out)
	}
	if got := rec.all(); len(got) != 2 {
		t.Fatalf("after the gateway opened, a notice is recorded at once: %d entries", len(got))
	}
	n.attach(nil) // closing: logged only
	n.linkLocal(netconf.LinkLocal{Interface: "eth0", Address: netip.MustParsePrefix("169.254.10.10/16")})
	if got := rec.all(); len(got) != 2 {
		t.Fatalf("recorded after the gateway closed: %d entries", len(got))
	}
}

// On port 443 the address alone is the page.
func TestLinkLocalTextOn443(t *testing.T) {
	got := linkLocalText(netconf.LinkLocal{Address: netip.MustParsePrefix("169.254.10.10/16")}, portOf(":443")).Localize(msg.EN)
	if !strings.Contains(got, "https://169.254.10.10/ ") {
		t.Fatal(got)
	}
}
