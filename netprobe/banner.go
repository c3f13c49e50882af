package netprobe

import (
	"regexp"
	"strings"
)

// Service is what identification learnt about one open port.
type Service struct {
	Name    string `json:"name"`              // ssh, telnet, ftp, smtp, http, https, ike, snmp, …
	Product string `json:"product,omitempty"` // "OpenSSH", "Yamaha RTX1210", "FortiGate SSL-VPN"
	Version string `json:"version,omitempty"` // as announced
	Banner  string `json:"banner,omitempty"`  // first line(s), printable only
	// Device: Product and Version name the device itself (its firmware),
	// not a program running on it.
	Device bool `json:"device,omitempty"`
}

var (
	sshBanner    = regexp.MustCompile(`^SSH-([\d.]+)-([^\s_-]+)[_-]?(\S*)`)
	yamahaBanner = regexp.MustCompile(`\b(RTX\d+\w*|NVR\d+\w*|RTX\w+|FWX\d+\w*)\s+Rev\.(\d+\.\d+\.\d+)`)
	ftpSMTPReply = regexp.MustCompile(`^220[ -]`)
)

// parseBanner reads what a server sent first. port only breaks ties
// (a 220 greeting is FTP or SMTP).
func parseBanner(port int, data []byte) (Service, bool) {
	text := printable(stripTelnet(data))
	telnet := len(data) > 0 && data[0] == 0xff
	first, _, _ := strings.Cut(text, "\n")
	first = strings.TrimSpace(first)
	switch {
	case strings.HasPrefix(string(data), "SSH-"):
		s := Service{Name: "ssh", Banner: firstLines(first)}
		if m := sshBanner.FindStringSubmatch(first); m != nil {
			s.Product, s.Version = m[2], m[3]
		}
		return s, true
	case strings.HasPrefix(first, "RFB "):
		return Service{Name: "vnc", Version: strings.TrimPrefix(first, "RFB "), Banner: firstLines(first)}, true
	case ftpSMTPReply.MatchString(first):
		name := "ftp"
		up := strings.ToUpper(first)
		if strings.Contains(up, "SMTP") || strings.Contains(up, "MAIL") || port == 25 || port == 587 {
			name = "smtp"
		}
		if strings.Contains(up, "FTP") {
			name = "ftp"
		}
		return Service{Name: name, Banner: firstLines(first)}, true
	}
	if m := yamahaBanner.FindStringSubmatch(text); m != nil {
		return Service{Name: "telnet", Product: "Yamaha " + m[1], Version: m[2], Banner: firstLines(text), Device: true}, true
	}
	if telnet || port == 23 || strings.Contains(strings.ToLower(text), "login:") || strings.Contains(strings.ToLower(text), "password:") {
		if text == "" && !telnet {
			return Service{}, false
		}
		return Service{Name: "telnet", Banner: firstLines(text)}, true
	}
	if text == "" {
		return Service{}, false
	}
	return Service{Name: "unknown", Banner: firstLines(text)}, true
}

// stripTelnet removes IAC option negotiation (RFC 854) from data.
func stripTelnet(data []byte) []byte {
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		if data[i] != 0xff {
			out = append(out, data[i])
			continue
		}
		if i+1 >= len(data) {
			break
		}
		switch c := data[i+1]; {
		case c == 0xff: // escaped 255
			out = append(out, 0xff)
			i++
		case c >= 251 && c <= 254: // WILL WONT DO DONT + option
			i += 2
		case c == 250: // SB … IAC SE
			j := i + 2
			for j+1 < len(data) && !(data[j] == 0xff && data[j+1] == 240) {
				j++
			}
			i = j + 1
		default:
			i++
		}
	}
	return out
}

// printable keeps text a report can show: no control bytes except newline.
func printable(b []byte) string {
	var sb strings.Builder
	for _, r := range strings.ToValidUTF8(string(b), "") {
		switch {
		case r == '\n':
			sb.WriteRune(r)
		case r == '\t':
			sb.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
		default:
			sb.WriteRune(r)
		}
	}
	return strings.TrimSpace(sb.String())
}

// firstLines keeps a banner short: at most three non-empty lines, 200 bytes.
func firstLines(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
		if len(lines) == 3 {
			break
		}
	}
	out := strings.Join(lines, " | ")
	if len(out) > 200 {
		out = strings.ToValidUTF8(out[:200], "")
	}
	return out
}
