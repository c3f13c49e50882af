package netprobe

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// A UDP service counts as open only when its reply parses as that
// protocol's answer to the request that was sent: an echo, an ICMP error
// or garbage is never "open".

// udpProbe is one protocol's request and answer check. id makes each
// request unique so that a reply can be tied to it.
type udpProbe struct {
	port    int
	service string
	request func(id []byte) []byte
	// parse returns what the answer tells (version, vendor IDs), or an
	// error when reply is not an answer to req.
	parse func(req, reply []byte) (string, error)
}

var errNotAnswer = errors.New("not an answer to the probe")

func udpProbes() []udpProbe {
	return []udpProbe{
		{500, "ike", ikeRequest, parseIKE},
		{4500, "ike-natt", func(id []byte) []byte { return append([]byte{0, 0, 0, 0}, ikeRequest(id)...) }, parseIKENATT},
		{123, "ntp", ntpRequest, parseNTP},
		{53, "dns", dnsRequest, parseDNS},
		{1900, "ssdp", func([]byte) []byte { return []byte(ssdpRequest) }, parseSSDP},
	}
}

// --- IKE (ISAKMP, RFC 2408; IKEv2 RFC 7296 uses the same header) ---

// ikeRequest is an IKEv1 Main Mode proposal (AES-128, SHA-1, PSK, MODP
// 1024) that any IKE responder answers, with a proposal or a notify.
func ikeRequest(id []byte) []byte {
	transform := []byte{
		0, 0, 0, 0, // next payload none, reserved, length (set below)
		1, 1, 0, 0, // transform #1, KEY_IKE
		0x80, 0x01, 0x00, 0x07, // encryption AES-CBC
		0x80, 0x0e, 0x00, 0x80, // key length 128
		0x80, 0x02, 0x00, 0x02, // hash SHA-1
		0x80, 0x03, 0x00, 0x01, // authentication pre-shared key
		0x80, 0x04, 0x00, 0x02, // group MODP 1024
		0x80, 0x0b, 0x00, 0x01, // life type seconds
		0x80, 0x0c, 0x70, 0x80, // life duration 28800
	}
	binary.BigEndian.PutUint16(transform[2:], uint16(len(transform)))
	proposal := append([]byte{0, 0, 0, 0, 1, 1, 0, 1}, transform...) // #1, ISAKMP, no SPI, 1 transform
	binary.BigEndian.PutUint16(proposal[2:], uint16(len(proposal)))
	sa := append([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, proposal...) // DOI IPsec, identity only
	binary.BigEndian.PutUint16(sa[2:], uint16(len(sa)))
	hdr := make([]byte, 28)
	copy(hdr, padID(id, 8)) // initiator cookie
	hdr[16] = 1             // next payload SA
	hdr[17] = 0x10          // version 1.0
	hdr[18] = 2             // Identity Protection (Main Mode)
	binary.BigEndian.PutUint32(hdr[24:], uint32(28+len(sa)))
	return append(hdr, sa...)
}

func padID(id []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, id)
	if bytes.Equal(out, make([]byte, n)) {
		out[0] = 1 // a cookie is never zero
	}
	return out
}

// knownVendorIDs are vendor ID payloads that say something to a reader.
var knownVendorIDs = map[string]string{
	"4a131c81070358455c5728f20e95452f": "RFC 3947 NAT-T",
	"afcad71368a1f1c96b8696fc77570100": "Dead Peer Detection",
	"09002689dfd6b712":                 "XAUTH",
	"12f5f28c457168a9702d9fe274cc0100": "Cisco Unity",
	"4048b7d56ebce88525e7de7f00d6c2d3": "IKE fragmentation",
}

// parseIKE accepts an ISAKMP message that answers req: same initiator
// cookie, a responder cookie set (or an informational notify), a sane
// version and length, and a payload chain that walks to its end.
func parseIKE(req, reply []byte) (string, error) {
	if len(reply) < 28 || len(req) < 28 {
		return "", errNotAnswer
	}
	if bytes.Equal(req, reply) {
		return "", fmt.Errorf("echo: %w", errNotAnswer)
	}
	if !bytes.Equal(reply[:8], req[:8]) {
		return "", fmt.Errorf("initiator cookie differs: %w", errNotAnswer)
	}
	major := reply[17] >> 4
	exch := reply[18]
	zeroResponder := bytes.Equal(reply[8:16], make([]byte, 8))
	informational := exch == 5 || exch == 37
	if (major != 1 && major != 2) || (zeroResponder && !informational) {
		return "", errNotAnswer
	}
	if int(binary.BigEndian.Uint32(reply[24:])) != len(reply) {
		return "", fmt.Errorf("length field: %w", errNotAnswer)
	}
	var vids []string
	next, rest := reply[16], reply[28:]
	for next != 0 {
		if len(rest) < 4 {
			return "", fmt.Errorf("truncated payload: %w", errNotAnswer)
		}
		plen := int(binary.BigEndian.Uint16(rest[2:]))
		if plen < 4 || plen > len(rest) {
			return "", fmt.Errorf("payload length: %w", errNotAnswer)
		}
		if next == 13 || next == 43 { // vendor ID (v1, v2)
			h := hex.EncodeToString(rest[4:plen])
			if name, ok := knownVendorIDs[h]; ok {
				h = name
			} else {
				for k, name := range knownVendorIDs {
					if strings.HasPrefix(h, k) {
						h = name
					}
				}
			}
			vids = append(vids, h)
		}
		next, rest = rest[0], rest[plen:]
	}
	info := fmt.Sprintf("IKEv%d", major)
	if informational {
		info += " notify"
	}
	if len(vids) > 0 {
		info += " vendor IDs: " + strings.Join(vids, ", ")
	}
	return info, nil
}

