package config

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // the appliance has no zoneinfo files
	"unicode"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/internal/fielderr"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/schedule"
)

// FieldError says what is wrong with one field, for the person editing it;
// Field is its JSON path, e.g. "sources[0].port".
type FieldError = fielderr.Error

// ValidationError lists every problem found, so one round of edits can fix
// them all.
type ValidationError = fielderr.List

type checker struct{ fielderr.List }

var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// name checks a name that other entries refer to or that names a folder.
func (v *checker) name(field, n string) {
	if !safeName.MatchString(n) {
		v.Add(field, "英数字・「.」「_」「-」で64文字以内にしてください", "use 1–64 letters, digits, '.', '_' or '-'")
	}
}

// unique checks that no other entry of a list (whose names seen holds) is
// called n; what says what the names are ("媒体名", "medium name").
func (v *checker) unique(field string, seen map[string]bool, n string, what msg.Text) {
	if seen[n] {
		v.AddText(field, msg.Sprintf("%s %q が重複しています", "%s %q is used twice", what, n))
	}
	seen[n] = true
}

// Validate checks the whole configuration and returns a *ValidationError
// naming each bad field, or nil.
func (c *Config) Validate() error { return c.validate(false) }

// validate is Validate; standalone adds what a program that opens the
// hardware by itself (the CLI) needs: relay drivers it can drive.
func (c *Config) validate(standalone bool) error {
	v := checker{fielderr.List{Title: msg.T("設定に誤りがあります:", "the configuration is invalid:")}}
	if c.Version != CurrentVersion {
		v.AddText("version", msg.Sprintf("この版は設定形式 %d のみ扱えます(%d が指定されています)", "this build reads configuration version %d, the file says %d", CurrentVersion, c.Version))
	}
	v.name("gateway_id", c.GatewayID)
	v.absDir("staging_dir", c.StagingDir)
	v.absDir("secrets_dir", c.SecretsDir)
	v.absDir("ledger_dir", c.LedgerDir)
	if c.BandwidthLimit < 0 {
		v.Add("bandwidth_limit", "負の値は指定できません", "must not be negative")
	}
	v.sources(c)
	seen := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		f := fmt.Sprintf("sources[%d]", i)
		v.unique(f+".name", seen, s.Name, msg.T("取得元名", "source name"))
		v.source(f, s)
	}
	v.media(c)
	v.relayModules(c)
	v.interlock(c)
	v.offsite(c)
	v.restore(c)
	v.nested("alerts", c.Alerts.Validate())
	v.documents(c.Documents)
	v.network(c.Network)
	if _, err := schedule.Parse(c.Schedule); err != nil {
		v.Add("schedule", "\"daily 02:00\" か5項目のcron式(例: \"30 1 * * 1-5\")にしてください", "use \"daily 02:00\" or a five-field cron expression (e.g. \"30 1 * * 1-5\")")
	}
	if c.Scan.Schedule != "" {
		if _, err := schedule.Parse(c.Scan.Schedule); err != nil {
			v.Add("scan.schedule", "空(手動のみ)、\"daily 12:30\" か5項目のcron式(例: 毎週月曜 \"30 12 * * 1\")にしてください",
				"leave empty (on demand), or \"daily 12:30\" or a five-field cron expression (Mondays: \"30 12 * * 1\")")
		}
	}
	v.scan(c.Scan)
	v.checkSubset(c.CheckSubset)
	v.secretFiles(c)
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		v.Add("time_zone", "タイムゾーン名が正しくありません(例: \"Asia/Tokyo\")", "unknown time zone (example: \"Asia/Tokyo\")")
	}
	if c.ResticBinary == "" {
		v.Add("restic_binary", "restic の実行ファイルを指定してください", "give the restic binary's path")
	}
	if standalone {
		v.drivable(c.Relays)
	}
	return v.Err()
}

// Bounds of the self-scan's pace; 0 takes netprobe's default.
const (
	MinScanRate, MaxScanRate = 10, 100000 // connects per second
	MaxScanConcurrency       = 4096       // connects in flight per address
)

func (v *checker) scan(s Scan) {
	if _, err := ParsePorts(s.TCPPorts); err != nil {
		v.Add("scan.tcp_ports", "ポート指定が読めません(例: 1-1024,3389)", "cannot read the port list (e.g. 1-1024,3389)")
	}
	if s.Rate != 0 && (s.Rate < MinScanRate || s.Rate > MaxScanRate) {
		v.AddText("scan.rate", msg.Sprintf("0(既定値)か %d〜%d にしてください", "use 0 (the default) or %d to %d", MinScanRate, MaxScanRate))
	}
	if s.PublicRate != 0 && (s.PublicRate < MinScanRate || s.PublicRate > MaxScanRate) {
		v.AddText("scan.public_rate", msg.Sprintf("0(既定値)か %d〜%d にしてください", "use 0 (the default) or %d to %d", MinScanRate, MaxScanRate))
	}
	if s.Concurrency < 0 || s.Concurrency > MaxScanConcurrency {
		v.AddText("scan.concurrency", msg.Sprintf("0(既定値)か 1〜%d にしてください", "use 0 (the default) or 1 to %d", MaxScanConcurrency))
	}
	seen := map[string]bool{}
	for i, c := range s.SNMPCommunities {
		f := fmt.Sprintf("scan.snmp_communities[%d]", i)
		switch {
		case strings.TrimSpace(c) == "" || strings.ContainsFunc(c, unicode.IsControl):
			v.Add(f, "空でない1行の文字列にしてください", "must be a non-empty single line")
		case seen[c]:
			v.AddText(f, msg.Sprintf("%q が重複しています", "%q is listed twice", c))
		}
		seen[c] = true
	}
}

