package disk

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/media/disk/looptest"
)

func TestSpecJSONAndDefaults(t *testing.T) {
	in := `{"name":"usb-mon","serial":"ABC123","fs_uuid":"0B6F1C2E-3D4A-4F5B-8C6D-7E8F9A0B1C2D","media_id":"HOSP-USB-01","rdx":true,"appear_timeout":"2m","gone_timeout":"45s"}`
	var s Spec
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.appearTimeout() != 2*time.Minute || s.goneTimeout() != 45*time.Second || !s.RDX || s.Dir() != "/run/danzen/media/usb-mon" {
		t.Fatalf("spec %+v", s)
	}
	out, _ := json.Marshal(s)
	if !strings.Contains(string(out), `"appear_timeout":"2m"`) {
		t.Errorf("marshal: %s", out)
	}
	if (Spec{}).appearTimeout() != DefaultAppearTimeout || (Spec{}).goneTimeout() != DefaultGoneTimeout {
		t.Error("defaults")
	}
	if err := json.Unmarshal([]byte(`{"appear_timeout":"soon"}`), &s); err == nil || !strings.Contains(err.Error(), "時間の書式") {
		t.Errorf("bad duration: %v", err)
	}
}

func TestSpecValidateNamesFields(t *testing.T) {
	s := Spec{Name: "usb 1", FSUUID: "not-a-uuid", MediaID: "", MountDir: "run/x", AppearTimeout: Duration(time.Hour)}
	err := s.Validate()
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("not a *FieldError: %v", e)
		}
		if fe.Text.JA == "" || fe.Text.EN == "" {
			t.Errorf("%s: message not in both languages", fe.Field)
		}
		fields = append(fields, fe.Field)
	}
	if strings.Join(fields, ",") != "name,fs_uuid,media_id,mount_dir,appear_timeout" {
		t.Fatalf("fields %v", fields)
	}
	if err := (Spec{Name: "a", MediaID: "m"}).Validate(); err == nil || !strings.Contains(err.Error(), "serial と fs_uuid") {
		t.Errorf("no identity: %v", err)
	}
	if _, err := New(Spec{Name: "a"}, Options{}); err == nil {
		t.Error("New accepted an invalid spec")
	}
}

func TestSuperblockFromMkfs(t *testing.T) {
	uuid := looptest.NewUUID()
	img, err := looptest.CreateExt4(filepath.Join(t.TempDir(), "d.img"), 16<<20, looptest.ImageOptions{UUID: uuid, Label: "DANZEN01"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(img.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	sb, err := ReadSuperblock(f)
	if err != nil {
		t.Fatal(err)
	}
	if sb.UUID != uuid || sb.Label != "DANZEN01" || !sb.Journal || !sb.Extents || sb.HasErrors {
		t.Fatalf("superblock %+v, want uuid %s", sb, uuid)
	}
	if int64(sb.Blocks)*int64(sb.BlockSize) != img.Size {
		t.Errorf("size %d×%d != %d", sb.Blocks, sb.BlockSize, img.Size)
	}

	// A flipped bit in a checksummed superblock is refused, not trusted.
	b := make([]byte, 4096)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	b[1024+0x68] ^= 1
	if _, err := ReadSuperblock(strings.NewReader(string(b))); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupt superblock: %v", err)
	}
	if _, err := ReadSuperblock(strings.NewReader(string(make([]byte, 4096)))); !errors.Is(err, ErrNotExt4) {
		t.Errorf("zeros: %v", err)
	}
	if _, err := ReadSuperblock(strings.NewReader("short")); !errors.Is(err, ErrNotExt4) {
		t.Errorf("short: %v", err)
	}
}
