package netprobe

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
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
//
// That wait is shorter than the kernel's first SYN retransmission, so a
// lost SYN would lose the port: silent ports are tried again in rounds
// (see retryPorts), the priority ports (well-known edge ports, those open
// last time) up to o.Tries times in all.
func scanTCP(ctx context.Context, addr netip.Addr, ports, priority []int, o *Options, lim *rate.Limiter) tcpResult {
	s, err := newTCPScan(addr, ports, o, lim)
	if err != nil {
		return tcpResult{unreachable: true}
	}
	defer s.close()
	s.priority = map[int]bool{}
	for _, p := range slices.Concat(edgePorts, priority) {
		s.priority[p] = true
	}
	for !s.res.unreachable && ctx.Err() == nil {
		if s.next >= len(s.ports) && len(s.byFD) == 0 {
			if !s.nextRound() {
				break
			}
			continue
		}
		s.start(time.Now())
		if !s.collect(s.pollTimeout()) {
			break
		}
	}
	return s.result()
}

// edgePorts are the TCP ports where edge devices put the services that
// matter most (remote access, VPN portals, management): a silent one is
// tried o.Tries times whatever the device's loss looks like.
var edgePorts = []int{21, 22, 23, 25, 53, 80, 443, 445, 1194, 1723, 3389, 4433, 4443, 5900,
	8000, 8008, 8080, 8443, 8888, 9443, 10000, 10443, 11443, 50000}

// tcpScan is the state of one address's connect scan.
type tcpScan struct {
	addr   netip.Addr
	family int
	ports  []int // this round's ports
	o      *Options
	lim    *rate.Limiter
	epfd   int
	events []unix.EpollEvent

	res   tcpResult
	next  int             // index in ports of the next port to start
	byFD  map[int]pending // connects in flight
	queue []pending       // in start order, so also in deadline order
	rtt   rttEstimate
	// hostUnreach counts ICMP errors; a device that gave nothing else
	// is unreachable.
	hostUnreach int

	priority map[int]bool
	round    int   // 0 is the first try of every port
	silent   []int // this round's ports that timed out
	answered int   // this round's ports that accepted or refused
}

// nextRound starts the next round of retries, if any is due; otherwise
// the ports still silent count as filtered.
func (s *tcpScan) nextRound() bool {
	retry := s.retryPorts()
	s.res.filtered += len(s.silent) - len(retry)
	if len(retry) == 0 {
		return false
	}
	s.round++
	s.ports, s.next, s.silent, s.answered = retry, 0, nil, 0
	return true
}

// retryPorts are the silent ports to try again. Priority ports are tried
// up to o.Tries times. The rest get a second try once the device has
// answered anything (a device that answers nothing is off or dropping
// everything, not losing packets), and further tries only while the last
// round of retries still found answers (at least 1 in 100: loss, not a
// drop policy). A device that drops all but a few ports therefore costs
// two passes, not o.Tries.
func (s *tcpScan) retryPorts() []int {
	if s.round+1 >= s.o.Tries {
		return nil
	}
	lossy := s.rtt.samples > 0 && (s.round == 0 || s.answered > 0 && s.answered*100 >= len(s.ports))
	var retry []int
	for _, p := range s.silent {
		if lossy || s.priority[p] {
			retry = append(retry, p)
		}
	}
	return retry
}

// pending is one connect in flight.
type pending struct {
	fd, port int
	start    time.Time // zero: connect() itself answered
}

func newTCPScan(addr netip.Addr, ports []int, o *Options, lim *rate.Limiter) (*tcpScan, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	family := unix.AF_INET
	if addr.Is6() && !addr.Is4In6() {
		family = unix.AF_INET6
	}
	return &tcpScan{addr: addr, family: family, ports: ports, o: o, lim: lim, epfd: epfd,
		events: make([]unix.EpollEvent, 256), byFD: map[int]pending{}}, nil
}

// close closes the sockets still in flight and the epoll instance. A
// connect socket has nothing buffered to lose, so a failed close is
// ignored here and in finish.
func (s *tcpScan) close() {
	for fd := range s.byFD {
		_ = unix.Close(fd)
	}
	_ = unix.Close(s.epfd)
}

func (s *tcpScan) sockaddr(port int) unix.Sockaddr {
	if s.family == unix.AF_INET6 {
		return &unix.SockaddrInet6{Port: port, Addr: s.addr.As16()}
	}
	return &unix.SockaddrInet4{Port: port, Addr: s.addr.Unmap().As4()}
}

// start opens at most a small batch of connects per round, so that
// answers are read soon after they arrive and round-trip samples stay
// honest.
func (s *tcpScan) start(now time.Time) {
	for started := 0; started < 64 && len(s.byFD) < s.o.Concurrency && s.next < len(s.ports) && s.lim.AllowN(now, 1); started++ {
		port := s.ports[s.next]
		s.next++
		fd, err := unix.Socket(s.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil { // out of descriptors: retry this port when some are freed
			s.next--
			if len(s.byFD) == 0 { // none will be: give up rather than spin
				s.res.unreachable = true
			}
			break
		}
		err = unix.Connect(fd, s.sockaddr(port))
		p := pending{fd: fd, port: port}
		if err == unix.EINPROGRESS {
			p.start = time.Now()
		}
		switch err {
		case unix.EINPROGRESS:
			ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP, Fd: int32(fd)}
			if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
				_ = unix.Close(fd)
				s.res.filtered++
				continue
			}
			s.byFD[fd] = p
			s.queue = append(s.queue, p)
		default: // answered at once (loopback) or refused locally
			s.byFD[fd] = p
			s.finish(p, errOrNil(err), now)
		}
	}
}

