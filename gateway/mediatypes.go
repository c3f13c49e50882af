package gateway

import (
	"log/slog"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/tape"
)

// The medium types the gateway drives are registered here, in one place:
// opening, the start-up check and each use's drive go through the
// registry, never through a switch on the type.
//
// Adding a medium type means:
//  1. config/media.go: its type name, its spec field on config.Medium and
//     the spec's validation;
//  2. media/<type>: its driver package;
//  3. gateway/drive_<type>.go: its driver (a driver, opened at
//     configuration) and its backup.Drive adapter, with a compile-time
//     assertion beside the adapter for each optional capability it has
//     (backup.Flusher, backup.Ejecter, backup.Explainer,
//     backup.ImmutabilityProver, backendDrive);
//  4. one entry in mediumTypes below,
//
// and its rig in gateway/drivecontract_test.go, which runs the drive
// contract (backup/drivetest) for every registered type and fails for a
// type that has none.

// MediumType is one kind of medium, as people and the gateway know it.
type MediumType struct {
	// Name is the configuration's value (config.Medium.Type).
	Name string
	// Label names the type for people.
	Label msg.Text
	// Offline says what proves a medium of this type offline.
	Offline msg.Text
	// Immutable: a medium of this type is offline by immutability,
	// proven in each session, so its relay (an uplink's) is optional.
	Immutable bool

	configured func(m config.Medium) bool
	describe   func(m config.Medium) msg.Text
	open       func(env openEnv, m config.Medium) (driver, error)
}

// Configured reports whether m carries this type's settings.
func (t MediumType) Configured(m config.Medium) bool { return t.configured(m) }

// Describe says what identifies medium m of this type (serial and media
// ID, bucket, tape drive), for overviews; "" when it is not configured.
func (t MediumType) Describe(m config.Medium) msg.Text {
	if !t.configured(m) {
		return msg.Text{}
	}
	return t.describe(m)
}

// openEnv is what a medium type's driver is opened with.
type openEnv struct {
	cfg    *config.Config
	opts   Options
	log    *slog.Logger
	record func(ledger.Entry)
}

// mediumTypes is the registry, in the order the page offers the types.
func mediumTypes() []MediumType {
	return []MediumType{
		{
			Name:  config.MediumDisk,
			Label: msg.T("ディスク(USB HDD/SSD・RDX)", "disk (USB HDD/SSD, RDX)"),
			Offline: msg.T("リレーが給電を切り、接点のセンスが切断を示し、ディスクが /sys から消えたことを確認",
				"the relay cuts its power, the sense input reads off and the disk is gone from /sys"),
			configured: func(m config.Medium) bool { return m.Disk != nil },
			describe: func(m config.Medium) msg.Text {
				return msg.Plain(strings.Join(strings.Fields(m.Disk.Serial+" "+m.Disk.FSUUID+" "+m.Disk.MediaID), " "))
			},
			open: openDisk,
		},
		{
			Name:  config.MediumS3,
			Label: msg.T("S3 クラウド(Object Lock)", "S3 cloud (Object Lock)"),
			Offline: msg.T("セッションごとにオブジェクトロック(COMPLIANCE・最低保持日数)を確認。回線にリレーがあれば、その切断と到達不能も確認",
				"its Object Lock (COMPLIANCE, minimum retention) is proven in each session; with an uplink relay, the line is also cut and verified unreachable"),
			Immutable:  true,
			configured: func(m config.Medium) bool { return m.S3 != nil },
			describe: func(m config.Medium) msg.Text {
				return msg.Sprintf("%s/%s/%s、最低保持 %d 日", "%s/%s/%s, retention at least %d days",
					m.S3.Endpoint, m.S3.Bucket, m.S3.Prefix, m.S3.MinRetentionDays)
			},
			open: openS3,
		},
		{
			Name:  config.MediumTape,
			Label: msg.T("LTO テープ", "LTO tape"),
			Offline: msg.T("テープを取り出し、リレーが給電を切り、接点のセンスが切断を示し、テープ装置が消えたことを確認",
				"the cartridge is ejected, the relay cuts the drive's power, the sense input reads off and the drive is gone"),
			configured: func(m config.Medium) bool { return m.Tape != nil },
			describe: func(m config.Medium) msg.Text {
				dev := m.Tape.Device
				if dev == "" {
					dev = tape.DefaultDevice
				}
				return msg.Sprintf("%s、スプール %s", "%s, spool %s", dev, m.Tape.SpoolDir)
			},
			open: openTape,
		},
	}
}

// MediumTypes lists the medium types the gateway drives, in the order the
// page offers them.
func MediumTypes() []MediumType { return mediumTypes() }

// MediumTypeOf returns the registered medium type called name.
func MediumTypeOf(name string) (MediumType, bool) {
	for _, t := range mediumTypes() {
		if t.Name == name {
			return t, true
		}
	}
	return MediumType{}, false
}

// openMedia opens the driver of every medium of env.cfg. A medium of an
// unknown type or without its settings gets none: the configuration's
// validation names the field, and drive says so when the medium is used,
// while the fail-safe still cuts every relay.
func openMedia(env openEnv) (map[string]driver, error) {
	media := map[string]driver{}
	for _, m := range env.cfg.Media {
		t, ok := MediumTypeOf(m.Type)
		if !ok || !t.Configured(m) {
			continue
		}
		d, err := t.open(env, m)
		if err != nil {
			return nil, err
		}
		media[m.Name] = d
	}
	return media, nil
}
