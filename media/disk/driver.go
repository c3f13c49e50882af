package disk

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// Options are the driver's environment. The zero value is the appliance.
type Options struct {
	SysRoot  string        // default "/sys"
	DevDir   string        // default "/dev"
	ProcRoot string        // default "/proc"
	Poll     time.Duration // rescan period; default 250ms
	// Settle is how long a match must stay unchanged before it is used: the
	// kernel shows a disk in sysfs a moment before its partitions. Default 500ms.
	Settle time.Duration
	// NoUevents disables the netlink listener (it only speeds up scans).
	NoUevents bool
	Logger    *slog.Logger
	// Events, if set, receives every step as evidence (appear, mismatch,
	// mount, refusal, detach steps, gone). Called synchronously.
	Events func(Event)
}

// EventKind names one step of a disk's life in a cycle; each is a kind of
// the evidence ledger.
type EventKind = ledger.Kind

const (
	EventWaiting      = ledger.KindDiskWaiting
	EventAppeared     = ledger.KindDiskAppeared
	EventMismatch     = ledger.KindDiskMismatch // a disk that is not this medium was seen
	EventNotAppeared  = ledger.KindDiskNotAppeared
	EventMounted      = ledger.KindDiskMounted
	EventRefused      = ledger.KindDiskRefused // identity or media-ID check failed; nothing written
	EventPrepared     = ledger.KindDiskPrepared
	EventUnmounted    = ledger.KindDiskUnmounted
	EventDetachStep   = ledger.KindDiskDetachStep
	EventGone         = ledger.KindDiskGone
	EventStillPresent = ledger.KindDiskStillPresent
)

// Event is one piece of evidence about a disk, as the ledger stores it.
type Event = ledger.DiskEvent

// Device is an identified volume of the medium, as WaitAppear found it.
type Device struct {
	Name    string   `json:"name"` // kernel name of the volume, e.g. "sdb1", "loop3"
	Disk    string   `json:"disk"` // whole disk, e.g. "sdb"
	Path    string   `json:"path"` // device node
	Major   uint32   `json:"major"`
	Minor   uint32   `json:"minor"`
	DiskSeq uint64   `json:"diskseq,omitempty"` // changes whenever the kernel sees new media
	Serials []string `json:"serials,omitempty"`
	FSUUID  string   `json:"fs_uuid"`
	Label   string   `json:"label,omitempty"`
	Size    int64    `json:"size"`
	Kind    string   `json:"kind"`          // "scsi", "loop", "mmc", "nvme", "virtio", "other"
	USB     string   `json:"usb,omitempty"` // sysfs path of the USB device
	Model   string   `json:"model,omitempty"`
	// FSErrors is set when the superblock records filesystem errors: the
	// medium should be checked (e2fsck on a PC) and replaced.
	FSErrors bool `json:"fs_errors,omitempty"`
}

func (d Device) String() string {
	return fmt.Sprintf("%s (%d:%d, fs_uuid %s)", d.Name, d.Major, d.Minor, d.FSUUID)
}

// Driver drives one removable disk medium through a cycle. Its methods are
// meant to be called one at a time, in cycle order.
type Driver struct {
	spec Spec
	opt  Options
	log  *slog.Logger
	// fakeNodes lets internal tests use regular files as device nodes.
	fakeNodes bool

	mu sync.Mutex
	// before holds the disks present before the power went on (BeforePowerOn).
	before map[string]bool
	// seen is what was connected during the last WaitAppear (the medium, or
	// the different disks reported): WaitGone requires all of it gone.
	seen []blockDev
}

