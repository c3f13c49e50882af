package disk

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSurveyDescribesDisksForEnrolment: the survey names a disk by what
// identifies it (model, serials, size, the ext4 UUID of the volume that
// counts), says whether something uses it, and Is tells it apart by a
// medium's identity as the driver does.
func TestSurveyDescribesDisksForEnrolment(t *testing.T) {
	f := newFakeSys(t)
	// A stale superblock on the whole disk: only the partition counts.
	f.addUSBDisk(t, "2-1", "ABC123", "sdb", 8, 16, fakeSuperblock(uuidB), fakeSuperblock(uuidA))
	proc := t.TempDir()
	write(t, filepath.Join(proc, "self", "mountinfo"), "")
	d := &Driver{opt: Options{SysRoot: f.sys, DevDir: f.dev, ProcRoot: proc}.withDefaults(), log: testLogger(t), fakeNodes: true}
	seen, err := d.survey()
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 {
		t.Fatalf("survey: %+v", seen)
	}
	s := seen[0]
	if s.Name != "sdb" || s.Model != "WD Elements 25A2" || !s.USB || s.InUse || s.Size != 2000000*512 ||
		!slices.Contains(s.Serials, "ABC123") || len(s.Volumes) != 1 || s.Volumes[0].Name != "sdb1" || s.Volumes[0].FSUUID != uuidA {
		t.Fatalf("the disk as surveyed: %+v", s)
	}
	if ext4 := s.Ext4(); len(ext4) != 1 || ext4[0].Name != "sdb1" {
		t.Fatalf("ext4 volumes: %+v", ext4)
	}
	for _, tc := range []struct {
		spec Spec
		want bool
	}{
		{Spec{Serial: "abc123"}, true},
		{Spec{FSUUID: strings.ToUpper(uuidA)}, true},
		{Spec{Serial: "0x5000C500A1B2C3D4", FSUUID: uuidA}, true},
		{Spec{Serial: "ABC123", FSUUID: uuidB}, false}, // the stale superblock is not the medium
		{Spec{Serial: "OTHER"}, false},
		{Spec{}, false},
	} {
		if got := s.Is(tc.spec); got != tc.want {
			t.Errorf("Is(%+v) = %v, want %v", tc.spec, got, tc.want)
		}
	}

	// Mounted: something uses it, so it is never offered for enrolment.
	write(t, filepath.Join(proc, "self", "mountinfo"), "36 35 8:17 / /mnt/x rw,relatime shared:1 - ext4 /dev/sdb1 rw\n")
	seen, err = d.survey()
	if err != nil || len(seen) != 1 || !seen[0].InUse {
		t.Fatalf("a mounted disk: %+v %v", seen, err)
	}
}
