package fakeedge

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// SSLVPN serves a FortiGate SSL-VPN lookalike on port: TLS 1.0 to 1.2, a
// 1024-bit self-signed certificate in Fortinet's factory style, the
// vendor's odd Server header, / redirecting to /remote/login, and a
// language file whose ETag ends in the hex build time (the leak FortiOS
// fixed as CVE-2024-23662): a build date, no version.
func (w *World) SSLVPN(ns string, port int) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "/remote/login?lang=en", http.StatusFound)
	})
	mux.HandleFunc("/remote/login", func(rw http.ResponseWriter, r *http.Request) {
		reply(rw, `<html><head><title>FortiGate SSL VPN</title><script src="/remote/fgt_lang?lang=en"></script></head>
<body><form action="/remote/logincheck" method="post"><input name="username"><input type="password" name="credential"></form></body></html>`)
	})
	mux.HandleFunc("/remote/fgt_lang", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("ETag", fmt.Sprintf(`"2a1f-%x"`, FortiBuildTime.Unix()))
		rw.Header().Set("Content-Type", "application/javascript")
		reply(rw, `var fgt_lang = {"sslvpn_login_permission_denied":"Permission denied."};`)
	})
	return w.serveTLS(ns, port, pkix.Name{CommonName: "FGT60FTK20000000", Organization: []string{"Fortinet"}, OrganizationalUnit: []string{"FortiGate"}, Country: []string{"US"}},
		1024, tls.VersionTLS10, serverHeader("xxxxxxxx-xxxxx", mux))
}

// FortiBuildTime is the build time the FortiGate lookalike leaks.
var FortiBuildTime = time.Date(2023, 6, 5, 20, 16, 0, 0, time.UTC)

