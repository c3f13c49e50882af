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
				defer closeQuietly(c)
				s.session(c)
			}()
		}
	}()
	t.Cleanup(func() {
		if err := ln.Close(); err != nil {
			t.Error(err)
		}
		s.wg.Wait()
	})
	return s
}

func (s *smtpd) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpd) snapshot() (conns int, cmds []smtpCmd, auths []smtpAuth, msgs []smtpMsg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, append([]smtpCmd(nil), s.cmds...), append([]smtpAuth(nil), s.auths...), append([]smtpMsg(nil), s.msgs...)
}

// smtpConn is one client's session with the server.
type smtpConn struct {
	s     *smtpd
	c     net.Conn
	tp    *textproto.Conn
	isTLS bool
	from  string
	to    []string
}

func (s *smtpd) session(c net.Conn) {
	sc := &smtpConn{s: s, c: c}
	if s.implicit && !sc.handshake() {
		return
	}
	sc.tp = textproto.NewConn(sc.c)
	sc.reply(220, "test.invalid ESMTP")
	for {
		line, err := sc.tp.ReadLine()
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			sc.reply(500, "empty")
			continue
		}
		verb := strings.ToUpper(f[0])
		s.mu.Lock()
		s.cmds = append(s.cmds, smtpCmd{verb, sc.isTLS})
		s.mu.Unlock()
		if !sc.command(verb, f, line) {
			return
		}
	}
}

// command answers one command; false ends the session.
func (sc *smtpConn) command(verb string, f []string, line string) bool {
	switch verb {
	case "EHLO", "HELO":
		ext := []string{"test.invalid", "8BITMIME"}
		if sc.s.tls != nil && !sc.isTLS {
			ext = append(ext, "STARTTLS")
		}
		sc.reply(250, append(ext, "AUTH PLAIN LOGIN")...)
	case "STARTTLS":
		return sc.startTLS()
	case "AUTH":
		sc.auth(f)
	case "MAIL":
		sc.from = addrOf(line)
		sc.reply(250, "ok")
	case "RCPT":
		sc.to = append(sc.to, addrOf(line))
		sc.reply(250, "ok")
	case "DATA":
		return sc.data()
	case "RSET", "NOOP":
		sc.reply(250, "ok")
	case "QUIT":
		sc.reply(221, "bye")
		return false
	default:
		sc.reply(502, "unknown")
	}
	return true
}

// reply sends a (multi-line) reply; a client that has gone shows at the
// next read.
func (sc *smtpConn) reply(code int, lines ...string) {
	for i, l := range lines {
		sep := " "
		if i < len(lines)-1 {
			sep = "-"
		}
		if sc.tp.PrintfLine("%d%s%s", code, sep, l) != nil {
			return
		}
	}
}

// handshake turns the connection into TLS; false if that failed.
func (sc *smtpConn) handshake() bool {
	tc := tls.Server(sc.c, sc.s.tls)
	if tc.Handshake() != nil {
		return false
	}
	sc.c, sc.isTLS = tc, true
	return true
}

func (sc *smtpConn) startTLS() bool {
	if sc.s.tls == nil || sc.isTLS {
		sc.reply(502, "not available")
		return true
	}
	sc.reply(220, "go ahead")
	if !sc.handshake() {
		return false
	}
	sc.tp = textproto.NewConn(sc.c)
	sc.from, sc.to = "", nil
	return true
}

// auth records the credentials of AUTH PLAIN or LOGIN and accepts the
// configured ones.
func (sc *smtpConn) auth(f []string) {
	a := smtpAuth{tls: sc.isTLS}
	if len(f) < 2 {
		sc.reply(501, "mechanism?")
		return
	}
	a.mech = strings.ToUpper(f[1])
	switch a.mech {
	case "PLAIN":
		if len(f) < 3 {
			sc.reply(501, "initial response expected")
			return
		}
		b, _ := base64.StdEncoding.DecodeString(f[2])
		p := strings.Split(string(b), "\x00")
		if len(p) == 3 {
			a.user, a.pass = p[1], p[2]
		}
	case "LOGIN":
		sc.reply(334, "VXNlcm5hbWU6")
		l, _ := sc.tp.ReadLine()
		u, _ := base64.StdEncoding.DecodeString(l)
		sc.reply(334, "UGFzc3dvcmQ6")
		l, _ = sc.tp.ReadLine()
		p, _ := base64.StdEncoding.DecodeString(l)
		a.user, a.pass = string(u), string(p)
	}
	sc.s.mu.Lock()
	sc.s.auths = append(sc.s.auths, a)
	sc.s.mu.Unlock()
	if a.user == sc.s.user && a.pass == sc.s.pass {
		sc.reply(235, "ok")
	} else {
		sc.reply(535, "5.7.8 authentication credentials invalid")
	}
}

// data receives one message; false if the client went away.
func (sc *smtpConn) data() bool {
	sc.reply(354, "go ahead")
	data, err := sc.tp.ReadDotBytes()
	if err != nil {
		return false
	}
	sc.s.mu.Lock()
	sc.s.msgs = append(sc.s.msgs, smtpMsg{from: sc.from, to: sc.to, data: data, tls: sc.isTLS})
	sc.s.mu.Unlock()
	sc.reply(250, "queued")
	return true
}

func addrOf(line string) string {
	i, j := strings.IndexByte(line, '<'), strings.IndexByte(line, '>')
	if i < 0 || j < i {
		return ""
	}
	return line[i+1 : j]
}
