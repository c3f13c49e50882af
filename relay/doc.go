// Package relay powers each backup medium through a relay (a GPIO line or a
// Modbus RTU relay module) only while it is written or restored, and proves
// every power change with a sense input.
//
// # Wiring (fail-safe)
//
// The medium's supply goes through the relay's normally-open (NO) contact,
// so a crash, a reboot or a power loss leaves the medium unpowered: a relay
// coil that is not driven cannot connect anything. Choose the output line and
// the relay board so that the board's idle input state (line released,
// floating or pulled by the board) is OFF: when the process exits the
// kernel may return the line to an input. Active-low boards with their own
// pull-up are common and fit; set active_low for them.
//
// The sense input is what proves a cut. The safest wiring takes it from the
// normally-closed auxiliary contact of a force-guided relay to ground, with a
// pull-up and active_low=false: the line reads ON while the relay is
// energised, a welded main contact holds it ON, and a broken sense wire
// reads ON too, so every fault shows as "cut not verified". A sense taken
// from the medium's supply (optocoupler) also works; there a broken wire
// reads OFF, which is why a cut counts only when the sense is seen to change
// (below).
//
// # What counts as verified
//
// On and Off drive the output, then wait until the sense input reads the
// wanted level 3 times in a row within the timeout. A state is Verified only
// when the sense was seen to change to it while the command stood (or it
// stayed so since such a change): a sense that already read OFF before the
// OFF command, after the relay had been commanded ON, proves nothing and is
// an error (CauseNoChange). Right after start there is nothing to compare
// with, so an agreeing sense gives Verified=false with ReasonUnproven but no
// error; the next on/off cycle proves it. A relay without a sense input, and
// every relay of the "simulated" driver, is never Verified. Any disagreement
// is a *NotVerifiedError whose message, in Japanese and English, tells the
// person on site what to check. Nothing is ever reported off because a
// command was sent.
//
// A DIN-rail relay module (driver "modbus") is wired the same way: the
// coil's NO contact in the medium's supply, and the sense into one of the
// module's opto-isolated inputs, either from a force-guided relay's NC
// auxiliary contact (sense.active_low=true: the contact opens, and the
// input drops, while the relay is energised) or from the medium's supply.
// The module's coils are on or off (no active_low) and its inputs have
// their own circuit (no pull). A module that lost power drops all its
// relays, which cuts the media, but that is reported (CausePowerLoss) and
// never taken as a proven cut.
//
// Output lines are never read back: in periph's gpioioctl a Read turns the
// line into an input, which would drop the relay. Outputs are held as
// gpio.PinOut so such a read does not compile.
//
// # Start-up
//
// Call Open, then AllOff, before anything else: it drives every relay off at
// once and verifies each. Close does the same and releases the lines.
//
// # Evidence
//
// Every command and every sense reading that confirms or contradicts it is
// passed to Options.Observer as an Event (kinds "check", "command",
// "sense"), in order per relay, for the evidence ledger.
//
// # Drivers
//
// "gpio" uses the GPIO character device (/dev/gpiochip*) through
// periph.io/x/host/v3/gpioioctl, registered with driverreg.Init, so
// Raspberry Pi 4, Pi 5 and amd64 boards share one path; lines are named by
// chip label or device name and line offset. "fake" takes its pins from
// Options.Sources (see relay/fake). "simulated" powers nothing, for a VM:
// every Result and Event has Simulated=true and Verified=false, and callers
// must show "simulated — not offline". "modbus" drives a Modbus RTU relay
// module on a USB–RS-485 adapter (relay/rtu), for boards without GPIO such
// as an amd64 mini PC: chip names a module of Options.Modules, line is its
// coil and sense.line its input, each counted from 0. Its pins are periph
// gpio pins too, so the path is the same; a sense reading that fails (no
// answer, CRC error, wrong answer) is never a level, and leaves the result
// not verified (CauseLink) unless clean readings within the timeout show
// the change. Noise is retried within the timeout.
package relay
