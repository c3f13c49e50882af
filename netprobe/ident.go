package netprobe

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Port is one open port and what it runs.
type Port struct {
	Proto   string    `json:"proto"` // tcp, udp
	Port    int       `json:"port"`
	Service Service   `json:"service"`
	HTTP    *HTTPInfo `json:"http,omitempty"`
	TLS     *TLSInfo  `json:"tls,omitempty"`
}

// HTTPInfo is what the web server at a port shows without logging in.
type HTTPInfo struct {
	Status    int      `json:"status"`
	Server    string   `json:"server,omitempty"`
	PoweredBy string   `json:"powered_by,omitempty"`
	Title     string   `json:"title,omitempty"`
	Redirects []string `json:"redirects,omitempty"`
	// Portal is the SSL-VPN product whose login path answered, "" if none.
	Portal     string `json:"portal,omitempty"`
	PortalPath string `json:"portal_path,omitempty"`
	Vendor     string `json:"vendor,omitempty"` // feed vendor of Portal
	Login      bool   `json:"login"`            // the page asks for a password
	// Hints: what the portal's public pages tell about its firmware.
	Hints []VersionHint `json:"hints,omitempty"`
}

// TLSInfo is the TLS side of a port.
type TLSInfo struct {
	Versions    []string  `json:"versions"` // accepted: "TLS1.0" …
	WeakCiphers []string  `json:"weak_ciphers,omitempty"`
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	NotAfter    time.Time `json:"not_after"`
	SelfSigned  bool      `json:"self_signed"`
	KeyType     string    `json:"key_type"`
	KeyBits     int       `json:"key_bits"`
	// VendorDefault: the certificate names the maker, as appliances'
	// factory certificates do.
	VendorDefault bool `json:"vendor_default"`
}

// tlsFirst are ports where a TLS handshake is tried before waiting for a
// banner.
var tlsFirst = []int{443, 4433, 4443, 8443, 9443, 10443, 11443, 465, 636, 993, 995}

// httpFirst are ports where plain HTTP is tried before waiting for a
// banner that an HTTP server never sends.
var httpFirst = []int{80, 8000, 8008, 8080, 8081, 8888}

// identify learns what runs on one open TCP port. It only reads what the
// service shows to anyone: no login is attempted.
func identify(ctx context.Context, addr netip.Addr, port int, o *Options) Port {
	p := Port{Proto: "tcp", Port: port}
	hostport := netip.AddrPortFrom(addr, uint16(port)).String()
	if slices.Contains(tlsFirst, port) {
		if identifyTLS(ctx, hostport, &p, o) {
			return p
		}
	}
	if slices.Contains(httpFirst, port) && asHTTP(ctx, "http", hostport, &p, o) {
		return p
	}
	data, err := grab(ctx, hostport, nil, o.BannerWait)
	if err == nil && len(data) > 0 {
		if s, ok := parseBanner(port, data); ok {
			p.Service = s
			if s.Name != "unknown" {
				return p
			}
		}
	}
	if asHTTP(ctx, "http", hostport, &p, o) {
		return p
	}
	if !slices.Contains(tlsFirst, port) && identifyTLS(ctx, hostport, &p, o) {
		return p
	}
	if s, ok := byPort[port]; ok && p.Service.Name == "" {
		p.Service = s
		if port == 3389 && rdpAnswers(ctx, hostport, o) {
			p.Service.Product = "RDP (X.224 confirmed)"
		}
	}
	if p.Service.Name == "" {
		p.Service.Name = "unknown"
	}
	return p
}

// byPort names silent services by their well-known port.
var byPort = map[int]Service{
	53: {Name: "dns"}, 3389: {Name: "rdp"}, 445: {Name: "smb"}, 139: {Name: "netbios-ssn"},
	5938: {Name: "teamviewer"}, 7070: {Name: "anydesk"}, 4899: {Name: "radmin"},
	5631: {Name: "pcanywhere"}, 1723: {Name: "pptp"},
}

// grab connects, optionally sends req, and reads what arrives within wait.
func grab(ctx context.Context, hostport string, req []byte, wait time.Duration) ([]byte, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	c, err := d.DialContext(dctx, "tcp", hostport)
	if err != nil {
		return nil, err
	}
	defer closeProbe(c)
	if err := c.SetDeadline(time.Now().Add(wait)); err != nil {
		return nil, err
	}
	if req != nil {
		if _, err := c.Write(req); err != nil {
			return nil, err
		}
	}
	buf := make([]byte, 4096)
	n, err := io.ReadAtLeast(c, buf, 1)
	// Servers often send a greeting in pieces; take what follows shortly.
	for n < len(buf) && err == nil {
		if err = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
			break
		}
		var m int
		m, err = c.Read(buf[n:])
		n += m
	}
	return buf[:n], nil
}

