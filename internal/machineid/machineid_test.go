package machineid

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnsure(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	idA, created, err := Ensure(a)
	if err != nil || !created || !valid.MatchString(idA) {
		t.Fatalf("first start: %q, %v, %v", idA, created, err)
	}
	again, created, err := Ensure(a)
	if err != nil || created || again != idA {
		t.Fatalf("second start: %q, %v, %v; want the same ID kept", again, created, err)
	}
	idB, _, err := Ensure(b)
	if err != nil || idB == idA {
		t.Fatalf("two gateways share %q (%v)", idB, err)
	}
	// A damaged file (a hostname, as old images fell back to) is replaced.
	if err := os.WriteFile(b, []byte("danzen\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if id, created, err := Ensure(b); err != nil || !created || id == "danzen" || !valid.MatchString(id) {
		t.Fatalf("damaged: %q, %v, %v", id, created, err)
	}
}
