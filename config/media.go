package config

import (
	"errors"
	"fmt"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
)

// Medium types.
const (
	MediumDisk = "disk" // USB HDD/SSD or RDX on a relay-switched supply
)

// Medium is one backup medium with its own restic repository.
type Medium struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Relay names the entry in Relays that powers this medium.
	Relay string     `json:"relay"`
	Disk  *disk.Spec `json:"disk,omitempty"`
	// PasswordFile holds the restic repository password (0600), relative
	// to SecretsDir unless absolute. Losing it loses the backups.
	PasswordFile string `json:"password_file"`
}

// Retention is the restic forget policy: how many generations are kept.
// The MHLW guideline Q&A gives 5 generations for 電子カルテ as an example.
type Retention struct {
	KeepLast    int `json:"keep_last"`
	KeepDaily   int `json:"keep_daily,omitempty"`
	KeepWeekly  int `json:"keep_weekly,omitempty"`
	KeepMonthly int `json:"keep_monthly,omitempty"`
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
	return nil, fmt.Errorf("媒体 %q は設定にありません / no medium named %q in the configuration", name, name)
}

func (v *checker) media(c *Config) {
	relays := map[string]bool{}
	for i, r := range c.Relays {
		f := fmt.Sprintf("relays[%d]", i)
		if relays[r.Name] {
			v.add(f+".name", fmt.Sprintf("リレー名 %q が重複しています", r.Name), fmt.Sprintf("relay name %q is used twice", r.Name))
		}
		relays[r.Name] = true
		v.nested(f, r.Validate())
	}
	names := map[string]bool{}
	used := map[string]string{}
	for i, m := range c.Media {
		f := fmt.Sprintf("media[%d]", i)
		if !safeName.MatchString(m.Name) {
			v.add(f+".name", "英数字・「.」「_」「-」で64文字以内にしてください", "use 1–64 letters, digits, '.', '_' or '-'")
		}
		if names[m.Name] {
			v.add(f+".name", fmt.Sprintf("媒体名 %q が重複しています", m.Name), fmt.Sprintf("medium name %q is used twice", m.Name))
		}
		names[m.Name] = true
		switch {
		case m.Relay == "":
			v.add(f+".relay", "給電するリレーを指定してください(オフラインの証明に必要です)", "name the relay that powers this medium (the proof of offline needs it)")
		case !relays[m.Relay]:
			v.add(f+".relay", fmt.Sprintf("リレー %q は relays にありません", m.Relay), fmt.Sprintf("relay %q is not in relays", m.Relay))
		case used[m.Relay] != "":
			v.add(f+".relay", fmt.Sprintf("リレー %q は媒体 %q と共用です。切断の証明が媒体ごとにできません", m.Relay, used[m.Relay]),
				fmt.Sprintf("relay %q also powers medium %q: each medium needs its own relay to prove its cut", m.Relay, used[m.Relay]))
		}
		used[m.Relay] = m.Name
		switch m.Type {
		case MediumDisk:
			if m.Disk == nil {
				v.add(f+".disk", "ディスクの識別情報(serial または fs_uuid、media_id)を指定してください", "give the disk's identity (serial or fs_uuid, and media_id)")
			} else {
				v.nested(f+".disk", m.Disk.Validate())
			}
		default:
			v.add(f+".type", "\"disk\" を指定してください", "must be \"disk\"")
		}
		if m.PasswordFile == "" {
			v.add(f+".password_file", "リポジトリのパスワードファイル(secrets内、0600)を指定してください", "give the repository password file (under secrets, mode 0600)")
		}
	}
	r := c.Retention
	if r.KeepLast < 1 || r.KeepDaily < 0 || r.KeepWeekly < 0 || r.KeepMonthly < 0 {
		v.add("retention.keep_last", "保持する世代数は1以上にしてください", "keep at least 1 generation")
	}
	if c.Rotation.PerCycle < 0 || (len(c.Media) > 0 && c.Rotation.PerCycle > len(c.Media)) {
		v.add("rotation.per_cycle", fmt.Sprintf("0(すべて)〜%d にしてください", len(c.Media)), fmt.Sprintf("must be 0 (all) to %d", len(c.Media)))
	}
}

// nested adds the field errors another package's Validate returned,
// under the prefix of the place they sit in this file.
func (v *checker) nested(prefix string, err error) {
	if err == nil {
		return
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var rf *relay.FieldError
		var df *disk.FieldError
		var av *alert.ValidationError
		switch {
		case errors.As(e, &av):
			for _, f := range av.Fields {
				v.add(prefix+"."+f.Field, f.JA, f.EN)
			}
		case errors.As(e, &rf):
			v.add(prefix+"."+rf.Field, rf.Ja, rf.En)
		case errors.As(e, &df):
			v.add(prefix+"."+df.Field, df.Ja, df.En)
		default:
			v.add(prefix, e.Error(), e.Error())
		}
	}
}