// rdpAnswers sends an X.224 connection request and checks for a confirm.
func rdpAnswers(ctx context.Context, hostport string, o *Options) bool {
	req := []byte{3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0}
	b, err := grab(ctx, hostport, req, o.BannerWait)
	return err == nil && len(b) >= 6 && b[0] == 3 && b[1] == 0 && b[5]&0xf0 == 0xd0
}

var tlsVersions = []struct {
	v    uint16
	name string
}{{tls.VersionTLS10, "TLS1.0"}, {tls.VersionTLS11, "TLS1.1"}, {tls.VersionTLS12, "TLS1.2"}, {tls.VersionTLS13, "TLS1.3"}}

// allSuites offers every suite Go implements, the insecure ones too: the
// aim is to learn what the server accepts, not to protect a session.
func allSuites() []uint16 {
	var out []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		out = append(out, s.ID)
	}
	return out
}

func weakSuites() []uint16 {
	var out []uint16
	for _, s := range tls.InsecureCipherSuites() {
		out = append(out, s.ID)
	}
	return out
}

// handshake tries one TLS handshake. Go's client speaks TLS 1.0 and 1.1
// and the insecure suites when they are listed explicitly (checked with
// Go 1.26: no GODEBUG needed).
func handshake(ctx context.Context, hostport string, cfg *tls.Config, wait time.Duration) (*tls.ConnectionState, error) {
	dctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	d := tls.Dialer{Config: cfg}
	c, err := d.DialContext(dctx, "tcp", hostport)
	if err != nil {
		return nil, err
	}
	defer closeProbe(c)
	st := c.(*tls.Conn).ConnectionState()
	return &st, nil
}

func identifyTLS(ctx context.Context, hostport string, p *Port, o *Options) bool {
	// One handshake over the whole range first: a port that does not
	// speak TLS costs one wait, not four.
	wide := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, CipherSuites: allSuites()}
	if _, err := handshake(ctx, hostport, wide, o.BannerWait); err != nil {
		return false
	}
	info := &TLSInfo{}
	var cert *x509.Certificate
	for _, v := range tlsVersions {
		st, err := handshake(ctx, hostport, &tls.Config{InsecureSkipVerify: true, MinVersion: v.v, MaxVersion: v.v, CipherSuites: allSuites()}, o.BannerWait)
		if err != nil {
			continue
		}
		info.Versions = append(info.Versions, v.name)
		if len(st.PeerCertificates) > 0 {
			cert = st.PeerCertificates[0]
		}
	}
	if len(info.Versions) == 0 {
		return false
	}
	for _, id := range weakSuites() {
		cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{id}}
		if _, err := handshake(ctx, hostport, cfg, o.BannerWait); err == nil {
			info.WeakCiphers = append(info.WeakCiphers, tls.CipherSuiteName(id))
		}
	}
	if cert != nil {
		info.Subject, info.Issuer, info.NotAfter = cert.Subject.String(), cert.Issuer.String(), cert.NotAfter
		// CheckSignatureFrom would insist on a CA flag that factory
		// certificates often lack; the signature itself is what matters.
		info.SelfSigned = bytes.Equal(cert.RawIssuer, cert.RawSubject) &&
			cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
		switch k := cert.PublicKey.(type) {
		case *rsa.PublicKey:
			info.KeyType, info.KeyBits = "RSA", k.N.BitLen()
		case *ecdsa.PublicKey:
			info.KeyType, info.KeyBits = "ECDSA", k.Curve.Params().BitSize
		case ed25519.PublicKey:
			info.KeyType, info.KeyBits = "Ed25519", 256
		}
		names := strings.ToLower(info.Subject + " " + info.Issuer)
		for _, m := range []string{"fortinet", "fortigate", "palo alto", "sonicwall", "citrix", "netscaler", "pulse secure", "ivanti", "cisco", "yamaha", "default"} {
			if strings.Contains(names, m) {
				info.VendorDefault = true
			}
		}
	}
	p.TLS = info
	p.Service.Name = "tls"
	asHTTP(ctx, "https", hostport, p, o)
	return true
}