// New checks the spec and returns a driver for it.
func New(spec Spec, opt Options) (*Driver, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	return &Driver{spec: spec, opt: opt, log: opt.Logger.With(slog.String("medium", spec.Name))}, nil
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.SysRoot == "" {
		o.SysRoot = "/sys"
	}
	if o.DevDir == "" {
		o.DevDir = "/dev"
	}
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Settle <= 0 {
		o.Settle = 500 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Spec returns the driver's spec.
func (d *Driver) Spec() Spec { return d.spec }

// BeforePowerOn notes the disks present just before the medium's relay is
// switched on. Optional but recommended: WaitAppear then blames only disks
// that came up with the power (a USB stick left in the appliance is never
// "a different disk", and WaitGone does not wait for it to go).
func (d *Driver) BeforePowerOn() error {
	s, err := d.scanOnce(nil, true)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.before = s.keys
	return nil
}

func (d *Driver) emit(e Event) {
	e.Time = time.Now()
	e.Medium = d.spec.Name
	level := slog.LevelInfo
	switch {
	case e.Kind == EventMismatch, e.Kind == EventRefused, e.Kind == EventNotAppeared, e.Kind == EventStillPresent, e.Status == StepFailed:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("kind", string(e.Kind))}
	if e.Device != "" {
		attrs = append(attrs, slog.String("device", e.Device))
	}
	if e.Step != "" {
		attrs = append(attrs, slog.String("step", e.Step), slog.String("status", string(e.Status)))
	}
	d.log.LogAttrs(context.Background(), level, e.Message.String(), attrs...)
	if d.opt.Events != nil {
		d.opt.Events(e)
	}
}

// volume is a block device with what its superblock says.
type volume struct {
	blockDev
	sb *Superblock // nil: no readable ext4 superblock
}

// scan is one look at all block devices.
type scan struct {
	matches     []volume
	foreign     []Candidate
	foreignDevs []blockDev // whole disks of foreign
	unformatted []string   // disks whose serial matches but with no ext4 volume
	serialDisks []string   // disks whose serial matches (Spec.Serial set)
	all         []blockDev // every device with media (size > 0)
	keys        map[string]bool
}

// scanOnce lists block devices, reads their superblocks and sorts them into
// matches and foreign disks. baseline holds the disks present earlier. If it
// was taken before the power was switched on (strict), only disks new since
// then are foreign; otherwise also every unused loop, removable or USB disk,
// since the medium's relay may have brought it up before the first look.
func (d *Driver) scanOnce(baseline map[string]bool, strict bool) (scan, error) {
	devs, err := d.listBlock()
	if err != nil {
		return scan{}, err
	}
	mounted := d.mountedNumbers()
	s := scan{keys: map[string]bool{}}
	for _, group := range s.groupByDisk(devs) {
		d.sortDisk(&s, group, mounted, baseline, strict)
	}
	return s, nil
}

// mountedNumbers is the device numbers of every mounted filesystem. An
// unreadable mount table counts nothing as mounted: it only widens what
// may be called a different disk, never what is taken for the medium.
func (d *Driver) mountedNumbers() map[[2]uint32]bool {
	mounted := map[[2]uint32]bool{}
	mounts, err := d.mounts()
	if err != nil {
		d.log.Debug("mount table unreadable during a scan", "err", err)
	}
	for _, m := range mounts {
		mounted[[2]uint32{m.major, m.minor}] = true
	}
	return mounted
}

// groupByDisk records every device with media in s.all and returns them
// grouped by whole disk, in the order they were listed.
func (s *scan) groupByDisk(devs []blockDev) [][]blockDev {
	byDisk := map[string]int{}
	var groups [][]blockDev
	for _, b := range devs {
		if b.size <= 0 {
			continue
		}
		s.all = append(s.all, b)
		i, ok := byDisk[b.disk]
		if !ok {
			i = len(groups)
			byDisk[b.disk] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], b)
	}
	return groups
}

// sortDisk files one disk (its devices in group) as the medium's match,
// a disk with the medium's serial but no ext4, or a foreign disk.
func (d *Driver) sortDisk(s *scan, group []blockDev, mounted map[[2]uint32]bool, baseline map[string]bool, strict bool) {
	var whole *blockDev
	hasParts, inUse := false, false
	for i := range group {
		if group[i].partition {
			hasParts = true
		} else {
			whole = &group[i]
		}
		if mounted[[2]uint32{group[i].major, group[i].minor}] || group[i].holders {
			inUse = true
		}
	}
	if whole == nil {
		return // partition whose disk has size 0: media going away
	}
	s.keys[whole.key()] = true
	serialOK := d.spec.Serial == "" || serialMatches(d.spec.Serial, whole.serials)
	var diskMatches []volume
	var uuids []string
	// A disk with partitions is used only through them: a stale
	// superblock on the whole disk must not be taken for the medium.
	for _, v := range d.volumes(group, hasParts) {
		if v.sb != nil {
			uuids = append(uuids, v.sb.UUID)
		}
		if serialOK && v.sb != nil && (d.spec.FSUUID == "" || strings.EqualFold(v.sb.UUID, d.spec.FSUUID)) {
			diskMatches = append(diskMatches, v)
		}
	}
	if d.spec.Serial != "" && serialOK {
		s.serialDisks = append(s.serialDisks, whole.name)
	}
	switch {
	case len(diskMatches) > 0:
		s.matches = append(s.matches, diskMatches...)
	case d.spec.Serial != "" && serialOK && len(uuids) == 0:
		s.unformatted = append(s.unformatted, whole.name)
	case d.spec.Serial != "" && serialOK,
		!inUse && baseline != nil && !baseline[whole.key()],
		!inUse && !strict && (whole.kind == "loop" || whole.removable || whole.usb != ""):
		s.foreign = append(s.foreign, Candidate{Name: whole.name, Serials: whole.serials, FSUUIDs: uuids, Size: whole.size, Model: strings.TrimSpace(whole.vendor + " " + whole.model)})
		s.foreignDevs = append(s.foreignDevs, *whole)
	}
}

// volumes reads the superblock of each partition of group (or of the
// whole disk, when it has no partitions).
func (d *Driver) volumes(group []blockDev, partitions bool) []volume {
	var vols []volume
	for _, b := range group {
		if b.partition != partitions {
			continue
		}
		v := volume{blockDev: b}
		if f, _, err := d.openNode(b.name, b.major, b.minor, os.O_RDONLY); err == nil {
			if sb, err := ReadSuperblock(f); err == nil {
				v.sb = &sb
			}
			_ = f.Close() // read only: nothing to lose
		}
		vols = append(vols, v)
	}
	return vols
}

func (d *Driver) device(v volume) Device {
	dev := Device{
		Name: v.name, Disk: v.disk, Major: v.major, Minor: v.minor, DiskSeq: v.diskSeq,
		Serials: v.serials, Size: v.size, Kind: v.kind, USB: v.usb,
		Model: strings.TrimSpace(v.vendor + " " + v.model),
	}
	dev.Path = d.nodePath(v.name)
	if v.sb != nil {
		dev.FSUUID, dev.Label, dev.FSErrors = v.sb.UUID, v.sb.Label, v.sb.HasErrors
	}
	return dev
}

func (d *Driver) nodePath(name string) string {
	return d.opt.DevDir + "/" + strings.ReplaceAll(name, "!", "/")
}

// uevents returns a channel that receives a value whenever the kernel
// announces a block or USB device change, or nil when not listening.
func (d *Driver) wakeups() (<-chan struct{}, func()) {
	if d.opt.NoUevents || d.opt.SysRoot != "/sys" {
		return nil, func() {}
	}
	ch, stop, err := listenUevents()
	if err != nil {
		d.log.Debug("uevent listener unavailable; polling only", slog.Any("err", err))
		return nil, func() {}
	}
	return ch, stop
}

// WaitAppear waits, within the spec's appear timeout, for the medium's
// volume to appear, and returns it. It never mounts or writes anything. When
// other disks appear but not the medium, the error is a
// *DifferentDiskError; when nothing appears, a *NotAppearedError; when two
// devices match, an *AmbiguousError at once. A match is used only once it
// has stayed unchanged for Options.Settle. Call BeforePowerOn before the
// relay goes on so that only disks brought up by it can be blamed.
func (d *Driver) WaitAppear(ctx context.Context) (Device, error) {
	timeout := d.spec.appearTimeout()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wake, stop := d.wakeups()
	defer stop()
	tick := time.NewTicker(d.opt.Poll)
	defer tick.Stop()

	baseline, strict := d.takeBaseline()
	d.emit(Event{Kind: EventWaiting, Message: msg.Sprintf("接続を待っています(%s、最大 %s)", "waiting for the medium (%s, up to %s)",
		d.spec.expected(), timeout)})
	reported := map[string]bool{}
	var last scan
	var st settling
	for {
		s, err := d.scanOnce(baseline, strict)
		if err != nil {
			return Device{}, err
		}
		if baseline == nil {
			baseline = s.keys
		}
		last = s
		d.reportForeign(s, reported)
		if dev, done, err := d.settled(s, &st); done {
			return dev, err
		}
		if !nextScan(wctx, tick.C, wake) {
			break
		}
	}
	return Device{}, d.notAppeared(ctx, last, timeout)
}

// takeBaseline starts a wait: it forgets what the last one saw and takes
// the snapshot BeforePowerOn made (strict when there was one).
func (d *Driver) takeBaseline() (baseline map[string]bool, strict bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen = nil
	baseline, strict = d.before, d.before != nil
	d.before = nil // one snapshot per power-on
	return baseline, strict
}

// reportForeign announces each different disk once per wait.
func (d *Driver) reportForeign(s scan, reported map[string]bool) {
	for i, c := range s.foreign {
		if k := s.foreignDevs[i].key(); !reported[k] {
			reported[k] = true
			d.emit(Event{Kind: EventMismatch, Device: c.Name, Message: msg.Sprintf(
				"別のディスクを検出しました(%s、期待値 %s)。使用しません", "a different disk appeared: %s, expected %s; it is not used",
				c, d.spec.expected())})
		}
	}
}

// settling is how long the one match of the scans has stayed the same.
type settling struct {
	key   string
	since time.Time
	count int
}

// settled judges one scan's matches: a single match that has stayed the
// same for two scans and Options.Settle is the medium; two or more are
// refused at once. done says the wait is over.
func (d *Driver) settled(s scan, st *settling) (dev Device, done bool, err error) {
	switch len(s.matches) {
	case 0:
		*st = settling{}
		return Device{}, false, nil
	case 1:
		v := s.matches[0]
		if k := v.key() + "/" + v.sb.UUID; k != st.key {
			*st = settling{key: k, since: time.Now()}
		}
		st.count++
		if st.count < 2 || time.Since(st.since) < d.opt.Settle {
			return Device{}, false, nil
		}
		dev := d.device(v)
		d.remember(v.blockDev)
		text := msg.Sprintf("媒体を検出しました: %s", "medium appeared: %s", dev)
		if dev.FSErrors {
			text = text.Append("", msg.T("(ファイルシステムにエラー記録あり。点検してください)", " (the filesystem records errors: check it)"))
		}
		d.emit(Event{Kind: EventAppeared, Device: dev.Name, Message: text})
		return dev, true, nil
	}
	var names []string
	for _, v := range s.matches {
		names = append(names, v.name)
		d.remember(v.blockDev)
	}
	err = &AmbiguousError{Medium: d.spec.Name, Expected: d.spec.expected(), Devices: names}
	d.emit(Event{Kind: EventRefused, Message: msg.TextOf(err)})
	return Device{}, true, err
}

// notAppeared is why a wait ended without the medium, given its last scan.
func (d *Driver) notAppeared(ctx context.Context, last scan, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return msg.Errorf("媒体 %s の接続待ちを中断しました: %w", "waiting for medium %s interrupted: %w", d.spec.Name, err)
	}
	var err error
	if len(last.foreign) > 0 {
		for _, b := range last.foreignDevs {
			d.remember(b)
		}
		err = &DifferentDiskError{Medium: d.spec.Name, Expected: d.spec.expected(), Found: last.foreign}
	} else {
		err = &NotAppearedError{Medium: d.spec.Name, Expected: d.spec.expected(), Timeout: timeout, Unformatted: last.unformatted}
	}
	d.emit(Event{Kind: EventNotAppeared, Message: msg.TextOf(err)})
	return err
}

