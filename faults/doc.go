// Package faults holds danzen's fault-injection suite (tests only): danzen
// runs as a separate process against a real sshd, real restic and
// loop-device disks whose relays keep their state in files, the way a GPIO
// line keeps its level when the process that drove it dies. The suite kills
// that process with SIGKILL at each phase of a cycle, starts it again, and
// checks that the start drives every relay off and proves it, that the
// next cycle and a restore drill succeed, that staging holds no partial
// file under a final name, that the ledger verifies and records the
// interruption, and that no medium was ever reported offline while it was
// not. It prints the table docs/faults.md keeps.
package faults
