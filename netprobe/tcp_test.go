package netprobe

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestRetryPorts: which silent ports get another connect. Priority ports
// (well-known edge ports, those open last time) up to Tries; the rest a
// second time once the device has answered anything, and more only while
// retries still find answers.
func TestRetryPorts(t *testing.T) {
	many := make([]int, 1000)
	for i := range many {
		many[i] = 20000 + i
	}
	for _, c := range []struct {
		name     string
		round    int
		samples  int
		answered int
		want     []int
	}{
		{name: "first retry of a device that answers: all", round: 0, samples: 1, want: []int{443, 10443, 20000, 31337}},
		{name: "device never answered: priority only", round: 0, samples: 0, want: []int{443, 10443, 31337}},
		{name: "retries found nothing (drop policy): priority only", round: 1, samples: 5, answered: 0, want: []int{443, 10443, 31337}},
		{name: "retries found 1 in 200 (drop policy): priority only", round: 1, samples: 5, answered: 5, want: []int{443, 10443, 31337}},
		{name: "retries found 5 in 100 (loss): all", round: 1, samples: 5, answered: 50, want: []int{443, 10443, 20000, 31337}},
		{name: "tries used up", round: 3, samples: 5, answered: 900, want: nil},
	} {
		o := DefaultOptions()
		s := &tcpScan{o: &o, round: c.round, answered: c.answered, ports: many,
			silent: []int{443, 10443, 20000, 31337}, priority: map[int]bool{31337: true}}
		for _, p := range edgePorts {
			s.priority[p] = true
		}
		for range c.samples {
			s.rtt.add(time.Millisecond)
		}
		if got := s.retryPorts(); !slices.Equal(got, c.want) {
			t.Errorf("%s: retry %v, want %v", c.name, got, c.want)
		}
	}
}

// TestConfirmClosed: a port open last time and missed now is looked at
// once more; only a port that still does not answer stays closed, and
// ports outside this scan's range are left alone.
func TestConfirmClosed(t *testing.T) {
	addr := loopback(t)
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, ln)
	missed := ln.Addr().(*net.TCPAddr).Port
	gone := closedPort(t, addr)
	outside := 1
	o := DefaultOptions()
	o.TCPPorts = []int{gone, missed, 7}
	got := confirmClosed(context.Background(), addr, []int{outside, gone, missed, 7}, []int{7}, &o, rate.NewLimiter(rate.Inf, 1))
	if want := slices.Sorted(slices.Values([]int{7, missed})); !slices.Equal(got, want) {
		t.Errorf("confirmed open %v, want %v", got, want)
	}
}
