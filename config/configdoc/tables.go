package configdoc

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/tape"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/relay"
)

var (
	durationType = reflect.TypeFor[duration.Duration]()
	rateType     = reflect.TypeFor[config.Rate]()
)

// units says what each number of the configuration counts; Collect
// refuses a number without one.
func units() map[string]string {
	return map[string]string{
		"version":                       "the file format's version",
		"documents.bcp.systems[].order": "place in the restore order, 1 first",
		"sources[].port":                "TCP port",
		"sources[].connections":         "SSH connections, 1–8",
		"sources[].workers":             "files at once, 1–64",
		"sources[].attempts":            "attempts, 1–10",
		"sources[].drop_alert_percent":  "percent, 0 (never) or 1–99",
		"relays[].line":                 "line offset on the GPIO chip (not the header pin number)",
		"relays[].sense.line":           "line offset on the GPIO chip (not the header pin number)",
		"relay_modules[].address":       "Modbus slave address, 1–247",
		"relay_modules[].baud":          "bits per second",
		"retention.keep_last":           "snapshots",
		"retention.keep_daily":          "days (the newest snapshot of each)",
		"retention.keep_weekly":         "weeks (the newest snapshot of each)",
		"retention.keep_monthly":        "months (the newest snapshot of each)",
		"rotation.per_cycle":            "media",
		"media[].s3.min_retention_days": "days",
		"media[].tape.record_size":      "bytes, a multiple of 512",
		"restore.targets[].port":        "TCP port",
		"alerts.attempts":               "attempts per channel and alert, 0–10",
		"alerts.email.port":             "TCP port",
		"scan.rate":                     "connects per second over the whole scan",
		"scan.concurrency":              "connects in flight per address",
		"scan.public_rate":              "connects per second while a public address is scanned",
	}
}