// portals are the SSL-VPN login paths of the edge products in the feed,
// with a marker the real page carries (so a server answering 200 to any
// path is not taken for a portal).
var portals = []struct {
	product, vendor, path string
	markers               []string
}{
	{"FortiGate SSL-VPN", "fortinet", "/remote/login", []string{"fortinet", "ftnt", "fgt_lang", "/remote/logincheck"}},
	{"Ivanti Connect Secure", "ivanti", "/dana-na/auth/url_default/welcome.cgi", []string{"dana-na", "pulse secure", "ivanti"}},
	{"NetScaler Gateway", "citrix", "/vpn/index.html", []string{"citrix", "netscaler", "/vpn/resources/"}},
	{"GlobalProtect", "paloalto", "/global-protect/login.esp", []string{"globalprotect", "global-protect"}},
	{"SonicWall SSL-VPN", "sonicwall", "/cgi-bin/welcome", []string{"sonicwall", "sonicos"}},
	{"Cisco ASA WebVPN", "cisco", "/+CSCOE+/logon.html", []string{"webvpn", "cscoe", "anyconnect"}},
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// fetchHTTP reads base's front page (following up to three redirects on
// the same host) and probes the known SSL-VPN login paths. nil: not HTTP.
func fetchHTTP(ctx context.Context, base string, o *Options) *HTTPInfo {
	client := &http.Client{
		Timeout: o.BannerWait,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, CipherSuites: allSuites()},
			DisableKeepAlives: true,
			// Raw bodies: a gzip file's own header is a version hint.
			DisableCompression: true,
			Proxy:              nil, // never leave through a proxy from the environment
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	get := func(u string) (*http.Response, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("User-Agent", "danzen-netprobe")
		resp, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer closeProbe(resp.Body)
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
		return resp, body, nil
	}
	baseURL, _ := url.Parse(base)
	u := base + "/"
	resp, body, err := get(u)
	if err != nil {
		return nil
	}
	h := &HTTPInfo{}
	for range 3 {
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
			break
		}
		h.Redirects = append(h.Redirects, loc)
		next, err := url.Parse(u)
		if err != nil {
			break
		}
		if next, err = next.Parse(loc); err != nil || next.Host != baseURL.Host {
			break
		}
		u = next.String()
		r2, b2, err := get(u)
		if err != nil {
			break
		}
		resp, body = r2, b2
	}
	h.Status, h.Server, h.PoweredBy = resp.StatusCode, resp.Header.Get("Server"), resp.Header.Get("X-Powered-By")
	h.Title = pageTitle(body)
	h.Login = isLogin(body)
	for _, pt := range portals {
		r, b, err := get(base + pt.path)
		if err != nil || r.StatusCode != http.StatusOK {
			continue
		}
		text := strings.ToLower(string(b) + " " + r.Header.Get("Server") + " " + r.Header.Get("Set-Cookie"))
		for _, m := range pt.markers {
			if strings.Contains(text, m) {
				h.Portal, h.PortalPath, h.Vendor = pt.product, pt.path, pt.vendor
				if t := pageTitle(b); h.Title == "" {
					h.Title = t
				}
				h.Login = h.Login || isLogin(b)
				h.Hints = portalHints(get, base, pt.vendor, pt.path, r, b)
				return h
			}
		}
	}
	return h
}

func pageTitle(body []byte) string {
	if m := titleRE.FindSubmatch(body); m != nil {
		return firstLines(printable(m[1]))
	}
	return ""
}

func isLogin(body []byte) bool {
	b := bytes.ToLower(body)
	return bytes.Contains(b, []byte(`type="password"`)) || bytes.Contains(b, []byte(`type=password`)) || bytes.Contains(b, []byte(`type='password'`))
}

// asHTTP fills p when the port answers HTTP under scheme.
func asHTTP(ctx context.Context, scheme, hostport string, p *Port, o *Options) bool {
	h := fetchHTTP(ctx, scheme+"://"+hostport, o)
	if h == nil {
		return false
	}
	p.Service.Name, p.HTTP, p.Service.Product = scheme, h, h.Server
	if h.Portal != "" {
		p.Service.Product = h.Portal
	}
	if hint, ok := bestHint(h.Hints); ok {
		p.Service.Version = hint.Version
	}
	return true
}

// String is a one-line summary for the report.
func (p Port) String() string {
	s := fmt.Sprintf("%d/%s %s", p.Port, p.Proto, p.Service.Name)
	if p.Service.Product != "" {
		pv := p.Service.Product
		if !strings.Contains(pv, p.Service.Version) { // a sysDescr holds the release judging read from it
			pv += " " + p.Service.Version
		}
		s += " (" + strings.TrimSpace(pv) + ")"
	}
	return s
}
