// Package relay powers each backup medium through a GPIO relay only while it
// is written or restored, and proves every power change with a sense input.
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
// must show "simulated — not offline".
package relay
