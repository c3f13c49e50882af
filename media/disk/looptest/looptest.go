// Package looptest gives tests and the demo removable disks that really
// come and go: ext4 image files attached as loop devices, so /sys/block,
// superblocks, mounts and unmounts are the kernel's own. A Power couples a
// (fake) relay to the image: power on attaches it, power off detaches it,
// and failure modes model a disk that never appears or never goes away.
//
// It needs root, the loop driver and mkfs.ext4 (e2fsprogs) at image
// creation time; the appliance itself never formats.
package looptest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// loop flags from <linux/loop.h>; x/sys/unix lacks them.
const (
	loFlagsAutoclear = 4
	loFlagsPartscan  = 8
)

// Image is an ext4 filesystem in a file.
type Image struct {
	Path string
	UUID string // filesystem UUID
	Size int64  // file size in bytes
	// Partitioned: the file holds an MBR with one partition at 1 MiB, and
	// the filesystem is inside it.
	Partitioned bool
}

// ImageOptions tune CreateExt4.
type ImageOptions struct {
	UUID        string // "" for a random one
	Label       string
	Partitioned bool
}

// NewUUID returns a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// CreateExt4 makes a sparse file of size bytes holding a fresh ext4
// filesystem (mkfs.ext4 -F -q -U <uuid>).
func CreateExt4(path string, size int64, o ImageOptions) (*Image, error) {
	if size < 2<<20 {
		return nil, fmt.Errorf("image size %d is too small (min 2 MiB)", size)
	}
	if o.UUID == "" {
		o.UUID = NewUUID()
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	args := []string{"-F", "-q", "-U", o.UUID}
	if o.Label != "" {
		args = append(args, "-L", o.Label)
	}
	const partStart = 1 << 20
	if o.Partitioned {
		args = append(args, "-E", fmt.Sprintf("offset=%d", partStart), path, strconv.FormatInt((size-partStart)/1024, 10)+"k")
	} else {
		args = append(args, path)
	}
	if out, err := exec.Command("mkfs.ext4", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mkfs.ext4 %s: %w: %s", strings.Join(args, " "), err, out)
	}
	if o.Partitioned {
		if err := writeMBR(path, partStart/512, (size-partStart)/512); err != nil {
			return nil, err
		}
	}
	return &Image{Path: path, UUID: o.UUID, Size: size, Partitioned: o.Partitioned}, nil
}

// writeMBR writes a DOS partition table with one Linux partition.
func writeMBR(path string, start, sectors int64) error {
	var mbr [512]byte
	e := mbr[446:462]
	e[4] = 0x83
	binary.LittleEndian.PutUint32(e[8:], uint32(start))
	binary.LittleEndian.PutUint32(e[12:], uint32(sectors))
	mbr[510], mbr[511] = 0x55, 0xAA
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(mbr[:], 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Loop is an attached loop device.
type Loop struct {
	Number int
	Name   string // "loop3"
	Path   string // "/dev/loop3"
	Image  string
}

// Attach binds image to a free loop device (LOOP_CTL_GET_FREE +
// LOOP_CONFIGURE), without autoclear so it stays until Detach, with
// partition scanning so a partitioned image shows its partitions.
func Attach(image string) (*Loop, error) {
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/loop-control: %w", err)
	}
	defer func() { _ = ctl.Close() }() // a control device: nothing to write back
	// sysfs shows the backing file's resolved absolute path; keep that form.
	if abs, err := filepath.Abs(image); err == nil {
		image = abs
	}
	if real, err := filepath.EvalSymlinks(image); err == nil {
		image = real
	}
	backing, err := os.OpenFile(image, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = backing.Close() }() // a bound loop device keeps its own reference
	// Another process may grab the same free device between GET_FREE and
	// CONFIGURE; the loser gets EBUSY and tries the next one.
	for attempt := 0; attempt < 20; attempt++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, fmt.Errorf("LOOP_CTL_GET_FREE: %w", err)
		}
		path, err := loopNode(n)
		if err != nil {
			return nil, err
		}
		lf, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		cfg := unix.LoopConfig{Fd: uint32(backing.Fd())}
		cfg.Info.Flags = loFlagsPartscan // and not loFlagsAutoclear
		copy(cfg.Info.File_name[:], image)
		err = unix.IoctlLoopConfigure(int(lf.Fd()), &cfg)
		_ = lf.Close() // used for the ioctl only
		if errors.Is(err, unix.EBUSY) {
			time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("LOOP_CONFIGURE %s: %w", path, err)
		}
		return &Loop{Number: n, Name: "loop" + strconv.Itoa(n), Path: path, Image: image}, nil
	}
	return nil, errors.New("no free loop device after 20 attempts")
}

