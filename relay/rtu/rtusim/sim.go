// Package rtusim simulates a Modbus RTU relay module (coils with
// opto-isolated discrete inputs) for the tests, the demo and the QEMU
// hardware-in-the-loop harness. It frames RTU itself: requests are parsed
// by function code from a byte stream, so it also works where frame gaps
// are lost (a pty, a QEMU chardev socket). Discrete input i follows coil i,
// unless a fault says otherwise.
package rtusim

import (
	"context"
	"encoding/binary"
	"io"
	"sync"
	"time"
)

// Fault is a failure the module plays.
type Fault int

const (
	FaultNone      Fault = iota
	FaultNoAnswer        // requests are read and not answered
	FaultBadCRC          // answers carry a wrong CRC
	FaultNoEcho          // a write's answer echoes another value (the write is not applied)
	FaultPowerLoss       // all coils drop at once; silent until SetFault(FaultNone)
)

// Module is one simulated module. Its methods are safe for concurrent use.
type Module struct {
	addr byte
	mu   sync.Mutex
	reg  []bool // coil registers, as written over Modbus
	cont []bool // relay contacts: follow reg unless welded
	weld []bool
	in   []*bool // forced inputs; nil follows the contact
	// gate are interlock timers in the coils' supply: while coil i's
	// reports closed, its relay drops whatever the register says (nil:
	// no timer).
	gate []func() bool
	// fault applies until changed; shot applies to the next shots requests first.
	fault, shot Fault
	shots       int
	shotWrites  bool // the shots hit only writes (FC05, FC15)
	requests    int
	onCoil      func(coil int, on bool)
}

// New makes a module answering at address with channels coils and inputs
// (numbered from 0).
func New(address, channels int) *Module {
	return &Module{addr: byte(address), reg: make([]bool, channels), cont: make([]bool, channels),
		weld: make([]bool, channels), in: make([]*bool, channels), gate: make([]func() bool, channels)}
}

type change struct {
	coil int
	on   bool
}

// OnCoil sets fn to be called on every change of a relay contact (not
// under the module's lock, before the answer is sent).
func (m *Module) OnCoil(fn func(coil int, on bool)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onCoil = fn
}

// SetFault sets the fault played from now on. FaultPowerLoss drops every
// coil (a welded contact stays closed).
func (m *Module) SetFault(f Fault) {
	m.mu.Lock()
	m.fault, m.shots = f, 0
	var ch []change
	if f == FaultPowerLoss {
		for i := range m.reg {
			m.reg[i] = false
			ch = m.follow(i, ch)
		}
	}
	fn := m.onCoil
	m.mu.Unlock()
	notify(fn, ch)
}

// FailNext plays f for the next n requests to this module only, then
// returns to the fault set by SetFault: a burst of noise.
func (m *Module) FailNext(f Fault, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shot, m.shots, m.shotWrites = f, n, false
}

// FailNextWrite is FailNext for the next n writes (FC05, FC15) only:
// noise that hits the command.
func (m *Module) FailNextWrite(f Fault, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shot, m.shots, m.shotWrites = f, n, true
}

// Weld welds coil's contact closed: it closes now and ignores "off" until
// unwelded; the input stays on.
func (m *Module) Weld(coil int, welded bool) {
	m.mu.Lock()
	m.weld[coil] = welded
	ch := m.follow(coil, nil)
	fn := m.onCoil
	m.mu.Unlock()
	notify(fn, ch)
}

// Gate puts an interlock timer in coil's supply: the relay closes only
// while open() reports true, read on every request and look at the
// module, so a test moves the timer by moving the clock open() reads.
// nil removes it.
func (m *Module) Gate(coil int, open func() bool) {
	m.mu.Lock()
	m.gate[coil] = open
	ch := m.follow(coil, nil)
	fn := m.onCoil
	m.mu.Unlock()
	notify(fn, ch)
}

// regate lets every timer-gated contact follow its timer now. Callers
// hold m.mu and notify the changes after unlocking.
func (m *Module) regate(ch []change) []change {
	for i, g := range m.gate {
		if g != nil {
			ch = m.follow(i, ch)
		}
	}
	return ch
}

// ForceInput makes input i read level (a sense wire that disagrees or is
// broken); nil makes it follow its relay contact again.
func (m *Module) ForceInput(i int, level *bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.in[i] = level
}

// Coil reports whether relay i's contact is closed (the medium powered).
func (m *Module) Coil(i int) bool {
	m.mu.Lock()
	ch := m.regate(nil)
	c, fn := m.cont[i], m.onCoil
	m.mu.Unlock()
	notify(fn, ch)
	return c
}

// Input reports discrete input i as the module would answer it.
func (m *Module) Input(i int) bool {
	m.mu.Lock()
	ch := m.regate(nil)
	in, fn := m.input(i), m.onCoil
	m.mu.Unlock()
	notify(fn, ch)
	return in
}

// Requests counts the requests addressed to this module.
func (m *Module) Requests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests
}

func (m *Module) input(i int) bool {
	if f := m.in[i]; f != nil {
		return *f
	}
	return m.cont[i]
}

// follow sets contact i from its register and weld, noting a change.
func (m *Module) follow(i int, ch []change) []change {
	c := (m.reg[i] && (m.gate[i] == nil || m.gate[i]())) || m.weld[i]
	if c != m.cont[i] {
		m.cont[i] = c
		ch = append(ch, change{i, c})
	}
	return ch
}

func notify(fn func(int, bool), ch []change) {
	if fn == nil {
		return
	}
	for _, c := range ch {
		fn(c.coil, c.on)
	}
}

