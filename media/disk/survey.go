package disk

import (
	"slices"
	"strings"
)

// Seen is a disk with media as Survey finds it: what the commissioning
// page shows of the disk a relay's power brought up, so that a person can
// enrol it as a medium by what it is.
type Seen struct {
	Name string `json:"name"` // whole disk, e.g. "sdb", "loop3"
	// Key tells this appearance apart from an earlier one of the same
	// name: the kernel's numbers and disk sequence change with new media.
	Key       string       `json:"key"`
	Kind      string       `json:"kind"` // "scsi", "loop", "mmc", "nvme", "virtio", "other"
	Model     string       `json:"model,omitempty"`
	Serials   []string     `json:"serials,omitempty"` // USB serial, VPD 0x80, WWN
	Size      int64        `json:"size"`
	Removable bool         `json:"removable,omitempty"`
	USB       bool         `json:"usb,omitempty"`
	InUse     bool         `json:"in_use,omitempty"` // mounted or held: never a medium to enrol
	Volumes   []SeenVolume `json:"volumes,omitempty"`
}

// SeenVolume is a partition of a Seen disk (or the whole disk, when it has
// no partitions) and the ext4 filesystem on it, if any.
type SeenVolume struct {
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	FSUUID   string `json:"fs_uuid,omitempty"` // "" without an ext4 superblock
	Label    string `json:"label,omitempty"`
	FSErrors bool   `json:"fs_errors,omitempty"`
}

// Ext4 returns the disk's volumes that carry an ext4 filesystem: the ones
// a medium can be enrolled on (the gateway never formats).
func (s Seen) Ext4() []SeenVolume {
	var out []SeenVolume
	for _, v := range s.Volumes {
		if v.FSUUID != "" {
			out = append(out, v)
		}
	}
	return out
}

// Survey lists every disk with media now, with its volumes' ext4
// identity, in the order the kernel lists them. It reads sysfs, the mount
// table and superblocks; it never writes and never mounts.
func Survey(opt Options) ([]Seen, error) {
	opt = opt.withDefaults()
	return (&Driver{opt: opt, log: opt.Logger}).survey()
}

func (d *Driver) survey() ([]Seen, error) {
	devs, err := d.listBlock()
	if err != nil {
		return nil, err
	}
	mounted := d.mountedNumbers()
	var s scan
	var out []Seen
	for _, group := range s.groupByDisk(devs) {
		if seen, ok := d.surveyDisk(group, mounted); ok {
			out = append(out, seen)
		}
	}
	return out, nil
}

// surveyDisk describes one disk from its devices; false for a partition whose
// disk has no media.
func (d *Driver) surveyDisk(group []blockDev, mounted map[[2]uint32]bool) (Seen, bool) {
	i := slices.IndexFunc(group, func(b blockDev) bool { return !b.partition })
	if i < 0 {
		return Seen{}, false
	}
	whole := group[i]
	s := Seen{Name: whole.name, Key: whole.key(), Kind: whole.kind, Model: strings.TrimSpace(whole.vendor + " " + whole.model),
		Serials: whole.serials, Size: whole.size, Removable: whole.removable, USB: whole.usb != ""}
	hasParts := false
	for _, b := range group {
		hasParts = hasParts || b.partition
		s.InUse = s.InUse || mounted[[2]uint32{b.major, b.minor}] || b.holders
	}
	for _, v := range d.volumes(group, hasParts) {
		sv := SeenVolume{Name: v.name, Size: v.size}
		if v.sb != nil {
			sv.FSUUID, sv.Label, sv.FSErrors = v.sb.UUID, v.sb.Label, v.sb.HasErrors
		}
		s.Volumes = append(s.Volumes, sv)
	}
	return s, true
}

// Is reports whether s is the disk spec identifies, as a medium's driver
// tells it (serial and ext4 UUID, both when both are given); false for a
// spec that identifies no disk at all.
func (s Seen) Is(spec Spec) bool {
	if spec.Serial == "" && spec.FSUUID == "" {
		return false
	}
	if spec.Serial != "" && !serialMatches(spec.Serial, s.Serials) {
		return false
	}
	return spec.FSUUID == "" || slices.ContainsFunc(s.Volumes, func(v SeenVolume) bool { return strings.EqualFold(v.FSUUID, spec.FSUUID) })
}