// loopNode makes sure /dev/loopN exists (a container's /dev may lack nodes
// for loop devices created on demand).
func loopNode(n int) (string, error) {
	path := "/dev/loop" + strconv.Itoa(n)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := unix.Mknod(path, unix.S_IFBLK|0o600, int(unix.Mkdev(7, uint32(n)))); err != nil && !errors.Is(err, unix.EEXIST) {
		return "", fmt.Errorf("mknod %s: %w", path, err)
	}
	return path, nil
}

// Detach unbinds the loop device (LOOP_CLR_FD). If the device is still
// open elsewhere (mounted) the kernel defers the unbinding to the last
// close; Detach then returns an error saying so.
func (l *Loop) Detach() error {
	f, err := os.OpenFile(l.Path, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	err = unix.IoctlSetInt(int(f.Fd()), unix.LOOP_CLR_FD, 0)
	// Opened for the ioctl only.
	_ = f.Close()
	if err != nil && !errors.Is(err, unix.ENXIO) { // ENXIO: not bound
		return fmt.Errorf("LOOP_CLR_FD %s: %w", l.Path, err)
	}
	// The kernel clears on the last close: wait briefly for it.
	for i := 0; i < 100; i++ {
		if !l.Attached() {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s is still attached (in use: mounted or open); it will detach on last close", l.Name)
}

// Attached reports whether the loop device is bound to its image (the same
// one: another test may have reused the number).
func (l *Loop) Attached() bool {
	b, err := os.ReadFile("/sys/block/" + l.Name + "/loop/backing_file")
	return err == nil && strings.TrimSpace(string(b)) == l.Image
}

// Mode is a Power's behaviour.
type Mode int

const (
	Healthy         Mode = iota
	NeverAppears         // power on does nothing: the disk is dead or the cable is loose
	NeverDisappears      // power off does nothing: the relay is welded
)

func (m Mode) String() string {
	switch m {
	case Healthy:
		return "healthy"
	case NeverAppears:
		return "never-appears"
	case NeverDisappears:
		return "never-disappears"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Power is a disk behind a power switch: on attaches the image, off
// detaches it.
type Power struct {
	image string
	log   *slog.Logger

	mu   sync.Mutex
	mode Mode
	on   bool
	loop *Loop
}

// NewPower returns a powered-off disk for image. log may be nil.
func NewPower(image string, log *slog.Logger) *Power {
	if log == nil {
		log = slog.Default()
	}
	return &Power{image: image, log: log.With(slog.String("image", filepath.Base(image)))}
}

// SetMode changes the failure mode; it applies from the next switch.
func (p *Power) SetMode(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
}

// SetPower switches the disk's power.
func (p *Power) SetPower(on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.on = on
	switch {
	case on && p.loop == nil && p.mode != NeverAppears:
		l, err := Attach(p.image)
		if err != nil {
			return err
		}
		p.loop = l
		p.log.Debug("disk powered on", slog.String("loop", l.Name))
	case !on && p.loop != nil && p.mode != NeverDisappears:
		if err := p.loop.Detach(); err != nil {
			return err
		}
		p.log.Debug("disk powered off", slog.String("loop", p.loop.Name))
		p.loop = nil
	}
	return nil
}

// On reports the last switched state.
func (p *Power) On() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.on
}

// Loop returns the attached loop device, or nil.
func (p *Power) Loop() *Loop {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.loop
}

// Follow switches the power whenever powered() changes (poll it every
// period), e.g. a fake relay's Powered, until ctx ends. Switch errors go to
// the log and are retried on the next poll.
func (p *Power) Follow(ctx context.Context, powered func() bool, every time.Duration) {
	if every <= 0 {
		every = 20 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last, known := false, false
	for {
		want := powered()
		if !known || want != last {
			if err := p.SetPower(want); err != nil {
				p.log.Warn("looptest: switching disk power failed", slog.Bool("on", want), slog.Any("err", err))
			} else {
				last, known = want, true
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close detaches the image whatever the mode (cleanup).
func (p *Power) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.on = false
	if p.loop == nil {
		return nil
	}
	err := p.loop.Detach()
	if err == nil {
		p.loop = nil
	}
	return err
}
