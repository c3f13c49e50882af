// Package rtu drives Modbus RTU relay modules (DIN-rail modules with relays
// and opto-isolated inputs, on a USB–RS-485 adapter or a board's RS-485
// port) as periph.io gpio pins: a coil is a gpio.PinOut, a discrete input a
// gpio.PinIn whose ReadLevel reports failed requests. The relay package
// uses them exactly as it uses GPIO lines.
//
// Requests go through github.com/simonvetter/modbus (CRC, the echo of
// writes, timeouts) over github.com/goburrow/serial (real termios). Modules
// on one adapter or device share its serial port, one request at a time.
//
// The appliance has no udev, so an adapter is named by its USB serial
// number and found in sysfs: /sys/class/tty/ttyUSB*|ttyACM* → device →
// up to the USB device directory (idVendor, serial). gokrazy's amd64 kernel
// has the FTDI (ftdi_sio), CP210x and CH341 drivers built in. The port is
// opened on the first request; an I/O error (unplugged) closes it and the
// next request finds the adapter again, whichever ttyUSB it became. The
// tests run the lookup on a fake sysfs tree; QEMU's usb-serial device (an
// FTDI chip) shows the real one, and the image's hardware-in-the-loop test
// exercises it.
//
// A module that loses power drops all its coils and later answers again.
// Every input read therefore also reads back the coils this Bus turned on;
// one that reads off is reported (KindPowerLoss) on every read until that
// coil is commanded again.
//
// Package rtusim simulates a module for the tests, the demo and the QEMU
// harness.
package rtu
