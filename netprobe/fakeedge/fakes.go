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
// vendor's odd Server header, / redirecting to /remote/login.
func (w *World) SSLVPN(ns string, port int) error {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "FGT60FTK20000000", Organization: []string{"Fortinet"}, OrganizationalUnit: []string{"FortiGate"}, Country: []string{"US"}},
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
		MinVersion:   tls.VersionTLS10,
		MaxVersion:   tls.VersionTLS12,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "/remote/login?lang=en", http.StatusFound)
	})
	mux.HandleFunc("/remote/login", func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprint(rw, `<html><head><title>FortiGate SSL VPN</title><script src="/remote/fgt_lang?lang=en"></script></head>
<body><form action="/remote/logincheck" method="post"><input name="username"><input type="password" name="credential"></form></body></html>`)
	})
	// Scanners hang up mid-handshake on purpose; do not log it.
	srv := &http.Server{Handler: serverHeader("xxxxxxxx-xxxxx", mux), ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(tls.NewListener(ln, cfg))
	return nil
}

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
		fmt.Fprint(rw, `<html><head><title>Router Login</title></head><body><form><input type="password" name="pw"></form></body></html>`)
	})
	go (&http.Server{Handler: serverHeader("micro_httpd", h), ReadHeaderTimeout: 5 * time.Second}).Serve(ln)
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
				defer c.Close()
				c.Write([]byte(text))
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
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
			pc.WriteTo(buf[:n], from)
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
	os.MkdirAll("/run/sshd", 0o755)
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
	c := Command(context.Background(), ns, "nft", "-f", "-")
	c.Stdin = strings.NewReader(rules)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("nft: %v: %s", err, out)
	}
	return nil
}