// parseIKENATT strips the non-ESP marker of port 4500.
func parseIKENATT(req, reply []byte) (string, error) {
	if len(reply) < 4 || !bytes.Equal(reply[:4], []byte{0, 0, 0, 0}) || len(req) < 4 {
		return "", errNotAnswer
	}
	return parseIKE(req[4:], reply[4:])
}

// --- NTP mode 6 (control), read variables of the system peer ---

func ntpRequest(id []byte) []byte {
	req := make([]byte, 12)
	req[0] = 0x16 // version 2, mode 6
	req[1] = 2    // read variables
	copy(req[2:4], padID(id, 2))
	return req
}

// parseNTP accepts a mode-6 response (response bit set) to the same
// sequence number and returns the version variable.
func parseNTP(req, reply []byte) (string, error) {
	if len(reply) < 12 || len(req) < 12 {
		return "", errNotAnswer
	}
	if reply[0]&7 != 6 || reply[1]&0x80 == 0 || reply[1]&0x1f != req[1]&0x1f || !bytes.Equal(reply[2:4], req[2:4]) {
		return "", errNotAnswer
	}
	count := int(binary.BigEndian.Uint16(reply[10:]))
	if 12+count > len(reply) {
		return "", fmt.Errorf("count: %w", errNotAnswer)
	}
	data := string(reply[12 : 12+count])
	if i := strings.Index(data, `version="`); i >= 0 {
		v := data[i+9:]
		if j := strings.IndexByte(v, '"'); j >= 0 {
			return v[:j], nil
		}
	}
	return "NTP mode 6", nil
}

// --- DNS: version.bind CH TXT ---

func dnsRequest(id []byte) []byte {
	q := make([]byte, 12, 40)
	copy(q, padID(id, 2))
	q[5] = 1 // one question
	for _, l := range []string{"version", "bind"} {
		q = append(q, byte(len(l)))
		q = append(q, l...)
	}
	return append(q, 0, 0, 16, 0, 3) // TXT, CH
}

// parseDNS accepts a response (QR set) with the query's ID and question;
// any rcode proves a DNS server. It returns the version TXT if given.
func parseDNS(req, reply []byte) (string, error) {
	if len(reply) < 12 || len(req) < 12 || !bytes.Equal(reply[:2], req[:2]) || reply[2]&0x80 == 0 {
		return "", errNotAnswer
	}
	qlen := len(req) - 12
	if binary.BigEndian.Uint16(reply[4:]) != 1 || len(reply) < 12+qlen || !bytes.EqualFold(reply[12:12+qlen], req[12:]) {
		return "", fmt.Errorf("question: %w", errNotAnswer)
	}
	info := fmt.Sprintf("DNS rcode %d", reply[3]&0x0f)
	rest := reply[12+qlen:]
	for range binary.BigEndian.Uint16(reply[6:]) {
		// Answers to version.bind use a compression pointer or repeat the name.
		n := 0
		for n < len(rest) {
			if rest[n]&0xc0 == 0xc0 {
				n += 2
				break
			}
			if rest[n] == 0 {
				n++
				break
			}
			n += int(rest[n]) + 1
		}
		if n+10 > len(rest) {
			break
		}
		typ, rdlen := binary.BigEndian.Uint16(rest[n:]), int(binary.BigEndian.Uint16(rest[n+8:]))
		rd := rest[n+10:]
		if rdlen > len(rd) {
			break
		}
		if typ == 16 && rdlen > 1 && int(rd[0]) < rdlen {
			return string(rd[1 : 1+int(rd[0])]), nil
		}
		rest = rd[rdlen:]
	}
	return info, nil
}

// --- SSDP ---

const ssdpRequest = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n"

// parseSSDP accepts an HTTP-over-UDP 200 reply and returns its SERVER.
func parseSSDP(_, reply []byte) (string, error) {
	s := string(reply)
	if !strings.HasPrefix(s, "HTTP/1.1 200") && !strings.HasPrefix(s, "HTTP/1.0 200") {
		return "", errNotAnswer
	}
	server := ""
	for _, line := range strings.Split(s, "\r\n")[1:] {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(k)) {
		case "SERVER":
			server = strings.TrimSpace(v)
		}
	}
	if server == "" {
		return "SSDP", nil
	}
	return server, nil
}
