package disk

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/duration"
)

// Defaults used when a Spec timeout is zero. USB disks need several seconds
// to spin up and enumerate, RDX docks longer; going away after the relay
// cuts is quick, but the USB hub notices a lost device only on its next poll.
const (
	DefaultAppearTimeout = 90 * time.Second
	DefaultGoneTimeout   = 30 * time.Second
	DefaultMountRoot     = "/run/danzen/media"
	maxTimeout           = 10 * time.Minute
	// MediaIDFile is written at the root of a prepared medium's filesystem.
	MediaIDFile = ".danzen-media-id"
	// RepoDir is the restic repository directory inside the mount.
	RepoDir = "restic"
)

// Spec configures one removable disk (USB HDD/SSD or RDX). It is embedded
// in the appliance's JSON config, so it holds only plain JSON values.
//
// A disk is identified by Serial and/or FSUUID (both must match when both
// are given), and then by the media-ID file on its filesystem: a disk that
// passes the first check but carries another media ID is still refused.
type Spec struct {
	Name string `json:"name"`
	// Serial is the USB serial number, the SCSI unit serial (VPD page 0x80)
	// or the WWN/WWID, as found under /sys/block/<dev>/device.
	Serial string `json:"serial,omitempty"`
	// FSUUID is the ext4 filesystem UUID (as mkfs.ext4 -U or blkid show it).
	FSUUID string `json:"fs_uuid,omitempty"`
	// MediaID is the content of MediaIDFile written by Prepare.
	MediaID string `json:"media_id"`
	// MountDir defaults to /run/danzen/media/<name>.
	MountDir string `json:"mount_dir,omitempty"`
	// RDX ejects the cartridge after spin-down.
	RDX           bool     `json:"rdx,omitempty"`
	AppearTimeout Duration `json:"appear_timeout,omitempty"`
	GoneTimeout   Duration `json:"gone_timeout,omitempty"`
}

// Duration is written in JSON as a Go duration string ("90s", "2m").
type Duration = duration.Duration

// FieldError names the Spec field (by its JSON name) that is wrong.
type FieldError struct {
	Medium string // the spec's name, may be empty
	Field  string // JSON name, e.g. "fs_uuid"
	Ja     string
	En     string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("媒体 %q の %s: %s / medium %q field %s: %s", e.Medium, e.Field, e.Ja, e.Medium, e.Field, e.En)
}

// Validate checks the spec and returns every problem found, joined; each is
// a *FieldError.
func (s Spec) Validate() error {
	var errs []error
	bad := func(field, ja, en string) {
		errs = append(errs, &FieldError{Medium: s.Name, Field: field, Ja: ja, En: en})
	}
	switch {
	case s.Name == "":
		bad("name", "名前が空です", "name is empty")
	case !safeName(s.Name):
		bad("name", "名前は英数字と - _ . で64文字以内にしてください(マウント先のフォルダ名になります)",
			"use 1–64 letters, digits, - _ . (it names the mount directory)")
	}
	if s.Serial == "" && s.FSUUID == "" {
		bad("serial", "serial と fs_uuid の少なくとも一方を指定してください(取り違え防止のため)",
			"give serial or fs_uuid or both, so that no other disk can be taken for this one")
	}
	if s.Serial != "" && (strings.TrimSpace(s.Serial) != s.Serial || strings.ContainsFunc(s.Serial, func(r rune) bool { return r < 0x21 || r > 0x7e })) {
		bad("serial", "シリアル番号は空白や制御文字を含まない英数字で指定してください", "serial must be printable ASCII without spaces")
	}
	if s.FSUUID != "" && !validUUID(s.FSUUID) {
		bad("fs_uuid", "UUID の形式ではありません(例: 0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d)",
			"not a UUID (example: 0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d)")
	}
	switch {
	case s.MediaID == "":
		bad("media_id", "媒体IDが空です。媒体の準備(prepare)で書き込むIDを指定してください",
			"media ID is empty: give the ID that preparing the medium writes onto it")
	case !safeName(s.MediaID):
		bad("media_id", "媒体IDは英数字と - _ . で64文字以内にしてください", "media ID may contain only 1–64 letters, digits, - _ .")
	}
	if s.MountDir != "" {
		if !filepath.IsAbs(s.MountDir) || filepath.Clean(s.MountDir) != s.MountDir || s.MountDir == "/" {
			bad("mount_dir", "「/」以外の正規化された絶対パスを指定してください", "must be a clean absolute path other than /")
		}
	}
	for _, t := range []struct {
		field string
		d     Duration
	}{{"appear_timeout", s.AppearTimeout}, {"gone_timeout", s.GoneTimeout}} {
		if t.d < 0 || time.Duration(t.d) > maxTimeout {
			bad(t.field, "タイムアウトは0(既定値)から10分の間にしてください", "timeout must be between 0 (default) and 10m")
		}
	}
	return errors.Join(errs...)
}

// Dir returns the mount directory, applying the default.
func (s Spec) Dir() string {
	if s.MountDir != "" {
		return s.MountDir
	}
	return filepath.Join(DefaultMountRoot, s.Name)
}

func (s Spec) appearTimeout() time.Duration {
	if s.AppearTimeout > 0 {
		return time.Duration(s.AppearTimeout)
	}
	return DefaultAppearTimeout
}

func (s Spec) goneTimeout() time.Duration {
	if s.GoneTimeout > 0 {
		return time.Duration(s.GoneTimeout)
	}
	return DefaultGoneTimeout
}

// expected describes the identity for messages.
func (s Spec) expected() string {
	var p []string
	if s.Serial != "" {
		p = append(p, "serial "+s.Serial)
	}
	if s.FSUUID != "" {
		p = append(p, "fs_uuid "+strings.ToLower(s.FSUUID))
	}
	return strings.Join(p, " ")
}

func safeName(n string) bool {
	if n == "" || len(n) > 64 || n[0] == '.' || n[0] == '-' {
		return false
	}
	for _, c := range n {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

func validUUID(u string) bool {
	if len(u) != 36 {
		return false
	}
	for i, c := range u {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
