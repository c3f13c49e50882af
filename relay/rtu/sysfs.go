package rtu

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Adapter is a USB serial adapter present now.
type Adapter struct {
	Serial       string // USB serial number ("" if the adapter has none: it cannot be told apart)
	Device       string // "/dev/ttyUSB0"
	Driver       string // kernel driver: "ftdi_sio", "cp210x", "ch341-uart", "cdc_acm"
	Vendor       string // idVendor, e.g. "0403"
	Product      string // idProduct, e.g. "6001"
	Manufacturer string
}

// Adapters lists the USB serial adapters present now (ttyUSB*, ttyACM*),
// read from the sysfs mounted at sysRoot ("" is "/sys"). The appliance has
// no udev and so no /dev/serial/by-id: this is how a module's adapter is
// found by its serial number, whichever ttyUSB it became.
func Adapters(sysRoot string) ([]Adapter, error) {
	return adapters(sysRoot, "/dev")
}

func adapters(sysRoot, devRoot string) ([]Adapter, error) {
	if sysRoot == "" {
		sysRoot = "/sys"
	}
	class := filepath.Join(sysRoot, "class", "tty")
	ents, err := os.ReadDir(class)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Adapter
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "ttyUSB") && !strings.HasPrefix(name, "ttyACM") {
			continue
		}
		if a, ok := adapterOf(filepath.Join(class, name, "device"), filepath.Join(devRoot, name)); ok {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Device < out[j].Device })
	return out, nil
}

// adapterOf resolves a tty's device link and walks up to the USB device
// directory (the one with idVendor): for ttyUSB the link is the
// usb-serial port below the interface, for ttyACM the interface itself.
func adapterOf(deviceLink, dev string) (Adapter, bool) {
	d, err := filepath.EvalSymlinks(deviceLink)
	if err != nil {
		return Adapter{}, false
	}
	a := Adapter{Device: dev, Driver: filepath.Base(readLink(filepath.Join(d, "driver")))}
	for dir := d; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "idVendor")); err != nil {
			continue
		}
		a.Vendor = attr(dir, "idVendor")
		a.Product = attr(dir, "idProduct")
		a.Serial = attr(dir, "serial")
		a.Manufacturer = attr(dir, "manufacturer")
		return a, true
	}
	return Adapter{}, false
}

func readLink(p string) string {
	s, err := os.Readlink(p)
	if err != nil {
		return ""
	}
	return s
}

func attr(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// findAdapter returns the device of the adapter with the given USB serial
// number, or "" if none is plugged in.
func findAdapter(sysRoot, devRoot, serial string) (string, error) {
	as, err := adapters(sysRoot, devRoot)
	if err != nil {
		return "", err
	}
	for _, a := range as {
		if a.Serial == serial {
			return a.Device, nil
		}
	}
	return "", nil
}
