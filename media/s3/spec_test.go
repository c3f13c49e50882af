package s3_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/media/s3"
)

func goodSpec(name string) *s3.Spec {
	return &s3.Spec{Name: name, Endpoint: "s3.ap-northeast-1.amazonaws.com", Region: "ap-northeast-1", Bucket: "hospital-backup",
		Prefix: "danzen/" + name, AccessKeyID: "AKIAEXAMPLE", SecretKeyFile: name + ".s3-secret", MinRetentionDays: 40}
}

// fieldErrs validates cfg and returns its field errors by field (none: valid).
func fieldErrs(t *testing.T, cfg *config.Config) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := cfg.Validate()
	if err == nil {
		return out
	}
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want a ValidationError", err)
	}
	for _, f := range ve.Fields {
		out[f.Field] += f.Text.String() + "; "
	}
	return out
}

func TestSpecFieldsReachTheConfiguration(t *testing.T) {
	cfg := config.Default()
	bad := &s3.Spec{Name: "cloud", Endpoint: "https://s3.example.jp/", Bucket: "Bad_Bucket", Prefix: "/a/../b/",
		AccessKeyID: "AKIA EXAMPLE", SecretKeyFile: "", MinRetentionDays: 0}
	cfg.Media = []config.Medium{{Name: "cloud", Type: config.MediumS3, PasswordFile: "cloud.pw", S3: bad}}
	got := fieldErrs(t, cfg)
	for _, f := range []string{"endpoint", "bucket", "prefix", "access_key_id", "secret_key_file", "min_retention_days"} {
		if !strings.Contains(got["media[0].s3."+f], " / ") {
			t.Errorf("no bilingual error for media[0].s3.%s; got %v", f, got)
		}
	}
	if e, ok := got["media[0].relay"]; ok {
		t.Errorf("a bucket needs no relay, got %q", e)
	}
	if err := goodSpec("cloud").Validate(); err != nil {
		t.Errorf("good spec: %v", err)
	}
	for _, ep := range []string{"10.0.5.20:9000", "[fd00::5]:443", "minio.hospital.local"} {
		s := goodSpec("cloud")
		s.Endpoint = ep
		if err := s.Validate(); err != nil {
			t.Errorf("endpoint %s: %v", ep, err)
		}
	}
}

// The bucket's minimum retention must cover the generations kept: 5
// generations, written every other night (two media, one per cycle), span
// 10 days; weekly cycles make it 35 per medium.
func TestMinRetentionCoversTheGenerations(t *testing.T) {
	for _, tc := range []struct {
		schedule string
		min      int
		want     string // "" = accepted
	}{
		{"daily 02:00", 9, "at least 10"},
		{"daily 02:00", 10, ""},
		{"0 2 * * 0", 60, "at least 70"},
		{"0 2 * * 0", 70, ""},
	} {
		cfg := config.Default()
		cfg.Schedule = tc.schedule
		cfg.Retention = config.Retention{KeepLast: 5}
		cfg.Rotation.PerCycle = 1
		a, b := goodSpec("cloud-a"), goodSpec("cloud-b")
		a.MinRetentionDays, b.MinRetentionDays = tc.min, tc.min
		cfg.Media = []config.Medium{
			{Name: "cloud-a", Type: config.MediumS3, PasswordFile: "a.pw", S3: a},
			{Name: "cloud-b", Type: config.MediumS3, PasswordFile: "b.pw", S3: b},
		}
		got := fieldErrs(t, cfg)["media[0].s3.min_retention_days"]
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s, min %d: error %q, want %q", tc.schedule, tc.min, got, tc.want)
		}
	}
}
