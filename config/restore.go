package config

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/schedule"
)

// Restore is how restores and drills run.
type Restore struct {
	// Window is how long a medium stays powered for a restore or a drill
	// when the operator gives no deadline; then it is cut, finished or not.
	Window Duration `json:"window"`
	// DrillSchedule runs the restore drill by itself, like Schedule ("" =
	// on demand only). The 施設基準 asks for at least one drill a year.
	DrillSchedule string `json:"drill_schedule"`
	// Targets are write-enabled accounts on the e-chart side that restored
	// files can be sent back to. Never the pull account.
	Targets []RestoreTarget `json:"targets"`
}

// RestoreTarget is a separate, write-enabled SFTP account for putting
// restored files back on an e-chart server. The pull account stays
// read-only; this one is used only when an operator sends a restore.
type RestoreTarget struct {
	// Name names the target on the restore page and in the ledger.
	Name string `json:"name"`
	// Host is the e-chart server's host name or IP address.
	Host string `json:"host"`
	// Port is its SSH port.
	Port int `json:"port"`
	// User is the write-enabled account, never a source's pull account.
	User string `json:"user"`
	// KeyFile is the write account's private key, a file in SecretsDir
	// (0600) other than any source's key.
	KeyFile string `json:"key_file"`
	// KnownHosts pins the server's host keys, in known_hosts line form.
	KnownHosts []string `json:"known_hosts"`
	// BaseDir is the remote directory below which the operator names a
	// new directory for each restore.
	BaseDir string `json:"base_dir"`
}

// SSH returns the target as a Source for the SSH connection code (only
// the connection fields are set).
func (t RestoreTarget) SSH() Source {
	s := DefaultSource()
	s.Name, s.Host, s.Port, s.User, s.KeyFile, s.KnownHosts, s.ExportDir = t.Name, t.Host, t.Port, t.User, t.KeyFile, t.KnownHosts, t.BaseDir
	s.Connections = 1
	return s
}

// RestoreTarget returns the restore target called name.
func (c *Config) RestoreTarget(name string) (*RestoreTarget, error) {
	for i := range c.Restore.Targets {
		if c.Restore.Targets[i].Name == name {
			return &c.Restore.Targets[i], nil
		}
	}
	return nil, msg.Errorf("復元先 %q は設定にありません", "no restore target named %q in the configuration", name)
}

// DefaultRestoreWindow is Restore.Window's default.
const DefaultRestoreWindow = 4 * time.Hour

// UnmarshalJSON fills absent fields of a restore target with defaults.
func (t *RestoreTarget) UnmarshalJSON(b []byte) error {
	type plain RestoreTarget
	p := plain{Port: 22}
	if err := decodeStrict(b, &p); err != nil {
		return err
	}
	*t = RestoreTarget(p)
	return nil
}

func (v *checker) restore(c *Config) {
	r := c.Restore
	if r.Window.Std() < 10*time.Minute || r.Window.Std() > 72*time.Hour {
		v.Add("restore.window", "10分〜72時間にしてください(例: \"4h\")", "must be 10m to 72h (e.g. \"4h\")")
	}
	if r.DrillSchedule != "" {
		if _, err := schedule.Parse(r.DrillSchedule); err != nil {
			v.Add("restore.drill_schedule", "空(手動のみ)、\"daily 10:00\" か5項目のcron式(例: 年1回 \"0 10 1 4 *\")にしてください",
				"leave empty (on demand), or \"daily 10:00\" or a five-field cron expression (yearly: \"0 10 1 4 *\")")
		}
	}
	pull := map[string]string{}
	keys := map[string]string{}
	for _, s := range c.Sources {
		pull[s.User+"@"+s.Host] = s.Name
		keys[s.KeyFile] = s.Name
	}
	names := map[string]bool{}
	for i, t := range r.Targets {
		f := fmt.Sprintf("restore.targets[%d]", i)
		v.name(f+".name", t.Name)
		v.unique(f+".name", names, t.Name, msg.T("復元先名", "restore target name"))
		v.account(f, t.Host, t.Port, t.User, t.KeyFile, t.KnownHosts, msg.T("書き込み用アカウント名を指定してください", "give the write-enabled account's user name"))
		if src, ok := pull[t.User+"@"+t.Host]; ok && t.User != "" {
			v.AddText(f+".user", msg.Sprintf("取得元 %s の読み取り専用アカウントと同じです。書き戻しには別のアカウントを使ってください", "this is source %s's read-only pull account: use a separate account for writing back", src))
		}
		if src, ok := keys[t.KeyFile]; ok && t.KeyFile != "" {
			v.AddText(f+".key_file", msg.Sprintf("取得元 %s と同じ鍵です。書き戻し用には別の鍵を使ってください", "the same key as source %s: the write account needs its own key", src))
		}
		if !strings.HasPrefix(t.BaseDir, "/") || path.Clean(t.BaseDir) != t.BaseDir {
			v.Add(f+".base_dir", "書き戻し先の親ディレクトリを「/」で始まる正規化されたパスで指定してください", "give the remote parent directory as a clean path starting with '/'")
		}
	}
}
