// Package tapefake is an LTO drive and its cartridges in memory, for tests
// and the demo. Drive implements tape.Host, so the tape driver runs through
// the same code path as with the st driver. The drive is there only while
// it has power (couple it to a fake relay with Follow); a cartridge holds
// records and filemarks up to its capacity, can be write-protected, and
// stays in the slot after an eject until the drive loads it again or a
// person takes it out.
package tapefake

import (
	"context"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/media/tape"
)

// Cartridge is one tape: records and filemarks in order.
type Cartridge struct {
	mu             sync.Mutex
	capacity       int64
	writeProtected bool
	items          []item
	used           int64
}

type item struct {
	data []byte // nil: a filemark
}

// NewCartridge returns a blank tape holding capacity bytes of records.
func NewCartridge(capacity int64) *Cartridge { return &Cartridge{capacity: capacity} }

// SetWriteProtected slides the write-protect tab.
func (c *Cartridge) SetWriteProtected(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeProtected = on
}

// Files returns each tape file's records, in order; a file not closed by
// a filemark is last.
func (c *Cartridge) Files() [][][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var files [][][]byte
	var cur [][]byte
	open := false
	for _, it := range c.items {
		if it.data == nil {
			files = append(files, cur)
			cur, open = nil, false
			continue
		}
		cur, open = append(cur, it.data), true
	}
	if open {
		files = append(files, cur)
	}
	return files
}

// Used is the bytes of records on the tape.
func (c *Cartridge) Used() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// Drive is a tape drive on a relay.
type Drive struct {
	path string

	mu       sync.Mutex
	powered  bool
	gen      int // power cycles; handles from an older one fail
	cart     *Cartridge
	loaded   bool // threaded and online
	ejected  bool // unloaded, still in the slot
	pos      int
	variable bool
	unloads  int
}

var _ tape.Host = (*Drive)(nil)

// NewDrive returns an unpowered, empty drive; path names it in messages.
func NewDrive(path string) *Drive { return &Drive{path: path} }

func (d *Drive) String() string { return d.path }

// Insert puts a cartridge into the slot; a powered drive loads it at once,
// an unpowered one when it powers up.
func (d *Drive) Insert(c *Cartridge) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cart, d.ejected, d.pos = c, false, 0
	d.loaded = d.powered
}

// Remove takes the cartridge out of the slot (nil when empty).
func (d *Drive) Remove() *Cartridge {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.cart
	d.cart, d.loaded, d.ejected = nil, false, false
	return c
}

// Loaded reports whether a cartridge is threaded (not ejected).
func (d *Drive) Loaded() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.loaded
}

// Unloads counts ejects.
func (d *Drive) Unloads() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.unloads
}

// SetPower switches the drive's supply. Power loss rewinds nothing (the
// tape stays where it is) but every open handle fails from then on.
func (d *Drive) SetPower(on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if on == d.powered {
		return
	}
	d.powered = on
	d.gen++
	d.variable = false
	if on && d.cart != nil && !d.ejected {
		d.loaded, d.pos = true, 0 // a cartridge inserted while off loads at power-up
	}
}

// Follow switches the power whenever powered() changes (e.g. a fake
// relay's Powered), polling every period, until ctx ends.
func (d *Drive) Follow(ctx context.Context, powered func() bool, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		d.SetPower(powered())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Present implements tape.Host: the kernel sees the drive while powered.
func (d *Drive) Present() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.powered
}

// Open implements tape.Host like st: no node without power, and a write
// open of a loaded write-protected cartridge is refused.
func (d *Drive) Open(write bool) (tape.Device, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.powered {
		return nil, &fs.PathError{Op: "open", Path: d.path, Err: unix.ENOENT}
	}
	if write && d.loaded && d.cart.wp() {
		return nil, fmt.Errorf("%s: %w", d.path, tape.ErrWriteProtected)
	}
	return &handle{d: d, gen: d.gen}, nil
}

func (c *Cartridge) wp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeProtected
}

// handle is an open drive.
type handle struct {
	d   *Drive
	gen int
}

// lock takes the drive and checks the handle is still valid; loaded
// requires a cartridge online.
func (h *handle) lock(loaded bool) (*Drive, error) {
	d := h.d
	d.mu.Lock()
	if !d.powered || d.gen != h.gen {
		d.mu.Unlock()
		return nil, fmt.Errorf("%s: drive lost power: %w", d.path, unix.EIO)
	}
	if loaded && !d.loaded {
		d.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", d.path, unix.ENOMEDIUM)
	}
	if loaded {
		d.cart.mu.Lock()
	}
	return d, nil
}

