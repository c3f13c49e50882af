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
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/rtu"
)

// CurrentVersion is the schema version this build writes.
const CurrentVersion = 1

// Config is the whole configuration of one gateway.
type Config struct {
	// Version is the file format's version: a build reads only the
	// version it writes.
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
	BandwidthLimit Rate `json:"bandwidth_limit"`
	// Sources are the e-chart servers whose exports are pulled; a gateway
	// backs nothing up until it has one.
	Sources []Source `json:"sources"`
	// ResticBinary is the restic v0.19.1 binary. Its default is the one
	// the image ships. Left at that, $DANZEN_RESTIC is run when set, else
	// the image's file where it exists, else restic on PATH: a
	// configuration written for the appliance runs on a bench PC too.
	ResticBinary string `json:"restic_binary"`
	// Relays switch the media's power supplies; media name them.
	Relays []relay.Spec `json:"relays"`
	// RelayModules are the Modbus RTU relay modules (on a USB–RS-485
	// adapter) that relays of driver "modbus" name: how a board without a
	// GPIO header, such as an amd64 mini PC, drives its relays.
	RelayModules []rtu.ModuleSpec `json:"relay_modules,omitempty"`
	// Interlock is the optional timer switch in the relay coils' supply
	// that lets power through only in the backup window.
	Interlock *Interlock `json:"interlock,omitempty"`
	// Media are where the backups go, each with its own restic
	// repository.
	Media []Medium `json:"media"`
	// Retention is how many generations each medium keeps.
	Retention Retention `json:"retention"`
	// Rotation is how many media each cycle writes.
	Rotation Rotation `json:"rotation"`
	// Offsite is the hospital's off-site rotation: a removable medium
	// kept away from the server room in turn.
	Offsite Offsite `json:"offsite,omitzero"`
	// Schedule is when cycles run: "daily 02:00" or a five-field cron
	// expression, in TimeZone.
	Schedule string `json:"schedule"`
	// TimeZone is the IANA zone the schedule is read in. The appliance's
	// clock runs in UTC; the hospital's night is in Japan.
	TimeZone string `json:"time_zone"`
	// Network is the gateway's address on the LAN, its name and the time
	// servers it asks.
	Network Network `json:"network"`
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
	// Scan is the WAN-edge self-scan of the addresses in the register of
	// the hospital's external connection points, and its known-exploited
	// feed.
	Scan Scan `json:"scan"`
}

// Scan configures the WAN-edge self-scan; netprobe reads and checks it.
type Scan struct {
	// Register is the register of connection points (JSON), relative to
	// the configuration file's directory; default "register.json".
	Register string `json:"register,omitempty"`
	// Dir keeps the scan reports, relative like Register; default "scans".
	Dir string `json:"dir,omitempty"`
	// TCPPorts are the TCP ports probed on each connection point
	// ("1-1024,3389"); "" probes all 65,535.
	TCPPorts string `json:"tcp_ports,omitempty"`
	// Rate caps the connects per second of the whole scan; 0 takes
	// netprobe's default.
	Rate int `json:"rate,omitempty"`
	// Concurrency caps the connects in flight per address; 0 takes
	// netprobe's default.
	Concurrency int `json:"concurrency,omitempty"`
	// PublicRate caps the connects per second while the register holds a
	// public address: a typo there sends the scan to someone else's
	// network. 0 takes netprobe's default (1000).
	PublicRate int `json:"public_rate,omitempty"`
	// LoopbackLab lets a scan touch 127.0.0.0/8 and ::1, where tests run
	// their fake edge devices; a gateway never needs it, and every other
	// address no device has stays refused.
	LoopbackLab bool `json:"loopback_lab,omitempty"`
	// Confirmed are the global addresses a vendor admin confirmed on the
	// self-scan page as the hospital's own; a public address is scanned
	// only while its point's confirmation names that same address.
	Confirmed []ScanConfirmation `json:"confirmed,omitempty"`
	// SNMPCommunities are tried only when listed (opt-in).
	SNMPCommunities []string `json:"snmp_communities,omitempty"`
	// Feed is where a known-exploited feed uploaded on the self-scan page
	// is kept, relative like Register; a valid one, not older than the
	// embedded feed, replaces it.
	Feed string `json:"kev_feed,omitempty"`
	// Schedule runs the scan by itself, written like the cycles' schedule
	// ("" = on demand only). A scheduled scan waits for a running cycle
	// to finish.
	Schedule string `json:"schedule,omitempty"`
}

