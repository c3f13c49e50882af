package rtu

import (
	"cmp"
	"context"
	"errors"
	"log"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simonvetter/modbus"
	"periph.io/x/conn/v3/gpio"

	"github.com/danzen-gw/danzen/internal/fielderr"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Options configures Open. The zero value is right on the appliance.
type Options struct {
	SysRoot string // where sysfs is mounted; default "/sys"
	DevRoot string // where the tty device nodes are; default "/dev"
	Logger  *slog.Logger
}

// ErrClosed is returned by the pins of a closed Bus.
var ErrClosed = msg.New("リレーモジュールの接続は閉じられています", "the relay modules' bus is closed")

// errNotPlugged: no adapter with the serial number is in sysfs.
var errNotPlugged = errors.New("adapter not found in sysfs")

// Bus is the relay modules of one configuration. Modules on the same
// adapter or device share one serial port (RS-485 multi-drop), and their
// requests go out one at a time.
type Bus struct {
	modules map[string]*module
	ports   []*port
}

// module is one configured module; its state is guarded by its port's mu.
type module struct {
	spec      ModuleSpec
	port      *port
	commanded map[int]bool // coil → the level this Bus last wrote successfully
	dropped   map[int]bool // coils seen off while commanded on, until commanded again
}

// Open checks specs and prepares the modules. It opens no serial port and
// fails only on a configuration error: the adapter may be absent now; each
// request finds it (again) by its USB serial number, so a replugged adapter
// works whichever ttyUSB it becomes.
func Open(ctx context.Context, specs []ModuleSpec, opts Options) (*Bus, error) {
	if err := CheckModules(specs); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logger := cmp.Or(opts.Logger, slog.Default())
	b := &Bus{modules: map[string]*module{}}
	ports := map[string]*port{}
	for _, s := range specs {
		k := portKey(s)
		p := ports[k]
		if p == nil {
			p = &port{adapter: s.Adapter, device: s.Device, baud: cmp.Or(s.Baud, DefaultBaud), parity: s.Parity,
				sysRoot: cmp.Or(opts.SysRoot, "/sys"), devRoot: cmp.Or(opts.DevRoot, "/dev"), log: logger}
			ports[k] = p
			b.ports = append(b.ports, p)
		}
		// One client serves every module on the port: it waits as long as the slowest may take.
		p.timeout = max(p.timeout, cmp.Or(s.Timeout.Std(), DefaultTimeout))
		b.modules[s.Name] = &module{spec: s, port: p, commanded: map[int]bool{}, dropped: map[int]bool{}}
	}
	return b, nil
}

func portKey(s ModuleSpec) string {
	if s.Adapter != "" {
		return "adapter:" + s.Adapter
	}
	return "device:" + s.Device
}

// CheckModules validates every spec and refuses what ModuleConflicts finds.
func CheckModules(specs []ModuleSpec) error {
	var errs []error
	invalid := map[int]bool{}
	for i, s := range specs {
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
			invalid[i] = true
		}
	}
	for _, c := range ModuleConflicts(specs) {
		if !invalid[c.Index] {
			errs = append(errs, &fielderr.Error{In: Item(specs[c.Index].Name), Field: c.Field, Text: c.Text})
		}
	}
	return errors.Join(errs...)
}

// Conflict is a module that clashes with an earlier one in the list.
type Conflict struct {
	Index int    // the module that clashes
	Field string // "name", "address" or "baud"
	Text  msg.Text
}

