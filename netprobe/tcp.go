package netprobe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

// tcpResult is the connect scan of one address.
type tcpResult struct {
	open        []int
	unreachable bool // the network or host is unreachable: nothing was learnt
	filtered    int  // ports that neither accepted nor refused in time
}

// scanTCP connects to every port. A device that silently drops most
// ports is done in bounded time: once the device has answered anything,
// the wait for the rest shrinks to a multiple of the slowest answer seen
// (never below minWait, never above o.ConnectTimeout).
func scanTCP(ctx context.Context, addr netip.Addr, ports []int, o *Options, lim *rate.Limiter) tcpResult {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu          sync.Mutex
		res         tcpResult
		slowest     atomic.Int64 // nanoseconds of the slowest answer so far
		unreachable atomic.Bool
	)
	const minWait = 250 * time.Millisecond
	wait := func() time.Duration {
		s := time.Duration(slowest.Load())
		if s == 0 {
			return o.ConnectTimeout
		}
		return min(max(10*s, minWait), o.ConnectTimeout)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(o.Concurrency, len(ports)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d net.Dialer
			for port := range work {
				if lim.Wait(ctx) != nil {
					return
				}
				start := time.Now()
				dctx, dcancel := context.WithTimeout(ctx, wait())
				c, err := d.DialContext(dctx, "tcp", netip.AddrPortFrom(addr, uint16(port)).String())
				dcancel()
				took := time.Since(start)
				switch {
				case err == nil:
					c.Close()
					mu.Lock()
					res.open = append(res.open, port)
					mu.Unlock()
				case errors.Is(err, syscall.ECONNREFUSED):
				case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
					unreachable.Store(true)
					cancel()
					return
				default:
					mu.Lock()
					res.filtered++
					mu.Unlock()
					continue
				}
				for {
					s := slowest.Load()
					if int64(took) <= s || slowest.CompareAndSwap(s, int64(took)) {
						break
					}
				}
			}
		}()
	}
feed:
	for _, p := range ports {
		select {
		case work <- p:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	slices.Sort(res.open)
	res.unreachable = unreachable.Load() && len(res.open) == 0
	return res
}

// ParsePorts reads "1-1024,3389,8443" into a sorted list without repeats.
// "" means all 65,535 ports.
func ParsePorts(s string) ([]int, error) {
	if s == "" {
		s = "1-65535"
	}
	seen := make(map[int]bool)
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
			return nil, errors.New("ポート指定 " + strconv.Quote(part) + " が読めません（例: 1-1024,3389） / cannot read port spec " + strconv.Quote(part) + " (e.g. 1-1024,3389)")
		}
		for p := a; p <= b; p++ {
			seen[p] = true
		}
	}
	out := make([]int, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}
