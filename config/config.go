// Package config owns danzen's one configuration file: its schema, its
// defaults, validation with messages in Japanese and English, and an atomic
// save that keeps the previous version for undo.
//
// The file never holds a secret. Private keys, repository passwords and
// cloud credentials live in separate 0600 files that the configuration
// only names.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"path"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
)

// CurrentVersion is the schema version this build writes.
const CurrentVersion = 1

// Config is the whole configuration of one gateway.
type Config struct {
	Version int `json:"version"`
	// GatewayID names this gateway in restic snapshots (--host) and in
	// the evidence ledger; it must stay stable for forget groups to work.
	GatewayID string `json:"gateway_id"`
	// StagingDir receives the pulled exports, restic's cache and temp files.
	StagingDir string `json:"staging_dir"`
	// SecretsDir holds the 0600 files that relative secret paths name.
	SecretsDir string `json:"secrets_dir"`
	// LedgerDir holds the evidence ledger.
	LedgerDir string `json:"ledger_dir"`
	// BandwidthLimit caps the pull over all sources ("0" = no cap).
	BandwidthLimit Rate     `json:"bandwidth_limit"`
	Sources        []Source `json:"sources"`
	// ResticBinary is the restic v0.19.1 binary shipped with the image.
	ResticBinary string       `json:"restic_binary"`
	Relays       []relay.Spec `json:"relays"`
	Media        []Medium     `json:"media"`
	Retention    Retention    `json:"retention"`
	Rotation     Rotation     `json:"rotation"`
	// Schedule is when cycles run: "daily 02:00" or a five-field cron
	// expression, in TimeZone.
	Schedule string `json:"schedule"`
	// TimeZone is the IANA zone the schedule is read in. The appliance's
	// clock runs in UTC; the hospital's night is in Japan.
	TimeZone string `json:"time_zone"`
	// Alerts are where failures and unverified cuts are reported.
	Alerts alert.Spec `json:"alerts"`
	// CheckSubset is restic check --read-data-subset after each backup
	// ("" checks the structure only).
	CheckSubset string `json:"check_read_data_subset"`
	// Restore is how restores and drills run, and where restored files
	// may be sent back.
	Restore Restore `json:"restore"`
	// Documents are the facts a person fills in for the generated
	// documents; an empty one is printed as 未記入 and reported.
	Documents Documents `json:"documents"`
	// Scan is the WAN-edge self-scan (package netprobe).
	Scan Scan `json:"scan"`
}

// Scan configures the WAN-edge self-scan; netprobe reads and checks it.
type Scan struct {
	// Register is the register of connection points (JSON), relative to
	// the configuration file's directory; default "register.json".
	Register string `json:"register,omitempty"`
	// Dir keeps the scan reports, relative like Register; default "scans".
	Dir         string `json:"dir,omitempty"`
	TCPPorts    string `json:"tcp_ports,omitempty"`   // "1-1024,3389"; default all
	Rate        int    `json:"rate,omitempty"`        // connects per second
	Concurrency int    `json:"concurrency,omitempty"` // connects in flight per address
	// SNMPCommunities are tried only when listed (opt-in).
	SNMPCommunities []string `json:"snmp_communities,omitempty"`
	// Feed is an uploaded known-exploited feed that replaces the embedded
	// one when it is valid and newer.
	Feed string `json:"kev_feed,omitempty"`
	// Schedule runs the scan by itself, like Schedule ("" = on demand
	// only). A scheduled scan waits for a running cycle to finish.
	Schedule string `json:"schedule,omitempty"`
}

