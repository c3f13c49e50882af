package relay

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestOpenCharDevNoChips(t *testing.T) {
	_, err := openCharDev(filepath.Join(t.TempDir(), "gpiochip*"))
	if !errors.Is(err, ErrNoGPIO) {
		t.Fatalf("error = %v, want ErrNoGPIO", err)
	}
}