// ModuleConflicts finds names used twice, two modules with one address on
// the same adapter or device (both would answer every request), and
// modules on one line whose baud rate or parity differ (one RS-485 line
// runs at one setting). The configuration refuses them; Open does too.
func ModuleConflicts(specs []ModuleSpec) []Conflict {
	var out []Conflict
	names := map[string]bool{}
	addrs := map[string]string{}
	lines := map[string]ModuleSpec{}
	for i, s := range specs {
		if names[s.Name] {
			out = append(out, Conflict{i, "name", msg.T("名前が重複しています", "name is used twice")})
		}
		names[s.Name] = true
		k := portKey(s)
		if other, ok := addrs[k+"#"+strconv.Itoa(s.Address)]; ok {
			out = append(out, Conflict{i, "address", msg.Sprintf("同じ線上のモジュール %s がすでにアドレス %d を使っています",
				"module %s on the same line already uses address %d", other, s.Address)})
		} else {
			addrs[k+"#"+strconv.Itoa(s.Address)] = s.Name
		}
		first, ok := lines[k]
		if !ok {
			lines[k] = s
			continue
		}
		if cmp.Or(first.Baud, DefaultBaud) != cmp.Or(s.Baud, DefaultBaud) || parity(first.Parity) != parity(s.Parity) {
			out = append(out, Conflict{i, "baud", msg.Sprintf("同じ線上のモジュール %s と通信速度・パリティが違います(1本の RS-485 線では同じにします)",
				"baud rate or parity differs from module %s on the same line (one RS-485 line runs at one setting)", first.Name)})
		}
	}
	return out
}

func parity(p string) string { return cmp.Or(p, ParityNone) }

// Output returns coil line of module chip, a *Coil: High closes the relay.
func (b *Bus) Output(chip string, line int) (gpio.PinOut, error) {
	m, err := b.module(chip, line)
	if err != nil {
		return nil, err
	}
	return &Coil{m: m, n: line}, nil
}

// Input returns discrete input line of module chip, an *Input. Use its
// ReadLevel: Read cannot report a failed request.
func (b *Bus) Input(chip string, line int) (gpio.PinIn, error) {
	m, err := b.module(chip, line)
	if err != nil {
		return nil, err
	}
	return &Input{m: m, n: line}, nil
}

func (b *Bus) module(chip string, line int) (*module, error) {
	m := b.modules[chip]
	if m == nil {
		return nil, msg.Errorf("リレーモジュール %q は relay_modules にありません", "there is no relay module %q in relay_modules", chip)
	}
	if line < 0 || line > 0xffff {
		return nil, msg.Errorf("リレーモジュール %s: 番号 %d は 0〜65535 の範囲外です", "relay module %s: number %d is outside 0–65535", chip, line)
	}
	return m, nil
}

// Close releases the serial ports. Coils keep their state: the relay
// package turns them off first.
func (b *Bus) Close() error {
	var errs []error
	for _, p := range b.ports {
		p.mu.Lock()
		p.closed = true
		errs = append(errs, p.drop())
		p.mu.Unlock()
	}
	return errors.Join(errs...)
}

// port is one serial line (an adapter or a device) shared by its modules.
type port struct {
	adapter, device  string
	baud             int
	parity           string
	timeout          time.Duration
	sysRoot, devRoot string
	log              *slog.Logger

	mu     sync.Mutex // one request at a time; guards the fields below and the modules' state
	client *modbus.ModbusClient
	path   string // the device open now, or last tried
	closed bool
}

// do runs one request for m, opening the port first if needed. A failure
// closes the port, so that the next request starts on a clean line and
// finds the adapter again (it may come back as another ttyUSB). p.mu must
// be held.
func (p *port) do(m *module, op msg.Text, fn func(c *modbus.ModbusClient) error) error {
	if p.closed {
		return ErrClosed
	}
	fail := func(k Kind, err error) error {
		return &Error{Module: m.spec.Name, Adapter: p.adapter, Device: p.path, Address: m.spec.Address, Op: op, Kind: k, Err: err}
	}
	if p.client == nil {
		if err := p.open(); err != nil {
			return fail(KindAdapter, err)
		}
	}
	err := p.client.SetUnitId(uint8(m.spec.Address))
	if err == nil {
		err = fn(p.client)
	}
	if err == nil {
		return nil
	}
	k := kindOf(err)
	switch k {
	case KindRefused: // a well-formed answer: the line is in step
	case KindAdapter:
		p.log.Warn("relay module: serial port failed, closing it", "adapter", p.adapter, "device", p.path, "err", err)
	default:
		// A late answer would be read as the next request's: reopening the
		// port flushes what is left on the line.
		p.log.Debug("relay module: request failed, reopening the port", "device", p.path, "err", err)
	}
	if k != KindRefused {
		if cerr := p.drop(); cerr != nil {
			p.log.Debug("relay module: closing the failed port", "err", cerr)
		}
	}
	return fail(k, err)
}