// Documents holds what only the hospital can say: it never changes what
// the gateway does, only what the plan, annex, runbook and recovery sheet
// print.
type Documents struct {
	HospitalName string `json:"hospital_name"`
	// SystemsCovered are the systems whose exports are backed up
	// (電子カルテ, オーダリング, レセプト …).
	SystemsCovered []string `json:"systems_covered"`
	Responsible    string   `json:"responsible"`    // 責任者: name and post
	Operator       string   `json:"operator"`       // 担当者 who swaps media and runs drills
	VendorContact  string   `json:"vendor_contact"` // 保守ベンダ連絡先
	MediaStorage   string   `json:"media_storage"`  // where media are kept between uses
	// PasswordStorage says where the repository passwords are kept (a
	// sealed envelope in a safe …), never the passwords.
	PasswordStorage string   `json:"password_storage"`
	RPO             Duration `json:"rpo"` // target: data loss at most this old
	RTO             Duration `json:"rto"` // target: restored within this time
	DrillSchedule   string   `json:"drill_schedule"`
	// GatewayAddress is the gateway's LAN address, the only address the
	// pull key is accepted from on the e-chart server.
	GatewayAddress string `json:"gateway_address"`
	// SFTPChroot is the read-only account's chroot on the e-chart server.
	SFTPChroot string `json:"sftp_chroot"`
}

func (v *checker) documents(d Documents) {
	if d.GatewayAddress != "" && net.ParseIP(d.GatewayAddress) == nil {
		v.Add("documents.gateway_address", "IPアドレスを指定してください(例: 192.168.10.20)", "give an IP address (e.g. 192.168.10.20)")
	}
	if d.SFTPChroot != "" && (!strings.HasPrefix(d.SFTPChroot, "/") || path.Clean(d.SFTPChroot) != d.SFTPChroot || d.SFTPChroot == "/") {
		v.Add("documents.sftp_chroot", "「/」以外の正規化された絶対パスを指定してください", "must be a clean absolute path other than /")
	}
	if d.RPO < 0 || d.RTO < 0 {
		v.Add("documents.rpo", "負の値は指定できません", "must not be negative")
	}
}

// Source is one e-chart (電子カルテ) server whose export danzen pulls.
type Source struct {
	Name string `json:"name"`
	Host string `json:"host"`
	Port int    `json:"port"`
	User string `json:"user"`
	// KeyFile is the client's private key (ed25519 or RSA), relative to
	// SecretsDir unless absolute. It must be mode 0600.
	KeyFile string `json:"key_file"`
	// KnownHosts pins the server's host keys, in known_hosts line form.
	KnownHosts []string `json:"known_hosts"`
	// ExportDir is the remote directory the export is written to.
	ExportDir string `json:"export_dir"`
	// Include and Exclude are globs over paths relative to ExportDir,
	// "/"-separated; "**" matches any number of directories.
	Include    []string   `json:"include"`
	Exclude    []string   `json:"exclude"`
	Completion Completion `json:"completion"`
	// Mirror removes staged files that are gone from the source after a
	// successful pull.
	Mirror bool `json:"mirror"`
	// Connections is the number of SSH connections used in parallel.
	Connections int `json:"connections"`
	// Workers is the number of files transferred at once.
	Workers int `json:"workers"`
	// Attempts is how often a pull reconnects and resumes after a lost
	// connection before it gives up.
	Attempts int `json:"attempts"`
	// DropAlertPercent raises an alert when what is staged of the source
	// (files or bytes) falls by more than this share since the previous
	// pull: the export is broken or files were deleted. 0 never alerts.
	DropAlertPercent int `json:"drop_alert_percent"`
}

// Completion modes: how danzen knows the exporter has finished a file.
const (
	// CompletionMarker: a file is complete when a done-marker exists. A
	// Marker containing "{name}" is per file ("{name}.done"); any other
	// Marker is a directory marker covering its directory and everything
	// below it.
	CompletionMarker = "marker"
	// CompletionStable: a file is complete when its size and mtime stay
	// unchanged across StableFor.
	CompletionStable = "stable"
)

// Completion says when a remote file may be pulled.
type Completion struct {
	Mode      string   `json:"mode"`
	Marker    string   `json:"marker,omitempty"`
	StableFor Duration `json:"stable_for,omitempty"`
}

// Default returns the configuration a new gateway starts from.
func Default() *Config {
	return &Config{
		Version:      CurrentVersion,
		GatewayID:    "danzen",
		StagingDir:   "/perm/danzen/staging",
		SecretsDir:   "/perm/danzen/secrets",
		LedgerDir:    "/perm/danzen/ledger",
		ResticBinary: "/user/restic",
		Retention:    Retention{KeepLast: 5},
		Rotation:     Rotation{PerCycle: 1},
		CheckSubset:  "5%",
		Schedule:     "daily 02:00",
		TimeZone:     "Asia/Tokyo",
		Documents:    Documents{SFTPChroot: "/srv/danzen-chroot"},
		Restore:      Restore{Window: Duration(DefaultRestoreWindow)},
	}
}

