package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/danzen-gw/danzen/internal/fielderr"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/tape"
	"github.com/danzen-gw/danzen/schedule"
)

// Medium types.
const (
	MediumDisk = "disk" // USB HDD/SSD or RDX on a relay-switched supply
	MediumS3   = "s3"   // an object-locked S3 bucket; the relay (of the uplink device) is optional
	MediumTape = "tape" // an LTO drive on a relay-switched supply; the repository is spooled on the gateway
)

// Medium is one backup medium with its own restic repository.
type Medium struct {
	// Name names the medium on the page, in the ledger and in restic's
	// cache folder.
	Name string `json:"name"`
	// Type is "disk" (a USB disk or RDX), "s3" (an object-locked bucket)
	// or "tape" (an LTO drive); the object of that name holds its settings.
	Type string `json:"type"`
	// Relay names the entry in Relays that powers this medium; each
	// medium needs its own. An s3 medium may have none (its Object Lock
	// is its proof of offline) or its uplink device's.
	Relay string `json:"relay"`
	// Disk identifies a medium of type disk.
	Disk *disk.Spec `json:"disk,omitempty"`
	// S3 is the bucket of a medium of type s3.
	S3 *s3.Spec `json:"s3,omitempty"`
	// Tape is the drive of a medium of type tape.
	Tape *tape.Spec `json:"tape,omitempty"`
	// PasswordFile holds the restic repository password (0600), relative
	// to SecretsDir unless absolute. Losing it loses the backups.
	PasswordFile string `json:"password_file"`
}

// Retention is the restic forget policy: how many generations are kept.
// The MHLW guideline Q&A gives 5 generations for 電子カルテ as an example.
type Retention struct {
	// KeepLast is how many of the newest snapshots each medium keeps
	// (restic forget --keep-last); at least 1.
	KeepLast int `json:"keep_last"`
	// KeepDaily also keeps the newest snapshot of each of that many days
	// (--keep-daily); 0 keeps none for this reason.
	KeepDaily int `json:"keep_daily,omitempty"`
	// KeepWeekly keeps the newest snapshot of each of that many weeks.
	KeepWeekly int `json:"keep_weekly,omitempty"`
	// KeepMonthly keeps the newest snapshot of each of that many months.
	KeepMonthly int `json:"keep_monthly,omitempty"`
	// ShortenDelay is how long a change that shortens what is kept
	// (a keep lowered, fewer media per cycle, a medium removed, a shorter
	// Object Lock minimum, this delay lowered) waits before it applies,
	// alerted at once and cancellable meanwhile; "" is 7 days, at least
	// 1 day.
	ShortenDelay Duration `json:"shorten_delay,omitempty"`
}

// DefaultShortenDelay is Retention.ShortenDelay when unset; MinShortenDelay
// is the least it may be set to.
const (
	DefaultShortenDelay = 7 * 24 * time.Hour
	MinShortenDelay     = 24 * time.Hour
)

// Delay is the waiting period of a change that shortens what is kept.
func (r Retention) Delay() time.Duration {
	if r.ShortenDelay == 0 {
		return DefaultShortenDelay
	}
	return r.ShortenDelay.Std()
}

// Rotation says how many media one cycle writes.
type Rotation struct {
	// PerCycle media are written per cycle, the least recently written
	// first; 0 writes every medium every cycle.
	PerCycle int `json:"per_cycle"`
}

// Medium returns the medium called name.
func (c *Config) Medium(name string) (*Medium, error) {
	for i := range c.Media {
		if c.Media[i].Name == name {
			return &c.Media[i], nil
		}
	}
	return nil, msg.Errorf("媒体 %q は設定にありません", "no medium named %q in the configuration", name)
}