func (p *port) open() error {
	p.path = p.device
	if p.adapter != "" {
		dev, err := findAdapter(p.sysRoot, p.devRoot, p.adapter)
		if err != nil {
			return err
		}
		if p.path = dev; dev == "" {
			return errNotPlugged
		}
	}
	c, err := modbus.NewClient(&modbus.ClientConfiguration{
		URL: "rtu://" + p.path, Speed: uint(p.baud), DataBits: 8, StopBits: 1,
		Parity:  map[string]uint{ParityEven: modbus.PARITY_EVEN, ParityOdd: modbus.PARITY_ODD}[p.parity],
		Timeout: p.timeout, Logger: log.New(debugWriter{p.log}, "", 0),
	})
	if err == nil {
		err = c.Open()
	}
	if err != nil {
		return err
	}
	p.client = c
	p.log.Info("relay module: serial port open", "adapter", p.adapter, "device", p.path, "baud", p.baud)
	return nil
}

// drop closes the port; the next request opens it again.
func (p *port) drop() error {
	if p.client == nil {
		return nil
	}
	c := p.client
	p.client = nil
	return c.Close()
}

// debugWriter sends the Modbus library's log lines to slog at debug level.
type debugWriter struct{ log *slog.Logger }

func (w debugWriter) Write(b []byte) (int, error) {
	w.log.Debug("modbus: " + strings.TrimSpace(string(b)))
	return len(b), nil
}

// writeCoil sets coil n and remembers what was commanded. A failed write
// leaves the coil unknown, so the power-loss check does not judge it.
func (m *module) writeCoil(n int, on bool) error {
	p := m.port
	p.mu.Lock()
	defer p.mu.Unlock()
	op := msg.Sprintf("コイル %d を %s に", "setting coil %d %s", n, onOff(on))
	if err := p.do(m, op, func(c *modbus.ModbusClient) error { return c.WriteCoil(uint16(n), on) }); err != nil {
		delete(m.commanded, n)
		return err
	}
	m.commanded[n] = on
	delete(m.dropped, n)
	return nil
}

// readInput reads discrete input n, then reads back the coils this Bus
// turned on: one that reads off means the module lost power or restarted,
// which is an error until that coil is commanded again.
func (m *module) readInput(n int) (bool, error) {
	p := m.port
	p.mu.Lock()
	defer p.mu.Unlock()
	var v []bool
	op := msg.Sprintf("入力 %d の読み取り", "reading input %d", n)
	err := p.do(m, op, func(c *modbus.ModbusClient) (err error) {
		v, err = c.ReadDiscreteInputs(uint16(n), 1)
		return err
	})
	if err != nil {
		return false, err
	}
	if err := m.checkCoils(); err != nil {
		return false, err
	}
	return v[0], nil
}

func (m *module) checkCoils() error {
	var on []int
	for c, v := range m.commanded {
		if v {
			on = append(on, c)
		}
	}
	if len(on) > 0 {
		slices.Sort(on)
		lo, hi := on[0], on[len(on)-1]
		var v []bool
		op := msg.Sprintf("コイル %d〜%d の読み返し", "reading back coils %d–%d", lo, hi)
		err := m.port.do(m, op, func(c *modbus.ModbusClient) (err error) {
			v, err = c.ReadCoils(uint16(lo), uint16(hi-lo+1))
			return err
		})
		if err != nil {
			return err
		}
		for _, c := range on {
			if !v[c-lo] {
				m.dropped[c] = true
			}
		}
	}
	if len(m.dropped) == 0 {
		return nil
	}
	coils := make([]int, 0, len(m.dropped))
	for c := range m.dropped {
		coils = append(coils, c)
	}
	slices.Sort(coils)
	p := m.port
	return &Error{Module: m.spec.Name, Adapter: p.adapter, Device: p.path, Address: m.spec.Address,
		Op: msg.T("コイルの読み返し", "reading back the coils"), Kind: KindPowerLoss, Coils: coils}
}

func onOff(on bool) msg.Text {
	if on {
		return msg.Plain("ON")
	}
	return msg.Plain("OFF")
}
