package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const otherKey = "[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBpQqbU+FXJoKdyxYTcWtBnftPmzFkv5NcX6LPaSv/zQ"

// unpinnedFile is a hand-written configuration: source emr has no pinned
// host key; extra is added to the source's object.
func unpinnedFile(extra string) string {
	return `{
	"version": 1,
	"gateway_id": "gw",
	"staging_dir": "/s", "secrets_dir": "/k", "ledger_dir": "/l",
	"sources": [
		{
			"name": "emr",
			"host": "10.0.0.5",
			"user": "danzen-pull",
			"key_file": "emr.key",
			"export_dir": "/export"` + extra + `
		}
	]
}
`
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostKeyCommandLoadsAConfigWithoutAPin: the configuration a person
// writes before the first pin loads for pinning (LoadUnpinned), while
// Load, which every cycle uses, refuses it; any other problem is refused
// by both.
func TestHostKeyCommandLoadsAConfigWithoutAPin(t *testing.T) {
	p := writeTemp(t, unpinnedFile(""))
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "sources[0].known_hosts") {
		t.Fatalf("Load of an unpinned source: %v, want the missing pin", err)
	}
	c, err := LoadUnpinned(p)
	if err != nil || c.Sources[0].Name != "emr" || c.Sources[0].Port != 22 {
		t.Fatalf("LoadUnpinned: %v", err)
	}
	bad := writeTemp(t, unpinnedFile(`, "port": 0`))
	if _, err := LoadUnpinned(bad); err == nil || !strings.Contains(err.Error(), "sources[0].port") {
		t.Fatalf("LoadUnpinned with a bad port too: %v, want the port refused", err)
	}
}

// TestSaveKnownHostsChangesOnlyTheKeyList: the key list is set in the
// file's own layout (added after the account's last member, or replaced
// where it stands) and every other byte is left as it was.
func TestSaveKnownHostsChangesOnlyTheKeyList(t *testing.T) {
	emr := AccountRef{Kind: AccountSource, Name: "emr"}
	for _, tc := range []struct {
		name, in, want string
		ref            AccountRef
		lines          []string
	}{
		{"added, tabs", unpinnedFile(""), unpinnedFile(",\n\t\t\t\"known_hosts\": [\n\t\t\t\t\"" + knownHost + "\"\n\t\t\t]"), emr, []string{knownHost}},
		{"replaced in place", unpinnedFile(`,
			"known_hosts": ["` + otherKey + `"],
			"mirror": false`), unpinnedFile(`,
			"known_hosts": [
				"` + knownHost + `"
			],
			"mirror": false`), emr, []string{knownHost}},
		{"null replaced", unpinnedFile(`, "known_hosts": null`), unpinnedFile(`, "known_hosts": ["` + knownHost + `"]`), emr, []string{knownHost}},
		{"compact", `{"version":1,"gateway_id":"gw","staging_dir":"/s","secrets_dir":"/k","ledger_dir":"/l","sources":[{"name":"a","host":"h","user":"u","key_file":"a.key","export_dir":"/e","known_hosts":["` + otherKey + `"]},{"name":"emr","host":"h2","user":"u","key_file":"k","export_dir":"/e"}]}`,
			`{"version":1,"gateway_id":"gw","staging_dir":"/s","secrets_dir":"/k","ledger_dir":"/l","sources":[{"name":"a","host":"h","user":"u","key_file":"a.key","export_dir":"/e","known_hosts":["` + otherKey + `"]},{"name":"emr","host":"h2","user":"u","key_file":"k","export_dir":"/e", "known_hosts": ["` + knownHost + `","` + otherKey + `"]}]}`,
			emr, []string{knownHost, otherKey}},
		{"target, CRLF", "{\r\n  \"version\": 1,\r\n  \"gateway_id\": \"gw\", \"staging_dir\": \"/s\", \"secrets_dir\": \"/k\", \"ledger_dir\": \"/l\",\r\n  \"sources\": [{\"name\": \"emr\", \"host\": \"h\", \"user\": \"u\", \"key_file\": \"a.key\", \"export_dir\": \"/e\", \"known_hosts\": [\"" + otherKey + "\"]}],\r\n  \"restore\": {\r\n    \"targets\": [\r\n      {\r\n        \"name\": \"back\", \"host\": \"h\", \"user\": \"w\",\r\n        \"key_file\": \"b.key\",\r\n        \"base_dir\": \"/r\"\r\n      }\r\n    ]\r\n  }\r\n}\r\n",
			"{\r\n  \"version\": 1,\r\n  \"gateway_id\": \"gw\", \"staging_dir\": \"/s\", \"secrets_dir\": \"/k\", \"ledger_dir\": \"/l\",\r\n  \"sources\": [{\"name\": \"emr\", \"host\": \"h\", \"user\": \"u\", \"key_file\": \"a.key\", \"export_dir\": \"/e\", \"known_hosts\": [\"" + otherKey + "\"]}],\r\n  \"restore\": {\r\n    \"targets\": [\r\n      {\r\n        \"name\": \"back\", \"host\": \"h\", \"user\": \"w\",\r\n        \"key_file\": \"b.key\",\r\n        \"base_dir\": \"/r\",\r\n        \"known_hosts\": [\r\n          \"" + knownHost + "\"\r\n        ]\r\n      }\r\n    ]\r\n  }\r\n}\r\n",
			AccountRef{Kind: AccountTarget, Name: "back"}, []string{knownHost}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, tc.in)
			if err := SaveKnownHosts(p, tc.ref, tc.lines); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(p); string(got) != tc.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			if prev, _ := os.ReadFile(p + ".prev"); string(prev) != tc.in {
				t.Fatalf("the .prev file is not the file as it was:\n%s", prev)
			}
			c, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			kh, err := c.knownHostsOf(tc.ref)
			if err != nil || strings.Join(*kh, "\n") != strings.Join(tc.lines, "\n") {
				t.Fatalf("the file pins %q (%v), want %q", *kh, err, tc.lines)
			}
		})
	}
}

// TestSaveKnownHostsRefusesAndLeavesTheFile: an account that is not in
// the file, or a file that does not load, is refused and nothing is
// written.
func TestSaveKnownHostsRefusesAndLeavesTheFile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ref      AccountRef
	}{
		{"no such source", unpinnedFile(""), AccountRef{Kind: AccountSource, Name: "other"}},
		{"no targets", unpinnedFile(""), AccountRef{Kind: AccountTarget, Name: "emr"}},
		{"invalid otherwise", unpinnedFile(`, "port": 0`), AccountRef{Kind: AccountSource, Name: "emr"}},
		{"not JSON", "{", AccountRef{Kind: AccountSource, Name: "emr"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, tc.in)
			if err := SaveKnownHosts(p, tc.ref, []string{knownHost}); err == nil {
				t.Fatal("accepted")
			}
			if got, _ := os.ReadFile(p); string(got) != tc.in {
				t.Fatalf("the file changed:\n%s", got)
			}
			if _, err := os.Stat(p + ".prev"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a .prev was written: %v", err)
			}
		})
	}
}
