package clock

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Answer is one NTP server's reply, measured against the local clock.
type Answer struct {
	Server string
	// Offset is what to add to the local clock to have the server's time.
	Offset time.Duration
	// Delay is the round trip; the answer is at most half of it off.
	Delay   time.Duration
	Stratum int
}

// QueryTimeout bounds one server's answer: a LAN server answers in
// milliseconds.
const QueryTimeout = 3 * time.Second

// maxDistance: a server further than this from its reference clock
// (root delay/2 + root dispersion) does not know the time (RFC 5905's
// MAXDIST is 1.5 s; a hospital's server behind a slow uplink gets more).
const maxDistance = 16 * time.Second

// ntpEpochOffset is 1900-01-01 to 1970-01-01 in seconds.
const ntpEpochOffset = 2208988800

// Query asks one server ("host", "host:port"; port 123 by default) for the
// time with SNTPv4 (RFC 4330) and checks the answer: it answers our
// request, is synchronised, and is near its reference clock.
func Query(ctx context.Context, server string) (Answer, error) {
	addr := server
	if _, _, err := net.SplitHostPort(server); err != nil {
		addr = net.JoinHostPort(server, "123")
	}
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return Answer{}, msg.Errorf("NTP サーバー %s に接続できません: %w", "cannot reach the NTP server %s: %w", server, err)
	}
	defer func() { _ = conn.Close() }() // UDP: nothing is lost on close
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return Answer{}, err
		}
	}
	a, err := exchange(conn)
	if err != nil {
		return Answer{}, msg.Errorf("NTP サーバー %s: %w", "NTP server %s: %w", server, err)
	}
	a.Server = server
	return a, nil
}

// exchange sends one request on conn and reads the reply to it.
func exchange(conn net.Conn) (Answer, error) {
	req := make([]byte, 48)
	req[0] = 0x23 // LI 0, version 4, mode 3 (client)
	// The transmit field carries a random nonce the reply must echo
	// (RFC 9109), so a forged or stale reply is not taken.
	if _, err := rand.Read(req[40:48]); err != nil {
		return Answer{}, err
	}
	t1 := time.Now()
	if _, err := conn.Write(req); err != nil {
		return Answer{}, msg.Errorf("送信できません: %w", "cannot send: %w", err)
	}
	buf := make([]byte, 512)
	for {
		n, err := conn.Read(buf)
		t4 := time.Now()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return Answer{}, msg.Errorf("%s 以内に応答がありません", "no answer within %s", QueryTimeout)
			}
			return Answer{}, msg.Errorf("応答がありません: %w", "no answer: %w", err)
		}
		if n < 48 || string(buf[24:32]) != string(req[40:48]) {
			continue // not the reply to this request
		}
		return parseReply(buf[:n], t1, t4)
	}
}

// parseReply reads a reply received at t4 to a request sent at t1.
func parseReply(b []byte, t1, t4 time.Time) (Answer, error) {
	li, mode, stratum := b[0]>>6, b[0]&7, int(b[1])
	switch {
	case mode != 4:
		return Answer{}, msg.Errorf("サーバーの応答ではありません(mode %d)", "not a server's reply (mode %d)", mode)
	case stratum == 0:
		return Answer{}, msg.Errorf("サーバーが応答を拒否しました(%s)", "the server refused to answer (%s)", kissCode(b[12:16]))
	case li == 3 || stratum > 15:
		return Answer{}, msg.New("サーバー自身の時刻が同期されていません", "the server's own clock is not synchronised")
	}
	rootDelay, rootDisp := short(b[4:8]), short(b[8:12])
	if rootDelay/2+rootDisp > maxDistance {
		return Answer{}, msg.Errorf("サーバーの時刻の誤差が大きすぎます(%s)", "the server's time is too uncertain (%s)", (rootDelay/2 + rootDisp).Round(time.Millisecond))
	}
	if binary.BigEndian.Uint64(b[40:48]) == 0 {
		return Answer{}, msg.New("応答に時刻がありません", "the reply carries no time")
	}
	t2, t3 := timestamp(b[32:40]), timestamp(b[40:48])
	delay := t4.Sub(t1) - t3.Sub(t2)
	return Answer{
		Offset:  (t2.Sub(t1) + t3.Sub(t4)) / 2,
		Delay:   max(delay, 0),
		Stratum: stratum,
	}, nil
}

// timestamp reads a 64-bit NTP timestamp. Seconds with the top bit clear
// are in era 1 (from 2036): no server answers with a time before 1968.
func timestamp(b []byte) time.Time {
	sec, frac := int64(binary.BigEndian.Uint32(b[0:4])), binary.BigEndian.Uint32(b[4:8])
	if sec&0x80000000 == 0 {
		sec += 1 << 32
	}
	return time.Unix(sec-ntpEpochOffset, int64((uint64(frac)*1e9)>>32)).UTC()
}

// short reads a 32-bit NTP short format (16.16 seconds).
func short(b []byte) time.Duration {
	return time.Duration(uint64(binary.BigEndian.Uint32(b)) * uint64(time.Second) >> 16)
}

// kissCode is a kiss-o'-death reply's code ("RATE", "DENY"), printable.
func kissCode(b []byte) string {
	out := make([]byte, 0, 4)
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			out = append(out, c)
		}
	}
	return string(out)
}