func (d *Driver) remember(b blockDev) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.seen {
		if s.key() == b.key() {
			return
		}
	}
	d.seen = append(d.seen, b)
}

// present lists what of the medium is still visible: any volume matching
// its identity, the devices seen by the last WaitAppear (same numbers and
// disk sequence), and their USB devices. The USB device matters because
// Detach deletes the SCSI disk: its block device is gone before the power
// is cut, and only the USB device still proves the power state.
func (d *Driver) present() ([]string, error) {
	s, err := d.scanOnce(nil, true)
	if err != nil {
		return nil, err
	}
	var out []string
	add := func(x string) {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	for _, v := range s.matches {
		add(fmt.Sprintf("%s (%s)", v.name, d.spec.expected()))
	}
	for _, name := range s.serialDisks {
		add(fmt.Sprintf("%s (serial %s)", name, d.spec.Serial))
	}
	// A USB device carrying the serial is the disk itself, powered, even
	// after its SCSI disk was deleted and without memory of WaitAppear.
	if d.spec.Serial != "" {
		usbDir := filepath.Join(d.opt.SysRoot, "bus", "usb", "devices")
		ents, _ := os.ReadDir(usbDir)
		for _, e := range ents {
			if sn := readString(filepath.Join(usbDir, e.Name(), "serial")); sn != "" && normSerial(sn) == normSerial(d.spec.Serial) {
				add(fmt.Sprintf("USB device %s (serial %s)", e.Name(), sn))
			}
		}
	}
	d.mu.Lock()
	seen := slices.Clone(d.seen)
	d.mu.Unlock()
	for _, b := range seen {
		for _, v := range s.all {
			if v.name == b.name && v.major == b.major && v.minor == b.minor && v.diskSeq == b.diskSeq {
				add(fmt.Sprintf("%s (block device %d:%d)", b.name, b.major, b.minor))
			}
		}
		if b.usb != "" && exists(b.usb) && !slices.ContainsFunc(out, func(x string) bool { return strings.HasPrefix(x, "USB device "+baseName(b.usb)+" ") }) {
			add(fmt.Sprintf("USB device %s (%s)", baseName(b.usb), b.usb))
		}
	}
	return out, nil
}

// WaitGone waits, within the spec's gone timeout, until nothing of the
// medium is visible any more (call it after the relay cut the power). If
// something remains it returns a *StillPresentError: the medium is then NOT
// offline.
func (d *Driver) WaitGone(ctx context.Context) error {
	timeout := d.spec.goneTimeout()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wake, stop := d.wakeups()
	defer stop()
	tick := time.NewTicker(d.opt.Poll)
	defer tick.Stop()
	var last []string
	for {
		p, err := d.present()
		if err != nil {
			return err
		}
		if len(p) == 0 {
			d.mu.Lock()
			d.seen = nil
			d.mu.Unlock()
			d.emit(Event{Kind: EventGone, Message: msg.Sprintf("媒体は /sys から消えました(%s)", "the medium is gone from /sys (%s)", d.spec.expected())})
			return nil
		}
		last = p
		if !nextScan(wctx, tick.C, wake) {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return msg.Errorf("媒体 %s の切断確認を中断しました(オフライン未確認): %w",
			"verifying that medium %s is gone was interrupted (not verified offline): %w", d.spec.Name, err)
	}
	err := &StillPresentError{Medium: d.spec.Name, Present: last, Timeout: timeout}
	d.emit(Event{Kind: EventStillPresent, Message: msg.TextOf(err)})
	return err
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// nextScan waits for the next rescan (the poll tick or a uevent); false
// once the wait's time is up.
func nextScan(ctx context.Context, tick <-chan time.Time, wake <-chan struct{}) bool {
	select {
	case <-ctx.Done():
		return false
	case <-tick:
		return true
	case <-wake:
		return true
	}
}
