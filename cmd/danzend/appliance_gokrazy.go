//go:build gokrazy

package main

import (
	"log/slog"
	"path/filepath"

	"github.com/danzen-gw/danzen/clock"
	"github.com/danzen-gw/danzen/internal/machineid"
	"github.com/danzen-gw/danzen/netconf"
)

// appliance is what danzend keeps itself on the appliance, in place of
// gokrazy's own programs: the network (gokrazy's DHCP client, which the
// instance configs install without starting it, run by danzend in DHCP
// or static mode) and the clock (the hospital's NTP servers, set on the
// page, and the RTC; gokrazy's ntp, whose servers are the public pool or
// fixed in the image, is left out of it). onLinkLocal is told the address
// added when no DHCP server answers.
func appliance(dir string, log *slog.Logger, servers func() []string, onLinkLocal func(netconf.LinkLocal)) (netconf.System, *clock.Clock) {
	// Each gateway its own identity, not the image's (gokrazy reads it).
	if id, created, err := machineid.Ensure(machineid.Path); err != nil {
		log.Error("machine ID", "err", err)
	} else if created {
		log.Info("first start: made this gateway's machine ID", "path", machineid.Path, "id", id)
	}
	rtc, err := clock.OpenRTC(clock.DefaultRTC)
	if err != nil {
		log.Warn("hardware clock", "err", err)
	}
	sys := netconf.NewLinux(log)
	sys.OnLinkLocal = onLinkLocal
	return sys, clock.New(clock.Options{Servers: servers, RTC: rtc,
		LastKnown: filepath.Join(dir, "clock", "last-known"), Log: log})
}
