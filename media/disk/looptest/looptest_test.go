package looptest

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sysSize(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("/sys/block/" + name + "/size")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestPowerAttachesAndDetaches(t *testing.T) {
	if testing.Short() {
		t.Skip("needs root for loop devices: make test runs it, -short skips it")
	}
	img, err := CreateExt4(filepath.Join(t.TempDir(), "d.img"), 8<<20, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPower(img.Path, nil)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := p.SetPower(true); err != nil {
		t.Fatal(err)
	}
	l := p.Loop()
	if l == nil || !l.Attached() {
		t.Fatalf("power on: loop not attached: %+v", l)
	}
	if got := sysSize(t, l.Name); got != "16384" {
		t.Fatalf("%s size = %s sectors, want 16384", l.Name, got)
	}
	if _, err := os.Stat(l.Path); err != nil {
		t.Fatalf("device node: %v", err)
	}
	if err := p.SetPower(false); err != nil {
		t.Fatal(err)
	}
	if l.Attached() || sysSize(t, l.Name) != "0" {
		t.Fatalf("power off: %s still attached", l.Name)
	}
}

func TestFailureModes(t *testing.T) {
	if testing.Short() {
		t.Skip("needs root for loop devices: make test runs it, -short skips it")
	}
	img, err := CreateExt4(filepath.Join(t.TempDir(), "d.img"), 4<<20, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPower(img.Path, nil)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})

	p.SetMode(NeverAppears)
	if err := p.SetPower(true); err != nil {
		t.Fatal(err)
	}
	if p.Loop() != nil || !p.On() {
		t.Fatal("never-appears: a loop device was attached")
	}
	if err := p.SetPower(false); err != nil {
		t.Fatal(err)
	}

	p.SetMode(NeverDisappears)
	if err := p.SetPower(true); err != nil {
		t.Fatal(err)
	}
	l := p.Loop()
	if err := p.SetPower(false); err != nil {
		t.Fatal(err)
	}
	if !l.Attached() {
		t.Fatal("never-disappears: the loop device went away on power off")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Attached() {
		t.Fatal("Close left the loop device attached")
	}
}

// The partitioned layout cannot be attached with partitions on every test
// kernel, so check the file itself: MBR entry and the superblock at 1 MiB.
func TestPartitionedImageLayout(t *testing.T) {
	uuid := NewUUID()
	img, err := CreateExt4(filepath.Join(t.TempDir(), "p.img"), 8<<20, ImageOptions{UUID: uuid, Partitioned: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(img.Path)
	if err != nil {
		t.Fatal(err)
	}
	if b[510] != 0x55 || b[511] != 0xAA || b[446+4] != 0x83 {
		t.Fatal("no DOS partition table")
	}
	if start := binary.LittleEndian.Uint32(b[446+8:]); start != 2048 {
		t.Fatalf("partition starts at sector %d, want 2048", start)
	}
	sb := b[1<<20+1024:]
	if binary.LittleEndian.Uint16(sb[0x38:]) != 0xEF53 {
		t.Fatal("no ext4 superblock at 1 MiB")
	}
	want := strings.ReplaceAll(uuid, "-", "")
	if got := strings.TrimSpace(string(bytes.ToLower([]byte(hexs(sb[0x68:0x78]))))); got != want {
		t.Fatalf("uuid %s, want %s", got, want)
	}
}

func hexs(b []byte) string {
	const h = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(h[c>>4])
		s.WriteByte(h[c&15])
	}
	return s.String()
}