// pollTimeout is how long to wait for answers, in milliseconds: until the
// oldest connect expires, briefly when the rate limit holds the next one
// back, and not at all while there are more to start.
func (s *tcpScan) pollTimeout() int {
	timeout := 10 * time.Millisecond
	for len(s.queue) > 0 {
		if _, live := s.byFD[s.queue[0].fd]; live && s.byFD[s.queue[0].fd].start == s.queue[0].start {
			timeout = max(time.Until(s.queue[0].start.Add(s.rtt.wait(s.o.ConnectTimeout))), 0)
			break
		}
		s.queue = s.queue[1:]
	}
	if s.next < len(s.ports) && len(s.byFD) < s.o.Concurrency {
		timeout = 0 // more to start: only collect what has arrived
		if s.lim.Tokens() < 1 {
			timeout = time.Millisecond
		}
	}
	ms := int(timeout.Milliseconds())
	if timeout > 0 {
		ms++
	}
	return ms
}

// collect waits up to ms for answers, finishes the connects that have
// one and gives up on those past their wait. It is false when epoll
// itself failed.
func (s *tcpScan) collect(ms int) bool {
	n, err := unix.EpollWait(s.epfd, s.events, ms)
	if err != nil && err != unix.EINTR {
		return false
	}
	now := time.Now()
	for _, ev := range s.events[:max(n, 0)] {
		p, ok := s.byFD[int(ev.Fd)]
		if !ok {
			continue
		}
		soErr, err := unix.GetsockoptInt(p.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			s.finish(p, err, now)
			continue
		}
		s.finish(p, errOrNil(syscall.Errno(soErr)), now)
	}
	s.expire(now)
	return true
}

// expire finishes, as timed out, the connects older than the wait.
func (s *tcpScan) expire(now time.Time) {
	wait := s.rtt.wait(s.o.ConnectTimeout)
	for len(s.queue) > 0 {
		p := s.queue[0]
		if q, live := s.byFD[p.fd]; !live || q.start != p.start {
			s.queue = s.queue[1:]
			continue
		}
		if now.Sub(p.start) < wait {
			break
		}
		s.finish(p, unix.ETIMEDOUT, now)
		s.queue = s.queue[1:]
	}
}

// finish records how a connect ended and closes its socket.
func (s *tcpScan) finish(p pending, soErr error, now time.Time) {
	delete(s.byFD, p.fd)
	_ = unix.Close(p.fd)
	switch {
	case soErr == nil:
		s.res.open = append(s.res.open, p.port)
		s.answered++
	case soErr == unix.ECONNREFUSED:
		s.answered++
	case soErr == unix.ETIMEDOUT:
		// Silent: dropped on purpose, or the SYN or its answer lost.
		s.silent = append(s.silent, p.port)
		return
	case soErr == unix.ENETUNREACH && p.start.IsZero():
		// No route from here at all: every port would say the same.
		s.res.unreachable = true
		return
	case soErr == unix.ENETUNREACH || soErr == unix.EHOSTUNREACH:
		// An ICMP error for one port (a firewall's "prohibited") is
		// not the whole device: go on.
		s.hostUnreach++
		s.res.filtered++
		return
	default:
		s.res.filtered++
		return
	}
	if !p.start.IsZero() {
		s.rtt.add(now.Sub(p.start))
	}
}

// result is what the scan learnt: the open ports in order, and whether
// the device is unreachable (no route, or nothing but ICMP errors).
func (s *tcpScan) result() tcpResult {
	res := s.res
	slices.Sort(res.open)
	res.unreachable = len(res.open) == 0 && (res.unreachable || s.hostUnreach > 0 && s.hostUnreach == res.filtered)
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

// lastTCP is what the report found on the open TCP ports of addr of
// point id, by port; nil for a nil report (a first scan).
func (r *Report) lastTCP(id, addr string) map[int]Port {
	if r == nil {
		return nil
	}
	last := map[int]Port{}
	for _, t := range r.Targets {
		if t.Point.ID != id {
			continue
		}
		for _, h := range t.Hosts {
			if h.Addr != addr {
				continue
			}
			for _, p := range h.Ports {
				if p.Proto == "tcp" {
					last[p.Port] = p
				}
			}
		}
	}
	return last
}

// confirmClosed probes once more, with a full connect that lets the kernel
// retransmit its SYN, each port of this scan's range that was open last
// time and was not found now: an open→closed change is reported (and a
// caution "resolved") only when this second look agrees. It returns open
// with the ports found after all, in order.
func confirmClosed(ctx context.Context, addr netip.Addr, wasOpen, open []int, o *Options, lim *rate.Limiter) []int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var found []int
	for _, port := range wasOpen {
		if slices.Contains(open, port) || !slices.Contains(o.TCPPorts, port) {
			continue
		}
		wg.Go(func() {
			if lim.Wait(ctx) != nil {
				return
			}
			// Three times the connect limit: the SYN is sent again after
			// one second, so a single lost SYN does not decide.
			d := net.Dialer{Timeout: 3 * o.ConnectTimeout}
			c, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(addr, uint16(port)).String())
			if err != nil {
				return
			}
			closeProbe(c)
			mu.Lock()
			found = append(found, port)
			mu.Unlock()
		})
	}
	wg.Wait()
	open = slices.Concat(open, found)
	slices.Sort(open)
	return open
}