func (v *checker) media(c *Config) {
	relays := map[string]bool{}
	for i, r := range c.Relays {
		f := fmt.Sprintf("relays[%d]", i)
		v.unique(f+".name", relays, r.Name, msg.T("リレー名", "relay name"))
		v.nested(f, r.Validate())
	}
	v.relayLines(c.Relays)
	names := map[string]bool{}
	used := map[string]string{}
	for i, m := range c.Media {
		f := fmt.Sprintf("media[%d]", i)
		v.name(f+".name", m.Name)
		v.unique(f+".name", names, m.Name, msg.T("媒体名", "medium name"))
		switch {
		case m.Relay == "" && m.Type == MediumS3:
			// Optional: the bucket's Object Lock is its proof of offline.
		case m.Relay == "":
			v.Add(f+".relay", "給電するリレーを指定してください(オフラインの証明に必要です)", "name the relay that powers this medium (the proof of offline needs it)")
		case !relays[m.Relay]:
			v.AddText(f+".relay", msg.Sprintf("リレー %q は relays にありません", "relay %q is not in relays", m.Relay))
		case used[m.Relay] != "":
			v.AddText(f+".relay", msg.Sprintf("リレー %q は媒体 %q と共用です。切断の証明が媒体ごとにできません", "relay %q also powers medium %q: each medium needs its own relay to prove its cut", m.Relay, used[m.Relay]))
		}
		used[m.Relay] = m.Name
		switch m.Type {
		case MediumDisk:
			if m.Disk == nil {
				v.Add(f+".disk", "ディスクの識別情報(serial または fs_uuid、media_id)を指定してください", "give the disk's identity (serial or fs_uuid, and media_id)")
			} else {
				v.nested(f+".disk", m.Disk.Validate())
			}
		case MediumS3:
			if m.S3 == nil {
				v.Add(f+".s3", "バケットの設定(endpoint、bucket、鍵、最低保持日数)を指定してください", "give the bucket's settings (endpoint, bucket, key, minimum retention)")
			} else {
				v.nested(f+".s3", m.S3.Validate())
				if span := c.generationSpanDays(); m.S3.MinRetentionDays < span {
					v.AddText(f+".s3.min_retention_days", msg.Sprintf("保持する世代が約 %d 日に及ぶため、%d 日以上にしてください", "the kept generations span about %d days: use at least %d", span, span))
				}
			}
		case MediumTape:
			if m.Tape == nil {
				v.Add(f+".tape", "テープ装置(device)とスプール用フォルダ(spool_dir)を指定してください", "give the tape drive (device) and the spool directory (spool_dir)")
			} else {
				v.nested(f+".tape", m.Tape.Validate())
			}
		default:
			v.Add(f+".type", "\"disk\"、\"s3\" または \"tape\" を指定してください", "must be \"disk\", \"s3\" or \"tape\"")
		}
		if m.PasswordFile == "" {
			v.Add(f+".password_file", "リポジトリのパスワードファイル(secrets内、0600)を指定してください", "give the repository password file (under secrets, mode 0600)")
		}
	}
	r := c.Retention
	if r.KeepLast < 1 || r.KeepDaily < 0 || r.KeepWeekly < 0 || r.KeepMonthly < 0 {
		v.Add("retention.keep_last", "保持する世代数は1以上にしてください", "keep at least 1 generation")
	}
	if r.ShortenDelay != 0 && r.ShortenDelay.Std() < MinShortenDelay {
		v.Add("retention.shorten_delay", "短縮の待機期間は1日以上にしてください", "the waiting period of a shortening must be at least 1 day")
	}
	if c.Rotation.PerCycle < 0 || (len(c.Media) > 0 && c.Rotation.PerCycle > len(c.Media)) {
		v.AddText("rotation.per_cycle", msg.Sprintf("0(すべて)〜%d にしてください", "must be 0 (all) to %d", len(c.Media)))
	}
}

// generationSpanDays is how many days the kept generations of one medium
// reach back: KeepLast of its cycles (the longest gap between scheduled
// cycles, times the rotation), or the daily/weekly/monthly keeps. An
// object-locked medium must keep every version at least that long.
func (c *Config) generationSpanDays() int {
	gap := 24 * time.Hour
	if sc, err := schedule.Parse(c.Schedule); err == nil {
		t := sc.Next(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
		for range 400 {
			n := sc.Next(t)
			gap = max(gap, n.Sub(t))
			t = n
		}
	}
	every := 1
	if p := c.Rotation.PerCycle; p > 0 {
		every = (len(c.Media) + p - 1) / p
	}
	r := c.Retention
	days := int((time.Duration(r.KeepLast*every)*gap + 24*time.Hour - 1) / (24 * time.Hour))
	return max(days, r.KeepDaily, 7*r.KeepWeekly, 31*r.KeepMonthly)
}

// nested adds the field errors another package's Validate returned,
// under the prefix of the place they sit in this file.
func (v *checker) nested(prefix string, err error) {
	var l *fielderr.List
	switch {
	case err == nil:
	case errors.As(err, &l):
		for _, f := range l.Fields {
			v.AddText(prefix+"."+f.Field, f.Text)
		}
	default:
		v.AddText(prefix, msg.TextOf(err))
	}
}