func (v *checker) absDir(field, p string) {
	if p == "" || !filepath.IsAbs(p) {
		v.Add(field, "絶対パスを指定してください", "must be an absolute path")
	}
}

func (v *checker) source(f string, s *Source) {
	if !safeName.MatchString(s.Name) {
		v.Add(f+".name", "英数字・「.」「_」「-」で64文字以内にしてください(保存先のフォルダ名になります)",
			"use 1–64 letters, digits, '.', '_' or '-' (it names the staging folder)")
	}
	v.account(f, s.Host, s.Port, s.User, s.KeyFile, s.KnownHosts, msg.T("読み取り専用アカウント名を指定してください", "give the read-only account's user name"))
	if !strings.HasPrefix(s.ExportDir, "/") {
		v.Add(f+".export_dir", "リモートのエクスポート先を「/」で始まるパスで指定してください", "give the remote export directory as a path starting with '/'")
	}
	if len(s.Include) == 0 {
		v.Add(f+".include", "対象のパターンを1つ以上指定してください(すべては \"**\")", "give at least one pattern (\"**\" for everything)")
	}
	for j, g := range s.Include {
		v.glob(fmt.Sprintf("%s.include[%d]", f, j), g)
	}
	for j, g := range s.Exclude {
		v.glob(fmt.Sprintf("%s.exclude[%d]", f, j), g)
	}
	switch s.Completion.Mode {
	case CompletionMarker:
		m := s.Completion.Marker
		if m == "" || strings.ContainsAny(m, "/\x00") || m == "." || m == ".." {
			v.Add(f+".completion.marker", "完了マーカーのファイル名を指定してください(例: EXPORT_COMPLETE または {name}.done)",
				"give the done-marker's file name (e.g. EXPORT_COMPLETE or {name}.done)")
		}
	case CompletionStable:
		if s.Completion.StableFor.Std() < time.Second {
			v.Add(f+".completion.stable_for", "1秒以上を指定してください(SFTPの時刻は秒単位です)",
				"must be at least 1s (SFTP times have whole-second resolution)")
		}
	default:
		v.Add(f+".completion.mode", "\"marker\" か \"stable\" を指定してください", "must be \"marker\" or \"stable\"")
	}
	if s.Connections < 1 || s.Connections > 8 {
		v.Add(f+".connections", "接続数は1〜8です", "connections must be 1–8")
	}
	if s.Workers < 1 || s.Workers > 64 {
		v.Add(f+".workers", "同時転送数は1〜64です", "workers must be 1–64")
	}
	if s.Attempts < 1 || s.Attempts > 10 {
		v.Add(f+".attempts", "試行回数は1〜10です", "attempts must be 1–10")
	}
	if s.DropAlertPercent < 0 || s.DropAlertPercent > 99 {
		v.Add(f+".drop_alert_percent", "0(通知しない)か1〜99(%)にしてください", "use 0 (never alert) or 1–99 (%)")
	}
}

// account checks an SSH account on the e-chart server (a source's pull
// account or a restore target's write account); noUser is what to say
// when the user name is missing.
func (v *checker) account(f, host string, port int, user, keyFile string, knownHosts []string, noUser msg.Text) {
	if host == "" || strings.ContainsAny(host, " \t/@") {
		v.Add(f+".host", "電子カルテサーバのホスト名またはIPアドレスを指定してください", "give the e-chart server's host name or IP address")
	}
	if port < 1 || port > 65535 {
		v.Add(f+".port", "ポート番号は1〜65535です", "port must be 1–65535")
	}
	if user == "" {
		v.AddText(f+".user", noUser)
	}
	switch {
	case keyFile == "":
		v.Add(f+".key_file", "秘密鍵ファイル(secrets内、0600)を指定してください", "give the private key file (under secrets, mode 0600)")
	case strings.Contains(keyFile, "PRIVATE KEY"):
		v.Add(f+".key_file", "鍵の中身ではなくファイル名を書いてください。秘密情報は設定ファイルに入れません",
			"give a file name, not the key itself: secrets never go into the configuration file")
	}
	if len(knownHosts) == 0 {
		v.AddText(f+".known_hosts", missingPin())
	}
	for j, line := range knownHosts {
		if _, _, _, _, _, err := ssh.ParseKnownHosts([]byte(line)); err != nil {
			v.AddText(fmt.Sprintf("%s.known_hosts[%d]", f, j), msg.Sprintf("known_hosts 形式の行として読めません: %v", "not a known_hosts line: %v", err))
		}
	}
}

func (v *checker) glob(field, g string) {
	bad := g == "" || strings.HasPrefix(g, "/")
	for _, seg := range strings.Split(g, "/") {
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			bad = true
		}
	}
	if bad {
		v.AddText(field, msg.Sprintf("パターン %q が正しくありません(相対パス、例: \"db/*.dmp\"、\"**/*.csv\")", "pattern %q is malformed (relative, e.g. \"db/*.dmp\", \"**/*.csv\")", g))
	}
}

// KeyPath resolves a secret file name against SecretsDir.
func (c *Config) KeyPath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(c.SecretsDir, name)
}
