package alert

import (
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
)

// smtpd is a small SMTP submission server on 127.0.0.1, enough to see
// what a client does and in which order. It advertises AUTH even before
// TLS, so that a client that would authenticate in plaintext is caught.
type smtpd struct {
	ln       net.Listener
	tls      *tls.Config // nil: no STARTTLS offered
	implicit bool        // TLS from the first byte
	user     string
	pass     string

	mu    sync.Mutex
	conns int
	cmds  []smtpCmd
	auths []smtpAuth
	msgs  []smtpMsg
	wg    sync.WaitGroup
}

type smtpCmd struct {
	verb string
	tls  bool
}

type smtpAuth struct {
	mech, user, pass string
	tls              bool
}

type smtpMsg struct {
	from string
	to   []string
	data []byte
	tls  bool
}

func startSMTPD(t *testing.T, s *smtpd) *smtpd {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				s.session(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpd) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpd) snapshot() (conns int, cmds []smtpCmd, auths []smtpAuth, msgs []smtpMsg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, append([]smtpCmd(nil), s.cmds...), append([]smtpAuth(nil), s.auths...), append([]smtpMsg(nil), s.msgs...)
}

func (s *smtpd) session(c net.Conn) {
	isTLS := false
	if s.implicit {
		tc := tls.Server(c, s.tls)
		if tc.Handshake() != nil {
			return
		}
		c, isTLS = tc, true
	}
	tp := textproto.NewConn(c)
	reply := func(code int, lines ...string) bool {
		for i, l := range lines {
			sep := " "
			if i < len(lines)-1 {
				sep = "-"
			}
			if tp.PrintfLine("%d%s%s", code, sep, l) != nil {
				return false
			}
		}
		return true
	}
	reply(220, "test.invalid ESMTP")
	var from string
	var to []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			reply(500, "empty")
			continue
		}
		verb := strings.ToUpper(f[0])
		s.mu.Lock()
		s.cmds = append(s.cmds, smtpCmd{verb, isTLS})
		s.mu.Unlock()
		switch verb {
		case "EHLO", "HELO":
			ext := []string{"test.invalid", "8BITMIME"}
			if s.tls != nil && !isTLS {
				ext = append(ext, "STARTTLS")
			}
			reply(250, append(ext, "AUTH PLAIN LOGIN")...)
		case "STARTTLS":
			if s.tls == nil || isTLS {
				reply(502, "not available")
				continue
			}
			reply(220, "go ahead")
			tc := tls.Server(c, s.tls)
			if tc.Handshake() != nil {
				return
			}
			c, isTLS = tc, true
			tp = textproto.NewConn(c)
			from, to = "", nil
		case "AUTH":
			a := smtpAuth{tls: isTLS}
			if len(f) < 2 {
				reply(501, "mechanism?")
				continue
			}
			a.mech = strings.ToUpper(f[1])
			switch a.mech {
			case "PLAIN":
				if len(f) < 3 {
					reply(501, "initial response expected")
					continue
				}
				b, _ := base64.StdEncoding.DecodeString(f[2])
				p := strings.Split(string(b), "\x00")
				if len(p) == 3 {
					a.user, a.pass = p[1], p[2]
				}
			case "LOGIN":
				reply(334, "VXNlcm5hbWU6")
				l, _ := tp.ReadLine()
				u, _ := base64.StdEncoding.DecodeString(l)
				reply(334, "UGFzc3dvcmQ6")
				l, _ = tp.ReadLine()
				p, _ := base64.StdEncoding.DecodeString(l)
				a.user, a.pass = string(u), string(p)
			}
			s.mu.Lock()
			s.auths = append(s.auths, a)
			s.mu.Unlock()
			if a.user == s.user && a.pass == s.pass {
				reply(235, "ok")
			} else {
				reply(535, "5.7.8 authentication credentials invalid")
			}
		case "MAIL":
			from = addrOf(line)
			reply(250, "ok")
		case "RCPT":
			to = append(to, addrOf(line))
			reply(250, "ok")
		case "DATA":
			reply(354, "go ahead")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, smtpMsg{from: from, to: to, data: data, tls: isTLS})
			s.mu.Unlock()
			reply(250, "queued")
		case "RSET", "NOOP":
			reply(250, "ok")
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(502, "unknown")
		}
	}
}

func addrOf(line string) string {
	i, j := strings.IndexByte(line, '<'), strings.IndexByte(line, '>')
	if i < 0 || j < i {
		return ""
	}
	return line[i+1 : j]
}