// forms says how a value is written, where its type does not say it all.
func forms() map[string]string {
	return map[string]string{
		"schedule":                        `"daily HH:MM" or five cron fields (minute hour day month weekday)`,
		"restore.drill_schedule":          `"daily HH:MM" or five cron fields`,
		"scan.schedule":                   `"daily HH:MM" or five cron fields`,
		"time_zone":                       "IANA time zone name",
		"check_read_data_subset":          `"n/t", "x%" or a size ("500M")`,
		"sources[].key_file":              "file name in secrets_dir",
		"restore.targets[].key_file":      "file name in secrets_dir",
		"media[].password_file":           "file name in secrets_dir",
		"media[].s3.secret_key_file":      "file name in secrets_dir",
		"alerts.email.password_file":      "file name in secrets_dir",
		"alerts.webhook.token_file":       "file name in secrets_dir",
		"sources[].known_hosts":           "known_hosts lines",
		"restore.targets[].known_hosts":   "known_hosts lines",
		"staging_dir":                     "absolute path",
		"secrets_dir":                     "absolute path",
		"ledger_dir":                      "absolute path",
		"documents.gateway_address":       "IP address",
		"media[].disk.fs_uuid":            "UUID",
		"sources[].completion.stable_for": "at least 1s",
		"restore.window":                  "10m to 72h",
		"relays[].on_timeout":             "up to 10m",
		"relays[].off_timeout":            "up to 10m",
		"media[].s3.appear_timeout":       "up to 10m",
		"media[].s3.gone_timeout":         "up to 10m",
		"media[].disk.appear_timeout":     "up to 10m",
		"media[].disk.gone_timeout":       "up to 10m",
		"media[].tape.appear_timeout":     "up to 10m",
		"media[].tape.gone_timeout":       "up to 10m",
		"alerts.repeat_interval":          "1m to 7d",
		"offsite.max_all_home":            "1d to 365d",
		"alerts.email.timeout":            "1s to 5m",
		"alerts.webhook.timeout":          "1s to 5m",
		"sources[].include":               `globs relative to export_dir, "/"-separated`,
		"sources[].exclude":               `globs relative to export_dir, "/"-separated`,
		"bandwidth_limit":                 "bytes per second",
		"scan.tcp_ports":                  `ports and ranges, "1-1024,3389"`,
		"alerts.email.to":                 "mail addresses",
		"media[].disk.serial":             "USB serial, SCSI unit serial or WWN",
		"restore.targets[].base_dir":      "absolute path on the server",
		"sources[].export_dir":            "absolute path on the server",
		"media[].tape.spool_dir":          "absolute path",
		"media[].disk.mount_dir":          "absolute path",
		"media[].tape.device":             "absolute path",
		"media[].s3.endpoint":             "host or host:port",
		"documents.sftp_chroot":           "absolute path on the server",
		"alerts.webhook.url":              "http:// or https:// URL",
		"alerts.email.from":               "mail address",
		"documents.systems_covered":       "names",
		"scan.snmp_communities":           "community names",
		"media[].s3.ca_file":              "file name in secrets_dir, or an absolute path (PEM)",
		"alerts.email.ca_file":            "file name in secrets_dir, or an absolute path (PEM)",
		"alerts.webhook.ca_file":          "file name in secrets_dir, or an absolute path (PEM)",
		"scan.register":                   "path, relative to the configuration file's folder",
		"scan.dir":                        "path, relative to the configuration file's folder",
		"scan.kev_feed":                   "path, relative to the configuration file's folder",
		"restic_binary":                   "absolute path",
		"gateway_id":                      "1–64 letters, digits, '.', '_' or '-'",
		"sources[].name":                  "1–64 letters, digits, '.', '_' or '-'",
		"media[].name":                    "1–64 letters, digits, '.', '_' or '-'",
		"relays[].name":                   "1–64 letters, digits, '.', '_' or '-'",
		"restore.targets[].name":          "1–64 letters, digits, '.', '_' or '-'",
		"media[].disk.media_id":           "1–64 letters, digits, '.', '_' or '-'",
		"sources[].completion.marker":     `a file name; "{name}" in it makes it per file`,
		"media[].s3.prefix":               `"a/b", no leading or trailing "/"`,
		"documents.drill_schedule":        "free text",
		"alerts.email.server":             "host name or IP address",
		"sources[].host":                  "host name or IP address",
		"restore.targets[].host":          "host name or IP address",
		"relays[].chip":                   `label ("pinctrl-rp1"), name ("gpiochip0") or path`,
		"relays[].sense.chip":             `label ("pinctrl-rp1"), name ("gpiochip0") or path`,
		"media[].relay":                   "a name in relays",
		"network.mode":                    `"dhcp" or "static"`,
		"network.interface":               "network interface name, up to 15 characters",
		"network.address":                 `IPv4 address/prefix length, /8 to /30`,
		"network.gateway":                 "IPv4 address in the static address's subnet",
		"network.dns":                     "IPv4 addresses, at most 3",
		"network.hostname":                "up to 63 letters, digits and '-'",
		"network.ntp_servers":             `host names or IP addresses, optionally ":port"; at most 4`,
	}
}

