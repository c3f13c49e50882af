package s3

import (
	"cmp"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/media/disk"
)

// Defaults used when a Spec field is zero.
const (
	DefaultRegion = "us-east-1"
	// DefaultAppearTimeout is how long an uplink device on a relay gets to
	// boot and reach the endpoint.
	DefaultAppearTimeout = 3 * time.Minute
	// DefaultGoneTimeout is how long the endpoint may stay reachable after
	// the uplink's relay is cut.
	DefaultGoneTimeout = 30 * time.Second
	maxRetentionDays   = 36500
	// CanaryName is the object, under the prefix, whose version delete
	// must be refused before every upload.
	CanaryName = "danzen-canary"
)

// Spec configures one S3 bucket as a medium. It is embedded in the
// appliance's JSON config, so it holds only plain JSON values and no
// secret: the secret key is in a file under secrets/.
//
// The connection is always HTTPS. An on-premise object store with a
// private certificate authority is trusted through CAFile, never by
// turning verification off.
type Spec struct {
	// Name is the medium's name (the configuration sets it from the
	// medium's).
	Name string `json:"name"`
	// Endpoint is host or host:port, without scheme or path
	// ("s3.ap-northeast-1.amazonaws.com", "10.0.5.20:9000").
	Endpoint string `json:"endpoint"`
	// Region defaults to us-east-1.
	Region string `json:"region,omitempty"`
	// Bucket must have versioning and Object Lock in COMPLIANCE mode.
	Bucket string `json:"bucket"`
	// Prefix is the folder inside the bucket that holds the restic
	// repository ("" = the bucket root).
	Prefix string `json:"prefix,omitempty"`
	// AccessKeyID is the access key's ID, for a key without the right to
	// delete object versions.
	AccessKeyID string `json:"access_key_id"`
	// SecretKeyFile holds the secret access key (0600), relative to the
	// secrets directory unless absolute.
	SecretKeyFile string `json:"secret_key_file"`
	// CAFile is a PEM bundle of the certificate authorities trusted for
	// Endpoint, relative to the secrets directory unless absolute; "" is
	// the system's roots.
	CAFile string `json:"ca_file,omitempty"`
	// MinRetentionDays is the least default retention (COMPLIANCE) the
	// bucket must have; it must cover the generations danzen keeps.
	MinRetentionDays int `json:"min_retention_days"`
	// AppearTimeout bounds the wait for the endpoint after the uplink's
	// relay closes. Only used when the medium has a relay.
	AppearTimeout duration.Duration `json:"appear_timeout,omitempty"`
	// GoneTimeout bounds the wait for the endpoint to vanish after the
	// uplink's relay is cut. Only used when the medium has a relay.
	GoneTimeout duration.Duration `json:"gone_timeout,omitempty"`
}

// Validate checks the spec and returns every problem found as a
// *fielderr.List of *disk.FieldError (the media's common field error,
// which the configuration maps to its fields), or nil.
func (s Spec) Validate() error {
	v := disk.FieldErrors(s.Name)
	if s.Name == "" {
		v.Add("name", "名前が空です", "name is empty")
	}
	if !validEndpoint(s.Endpoint) {
		v.Add("endpoint", "ホスト名またはホスト名:ポートを指定してください(https:// やパスは付けません)",
			"give host or host:port, without https:// or a path")
	}
	if s.Region != "" && strings.ContainsFunc(s.Region, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }) {
		v.Add("region", "リージョン名は英小文字・数字・「-」です(例: ap-northeast-1)", "region is lower-case letters, digits and '-' (example: ap-northeast-1)")
	}
	if !validBucket(s.Bucket) {
		v.Add("bucket", "バケット名は3〜63文字の英小文字・数字・「.」「-」です", "bucket names are 3–63 lower-case letters, digits, '.' and '-'")
	}
	if p := s.Prefix; p != "" && (strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") ||
		strings.Contains("/"+p+"/", "/../") || strings.Contains("/"+p+"/", "/./") || strings.ContainsAny(p, " \\")) {
		v.Add("prefix", "「a/b」の形で、先頭・末尾の「/」や「..」、空白を含めないでください", "use the form a/b, without a leading or trailing '/', '..' or spaces")
	}
	if s.AccessKeyID == "" || strings.ContainsFunc(s.AccessKeyID, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		v.Add("access_key_id", "アクセスキーIDを指定してください(空白なしの英数字)", "give the access key ID (printable, no spaces)")
	}
	if s.SecretKeyFile == "" || strings.ContainsAny(s.SecretKeyFile, " \n") {
		v.Add("secret_key_file", "シークレットキーのファイル名(secrets内、0600)を指定してください。キーそのものは設定に書きません",
			"give the secret key's file name (under secrets, mode 0600), never the key itself")
	}
	if s.MinRetentionDays < 1 || s.MinRetentionDays > maxRetentionDays {
		v.Add("min_retention_days", "最低保持日数を1〜36500日で指定してください(保持する世代の期間以上)",
			"give the minimum retention in days, 1–36500 (at least the span of the kept generations)")
	}
	v.Timeout("appear_timeout", s.AppearTimeout.Std())
	v.Timeout("gone_timeout", s.GoneTimeout.Std())
	return v.Err()
}

// Location is the restic repository: "s3:https://endpoint/bucket/prefix".
func (s Spec) Location() string {
	loc := "s3:https://" + s.Endpoint + "/" + s.Bucket
	if s.Prefix != "" {
		loc += "/" + s.Prefix
	}
	return loc
}

// region returns the region, applying the default.
func (s Spec) region() string {
	if s.Region != "" {
		return s.Region
	}
	return DefaultRegion
}

// key returns name's object key under the prefix.
func (s Spec) key(name string) string {
	if s.Prefix == "" {
		return name
	}
	return s.Prefix + "/" + name
}

// Validate refuses negative timeouts, so zero is the only one defaulted.
func (s Spec) appearTimeout() time.Duration {
	return cmp.Or(s.AppearTimeout.Std(), DefaultAppearTimeout)
}

func (s Spec) goneTimeout() time.Duration {
	return cmp.Or(s.GoneTimeout.Std(), DefaultGoneTimeout)
}

func validEndpoint(e string) bool {
	if e == "" || strings.ContainsAny(e, "/ @?#") {
		return false
	}
	host, port, err := net.SplitHostPort(e)
	if err != nil {
		host, port = e, ""
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return host != "" && !strings.Contains(host, ":") || net.ParseIP(host) != nil
}

// validBucket follows S3's bucket naming rules (no upper case, no "..",
// starts and ends with a letter or digit).
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || strings.Contains(b, "..") {
		return false
	}
	for i, c := range b {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && ((c != '.' && c != '-') || i == 0 || i == len(b)-1) {
			return false
		}
	}
	return true
}