// ScanConfirmation is one typed confirmation that a point's global
// address belongs to the hospital.
type ScanConfirmation struct {
	// Point is the register's ID of the connection point (CAF00001).
	Point string `json:"point"`
	// Addr is the global address as the person typed it again.
	Addr string `json:"addr"`
	// By is the vendor admin who confirmed.
	By string `json:"by"`
	// At is when.
	At time.Time `json:"at"`
	// Contract is the line's contract ID, if given.
	Contract string `json:"contract,omitempty"`
}

// Documents holds what only the hospital can say: it never changes what
// the gateway does, only what the plan, annex, runbook and recovery sheet
// print.
type Documents struct {
	// HospitalName is the hospital (or clinic) as the documents name it.
	HospitalName string `json:"hospital_name"`
	// SystemsCovered are the systems whose exports are backed up
	// (電子カルテ, オーダリング, レセプト …).
	SystemsCovered []string `json:"systems_covered"`
	// Responsible is the 責任者: name and post.
	Responsible string `json:"responsible"`
	// Operator is the 担当者 who swaps media and runs drills.
	Operator string `json:"operator"`
	// VendorContact is the maintenance vendor's contact (保守ベンダ連絡先).
	VendorContact string `json:"vendor_contact"`
	// MediaStorage is where media are kept between uses.
	MediaStorage string `json:"media_storage"`
	// PasswordStorage says where the repository passwords are kept (a
	// sealed envelope in a safe …), never the passwords.
	PasswordStorage string `json:"password_storage"`
	// RPO is the target for data loss: at most this old.
	RPO Duration `json:"rpo"`
	// RTO is the target for a restore: done within this time.
	RTO Duration `json:"rto"`
	// DrillSchedule says when the restore drills are held, in words for
	// the plan ("毎年4月"); restore.drill_schedule runs them.
	DrillSchedule string `json:"drill_schedule"`
	// GatewayAddress is the gateway's LAN address, the only address the
	// pull key is accepted from on the e-chart server.
	GatewayAddress string `json:"gateway_address"`
	// SFTPChroot is the read-only account's chroot on the e-chart server.
	SFTPChroot string `json:"sftp_chroot"`
	// BCP ties the plan to the hospital's 事業継続計画 (business
	// continuity plan): what only the hospital can say about it.
	BCP BCP `json:"bcp,omitzero"`
}

// GenerationSpanDays is about how many days back the kept generations
// reach on each medium, from the retention, the schedule and the rotation.
func (c *Config) GenerationSpanDays() int { return c.generationSpanDays() }

// BCP is the part of the hospital's 事業継続計画 the plan prints: the
// systems in restore order (in the shape of MHLW's BCP template 2.2.4),
// the contact tree, where incidents are reported and the switch to paper.
type BCP struct {
	// Document names the hospital's BCP (title, version, where kept).
	Document string `json:"document,omitempty"`
	// Systems are the systems the BCP restores, each with its order.
	Systems []BCPSystem `json:"systems,omitempty"`
	// Contacts is the contact tree (連絡網), in the order people are called.
	Contacts []BCPContact `json:"contacts,omitempty"`
	// ReportMHLW is where the hospital reports a cyber attack to
	// 厚生労働省 (the Ministry of Health).
	ReportMHLW string `json:"report_mhlw,omitempty"`
	// ReportPolice is the police desk (the prefecture's cybercrime desk).
	ReportPolice string `json:"report_police,omitempty"`
	// ReportPPC is where a leak is reported to 個人情報保護委員会.
	ReportPPC string `json:"report_ppc,omitempty"`
	// PaperOperation names the procedure for the switch to paper
	// operation (紙運用) and where it is kept.
	PaperOperation string `json:"paper_operation,omitempty"`
}

// BCPSystem is one system of the BCP (MHLW BCP template 2.2.4).
type BCPSystem struct {
	// Order is its place in the restore order, 1 first; systems that
	// are restored together share one.
	Order int `json:"order"`
	// Name is the system (電子カルテ, 部門システム …).
	Name string `json:"name"`
	// Frequency is how often it is backed up (毎日 …).
	Frequency string `json:"frequency"`
	// Method is how it is backed up (media, where kept).
	Method string `json:"method"`
	// Restore is how it is restored.
	Restore string `json:"restore"`
	// Platform is the OS and application it needs, and their versions.
	Platform string `json:"platform"`
}

// BCPContact is one line of the contact tree.
type BCPContact struct {
	// Role is the person's part (情報システム担当, 院長 …).
	Role string `json:"role"`
	// Name is who.
	Name string `json:"name"`
	// Phone is how to reach them (extension, mobile).
	Phone string `json:"phone"`
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
	v.bcp(d.BCP)
}

