// Package hostkeytest answers SSH handshakes on 127.0.0.1 with a host key
// a test can swap, as a server that changed its key (or an impostor)
// does. No login ever succeeds: fetching and checking a host key needs no
// more, and no root.
package hostkeytest

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"testing"
	"time"

	"sync/atomic"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Server is a listening handshake-only SSH server.
type Server struct {
	Addr string // 127.0.0.1:port
	Port int
	// Key is the host key the next handshake shows; Store swaps it.
	Key atomic.Pointer[ssh.Signer]
	// also are further host keys of other types (AddKey).
	also atomic.Pointer[[]ssh.Signer]
}

// AddKey gives the server one more host key, of another type than Key:
// a client then gets the one its algorithm preference names first.
func (s *Server) AddKey(k ssh.Signer) {
	var keys []ssh.Signer
	if old := s.also.Load(); old != nil {
		keys = append(keys, *old...)
	}
	keys = append(keys, k)
	s.also.Store(&keys)
}

// NewKey is a fresh ed25519 host key.
func NewKey(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Start listens until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() }) // ends the accept loop; nothing else to release
	s := &Server{Addr: ln.Addr().String(), Port: ln.Addr().(*net.TCPAddr).Port}
	s.Swap(NewKey(t))
	go s.serve(ln)
	return s
}

func (s *Server) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer func() { _ = c.Close() }() // the handshake is all a test needs
			cfg := &ssh.ServerConfig{PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) { return nil, io.EOF }}
			cfg.AddHostKey(*s.Key.Load())
			if also := s.also.Load(); also != nil {
				for _, k := range *also {
					cfg.AddHostKey(k)
				}
			}
			if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				return
			}
			// The handshake shows the host key; the login fails by design.
			_, _, _, _ = ssh.NewServerConn(c, cfg)
		}()
	}
}

// Swap makes the server show k from the next handshake on.
func (s *Server) Swap(k ssh.Signer) { s.Key.Store(&k) }

// Public is the host key shown now.
func (s *Server) Public() ssh.PublicKey { return (*s.Key.Load()).PublicKey() }

// Fingerprint is the SHA256 fingerprint of the host key shown now.
func (s *Server) Fingerprint() string { return ssh.FingerprintSHA256(s.Public()) }

// KnownHostsLine pins the host key shown now for the server's address,
// in the form danzen writes.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.Public())
}
