//go:build !gokrazy

package main

import (
	"log/slog"

	"github.com/danzen-gw/danzen/clock"
	"github.com/danzen-gw/danzen/netconf"
)

// appliance: on a development machine the host keeps its own network and
// time; danzend changes neither.
func appliance(string, *slog.Logger, func() []string, func(netconf.LinkLocal)) (netconf.System, *clock.Clock) {
	return nil, nil
}
