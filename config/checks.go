package config

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/rtu"
)

// These checks catch what used to be saved and break later: a restic check
// subset restic refuses, two relays on one line, a secret outside
// secrets/, a gateway with nothing to back up.

// noSourcesField is where validation says that there is no source.
const noSourcesField = "sources"

// sources refuses a configuration without a source: it would back up
// nothing, silently, every night.
func (v *checker) sources(c *Config) {
	if len(c.Sources) == 0 {
		v.Add(noSourcesField, "取得元(電子カルテサーバ)がありません。取得元を1つ以上追加してください。追加するまでバックアップは行われません",
			"no source (e-chart server): add at least one; nothing is backed up until then")
	}
}

// Unfinished reports whether err, from Validate, says only that the
// configuration has no source yet: what a gateway being commissioned
// lacks. Its start-up and its page accept that (the page is where the
// source is added); the CLI and every check of a file refuse it.
func Unfinished(err error) bool {
	var l *ValidationError
	if !errors.As(err, &l) || len(l.Fields) == 0 {
		return false
	}
	for _, f := range l.Fields {
		if f.Field != noSourcesField {
			return false
		}
	}
	return true
}

// ValidateChange checks next as a change to cur, the configuration in
// use: as Validate, except that a gateway still being commissioned (cur
// has no source either) may save a step that does not add one yet. A
// change that removes the last source is refused.
func (c *Config) ValidateChange(cur *Config) error {
	err := c.Validate()
	var ve *ValidationError
	if cur == nil || len(cur.Sources) > 0 || !errors.As(err, &ve) {
		return err
	}
	rest := &ValidationError{Title: ve.Title, In: ve.In}
	for _, f := range ve.Fields {
		if f.Field != noSourcesField {
			rest.Fields = append(rest.Fields, f)
		}
	}
	return rest.Err()
}

// CheckSubset checks a restic check --read-data-subset value as restic
// 0.19 reads it: "n/t" (1 ≤ n ≤ t ≤ 256), "x%" (0 < x ≤ 100) or a size
// ("500M", "2G"). "" checks the structure only.
func CheckSubset(s string) error {
	if s == "" {
		return nil
	}
	bad := msg.Errorf("%q は使えません。割合(例: 5%%、100%% まで)、n/t(例: 1/5)またはサイズ(例: 500M)にしてください",
		"%q cannot be used: give a share (e.g. 5%%, at most 100%%), n/t (e.g. 1/5) or a size (e.g. 500M)", s)
	if n, t, ok := strings.Cut(s, "/"); ok {
		a, err1 := strconv.ParseUint(n, 10, 0)
		b, err2 := strconv.ParseUint(t, 10, 0)
		if err1 != nil || err2 != nil || a == 0 || a > b || b > 256 {
			return bad
		}
		return nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		x, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(x) || x <= 0 || x > 100 {
			return bad
		}
		return nil
	}
	num, unit := s, int64(1)
	if i := strings.IndexByte("bkmgt", lower(s[len(s)-1])); i >= 0 {
		num, unit = s[:len(s)-1], int64(1)<<(10*i)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit {
		return bad
	}
	return nil
}

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func (v *checker) checkSubset(s string) {
	if err := CheckSubset(s); err != nil {
		v.AddText("check_read_data_subset", msg.TextOf(err))
	}
}

// relayModules checks the Modbus relay modules, and that every relay of
// driver "modbus" names one of them. A module no relay uses is fine (a
// spare channel block, or one being wired).
func (v *checker) relayModules(c *Config) {
	for i, m := range c.RelayModules {
		v.nested(fmt.Sprintf("relay_modules[%d]", i), m.Validate())
	}
	for _, k := range rtu.ModuleConflicts(c.RelayModules) {
		v.AddText(fmt.Sprintf("relay_modules[%d].%s", k.Index, k.Field), k.Text)
	}
	names := map[string]bool{}
	for _, m := range c.RelayModules {
		names[m.Name] = true
	}
	missing := func(field, chip string) {
		v.AddText(field, msg.Sprintf("リレーモジュール %q は relay_modules にありません", "there is no relay module %q in relay_modules", chip))
	}
	for i, r := range c.Relays {
		if r.Driver != relay.DriverModbus {
			continue
		}
		if r.Chip != "" && !names[r.Chip] {
			missing(fmt.Sprintf("relays[%d].chip", i), r.Chip)
		}
		if r.Sense != nil && r.Sense.Chip != "" && !names[r.Sense.Chip] {
			missing(fmt.Sprintf("relays[%d].sense.chip", i), r.Sense.Chip)
		}
	}
}

// relayLines refuses two relays on one GPIO line (output or sense).
func (v *checker) relayLines(specs []relay.Spec) {
	for _, c := range relay.LineConflicts(specs) {
		v.AddText(fmt.Sprintf("relays[%d].%s", c.Index, c.Field), c.Text)
	}
}

// secretFiles checks that every secret the configuration names is a file
// directly in the secrets folder, as the page's key panel says: never
// "../../../etc/ssh/ssh_host_ed25519_key". CA bundles are public and may
// also be an absolute path elsewhere.
func (v *checker) secretFiles(c *Config) {
	check := func(field, name string, public bool) {
		if name == "" || strings.Contains(name, "PRIVATE KEY") {
			return // said by the field's own check
		}
		if public && filepath.IsAbs(name) {
			return
		}
		if !directlyIn(c.SecretsDir, name) {
			v.AddText(field, msg.Sprintf("secrets フォルダ(%s)の直下のファイル名にしてください(例: emr.key)。他のフォルダは指定できません",
				"must be a file name directly in the secrets folder (%s), e.g. emr.key: no other folder", c.SecretsDir))
		}
	}
	for i, s := range c.Sources {
		check(fmt.Sprintf("sources[%d].key_file", i), s.KeyFile, false)
	}
	for i, t := range c.Restore.Targets {
		check(fmt.Sprintf("restore.targets[%d].key_file", i), t.KeyFile, false)
	}
	for i, m := range c.Media {
		f := fmt.Sprintf("media[%d]", i)
		check(f+".password_file", m.PasswordFile, false)
		if m.S3 != nil {
			check(f+".s3.secret_key_file", m.S3.SecretKeyFile, false)
			check(f+".s3.ca_file", m.S3.CAFile, true)
		}
	}
	if e := c.Alerts.Email; e != nil {
		check("alerts.email.password_file", e.PasswordFile, false)
		check("alerts.email.ca_file", e.CAFile, true)
	}
	if w := c.Alerts.Webhook; w != nil {
		check("alerts.webhook.token_file", w.TokenFile, false)
		check("alerts.webhook.ca_file", w.CAFile, true)
	}
}

// directlyIn reports whether name is a plain file name, or an absolute
// path whose folder is dir.
func directlyIn(dir, name string) bool {
	if filepath.IsAbs(name) {
		p := filepath.Clean(name)
		return filepath.Dir(p) == filepath.Clean(dir) && filepath.Base(p) != ""
	}
	return name != "." && name != ".." && !strings.ContainsAny(name, `/\`) && !strings.ContainsFunc(name, unicode.IsControl)
}

// drivable refuses relay drivers that take their pins from the program
// that opens the gateway ("fake": tests and the demo): the CLI has none
// to give, and would fail only when a relay is switched.
func (v *checker) drivable(specs []relay.Spec) {
	for i, r := range specs {
		if r.Driver == relay.DriverFake {
			v.AddText(fmt.Sprintf("relays[%d].driver", i), relay.FakeRefused())
		}
	}
}
