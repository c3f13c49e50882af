// Package disk drives a removable backup disk (USB HDD/SSD, RDX) through
// one nightly cycle on the appliance, where there is no udev and no
// util-linux: only sysfs, device nodes from devtmpfs, and syscalls.
//
//	relay on → WaitAppear → Mount → restic writes <mount>/restic →
//	Detach → relay off → WaitGone
//
// Its two duties come first: never write the wrong disk, and never let a
// medium be called offline when it is not.
//
//   - WaitAppear identifies a volume by serial (USB serial, VPD page 0x80
//     or WWN) and/or ext4 filesystem UUID read from the superblock. A
//     disk that does not match is reported and never opened for writing;
//     two matches are refused.
//   - Mount re-identifies the device (numbers and disk sequence number
//     unchanged), mounts it read-only, checks the media-ID file, and only
//     then remounts it writable. A missing or different ID unmounts it.
//   - Detach never unmounts lazily: a busy filesystem stays mounted and the
//     error names the processes holding it. Every step (syncfs, unmount,
//     flush, SCSI SYNCHRONIZE CACHE, START STOP UNIT, SCSI delete) is
//     reported as done, not applicable (with the reason) or failed.
//   - WaitGone requires the block device, anything matching the identity,
//     and the USB device it hung from to be gone; otherwise the error is a
//     *StillPresentError and the medium is NOT offline.
//
// Package looptest provides ext4 images on loop devices behind a fake power
// switch, for tests and the demo.
package disk
