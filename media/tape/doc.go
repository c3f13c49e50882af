// Package tape is danzen's LTO tape medium: a drive behind the Linux st
// driver (/dev/nstN), powered by its own relay.
//
// restic cannot write to tape, so the medium's restic repository lives in
// a spool directory on the gateway. Each backup session, once restic has
// finished, Flush appends to the loaded tape one tar archive (archive/tar,
// fixed records of RecordSize, 256 KiB–1 MiB, in variable-block mode) of
// the repository files new since that tape's last archive, locks excluded,
// then a filemark, and reads the archive back checking every file's
// SHA-256 (restic names every file but config by it). After a prune has
// deleted pack files the next archive is a full baseline.
//
// Tape layout: file 0 is the label (LabelMember: tape ID and medium); every
// further file is an archive whose first member, CatalogueMember, is the
// tape's catalogue up to and including that archive, followed by the
// repository's files under RepoPrefix. The gateway keeps the same
// catalogue for all of the medium's tapes in the spool directory. A tape
// that fills up mid-archive (ENOSPC from st) is closed with a filemark,
// marked full and never written again; the cycle fails asking for a new
// tape, which then starts with a baseline. A restore reads the archives
// from the last baseline on into a directory and hands that to restic;
// RecoveryCommands gives the same steps with mt and GNU tar.
//
// Offline, per OFFLINE.md: after the session the cartridge is unloaded
// and ejected (MTOFFL), then the relay cuts the drive and the cut is
// verified by the sense input and the drive vanishing from
// /sys/class/scsi_tape. A cartridge left in the slot is pulled in again
// with MTLOAD at the next session (drives that cannot do that need a
// person to insert it).
//
// # Kernel
//
// No gokrazy kernel has the SCSI tape driver. A tape gateway is an amd64
// mini PC with a SAS host bus adapter and needs a kernel built from
// github.com/gokrazy/kernel.amd64 with KernelConfig appended to
// _build/config.addendum.txt (built in, as gokrazy loads no modules):
// fork that repository (e.g. as example.com/hospital-it/kernel.amd64-tape),
// add the lines, run its gokr-rebuild-kernel (see its README), publish the
// module, then in gokrazy/danzen-amd64/config.json set
//
//	"KernelPackage": "example.com/hospital-it/kernel.amd64-tape"
//
// and pin it in builddir/example.com/hospital-it/kernel.amd64-tape/go.mod
// (as builddir/github.com/gokrazy/kernel.amd64 pins the stock one). The
// image builder takes vmlinuz and cmdline.txt from that module. Check on
// the running gateway that /sys/class/scsi_tape/nst0 exists with the
// drive powered.
package tape

// KernelConfig are the kernel options a tape gateway needs beyond
// gokrazy/kernel.amd64's: the st driver and the SAS adapter drivers of
// the common LTO host bus adapters (Broadcom/LSI SAS3008/3808, e.g. 9300-8e and 9500-8e, with
// mpt3sas; Microchip Adaptec SmartHBA with smartpqi).
var KernelConfig = []string{
	"CONFIG_CHR_DEV_ST=y",
	"CONFIG_SCSI_SAS_ATTRS=y",
	"CONFIG_SCSI_MPT3SAS=y",
	"CONFIG_SCSI_SMARTPQI=y",
}
