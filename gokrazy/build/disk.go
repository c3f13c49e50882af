package build

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"unicode/utf16"
)

// gok's disk layout in 512-byte sectors: boot FAT, two root file systems
// (the running one and the update target) and the persistent /perm.
const (
	sectorSize   = 512
	bootStart    = 8192
	bootSectors  = 204800 // 100 MiB
	rootAStart   = bootStart + bootSectors
	rootSectors  = 1024000 // 500 MiB each
	rootBStart   = rootAStart + rootSectors
	permStart    = rootBStart + rootSectors
	gptEntries   = 128
	gptEntrySize = 128
	// A backup GPT (32 sectors of entries + header) occupies the disk's end.
	gptTailSectors = 33
)

// MinImageSize fits the fixed partitions and a 100 MiB /perm.
const MinImageSize = (permStart + 100<<20/sectorSize + gptTailSectors) * sectorSize

// gokrazy's GUID prefix; the node part carries the hostname hash and the
// partition number, so a device's PARTUUIDs follow from its hostname.
const gokrazyGUIDPrefix = "60c24cc1-f3f9-427a-8199"

func fnv32a(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// PartUUID is the GPT partition GUID gokrazy gives partition n (1–4; 0 is the
// disk GUID) of a device with this hostname.
func PartUUID(hostname string, n int) string {
	return fmt.Sprintf("%s-%08x00%02x", gokrazyGUIDPrefix, fnv32a(hostname), n)
}

// rootCmdlineValue is the root= value: the boot partition's PARTUUID plus
// an offset, which gokrazy flips between 1 and 2 to switch root partitions.
func rootCmdlineValue(hostname string) string {
	return "PARTUUID=" + PartUUID(hostname, 1) + "/PARTNROFF=1"
}

// GPT partition type GUIDs.
const (
	typeESP       = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	typeLinuxData = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
	typeRootAMD64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
	typeRootARM64 = "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"
)

// guidBytes encodes a textual GUID in the mixed-endian on-disk form.
func guidBytes(s string) ([16]byte, error) {
	var g [16]byte
	hex := strings.ReplaceAll(s, "-", "")
	if len(hex) != 32 || strings.Count(s, "-") != 4 {
		return g, fmt.Errorf("malformed GUID %q", s)
	}
	var raw [16]byte
	for i := range raw {
		v, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			return g, fmt.Errorf("malformed GUID %q", s)
		}
		raw[i] = byte(v)
	}
	// The first three fields are little-endian, the last two big-endian.
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5] = raw[5], raw[4]
	g[6], g[7] = raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g, nil
}

type gptPartition struct {
	typ, guid   string
	first, last uint64
	name        string
}

// partitions is the table for a disk of totalSectors sectors.
func partitions(hostname, goarch string, totalSectors uint64) []gptPartition {
	rootType := typeRootARM64
	if goarch == "amd64" {
		rootType = typeRootAMD64
	}
	permLast := totalSectors - gptTailSectors - 1
	return []gptPartition{
		{typeESP, PartUUID(hostname, 1), bootStart, bootStart + bootSectors - 1, "Microsoft basic data"},
		{rootType, PartUUID(hostname, 2), rootAStart, rootAStart + rootSectors - 1, "Linux filesystem"},
		{typeLinuxData, PartUUID(hostname, 3), rootBStart, rootBStart + rootSectors - 1, "Linux filesystem"},
		{typeLinuxData, PartUUID(hostname, 4), permStart, permLast, "Linux filesystem"},
	}
}

// writePartitionTable writes gok's partitioning: a hybrid MBR (the FAT boot
// partition, which the Raspberry Pi firmware looks for, plus a 0xEE entry so
// Linux and UEFI read the GPT) and the primary and backup GPT.
func writePartitionTable(w io.WriterAt, hostname, goarch string, totalSectors uint64) error {
	if totalSectors*sectorSize < MinImageSize {
		return fmt.Errorf("disk of %d bytes is smaller than the %d bytes gokrazy's layout needs", totalSectors*sectorSize, MinImageSize)
	}
	mbr := hybridMBR()
	if _, err := w.WriteAt(mbr[:], 0); err != nil {
		return err
	}
	entries, err := gptEntryArray(partitions(hostname, goarch, totalSectors))
	if err != nil {
		return err
	}
	entriesCRC := crc32.ChecksumIEEE(entries)

	diskGUID, err := guidBytes(PartUUID(hostname, 0))
	if err != nil {
		return err
	}
	lastLBA := totalSectors - 1
	header := func(current, backup, entriesLBA uint64) []byte {
		h := make([]byte, sectorSize)
		copy(h, "EFI PART")
		binary.LittleEndian.PutUint32(h[8:], 0x00010000) // revision 1.0
		binary.LittleEndian.PutUint32(h[12:], 92)        // header size
		binary.LittleEndian.PutUint64(h[24:], current)
		binary.LittleEndian.PutUint64(h[32:], backup)
		binary.LittleEndian.PutUint64(h[40:], 34)                       // first usable
		binary.LittleEndian.PutUint64(h[48:], lastLBA-gptTailSectors+0) // last usable
		copy(h[56:72], diskGUID[:])
		binary.LittleEndian.PutUint64(h[72:], entriesLBA)
		binary.LittleEndian.PutUint32(h[80:], gptEntries)
		binary.LittleEndian.PutUint32(h[84:], gptEntrySize)
		binary.LittleEndian.PutUint32(h[88:], entriesCRC)
		binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
		return h
	}
	for _, part := range []struct {
		off  uint64
		data []byte
	}{
		{1, header(1, lastLBA, 2)},
		{2, entries},
		{lastLBA - 32, entries},
		{lastLBA, header(lastLBA, 1, lastLBA-32)},
	} {
		if _, err := w.WriteAt(part.data, int64(part.off*sectorSize)); err != nil {
			return err
		}
	}
	return nil
}