// Serve answers FC01, FC02, FC05 and FC15 RTU frames for its address
// (others are ignored, as on a shared bus) until ctx ends or rw fails.
func (m *Module) Serve(ctx context.Context, rw io.ReadWriter) error {
	return Serve(ctx, rw, m)
}

// Serve answers for several modules on one line (RS-485 multi-drop). When
// ctx ends it unblocks the read with a read deadline if rw has one, else
// by closing rw if it is an io.Closer.
func Serve(ctx context.Context, rw io.ReadWriter, mods ...*Module) error {
	stop := context.AfterFunc(ctx, func() {
		if d, ok := rw.(interface{ SetReadDeadline(time.Time) error }); ok && d.SetReadDeadline(time.Now()) == nil {
			return
		}
		if c, ok := rw.(io.Closer); ok {
			_ = c.Close() // only to unblock the read; Serve returns ctx's error
		}
	})
	defer stop()
	var buf []byte
	chunk := make([]byte, 512)
	for {
		n, err := rw.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for {
			frame, rest, ok := nextFrame(buf)
			buf = rest
			if !ok {
				break
			}
			if werr := dispatch(rw, frame, mods); werr != nil {
				return werr
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
}

// nextFrame takes the first request frame with a good CRC off buf. Bytes
// that start no such frame are dropped one at a time to find the next
// frame boundary, since gaps between frames are not seen.
func nextFrame(buf []byte) (frame, rest []byte, ok bool) {
	for len(buf) >= 2 {
		var n int
		switch buf[1] {
		case 1, 2, 3, 4, 5, 6:
			n = 8
		case 15, 16:
			if len(buf) < 7 {
				return nil, buf, false
			}
			n = 9 + int(buf[6])
		default:
			buf = buf[1:]
			continue
		}
		if len(buf) < n {
			return nil, buf, false
		}
		if binary.LittleEndian.Uint16(buf[n-2:n]) == CRC(buf[:n-2]) {
			return buf[:n], buf[n:], true
		}
		buf = buf[1:]
	}
	return nil, buf, false
}

func dispatch(w io.Writer, frame []byte, mods []*Module) error {
	if frame[0] == 0 { // broadcast: writes are applied, nobody answers
		for _, m := range mods {
			m.handle(frame)
		}
		return nil
	}
	for _, m := range mods {
		if m.addr == frame[0] {
			if reply := m.handle(frame); reply != nil {
				_, err := w.Write(reply)
				return err
			}
			return nil
		}
	}
	return nil
}

// handle executes one request and returns the framed answer, or nil.
func (m *Module) handle(req []byte) []byte {
	m.mu.Lock()
	m.requests++
	f := m.fault
	if m.shots > 0 && (!m.shotWrites || req[1] == 5 || req[1] == 15) {
		f = m.shot
		m.shots--
	}
	if f == FaultNoAnswer || f == FaultPowerLoss {
		m.mu.Unlock()
		return nil
	}
	gated := m.regate(nil)
	pdu, ch := m.execute(req[1:len(req)-2], f == FaultNoEcho)
	ch = append(gated, ch...)
	fn := m.onCoil
	m.mu.Unlock()
	notify(fn, ch)
	if req[0] == 0 {
		return nil
	}
	out := append([]byte{m.addr}, pdu...)
	crc := CRC(out)
	if f == FaultBadCRC {
		crc ^= 0x5a5a
	}
	return binary.LittleEndian.AppendUint16(out, crc)
}

// Modbus exception codes.
const (
	exFunction = 1
	exAddress  = 2
	exValue    = 3
)

// execute runs one request PDU (function code and data) under m.mu.
func (m *Module) execute(p []byte, noEcho bool) (reply []byte, ch []change) {
	fc := p[0]
	exc := func(code byte) []byte { return []byte{fc | 0x80, code} }
	start, qty := int(binary.BigEndian.Uint16(p[1:3])), int(binary.BigEndian.Uint16(p[3:5]))
	switch fc {
	case 1, 2:
		if qty < 1 || qty > 2000 {
			return exc(exValue), nil
		}
		if start+qty > len(m.reg) {
			return exc(exAddress), nil
		}
		bits := make([]byte, (qty+7)/8)
		for i := range qty {
			v := m.reg[start+i]
			if fc == 2 {
				v = m.input(start + i)
			}
			if v {
				bits[i/8] |= 1 << (i % 8)
			}
		}
		return append([]byte{fc, byte(len(bits))}, bits...), nil
	case 5:
		if qty != 0xff00 && qty != 0 {
			return exc(exValue), nil
		}
		if start >= len(m.reg) {
			return exc(exAddress), nil
		}
		if noEcho {
			return []byte{fc, p[1], p[2], ^p[3], p[4]}, nil
		}
		m.reg[start] = qty == 0xff00
		return append([]byte(nil), p[:5]...), m.follow(start, nil)
	case 15:
		if qty < 1 || qty > 1968 || int(p[5]) != (qty+7)/8 {
			return exc(exValue), nil
		}
		if start+qty > len(m.reg) {
			return exc(exAddress), nil
		}
		if noEcho {
			return []byte{fc, p[1], p[2], p[3], p[4] + 1}, nil
		}
		for i := range qty {
			m.reg[start+i] = p[6+i/8]&(1<<(i%8)) != 0
			ch = m.follow(start+i, ch)
		}
		return append([]byte(nil), p[:5]...), ch
	}
	return exc(exFunction), nil
}

// CRC is the Modbus CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF),
// sent low byte first.
func CRC(b []byte) uint16 {
	crc := uint16(0xffff)
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xa001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