// zeroMeans is what an empty or zero value stands for, where the default
// is applied when the value is used rather than when the file is read.
func zeroMeans() map[string]string {
	d := func(t time.Duration) string { return "`" + duration.Compact(t) + "`" }
	def := netprobe.DefaultOptions()
	reg, dir := netprobe.Files("/c/config.json", config.Scan{})
	rel := func(p string) string { r, _ := filepath.Rel("/c", p); return "`" + r + "`" }
	return map[string]string{
		"relays[].on_timeout":         d(relay.DefaultOnTimeout),
		"relays[].off_timeout":        d(relay.DefaultOffTimeout),
		"relays[].sense.pull":         "the line's bias as the kernel or firmware set it",
		"media[].disk.mount_dir":      "`" + disk.DefaultMountRoot + "/<name>`",
		"media[].disk.appear_timeout": d(disk.DefaultAppearTimeout),
		"media[].disk.gone_timeout":   d(disk.DefaultGoneTimeout),
		"media[].s3.region":           "`" + s3.DefaultRegion + "`",
		"media[].s3.prefix":           "the bucket's root",
		"media[].s3.ca_file":          "the system's certificate authorities",
		"media[].s3.appear_timeout":   d(s3.DefaultAppearTimeout),
		"media[].s3.gone_timeout":     d(s3.DefaultGoneTimeout),
		"media[].tape.device":         "`" + tape.DefaultDevice + "`",
		"media[].tape.record_size":    "`" + strconv.Itoa(tape.DefaultRecordSize) + "` (512 KiB)",
		"media[].tape.appear_timeout": d(tape.DefaultAppearTimeout),
		"media[].tape.gone_timeout":   d(tape.DefaultGoneTimeout),
		"alerts.repeat_interval":      d(alert.DefaultRepeatInterval),
		"alerts.attempts":             "`" + strconv.Itoa(alert.DefaultAttempts) + "`",
		"alerts.email.port":           "`" + strconv.Itoa(alert.DefaultSMTPPort) + "`",
		"alerts.email.tls":            "`\"" + alert.TLSStartTLS + "\"`",
		"alerts.email.timeout":        d(alert.DefaultEmailTimeout),
		"alerts.email.ca_file":        "the system's certificate authorities",
		"alerts.webhook.timeout":      d(alert.DefaultWebhookTimeout),
		"alerts.webhook.ca_file":      "the system's certificate authorities",
		"scan.register":               rel(reg),
		"scan.dir":                    rel(dir),
		"scan.kev_feed":               rel(netprobe.FeedFile("/c/config.json", config.Scan{})) + ", the embedded feed until one is uploaded",
		"scan.tcp_ports":              "all 65,535 ports",
		"scan.rate":                   "`" + fmt.Sprint(def.Rate) + "`",
		"scan.public_rate":            "`" + fmt.Sprint(netprobe.DefaultPublicRate) + "`",
		"scan.concurrency":            "`" + strconv.Itoa(def.Concurrency) + "`",
		"scan.schedule":               "on demand only",
		"restore.drill_schedule":      "on demand only",
		"check_read_data_subset":      "the structure only, no data read",
		"bandwidth_limit":             "no cap",
		"rotation.per_cycle":          "every medium every cycle",
		"documents.rpo":               "not filled in (printed as 未記入)",
		"documents.rto":               "not filled in (printed as 未記入)",
	}
}

// extraExamples are examples of the fields that no example file sets.
func extraExamples() map[string]string {
	return map[string]string{
		"media[].s3.ca_file":        `"object-store-ca.pem"`,
		"retention.shorten_delay":   `"14d"`,
		"relay_modules[].device":    `"/dev/ttyS1"`,
		"relays[].active_low":       "true",
		"media[].s3.appear_timeout": `"3m"`,
		"media[].s3.gone_timeout":   `"30s"`,
		"alerts.email.ca_file":      `"hospital-ca.pem"`,
		"scan.public_rate":          "500",
		"scan.loopback_lab":         "true",
		"scan.confirmed[].point":    `"CAF00001"`,
		"scan.confirmed[].addr":     `"203.0.113.7"`,
		"scan.confirmed[].by":       `"vendor"`,
		"scan.confirmed[].at":       `"2026-12-01T09:30:00Z"`,
		"scan.confirmed[].contract": `"COP-1234"`,
	}
}

// defaultOf is f's value in a file that leaves it out, def, in Markdown.
func defaultOf(f *Field, def reflect.Value) string {
	t := f.Type
	switch {
	case t.Kind() == reflect.Pointer:
		return "absent: none"
	case f.Object && t.Kind() == reflect.Slice:
		return "`[]`: none"
	case f.Object:
		return "each field's own"
	case !def.IsValid():
		return "none"
	}
	b, err := json.Marshal(def.Interface())
	if err != nil {
		return "none"
	}
	s := "`" + string(b) + "`"
	if string(b) == "null" {
		s = "`[]`"
	}
	if z, ok := zeroMeans()[f.Path]; ok && def.IsZero() {
		s += ", which means " + z
	}
	return s
}

// typeOf names t for a person reading JSON.
func typeOf(f *Field) string {
	t := f.Type
	var s string
	switch {
	case t == durationType:
		s = "duration"
	case t == rateType:
		s = "rate"
	case t.Kind() == reflect.Pointer:
		s = "object, optional"
	case t.Kind() == reflect.Struct:
		s = "object"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		s = "list of objects"
	case t.Kind() == reflect.Slice:
		s = "list of " + scalar(t.Elem()) + "s"
	default:
		s = scalar(t)
	}
	if u := cmp.Or(units()[f.Path], forms()[f.Path]); u != "" {
		s += ": " + u
	}
	return s
}

func scalar(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return "integer"
}