// hybridMBR is the MBR of gok's layout: the FAT boot partition, which the
// Raspberry Pi firmware looks for, and a GPT protective entry.
func hybridMBR() [sectorSize]byte {
	var mbr [sectorSize]byte
	mbrEntry := func(i int, status, typ byte, first, count uint32) {
		e := mbr[446+16*i:]
		e[0] = status
		copy(e[1:4], []byte{0xFE, 0xFF, 0xFF}) // CHS unusable: use LBA
		e[4] = typ
		copy(e[5:8], []byte{0xFE, 0xFF, 0xFF})
		binary.LittleEndian.PutUint32(e[8:], first)
		binary.LittleEndian.PutUint32(e[12:], count)
	}
	mbrEntry(0, 0x80, 0x0C, bootStart, bootSectors) // FAT32 LBA type, as the Pi firmware expects
	mbrEntry(1, 0x00, 0xEE, 1, bootStart-1)         // GPT protective
	mbr[510], mbr[511] = 0x55, 0xAA
	return mbr
}

// gptEntryArray is the GPT's partition entry array: one entry per
// partition, zeros for the rest of its gptEntries slots.
func gptEntryArray(parts []gptPartition) ([]byte, error) {
	entries := make([]byte, 0, gptEntries*gptEntrySize)
	for _, p := range parts {
		typ, err := guidBytes(p.typ)
		if err != nil {
			return nil, err
		}
		id, err := guidBytes(p.guid)
		if err != nil {
			return nil, err
		}
		var name [72]byte
		for i, u := range utf16.Encode([]rune(p.name)) {
			binary.LittleEndian.PutUint16(name[2*i:], u)
		}
		entries = append(entries, typ[:]...)
		entries = append(entries, id[:]...)
		entries = binary.LittleEndian.AppendUint64(entries, p.first)
		entries = binary.LittleEndian.AppendUint64(entries, p.last)
		entries = binary.LittleEndian.AppendUint64(entries, 0) // attributes
		entries = append(entries, name[:]...)
	}
	return append(entries, make([]byte, gptEntries*gptEntrySize-len(entries))...), nil
}

// makePerm creates the ext4 /perm file system in place inside the image.
func makePerm(ctx context.Context, img string, totalSectors uint64) error {
	first := uint64(permStart)
	last := totalSectors - gptTailSectors - 1
	kib := (last - first + 1) * sectorSize / 1024 / 4 * 4 // whole 4 KiB blocks
	cmd := exec.CommandContext(ctx, "mkfs.ext4", "-q", "-F", "-L", "perm",
		"-E", fmt.Sprintf("offset=%d,nodiscard", first*sectorSize),
		img, strconv.FormatUint(kib, 10)+"k")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mkfs.ext4 (Debian package e2fsprogs) failed: %w\n%s", err, tail(string(b), 20))
	}
	return nil
}

// copyInto writes src at byte offset off of dst, skipping all-zero blocks so
// that the image file stays sparse.
func copyInto(dst *os.File, src string, off, limit int64) (int64, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer closeQuietly(f)
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size() > limit {
		return 0, fmt.Errorf("%s is %d MiB, larger than its %d MiB partition", src, st.Size()>>20, limit>>20)
	}
	buf := make([]byte, 1<<20)
	var n int64
	for {
		m, err := io.ReadFull(f, buf)
		if m > 0 {
			if !allZero(buf[:m]) {
				if _, err := dst.WriteAt(buf[:m], off+n); err != nil {
					return n, err
				}
			}
			n += int64(m)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