// ASA serves a Cisco ASA WebVPN lookalike on port: TLS 1.2 only, the
// ASA's temporary self-signed certificate, / redirecting to the logon
// page, and the AnyConnect XML at /CSCOSSLC/config-auth stating version
// as old releases do.
func (w *World) ASA(ns string, port int, version string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "/+CSCOE+/logon.html", http.StatusFound)
	})
	mux.HandleFunc("/+CSCOE+/logon.html", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Set-Cookie", "webvpnlogin=1; path=/; secure")
		reply(rw, `<html><head><title>SSL VPN Service</title><script src="/+CSCOE+/win.js"></script></head>
<body><form name="unicorn_form" action="/+webvpn+/index.html" method="post"><input name="username"><input type="password" name="password"></form>
<script>csco_ShowLoginForm('lform');</script></body></html>`)
	})
	mux.HandleFunc("/CSCOSSLC/config-auth", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/xml")
		reply(rw, fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<config-auth client="vpn" type="complete">
<version who="sg">%s</version>
<error id="98" param1="" param2="">VPN Server could not parse request.</error>
</config-auth>
`, version))
	})
	return w.serveTLS(ns, port, pkix.Name{CommonName: "ASA Temporary Self Signed Certificate"}, 2048, tls.VersionTLS12, mux)
}

// serveTLS serves h over TLS (minVersion to 1.2) on port inside ns with a
// fresh self-signed certificate for subject.
func (w *World) serveTLS(ns string, port int, subject pkix.Name, bits int, minVersion uint16, h http.Handler) error {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      subject,
		NotBefore:    time.Now().Add(-24 * time.Hour),
		NotAfter:     time.Now().Add(10 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	ln, err := w.Listen(ns, fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   minVersion,
		MaxVersion:   tls.VersionTLS12,
	}
	// Scanners hang up mid-handshake on purpose; do not log it.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(tls.NewListener(ln, cfg)) }() // ends when Close closes ln
	return nil
}

// reply writes a fake's answer. A scanner that hangs up before reading it
// is nothing the fake can act on.
func reply(w io.Writer, s string) { _, _ = io.WriteString(w, s) }

func serverHeader(v string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Server", v)
		h.ServeHTTP(rw, r)
	})
}

// HTTPLogin serves a router's management login page over plain HTTP.
func (w *World) HTTPLogin(ns string, port int) error {
	ln, err := w.Listen(ns, fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		reply(rw, `<html><head><title>Router Login</title></head><body><form><input type="password" name="pw"></form></body></html>`)
	})
	srv := &http.Server{Handler: serverHeader("micro_httpd", h), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends when Close closes ln
	return nil
}

// Banner greets every connection on port with text, then waits for the
// client to leave (a Telnet login prompt, for example).
func (w *World) Banner(ns string, port int, text string) error {
	ln, err := w.Listen(ns, fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	Greet(ln, text)
	return nil
}

// Greet serves Banner's greeting on ln until ln is closed (for tests on
// a loopback address outside any namespace).
func Greet(ln net.Listener, text string) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer closeQuietly(c)
				if _, err := c.Write([]byte(text)); err != nil {
					return // the client left already
				}
				if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
					return
				}
				buf := make([]byte, 512)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
}

// UDPEcho sends every datagram back: a port that answers but speaks no
// protocol, which must not be reported as SNMP or IKE.
func (w *World) UDPEcho(ns string, port int) error {
	pc, err := w.ListenUDP(ns, fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from) // an echo lost is as good as a datagram lost
		}
	}()
	return nil
}

// SSHD runs Debian's OpenSSH sshd on port 22 inside ns.
func (w *World) SSHD(ns string) error {
	dir := filepath.Join(w.Dir, ns+"-sshd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege separation directory
		return err
	}
	key := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	cfg := filepath.Join(dir, "sshd_config")
	conf := strings.Join([]string{"Port 22", "HostKey " + key, "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
		"PidFile none", "StrictModes no", "AuthorizedKeysFile none"}, "\n") + "\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	if err := w.Start(ns, "/usr/sbin/sshd", "-D", "-e", "-f", cfg); err != nil {
		return err
	}
	return Wait(ns, "tcp", 22, 10*time.Second)
}

// SNMPD runs Debian's snmpd inside ns answering community with descr.
func (w *World) SNMPD(ns, community, descr string) error {
	dir := filepath.Join(w.Dir, ns+"-snmpd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "snmpd.conf")
	conf := fmt.Sprintf("rocommunity %s default\nsysDescr %s\n", community, descr)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	// -C: only this file; -M/-m empty: no MIB files to load.
	if err := w.Start(ns, "snmpd", "-f", "-Lo", "-C", "-c", cfg, "-M", dir, "-m", "", "-p", filepath.Join(dir, "pid"), "udp:161"); err != nil {
		return err
	}
	return Wait(ns, "udp", 161, 10*time.Second)
}

// DNSMasq runs dnsmasq as a DNS server inside ns (UDP and TCP 53); it
// answers version.bind with its version, as many routers' relays do.
func (w *World) DNSMasq(ns string) error {
	dir := filepath.Join(w.Dir, ns+"-dnsmasq")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := w.Start(ns, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
		"--user=root", "--port=53", "--pid-file="+filepath.Join(dir, "pid"), "--log-facility=-"); err != nil {
		return err
	}
	return Wait(ns, "udp", 53, 10*time.Second)
}

// DropPolicy loads an nftables ruleset into ns that silently drops every
// TCP and UDP packet except to the listed ports.
func (w *World) DropPolicy(ns string, tcp, udp []int) error {
	list := func(ps []int) string {
		var s []string
		for _, p := range ps {
			s = append(s, fmt.Sprint(p))
		}
		return strings.Join(s, ", ")
	}
	rules := fmt.Sprintf(`table inet dzfake {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept
    iif "lo" accept
    tcp dport { %s } accept
    udp dport { %s } accept
  }
}
`, list(tcp), list(udp))
	return nft(ns, rules)
}

// Loss makes ns drop percent of the TCP SYNs it receives, at random (nft
// numgen), before any other rule: a lossy line, on which a scanner that
// tries each port once loses ports. It is a table of its own, so it
// combines with DropPolicy.
func (w *World) Loss(ns string, percent int) error {
	rules := fmt.Sprintf(`table inet dzloss {
  chain input {
    type filter hook input priority -10; policy accept;
    tcp flags & (syn | ack) == syn numgen random mod 100 < %d drop
  }
}
`, percent)
	return nft(ns, rules)
}

// nft loads an nftables ruleset into ns.
func nft(ns, rules string) error {
	c := Command(context.Background(), ns, "nft", "-f", "-")
	c.Stdin = strings.NewReader(rules)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("nft: %v: %s", err, out)
	}
	return nil
}
