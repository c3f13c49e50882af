package demo

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
	"github.com/danzen-gw/danzen/relay/rtu"
	"github.com/danzen-gw/danzen/relay/rtu/rtusim"
)

// Hardware is simulated hardware for the demo and the tests: fake relays
// whose sense follows the contact (or the channels of a simulated Modbus
// RTU relay module on a pseudo-terminal), and ext4 image files that
// attach as loop devices when their relay closes and detach when it
// opens, so the disks really appear in and vanish from /sys. It needs
// root.
type Hardware struct {
	Board *fake.Board // nil with a relay module
	// Module is the simulated relay module (HardwareOptions.Modbus), and
	// Modules its settings, for the configuration's relay_modules.
	Module     *rtusim.Module
	Modules    []rtu.ModuleSpec
	Relays     []relay.Spec
	Media      []config.Medium
	Images     map[string]*looptest.Image // by medium name
	Powers     map[string]*looptest.Power // by medium name
	cancel     context.CancelFunc
	stopModule func()
	wg         sync.WaitGroup
}

// HardwareOptions vary NewHardwareWith.
type HardwareOptions struct {
	// PowerFrom, if set, says where each disk's power comes from, by
	// relay name, instead of the Board's relays (a test whose relays are
	// driven by another process reads them from fake.Board.Persist files).
	PowerFrom func(relay string) func() bool
	// Modbus puts the relays on the channels of one simulated Modbus RTU
	// relay module, served on a pseudo-terminal (coil i powers disk i, its
	// discrete input i senses it), instead of fake pins.
	Modbus bool
}

// demoModule names the simulated relay module.
const demoModule = "demo-module"

// NewHardware creates one disk image of size bytes per name under dir,
// each behind its own fake relay, and starts coupling power to the loops.
func NewHardware(ctx context.Context, dir string, names []string, size int64, log *slog.Logger) (*Hardware, error) {
	return NewHardwareWith(ctx, dir, names, size, log, HardwareOptions{})
}

// NewHardwareWith is NewHardware with options.
func NewHardwareWith(ctx context.Context, dir string, names []string, size int64, log *slog.Logger, o HardwareOptions) (*Hardware, error) {
	hw := &Hardware{Images: map[string]*looptest.Image{}, Powers: map[string]*looptest.Power{}}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for i, name := range names {
		rs := relay.Spec{Name: "relay-" + name, Driver: relay.DriverFake, Chip: "fake0", Line: 2 * i,
			Sense: &relay.SenseSpec{Chip: "fake0", Line: 2*i + 1},
			// A fake contact answers at once; short timeouts keep fault demos quick.
			OnTimeout: relay.Duration(2 * time.Second), OffTimeout: relay.Duration(3 * time.Second)}
		if o.Modbus {
			rs.Driver, rs.Chip, rs.Line, rs.Sense = relay.DriverModbus, demoModule, i, &relay.SenseSpec{Chip: demoModule, Line: i}
		}
		hw.Relays = append(hw.Relays, rs)
		img, err := looptest.CreateExt4(filepath.Join(dir, name+".img"), size, looptest.ImageOptions{Label: name})
		if err != nil {
			return nil, fmt.Errorf("create disk image for %s: %w", name, err)
		}
		hw.Images[name] = img
		hw.Media = append(hw.Media, config.Medium{
			Name: name, Type: config.MediumDisk, Relay: rs.Name, PasswordFile: name + ".restic-password",
			Disk: &disk.Spec{Name: name, FSUUID: img.UUID, MediaID: "DANZEN-" + strings.ToUpper(name),
				MountDir: filepath.Join(dir, "mnt", name), AppearTimeout: disk.Duration(20 * time.Second),
				// A loop device held open by another process (a second
				// test's disk scan) detaches on its last close: seconds on
				// a busy machine.
				GoneTimeout: disk.Duration(15 * time.Second)},
		})
	}
	ctx, hw.cancel = context.WithCancel(ctx)
	if o.Modbus {
		if err := hw.startModule(ctx, len(names)); err != nil {
			hw.cancel()
			return nil, err
		}
	} else {
		hw.Board = fake.NewBoard(hw.Relays...)
	}
	for i, name := range names {
		p := looptest.NewPower(hw.Images[name].Path, log)
		hw.Powers[name] = p
		var powered func() bool
		if o.Modbus {
			// The contact, as the module's input follows it (a welded coil's too).
			powered = func() bool { return hw.Module.Input(i) }
		} else {
			powered = hw.Board.Relay(hw.Relays[i].Name).Powered
		}
		if o.PowerFrom != nil {
			powered = o.PowerFrom(hw.Relays[i].Name)
		}
		hw.wg.Add(1)
		go func() {
			defer hw.wg.Done()
			p.Follow(ctx, powered, 10*time.Millisecond)
		}()
	}
	return hw, nil
}

// startModule serves a simulated relay module of at least channels
// channels on a pseudo-terminal until ctx ends.
func (hw *Hardware) startModule(ctx context.Context, channels int) error {
	hw.Module = rtusim.New(1, max(channels, 4))
	dev, stop, err := rtusim.StartPTY(ctx, hw.Module)
	if err != nil {
		return fmt.Errorf("start the simulated relay module: %w", err)
	}
	hw.stopModule = stop
	hw.Modules = []rtu.ModuleSpec{{Name: demoModule, Device: dev, Address: 1}}
	return nil
}

// Sources is what gateway.Options.RelaySources needs (nothing for a
// relay module: the configuration's relay_modules say where it is).
func (hw *Hardware) Sources() map[string]relay.PinSource {
	if hw.Board == nil {
		return nil
	}
	return map[string]relay.PinSource{relay.DriverFake: hw.Board}
}

// Close stops the coupling and the module, and detaches every loop device.
func (hw *Hardware) Close() error {
	hw.cancel()
	hw.wg.Wait()
	if hw.stopModule != nil {
		hw.stopModule()
	}
	var first error
	for _, p := range hw.Powers {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