// DefaultDropAlertPercent is a source's DropAlertPercent unless set: a
// night's clinical work never deletes a fifth of an export.
const DefaultDropAlertPercent = 20

// DefaultSource returns a source with every optional field at its default.
func DefaultSource() Source {
	return Source{
		Port:             22,
		Include:          []string{"**"},
		Completion:       Completion{Mode: CompletionStable, StableFor: Duration(60 * time.Second)},
		Mirror:           true,
		Connections:      2,
		Workers:          16,
		Attempts:         3,
		DropAlertPercent: DefaultDropAlertPercent,
	}
}

// UnmarshalJSON fills absent fields of a source with their defaults.
func (s *Source) UnmarshalJSON(b []byte) error {
	type plain Source
	p := plain(DefaultSource())
	if err := decodeStrict(b, &p); err != nil {
		return err
	}
	*s = Source(p)
	return nil
}

// Parse decodes and validates a configuration. Unknown fields are errors,
// so a misspelt key is reported instead of silently ignored.
func Parse(data []byte) (*Config, error) {
	c, err := decode(data)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// decode reads a configuration without validating it.
func decode(data []byte) (*Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		// An empty file says nothing to decode: say what it is, not "EOF".
		return nil, msg.New("設定ファイルが空です。設定を書き直すか、直前の設定(config.json.prev)に戻してください",
			"the configuration file is empty: write the configuration again, or go back to the previous one (config.json.prev)")
	}
	c := Default()
	if err := decodeStrict(data, c); err != nil {
		return nil, msg.Errorf("設定ファイルを読めません: %w", "cannot parse the configuration: %w", err)
	}
	return c, nil
}

func decodeStrict(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return msg.New("JSON オブジェクトの後に余分なデータがあります", "extra data after the JSON object")
	}
	return nil
}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	c, missing, err := LoadUnfinished(path)
	if err == nil && missing != nil {
		err = msg.Errorf("%s: %w", "%s: %w", path, missing)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// LoadUnfinished is Load for the gateway's start-up: a configuration that
// is only Unfinished (no source yet) is returned too, with missing saying
// what it lacks, so that the page can finish it. Every other problem is
// an error as with Load.
func LoadUnfinished(path string) (c *Config, missing *ValidationError, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, msg.Errorf("設定ファイル %s がありません: %w", "configuration file %s does not exist: %w", path, err)
		}
		return nil, nil, msg.Errorf("設定ファイル %s を読めません: %w", "cannot read the configuration %s: %w", path, err)
	}
	c, err = decode(data)
	if err == nil {
		if err = c.Validate(); Unfinished(err) && errors.As(err, &missing) {
			err = nil
		}
	}
	if err != nil {
		return nil, nil, msg.Errorf("%s: %w", "%s: %w", path, err)
	}
	return c, missing, nil
}

// Save validates c and writes it atomically to path. The file it replaces
// is kept as path+".prev" so the last change can be undone. A
// configuration that is only Unfinished is saved: commissioning writes
// one before a source is added (Reconfigure decides, by ValidateChange).
func Save(path string, c *Config) error {
	if err := c.Validate(); err != nil && !Unfinished(err) {
		return err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return msg.Errorf("設定を JSON に変換できません: %w", "cannot encode the configuration: %w", err)
	}
	data = append(data, '\n')
	if old, err := os.ReadFile(path); err == nil {
		if err := atomicfile.Write(path+".prev", old, 0o600); err != nil {
			return msg.Errorf("変更前の設定を残せません: %w", "cannot keep the previous configuration: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return msg.Errorf("現在の設定 %s を読めません: %w", "cannot read the current configuration %s: %w", path, err)
	}
	return atomicfile.Write(path, data, 0o600)
}

// Source returns the source called name.
func (c *Config) Source(name string) (*Source, error) {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i], nil
		}
	}
	return nil, msg.Errorf("取得元 %q は設定にありません", "no source named %q in the configuration", name)
}