// bcp checks the BCP's lists: each system needs a name and a place in
// the restore order, each contact a role, a name and a number.
func (v *checker) bcp(b BCP) {
	seen := map[string]bool{}
	for i, s := range b.Systems {
		at := "documents.bcp.systems[" + strconv.Itoa(i) + "]"
		if strings.TrimSpace(s.Name) == "" {
			v.Add(at+".name", "システム名を入力してください", "give the system's name")
		} else if seen[s.Name] {
			v.Add(at+".name", "同じシステムが2回あります", "the same system is listed twice")
		}
		seen[s.Name] = true
		if s.Order < 1 {
			v.Add(at+".order", "復旧順位は1以上の整数にしてください", "the restore order must be a whole number of 1 or more")
		}
		if strings.TrimSpace(s.Frequency) == "" || strings.TrimSpace(s.Method) == "" || strings.TrimSpace(s.Restore) == "" {
			v.Add(at+".restore", "頻度・方法・復元方法をすべて入力してください", "give the frequency, the method and how it is restored")
		}
	}
	for i, c := range b.Contacts {
		if strings.TrimSpace(c.Role) == "" || strings.TrimSpace(c.Name) == "" || strings.TrimSpace(c.Phone) == "" {
			v.Add("documents.bcp.contacts["+strconv.Itoa(i)+"]", "役割・氏名・連絡先をすべて入力してください", "give the role, the name and the number")
		}
	}
}

// Source is one e-chart (電子カルテ) server whose export danzen pulls.
type Source struct {
	// Name names the source in the ledger and its folder in StagingDir.
	Name string `json:"name"`
	// Host is the e-chart server's host name or IP address.
	Host string `json:"host"`
	// Port is its SSH port.
	Port int `json:"port"`
	// User is the read-only SFTP account the export is pulled with.
	User string `json:"user"`
	// KeyFile is the client's private key (ed25519 or RSA), relative to
	// SecretsDir unless absolute. It must be mode 0600.
	KeyFile string `json:"key_file"`
	// KnownHosts pins the server's host keys, in known_hosts line form.
	KnownHosts []string `json:"known_hosts"`
	// ExportDir is the remote directory the export is written to.
	ExportDir string `json:"export_dir"`
	// Include are globs over paths relative to ExportDir, "/"-separated
	// ("**" matches any number of directories): what is pulled.
	Include []string `json:"include"`
	// Exclude are globs written like Include: what is left out of it.
	Exclude []string `json:"exclude"`
	// Completion is how danzen knows the exporter has finished a file:
	// a file still being written is never pulled.
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
	// Mode is "marker" (the exporter writes a done-marker) or "stable"
	// (a file unchanged for StableFor is complete).
	Mode string `json:"mode"`
	// Marker is the done-marker's file name in marker mode. One with
	// "{name}" in it is per file ("{name}.done"); any other covers its
	// directory and everything below it ("EXPORT_COMPLETE").
	Marker string `json:"marker,omitempty"`
	// StableFor is how long a file's size and modification time must stay
	// unchanged in stable mode.
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
		ResticBinary: DefaultResticBinary,
		Retention:    Retention{KeepLast: 5},
		Rotation:     Rotation{PerCycle: 1},
		CheckSubset:  "5%",
		Schedule:     "daily 02:00",
		TimeZone:     "Asia/Tokyo",
		Network:      DefaultNetwork(),
		Documents:    Documents{SFTPChroot: "/srv/danzen-chroot"},
		Restore:      Restore{Window: Duration(DefaultRestoreWindow)},
		Offsite:      Offsite{MaxAllHome: Duration(DefaultMaxAllHome)},
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

// Load reads and validates the configuration file at path for the CLI:
// besides Validate, every relay driver must be one the CLI can drive
// (not "fake", whose pins only tests and the demo give).
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	c, err := decode(data)
	if err == nil {
		err = c.validate(true)
	}
	if err != nil {
		return nil, msg.Errorf("%s: %w", "%s: %w", path, err)
	}
	return c, nil
}

// LoadUnfinished is Load for the gateway's start-up: a configuration that
// is only Unfinished (no source yet) is returned too, with missing saying
// what it lacks, so that the page can finish it. Every other problem is
// an error as with Validate.
func LoadUnfinished(path string) (c *Config, missing *ValidationError, err error) {
	data, err := readFile(path)
	if err != nil {
		return nil, nil, err
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

// readFile reads the configuration file at path, saying which when it
// cannot.
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, msg.Errorf("設定ファイル %s がありません: %w", "configuration file %s does not exist: %w", path, err)
	case err != nil:
		return nil, msg.Errorf("設定ファイル %s を読めません: %w", "cannot read the configuration %s: %w", path, err)
	}
	return data, nil
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
