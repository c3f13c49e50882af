package netprobe

import "github.com/danzen-gw/danzen/netprobe/kev"

var testFeed = *kev.Embedded()