func (h *handle) unlock(d *Drive, loaded bool) {
	if loaded {
		d.cart.mu.Unlock()
	}
	d.mu.Unlock()
}

func (h *handle) Status() (tape.Status, error) {
	d, err := h.lock(false)
	if err != nil {
		return tape.Status{}, err
	}
	defer d.mu.Unlock()
	st := tape.Status{Online: d.loaded, File: -1, Block: -1}
	if !d.loaded {
		return st, nil
	}
	c := d.cart
	c.mu.Lock()
	defer c.mu.Unlock()
	st.BOT, st.EOD, st.WriteProtected = d.pos == 0, d.pos == len(c.items), c.writeProtected
	st.File, st.Block = 0, 0
	for _, it := range c.items[:d.pos] {
		if it.data == nil {
			st.File, st.Block = st.File+1, 0
		} else {
			st.Block++
		}
	}
	return st, nil
}

func (h *handle) Load() error {
	d, err := h.lock(false)
	if err != nil {
		return err
	}
	defer d.mu.Unlock()
	if d.cart == nil {
		return fmt.Errorf("%s: MTLOAD: %w", d.path, unix.ENOMEDIUM)
	}
	d.loaded, d.ejected, d.pos = true, false, 0
	return nil
}

func (h *handle) SetVariableBlock() error {
	d, err := h.lock(false)
	if err != nil {
		return err
	}
	defer d.mu.Unlock()
	d.variable = true
	return nil
}

// do runs f with the drive and its loaded cartridge locked.
func (h *handle) do(f func(d *Drive, c *Cartridge) error) error {
	d, err := h.lock(true)
	if err != nil {
		return err
	}
	defer h.unlock(d, true)
	return f(d, d.cart)
}

func (h *handle) Rewind() error {
	return h.do(func(d *Drive, c *Cartridge) error { d.pos = 0; return nil })
}

func (h *handle) SpaceEOD() error {
	return h.do(func(d *Drive, c *Cartridge) error { d.pos = len(c.items); return nil })
}

func (h *handle) SpaceFiles(n int) error {
	return h.do(func(d *Drive, c *Cartridge) error {
		for n > 0 {
			if d.pos == len(c.items) {
				return fmt.Errorf("%s: MTFSF: blank tape: %w", d.path, unix.EIO)
			}
			if c.items[d.pos].data == nil {
				n--
			}
			d.pos++
		}
		return nil
	})
}

// write truncates the tape at the head, as writing on tape erases what
// follows, and appends it.
func (h *handle) write(it item) error {
	return h.do(func(d *Drive, c *Cartridge) error {
		if c.writeProtected {
			return fmt.Errorf("%s: %w", d.path, tape.ErrWriteProtected)
		}
		if !d.variable && it.data != nil {
			return fmt.Errorf("%s: fixed block mode: %w", d.path, unix.EINVAL)
		}
		for _, old := range c.items[d.pos:] {
			c.used -= int64(len(old.data))
		}
		c.items = c.items[:d.pos]
		// Filemarks still fit past the early warning; records do not.
		if c.used+int64(len(it.data)) > c.capacity {
			return fmt.Errorf("%s: %w", d.path, tape.ErrEndOfMedium)
		}
		if it.data != nil {
			it.data = append([]byte(nil), it.data...)
		}
		c.items = append(c.items, it)
		c.used += int64(len(it.data))
		d.pos++
		return nil
	})
}

func (h *handle) WriteRecord(p []byte) error { return h.write(item{data: p}) }
func (h *handle) WriteFilemark() error       { return h.write(item{}) }

func (h *handle) ReadRecord(p []byte) (int, error) {
	var n int
	err := h.do(func(d *Drive, c *Cartridge) error {
		if d.pos == len(c.items) {
			return tape.ErrEndOfData
		}
		it := c.items[d.pos]
		if it.data == nil {
			d.pos++
			return tape.ErrFilemark
		}
		if len(it.data) > len(p) {
			return fmt.Errorf("%s: record of %d bytes, buffer %d: %w", d.path, len(it.data), len(p), unix.ENOMEM)
		}
		n = copy(p, it.data)
		d.pos++
		return nil
	})
	return n, err
}

func (h *handle) Unload() error {
	return h.do(func(d *Drive, c *Cartridge) error {
		d.loaded, d.ejected, d.pos = false, true, 0
		d.unloads++
		return nil
	})
}

func (h *handle) Close() error { return nil }
