package build

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ReadGokrazyFATFile reads the file at path (e.g. "/cmdline.txt") from a
// FAT16 boot file system the way gokrazy's on-device FAT reader locates it:
// one FAT copy, 8.3 short names only, contiguous files. gokrazy uses that
// reader to flip root=…/PARTNROFF= in cmdline.txt and the systemd-boot entry
// during an update, so a boot file system it cannot read would leave the
// device booting the old root forever.
func ReadGokrazyFATFile(r io.ReaderAt, p string) ([]byte, error) {
	off, n, err := gokrazyFATExtent(r, p)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, off); err != nil {
		return nil, err
	}
	return buf, nil
}

func gokrazyFATExtent(r io.ReaderAt, p string) (offset, length int64, _ error) {
	var bpb [25]byte
	if _, err := r.ReadAt(bpb[:], 0); err != nil {
		return 0, 0, fmt.Errorf("reading the boot sector: %w", err)
	}
	sectorSize := int64(binary.LittleEndian.Uint16(bpb[11:]))
	sectorsPerCluster := int64(bpb[13])
	reserved := int64(binary.LittleEndian.Uint16(bpb[14:]))
	numFATs := bpb[16]
	rootEntries := int64(binary.LittleEndian.Uint16(bpb[17:]))
	fatSectors := int64(binary.LittleEndian.Uint16(bpb[22:]))
	switch {
	case sectorSize == 0 || sectorsPerCluster == 0:
		return 0, 0, errors.New("not a FAT file system")
	case numFATs != 1:
		return 0, 0, fmt.Errorf("%d FAT copies; gokrazy's reader assumes exactly one", numFATs)
	case fatSectors == 0 || rootEntries == 0:
		return 0, 0, errors.New("not FAT16 (FAT32 has no fixed root directory); gokrazy's reader needs FAT16")
	}
	dirOffset := (reserved + fatSectors) * sectorSize
	rootBytes := rootEntries * 32
	dataOffset := dirOffset + (rootBytes+sectorSize-1)/sectorSize*sectorSize

	components := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for ci, component := range components {
		want := gokrazyShortName(component)
		found := false
		// gokrazy scans rootEntries slots in every directory, skipping empty ones.
		for i := int64(0); i < rootEntries; i++ {
			var e [32]byte
			if _, err := r.ReadAt(e[:], dirOffset+i*32); err != nil {
				return 0, 0, err
			}
			if e[0] == 0 {
				continue
			}
			name := string(bytes.TrimRight(e[0:8], " "))
			if e[8] != ' ' {
				name += "." + string(e[8:11])
			}
			if !strings.EqualFold(name, want) && name != component {
				continue
			}
			attr := e[11]
			cluster := int64(binary.LittleEndian.Uint16(e[26:]))
			size := int64(binary.LittleEndian.Uint32(e[28:]))
			off := dataOffset + (cluster-2)*sectorsPerCluster*sectorSize
			if attr == 0x10 {
				dirOffset = off
				found = true
				break
			}
			if ci != len(components)-1 {
				return 0, 0, fmt.Errorf("%s is a file, not a directory", component)
			}
			return off, size, nil
		}
		if !found {
			break
		}
	}
	return 0, 0, fmt.Errorf("%q not found", p)
}

// gokrazyShortName is the 8.3 name gokrazy's reader expects for a component:
// upper case, spaces and leading dots dropped, base cut to 8 and extension
// to 3 characters, and a "~1" tail when anything was cut.
func gokrazyShortName(component string) string {
	basis := strings.ReplaceAll(strings.ToUpper(component), " ", "")
	basis = strings.TrimLeft(basis, ".")
	primary, ext := basis, ""
	if i := strings.LastIndex(basis, "."); i >= 0 {
		primary, ext = basis[:i], basis[i+1:]
	}
	fits := true
	if len(primary) > 8 {
		primary, fits = primary[:8], false
	}
	if len(ext) > 3 {
		ext, fits = ext[:3], false
	}
	if !fits {
		if len(primary) > 6 {
			primary = primary[:6]
		}
		primary += "~1"
	}
	if ext != "" {
		return primary + "." + ext
	}
	return primary
}
