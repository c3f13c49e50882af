package clock

import (
	"context"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"
)

// putTimestamp writes t as a 64-bit NTP timestamp.
func putTimestamp(b []byte, t time.Time) {
	sec := uint64(t.Unix() + ntpEpochOffset)
	frac := (uint64(t.Nanosecond()) << 32) / 1e9
	binary.BigEndian.PutUint32(b[0:4], uint32(sec))
	binary.BigEndian.PutUint32(b[4:8], uint32(frac))
}

// fakeServer answers NTP requests on 127.0.0.1 with reply(request).
func fakeServer(t *testing.T, reply func(req []byte) []byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if out := reply(buf[:n]); out != nil {
				if _, err := pc.WriteTo(out, addr); err != nil {
					return
				}
			}
		}
	}()
	return pc.LocalAddr().String()
}

// serverReply is a good reply to req from a server whose clock is skew
// ahead of ours.
func serverReply(req []byte, skew time.Duration) []byte {
	b := make([]byte, 48)
	b[0] = 0x24                                // LI 0, version 4, mode 4
	b[1] = 2                                   // stratum
	binary.BigEndian.PutUint32(b[4:8], 1<<14)  // root delay 0.25 s
	binary.BigEndian.PutUint32(b[8:12], 1<<13) // root dispersion 0.125 s
	copy(b[24:32], req[40:48])
	now := time.Now().Add(skew)
	putTimestamp(b[32:40], now)
	putTimestamp(b[40:48], now)
	return b
}

func TestQueryMeasuresTheOffset(t *testing.T) {
	addr := fakeServer(t, func(req []byte) []byte { return serverReply(req, 90*time.Minute) })
	a, err := Query(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	if d := a.Offset - 90*time.Minute; d < -time.Second || d > time.Second {
		t.Errorf("offset = %s, want about 90m", a.Offset)
	}
	if a.Server != addr || a.Stratum != 2 || a.Delay < 0 || a.Delay > time.Second {
		t.Errorf("answer = %+v", a)
	}
}

func TestQueryRefusesBadReplies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(b []byte)
		says   string
	}{
		{"kiss of death", func(b []byte) { b[1] = 0; copy(b[12:16], "RATE") }, "refused to answer (RATE)"},
		{"unsynchronised", func(b []byte) { b[0] = 0xe4 }, "not synchronised"},
		{"stratum 16", func(b []byte) { b[1] = 16 }, "not synchronised"},
		{"client mode", func(b []byte) { b[0] = 0x23 }, "not a server's reply"},
		{"far from its reference", func(b []byte) { binary.BigEndian.PutUint32(b[8:12], 20<<16) }, "too uncertain"},
		{"no time", func(b []byte) { clear(b[40:48]) }, "carries no time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeServer(t, func(req []byte) []byte {
				b := serverReply(req, 0)
				tc.change(b)
				return b
			})
			_, err := Query(context.Background(), addr)
			if err == nil || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), addr) {
				t.Fatalf("err = %v, want one naming %s and saying %q", err, addr, tc.says)
			}
		})
	}
}

// A reply that does not echo the request's nonce is not the answer: the
// query waits for the real one, here until it gives up.
func TestQueryIgnoresRepliesToOtherRequests(t *testing.T) {
	addr := fakeServer(t, func(req []byte) []byte {
		b := serverReply(req, time.Hour)
		b[24] ^= 0xff
		return b
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if a, err := Query(ctx, addr); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("a forged reply was taken: %+v, %v", a, err)
	}
}

func TestTimestampEras(t *testing.T) {
	for _, want := range []time.Time{
		time.Date(2026, 3, 4, 5, 6, 7, 500_000_000, time.UTC),
		time.Date(2036, 2, 7, 6, 28, 15, 0, time.UTC), // the last second of era 0
		time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),   // era 1
	} {
		b := make([]byte, 8)
		putTimestamp(b, want)
		if got := timestamp(b); got.Sub(want).Abs() > time.Microsecond {
			t.Errorf("timestamp round trip of %s = %s", want, got)
		}
	}
}
