package netprobe

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

func ikeReply(req []byte, responder []byte, vids ...string) []byte {
	r := append([]byte(nil), req[:28]...)
	copy(r[8:16], responder)
	r[16] = 0
	next := &r[16]
	for _, v := range vids {
		b, _ := hex.DecodeString(v)
		*next = 13
		p := append([]byte{0, 0, 0, 0}, b...)
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		r = append(r, p...)
		next = &r[len(r)-len(p)]
	}
	binary.BigEndian.PutUint32(r[24:], uint32(len(r)))
	return r
}

func TestParseIKE(t *testing.T) {
	req := ikeRequest([]byte{9, 8, 7, 6, 5, 4, 3, 2})
	info, err := parseIKE(req, ikeReply(req, []byte{1, 2, 3, 4, 5, 6, 7, 8}, "afcad71368a1f1c96b8696fc77570100", "deadbeef"))
	if err != nil || !strings.Contains(info, "Dead Peer Detection") || !strings.Contains(info, "deadbeef") {
		t.Fatalf("answer: %q %v", info, err)
	}
	for name, bad := range map[string][]byte{
		"echo":           req,
		"other cookie":   ikeReply(ikeRequest([]byte{1}), []byte{1, 2, 3, 4, 5, 6, 7, 8}),
		"zero responder": ikeReply(req, make([]byte, 8)),
		"short":          req[:20],
		"length":         append(ikeReply(req, []byte{1, 2, 3, 4, 5, 6, 7, 8}), 0),
	} {
		if _, err := parseIKE(req, bad); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	natt := append([]byte{0, 0, 0, 0}, req...)
	if _, err := parseIKENATT(natt, natt); err == nil {
		t.Error("NAT-T echo accepted")
	}
}

func TestParseSNMP(t *testing.T) {
	const descr = "Linux edge 6.1.0 #1 SMP x86_64"
	resp := func(tag byte, id uint32, community string) []byte {
		vb := tlv(0x30, tlv(0x06, sysDescrOID), tlv(0x04, []byte(descr)))
		return tlv(0x30, berInt(1), tlv(0x04, []byte(community)), tlv(tag, berInt(id), berInt(0), berInt(0), tlv(0x30, vb)))
	}
	got, err := parseSNMP(resp(0xa2, 0x81234567, "public"), 0x81234567, "public")
	if err != nil || got != descr {
		t.Fatalf("%q %v", got, err)
	}
	for name, bad := range map[string][]byte{
		"echo":      snmpRequest(7, "public"),
		"request":   resp(0xa0, 7, "public"),
		"other id":  resp(0xa2, 8, "public"),
		"community": resp(0xa2, 7, "private"),
		"truncated": resp(0xa2, 7, "public")[:20],
	} {
		if _, err := parseSNMP(bad, 7, "public"); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	// A long community forces a long-form length.
	long := strings.Repeat("c", 200)
	if got, err := parseSNMP(resp(0xa2, 1, long), 1, long); err != nil || got != descr {
		t.Fatalf("long form: %q %v", got, err)
	}
}

func TestParseNTP(t *testing.T) {
	req := ntpRequest([]byte{0x12, 0x34})
	data := `version="ntpd 4.2.8p15@1.3728-o", processor="x86_64"`
	reply := append(append([]byte(nil), req...), data...)
	reply[1] |= 0x80
	binary.BigEndian.PutUint16(reply[10:], uint16(len(data)))
	if v, err := parseNTP(req, reply); err != nil || v != "ntpd 4.2.8p15@1.3728-o" {
		t.Fatalf("%q %v", v, err)
	}
	if _, err := parseNTP(req, req); err == nil {
		t.Fatal("echo accepted")
	}
	binary.BigEndian.PutUint16(reply[10:], 500)
	if _, err := parseNTP(req, reply); err == nil {
		t.Fatal("overlong count accepted")
	}
}

func TestParseDNS(t *testing.T) {
	req := dnsRequest([]byte{0xab, 0xcd})
	reply := append([]byte(nil), req...)
	reply[2] |= 0x80
	reply[7] = 1 // one answer
	txt := "9.18.28"
	reply = append(reply, 0xc0, 12, 0, 16, 0, 3, 0, 0, 0, 0, 0, byte(len(txt)+1), byte(len(txt)))
	reply = append(reply, txt...)
	if v, err := parseDNS(req, reply); err != nil || v != txt {
		t.Fatalf("%q %v", v, err)
	}
	if _, err := parseDNS(req, req); err == nil {
		t.Fatal("echo accepted")
	}
}

func TestParseSSDP(t *testing.T) {
	if v, err := parseSSDP(nil, []byte("HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nSERVER: Linux/3.4 UPnP/1.0 MiniUPnPd/2.1\r\n\r\n")); err != nil || v != "Linux/3.4 UPnP/1.0 MiniUPnPd/2.1" {
		t.Fatalf("%q %v", v, err)
	}
	if _, err := parseSSDP(nil, []byte(ssdpRequest)); err == nil {
		t.Fatal("echo accepted")
	}
}

func TestParseBanner(t *testing.T) {
	for _, tc := range []struct {
		port                   int
		in                     string
		name, product, version string
	}{
		{22, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "ssh", "OpenSSH", "9.2p1"},
		{2222, "SSH-2.0-dropbear_2022.83\r\n", "ssh", "dropbear", "2022.83"},
		{21, "220 (vsFTPd 3.0.3)\r\n", "ftp", "", ""},
		{25, "220 mail.example.jp ESMTP Postfix\r\n", "smtp", "", ""},
		{23, "\xff\xfb\x01\xff\xfb\x03\r\nRTX1210 Rev.14.01.38 (Fri Jul 10 09:18:04 2020)\r\n  Copyright (c) 1994-2020 Yamaha Corporation.\r\nPassword: ", "telnet", "Yamaha RTX1210", "14.01.38"},
		{23, "\xff\xfd\x18\xff\xfd\x20", "telnet", "", ""},
		{2323, "\r\nUser Access Verification\r\n\r\nUsername: login: ", "telnet", "", ""},
	} {
		s, ok := parseBanner(tc.port, []byte(tc.in))
		if !ok || s.Name != tc.name || s.Product != tc.product || s.Version != tc.version {
			t.Errorf("%q: %+v", tc.in, s)
		}
	}
	if _, ok := parseBanner(8080, nil); ok {
		t.Error("empty banner identified")
	}
}

func FuzzParseBanner(f *testing.F) {
	f.Add(22, []byte("SSH-2.0-OpenSSH_9.2p1\r\n"))
	f.Add(23, []byte("\xff\xfa\x18\x01\xff\xf0RTX830 Rev.15.02.30\r\n"))
	f.Add(21, []byte("220-\xff\xff\xff"))
	f.Add(0, []byte("\xff"))
	f.Fuzz(func(t *testing.T, port int, data []byte) {
		s, ok := parseBanner(port, data)
		if ok && s.Name == "" {
			t.Fatal("identified without a name")
		}
		if len(s.Banner) > 200 {
			t.Fatalf("banner %d bytes", len(s.Banner))
		}
	})
}

func FuzzParseUDP(f *testing.F) {
	req := ikeRequest([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(req)
	f.Add(ikeReply(req, []byte{1, 1, 1, 1, 1, 1, 1, 1}, "afcad71368a1f1c96b8696fc77570100"))
	f.Add(ntpRequest([]byte{1, 2}))
	f.Add(dnsRequest([]byte{1, 2}))
	f.Add([]byte("HTTP/1.1 200 OK\r\nSERVER: x\r\n"))
	f.Add(snmpRequest(1, "public"))
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, reply []byte) {
		id := []byte{1, 2, 3, 4, 5, 6, 7, 8}
		for _, p := range udpProbes() {
			req := p.request(id)
			if _, err := p.parse(req, req); err == nil {
				t.Fatalf("%s accepts its own request", p.service)
			}
			_, _ = p.parse(req, reply) // any reply: it must only not panic
		}
		_, _ = parseSNMP(reply, 1, "public")
	})
}
