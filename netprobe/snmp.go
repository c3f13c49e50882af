package netprobe

import (
	"bytes"
	"errors"
	"fmt"
)

// SNMP v2c GetRequest for sysDescr.0, encoded and decoded with the few BER
// rules it needs.

var sysDescrOID = []byte{0x2b, 6, 1, 2, 1, 1, 1, 0} // 1.3.6.1.2.1.1.1.0

func tlv(tag byte, content ...[]byte) []byte {
	body := bytes.Join(content, nil)
	n := len(body)
	var hdr []byte
	switch {
	case n < 0x80:
		hdr = []byte{tag, byte(n)}
	case n < 0x100:
		hdr = []byte{tag, 0x81, byte(n)}
	default:
		hdr = []byte{tag, 0x82, byte(n >> 8), byte(n)}
	}
	return append(hdr, body...)
}

func berInt(v uint32) []byte {
	b := []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	for len(b) > 1 && b[0] == 0 && b[1]&0x80 == 0 {
		b = b[1:]
	}
	if b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return tlv(0x02, b)
}

func snmpRequest(requestID uint32, community string) []byte {
	varbind := tlv(0x30, tlv(0x06, sysDescrOID), []byte{0x05, 0x00})
	pdu := tlv(0xa0, berInt(requestID), berInt(0), berInt(0), tlv(0x30, varbind))
	return tlv(0x30, berInt(1), tlv(0x04, []byte(community)), pdu)
}

var errBER = errors.New("malformed BER")

// readTLV splits one element off b.
func readTLV(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errBER
	}
	tag, n, i := b[0], int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return 0, nil, nil, errBER
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if n > len(b)-i {
		return 0, nil, nil, errBER
	}
	return tag, b[i : i+n], b[i+n:], nil
}

// parseSNMP accepts a GetResponse to requestID with community and returns
// sysDescr. An echoed GetRequest has PDU tag 0xa0 and is refused.
func parseSNMP(reply []byte, requestID uint32, community string) (string, error) {
	tag, msg, _, err := readTLV(reply)
	if err != nil || tag != 0x30 {
		return "", errNotAnswer
	}
	want := []struct {
		tag   byte
		value []byte
	}{{0x02, nil}, {0x04, []byte(community)}}
	for _, w := range want {
		var c []byte
		if tag, c, msg, err = readTLV(msg); err != nil || tag != w.tag || (w.value != nil && !bytes.Equal(c, w.value)) {
			return "", errNotAnswer
		}
	}
	tag, pdu, _, err := readTLV(msg)
	if err != nil || tag != 0xa2 {
		return "", fmt.Errorf("PDU 0x%02x: %w", tag, errNotAnswer)
	}
	var fields [3][]byte
	for i := range fields {
		if tag, fields[i], pdu, err = readTLV(pdu); err != nil || tag != 0x02 {
			return "", errNotAnswer
		}
	}
	if !bytes.Equal(trimInt(fields[0]), trimInt(berInt(requestID)[2:])) {
		return "", fmt.Errorf("request ID: %w", errNotAnswer)
	}
	if len(fields[1]) != 1 || fields[1][0] != 0 {
		return "", fmt.Errorf("SNMP error status %v", fields[1])
	}
	_, list, _, err := readTLV(pdu)
	if err != nil {
		return "", errNotAnswer
	}
	_, vb, _, err := readTLV(list)
	if err != nil {
		return "", errNotAnswer
	}
	tag, oid, vb, err := readTLV(vb)
	if err != nil || tag != 0x06 || !bytes.Equal(oid, sysDescrOID) {
		return "", errNotAnswer
	}
	tag, val, _, err := readTLV(vb)
	if err != nil || tag != 0x04 {
		return "", fmt.Errorf("sysDescr type 0x%02x: %w", tag, errNotAnswer)
	}
	return string(val), nil
}

func trimInt(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}
