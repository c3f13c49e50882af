package gateway_test

import (
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/tape"
)

// Every medium type the configuration knows is registered, says in both
// languages what it is and what proves it offline, and describes a medium
// of its type only.
func TestMediumTypesRegistry(t *testing.T) {
	media := map[string]config.Medium{
		config.MediumDisk: {Name: "d", Type: config.MediumDisk, Disk: &disk.Spec{FSUUID: "0b1c", MediaID: "DANZEN-D"}},
		config.MediumS3:   {Name: "c", Type: config.MediumS3, S3: &s3.Spec{Endpoint: "s3.example.jp", Bucket: "b", MinRetentionDays: 30}},
		config.MediumTape: {Name: "t", Type: config.MediumTape, Tape: &tape.Spec{SpoolDir: "/perm/spool"}},
	}
	types := gateway.MediumTypes()
	if len(types) != len(media) {
		t.Fatalf("%d medium types registered, the configuration knows %d", len(types), len(media))
	}
	for _, mt := range types {
		m, ok := media[mt.Name]
		if !ok {
			t.Errorf("registered type %q is not a configuration type", mt.Name)
			continue
		}
		for what, text := range map[string][2]string{"label": {mt.Label.JA, mt.Label.EN}, "offline proof": {mt.Offline.JA, mt.Offline.EN}} {
			if text[0] == "" || text[1] == "" || text[0] == text[1] {
				t.Errorf("%s: %s is not in both languages: %q", mt.Name, what, text)
			}
		}
		if got, ok := gateway.MediumTypeOf(mt.Name); !ok || got.Name != mt.Name {
			t.Errorf("MediumTypeOf(%q) = %q, %v", mt.Name, got.Name, ok)
		}
		if !mt.Configured(m) || mt.Describe(m).IsZero() {
			t.Errorf("%s: a medium of the type is not configured or not described: %v", mt.Name, mt.Describe(m))
		}
		for other, o := range media {
			if other != mt.Name && (mt.Configured(o) || !mt.Describe(o).IsZero()) {
				t.Errorf("%s takes a %s medium for its own", mt.Name, other)
			}
		}
	}
	if _, ok := gateway.MediumTypeOf("floppy"); ok {
		t.Error("an unknown type is registered")
	}
	if mt, _ := gateway.MediumTypeOf(config.MediumS3); !mt.Immutable {
		t.Error("S3 is not marked offline by immutability")
	}
}
