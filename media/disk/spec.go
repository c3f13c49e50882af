package disk

import (
	"cmp"
	"path/filepath"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/fielderr"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Defaults used when a Spec timeout is zero. USB disks need several seconds
// to spin up and enumerate, RDX docks longer; going away after the relay
// cuts is quick, but the USB hub notices a lost device only on its next poll.
const (
	DefaultAppearTimeout = 90 * time.Second
	DefaultGoneTimeout   = 30 * time.Second
	DefaultMountRoot     = "/run/danzen/media"
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
	// Name is the medium's name (the configuration sets it from the
	// medium's).
	Name string `json:"name"`
	// Serial is the USB serial number, the SCSI unit serial (VPD page 0x80)
	// or the WWN/WWID, as found under /sys/block/<dev>/device.
	Serial string `json:"serial,omitempty"`
	// FSUUID is the ext4 filesystem UUID (as mkfs.ext4 -U or blkid show it).
	FSUUID string `json:"fs_uuid,omitempty"`
	// MediaID is the ID that preparing the medium writes onto it (the
	// file .danzen-media-id at its filesystem's root): a disk that
	// carries another one is refused.
	MediaID string `json:"media_id"`
	// MountDir defaults to /run/danzen/media/<name>.
	MountDir string `json:"mount_dir,omitempty"`
	// RDX ejects the cartridge after spin-down.
	RDX bool `json:"rdx,omitempty"`
	// AppearTimeout bounds the wait for the disk after its relay closes
	// (spin-up and USB enumeration; an RDX dock takes longer).
	AppearTimeout Duration `json:"appear_timeout,omitempty"`
	// GoneTimeout bounds the wait for the disk to vanish after the cut.
	GoneTimeout Duration `json:"gone_timeout,omitempty"`
}

// Duration is written in JSON as a Go duration string ("90s", "2m").
type Duration = duration.Duration

// FieldError names the Spec field (by its JSON name) that is wrong.
type FieldError = fielderr.Error

// FieldErrors starts the list of a medium's field errors, which name the
// medium; s3 and tape use it too, so every medium's errors read alike.
func FieldErrors(medium string) *fielderr.List {
	return &fielderr.List{In: fielderr.Item{Kind: msg.T("媒体", "medium"), Name: medium}}
}

// Validate checks the spec and returns every problem found as a
// *fielderr.List of *FieldError, or nil.
func (s Spec) Validate() error {
	v := FieldErrors(s.Name)
	switch {
	case s.Name == "":
		v.Add("name", "名前が空です", "name is empty")
	case !safeName(s.Name):
		v.Add("name", "名前は英数字と - _ . で64文字以内にしてください(マウント先のフォルダ名になります)",
			"use 1–64 letters, digits, - _ . (it names the mount directory)")
	}
	if s.Serial == "" && s.FSUUID == "" {
		v.Add("serial", "serial と fs_uuid の少なくとも一方を指定してください(取り違え防止のため)",
			"give serial or fs_uuid or both, so that no other disk can be taken for this one")
	}
	if s.Serial != "" && (strings.TrimSpace(s.Serial) != s.Serial || strings.ContainsFunc(s.Serial, func(r rune) bool { return r < 0x21 || r > 0x7e })) {
		v.Add("serial", "シリアル番号は空白や制御文字を含まない英数字で指定してください", "serial must be printable ASCII without spaces")
	}
	if s.FSUUID != "" && !validUUID(s.FSUUID) {
		v.Add("fs_uuid", "UUID の形式ではありません(例: 0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d)",
			"not a UUID (example: 0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d)")
	}
	switch {
	case s.MediaID == "":
		v.Add("media_id", "媒体IDが空です。媒体の準備(prepare)で書き込むIDを指定してください",
			"media ID is empty: give the ID that preparing the medium writes onto it")
	case !safeName(s.MediaID):
		v.Add("media_id", "媒体IDは英数字と - _ . で64文字以内にしてください", "media ID may contain only 1–64 letters, digits, - _ .")
	}
	if s.MountDir != "" {
		if !filepath.IsAbs(s.MountDir) || filepath.Clean(s.MountDir) != s.MountDir || s.MountDir == "/" {
			v.Add("mount_dir", "「/」以外の正規化された絶対パスを指定してください", "must be a clean absolute path other than /")
		}
	}
	v.Timeout("appear_timeout", s.AppearTimeout.Std())
	v.Timeout("gone_timeout", s.GoneTimeout.Std())
	return v.Err()
}

// Dir returns the mount directory, applying the default.
func (s Spec) Dir() string {
	if s.MountDir != "" {
		return s.MountDir
	}
	return filepath.Join(DefaultMountRoot, s.Name)
}

// Validate refuses negative timeouts, so zero is the only one defaulted.
func (s Spec) appearTimeout() time.Duration {
	return cmp.Or(s.AppearTimeout.Std(), DefaultAppearTimeout)
}

func (s Spec) goneTimeout() time.Duration {
	return cmp.Or(s.GoneTimeout.Std(), DefaultGoneTimeout)
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
