package rtusim

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

func frame(b ...byte) []byte { return binary.LittleEndian.AppendUint16(b, CRC(b)) }

func TestCRC(t *testing.T) {
	// The Modbus specification's example: read 10 holding registers of unit 1.
	if got := frame(1, 3, 0, 0, 0, 10); !bytes.Equal(got, []byte{1, 3, 0, 0, 0, 10, 0xc5, 0xcd}) {
		t.Fatalf("frame = % x", got)
	}
}

// TestStream feeds requests split and run together, with noise between
// them, as a chardev socket delivers them, and checks each answer.
func TestStream(t *testing.T) {
	m, other := New(7, 4), New(8, 4)
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- Serve(t.Context(), b, m, other) }()
	t.Cleanup(func() {
		_ = a.Close() // ends Serve
		t.Logf("Serve ended: %v", <-done)
	})
	read := func(n int) []byte {
		t.Helper()
		if err := a.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(a, buf); err != nil {
			t.Fatal(err)
		}
		return buf
	}
	send := func(parts ...[]byte) {
		t.Helper()
		for _, p := range parts {
			if _, err := a.Write(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	on := frame(7, 5, 0, 2, 0xff, 0)
	send([]byte{0x00, 0x99, 0x42}, on[:3], on[3:]) // noise, then a write in two pieces
	if got := read(8); !bytes.Equal(got, on) {
		t.Fatalf("FC05 answer = % x, want the echo % x", got, on)
	}
	if !m.Coil(2) || !m.Input(2) || other.Coil(2) {
		t.Fatal("coil 2 of module 7 (only) should be on")
	}
	send(frame(7, 2, 0, 0, 0, 4)) // read inputs 0..3
	if got, want := read(6), frame(7, 2, 1, 0b0100); !bytes.Equal(got, want) {
		t.Fatalf("FC02 answer = % x, want % x", got, want)
	}
	send(frame(7, 15, 0, 0, 0, 4, 1, 0b1001)) // coils 0 and 3 on, the rest off
	if got, want := read(8), frame(7, 15, 0, 0, 0, 4); !bytes.Equal(got, want) {
		t.Fatalf("FC15 answer = % x, want % x", got, want)
	}
	send(frame(7, 1, 0, 0, 0, 4))
	if got, want := read(6), frame(7, 1, 1, 0b1001); !bytes.Equal(got, want) {
		t.Fatalf("FC01 answer = % x, want % x", got, want)
	}
	send(frame(7, 1, 0, 3, 0, 2)) // past the last coil
	if got, want := read(5), frame(7, 0x81, 2); !bytes.Equal(got, want) {
		t.Fatalf("exception = % x, want % x", got, want)
	}
	bad := frame(7, 5, 0, 1, 0xff, 0)
	bad[7] ^= 1
	send(bad, frame(8, 5, 0, 1, 0xff, 0)) // a corrupted request is skipped; module 8 answers its own
	if got, want := read(8), frame(8, 5, 0, 1, 0xff, 0); !bytes.Equal(got, want) {
		t.Fatalf("answer = % x, want % x", got, want)
	}
	if m.Coil(1) || !other.Coil(1) {
		t.Fatal("the corrupted request was executed")
	}
}
