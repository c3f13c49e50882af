package netprobe

import (
	"context"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/time/rate"
)

// tcpResult is the connect scan of one address.
type tcpResult struct {
	open        []int
	unreachable bool // the network or host is unreachable: nothing was learnt
	filtered    int  // ports that neither accepted nor refused in time
}

// minWait is the shortest a connect is given once the device has shown
// how fast it answers.
const minWait = 250 * time.Millisecond

// scanTCP connects to every port: a full connect (as nmap -sT), made with
// non-blocking sockets watched by one epoll loop, so thousands of connects
// in flight cost a few kilobytes each and no goroutines. A device that
// silently drops most ports is done in bounded time: once it has answered
// anything (accept or refuse), a connect is given a few round-trip times
// (at least minWait, at most o.ConnectTimeout) instead of the full timeout.
func scanTCP(ctx context.Context, addr netip.Addr, ports []int, o *Options, lim *rate.Limiter) tcpResult {
	var res tcpResult
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		res.unreachable = true
		return res
	}
	defer unix.Close(epfd)
	type pending struct {
		fd, port int
		start    time.Time // zero: connect() itself answered
	}
	var (
		queue []pending // in start order, so also in deadline order
		byFD  = map[int]pending{}
		rtt   rttEstimate
		// hostUnreach counts ICMP errors; a device that gave nothing else
		// is unreachable.
		hostUnreach int
		next        int
		events      = make([]unix.EpollEvent, 256)
	)
	family := unix.AF_INET
	if addr.Is6() && !addr.Is4In6() {
		family = unix.AF_INET6
	}
	sockaddr := func(port int) unix.Sockaddr {
		if family == unix.AF_INET6 {
			return &unix.SockaddrInet6{Port: port, Addr: addr.As16()}
		}
		return &unix.SockaddrInet4{Port: port, Addr: addr.Unmap().As4()}
	}
	finish := func(p pending, soErr error, now time.Time) {
		delete(byFD, p.fd)
		unix.Close(p.fd)
		switch {
		case soErr == nil:
			res.open = append(res.open, p.port)
		case soErr == unix.ECONNREFUSED:
		case soErr == unix.ENETUNREACH && p.start.IsZero():
			// No route from here at all: every port would say the same.
			res.unreachable = true
			return
		case soErr == unix.ENETUNREACH || soErr == unix.EHOSTUNREACH:
			// An ICMP error for one port (a firewall's "prohibited") is
			// not the whole device: go on.
			hostUnreach++
			res.filtered++
			return
		default:
			res.filtered++
			return
		}
		if !p.start.IsZero() {
			rtt.add(now.Sub(p.start))
		}
	}
	defer func() {
		for fd := range byFD {
			unix.Close(fd)
		}
	}()
	for (next < len(ports) || len(byFD) > 0) && !res.unreachable {
		if ctx.Err() != nil {
			break
		}
		// Start at most a small batch per round, so that answers are read
		// soon after they arrive and round-trip samples stay honest.
		now := time.Now()
		for started := 0; started < 64 && len(byFD) < o.Concurrency && next < len(ports) && lim.AllowN(now, 1); started++ {
			port := ports[next]
			next++
			fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil { // out of descriptors: retry this port when some are freed
				next--
				if len(byFD) == 0 { // none will be: give up rather than spin
					res.unreachable = true
				}
				break
			}
			err = unix.Connect(fd, sockaddr(port))
			p := pending{fd: fd, port: port}
			if err == unix.EINPROGRESS {
				p.start = time.Now()
			}
			switch err {
			case unix.EINPROGRESS:
				ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP, Fd: int32(fd)}
				if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
					unix.Close(fd)
					res.filtered++
					continue
				}
				byFD[fd] = p
				queue = append(queue, p)
			default: // answered at once (loopback) or refused locally
				byFD[fd] = p
				finish(p, errOrNil(err), now)
			}
		}
		// Sleep until the oldest connect expires, or briefly when the
		// rate limit holds the next one back.
		timeout := 10 * time.Millisecond
		for len(queue) > 0 {
			if _, live := byFD[queue[0].fd]; live && byFD[queue[0].fd].start == queue[0].start {
				timeout = max(time.Until(queue[0].start.Add(rtt.wait(o.ConnectTimeout))), 0)
				break
			}
			queue = queue[1:]
		}
		if next < len(ports) && len(byFD) < o.Concurrency {
			timeout = 0 // more to start: only collect what has arrived
			if lim.Tokens() < 1 {
				timeout = time.Millisecond
			}
		}
		ms := int(timeout.Milliseconds())
		if timeout > 0 {
			ms++
		}
		n, err := unix.EpollWait(epfd, events, ms)
		if err != nil && err != unix.EINTR {
			break
		}
		now = time.Now()
		for _, ev := range events[:max(n, 0)] {
			p, ok := byFD[int(ev.Fd)]
			if !ok {
				continue
			}
			soErr, err := unix.GetsockoptInt(p.fd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err != nil {
				finish(p, err, now)
				continue
			}
			finish(p, errOrNil(syscall.Errno(soErr)), now)
		}
		wait := rtt.wait(o.ConnectTimeout)
		for len(queue) > 0 {
			p := queue[0]
			if q, live := byFD[p.fd]; !live || q.start != p.start {
				queue = queue[1:]
				continue
			}
			if now.Sub(p.start) < wait {
				break
			}
			finish(p, unix.ETIMEDOUT, now)
			queue = queue[1:]
		}
	}
	slices.Sort(res.open)
	res.unreachable = len(res.open) == 0 && (res.unreachable || hostUnreach > 0 && hostUnreach == res.filtered)
	return res
}

func errOrNil(err error) error {
	if e, ok := err.(syscall.Errno); ok && e == 0 {
		return nil
	}
	return err
}

// rttEstimate is TCP's smoothed round-trip time and variation (RFC 6298).
type rttEstimate struct {
	srtt, rttvar time.Duration
	samples      int
}

func (r *rttEstimate) add(d time.Duration) {
	if r.samples == 0 {
		r.srtt, r.rttvar = d, d/2
	} else {
		diff := r.srtt - d
		if diff < 0 {
			diff = -diff
		}
		r.rttvar = (3*r.rttvar + diff) / 4
		r.srtt = (7*r.srtt + d) / 8
	}
	r.samples++
}

// wait is how long a connect is given: the full limit until the device has
// answered once, then a few round trips.
func (r *rttEstimate) wait(limit time.Duration) time.Duration {
	if r.samples == 0 {
		return limit
	}
	return min(max(2*r.srtt+4*r.rttvar, minWait), limit)
}
