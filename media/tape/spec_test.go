package tape_test

import (
	"errors"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/media/tape"
)

func TestSpecValidate(t *testing.T) {
	ok := tape.Spec{Name: "lto", SpoolDir: "/perm/danzen/spool/lto"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid spec: %v", err)
	}
	bad := tape.Spec{Device: "nst0", SpoolDir: "spool", RecordSize: 100 << 10, GoneTimeout: tape.Duration(time.Hour)}
	err := bad.Validate()
	fields := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *tape.FieldError
		if !errors.As(e, &fe) || fe.Text.JA == "" || fe.Text.EN == "" {
			t.Fatalf("not a bilingual field error: %v", e)
		}
		fields[fe.Field] = true
	}
	for _, f := range []string{"name", "device", "spool_dir", "record_size", "gone_timeout"} {
		if !fields[f] {
			t.Errorf("no error for %s: %v", f, err)
		}
	}
	if len(fields) != 5 {
		t.Errorf("errors for %v", fields)
	}
}
