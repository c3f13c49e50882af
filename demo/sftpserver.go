// Package demo sets up the embedded default that `make demo` runs on: an
// in-process SFTP server on 127.0.0.1 serving a generated e-chart export,
// and the configuration pointing at it.
package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// SFTPServer is a read-only SFTP server on 127.0.0.1 that accepts one
// client key. It stands in for the e-chart server in the demo only; the
// tests use a real OpenSSH sshd.
type SFTPServer struct {
	Addr          string
	KnownHosts    string // known_hosts line for the server's key
	ClientKeyFile string // 0600 private key the server accepts
	ln            net.Listener
	handlers      *sftp.Handlers
	wg            sync.WaitGroup
	log           *slog.Logger
}

// StartSFTP listens on 127.0.0.1 (a free port), serves the local file
// system read-only, and writes the client key into keyDir.
func StartSFTP(ctx context.Context, keyDir string, log *slog.Logger) (*SFTPServer, error) {
	return StartSFTPWith(ctx, keyDir, log, nil)
}

// StartSFTPWith serves h instead of the file system when h is not nil:
// tests use it to play a hostile or broken server.
func StartSFTPWith(ctx context.Context, keyDir string, log *slog.Logger, h *sftp.Handlers) (*SFTPServer, error) {
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		return nil, err
	}
	clientPub, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(clientPriv, "danzen demo")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(keyDir, 0o700); err != nil {
		return nil, err
	}
	keyFile := filepath.Join(keyDir, "demo_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	allowed, err := ssh.NewPublicKey(clientPub)
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(allowed.Marshal()) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("key not accepted")
		},
	}
	cfg.AddHostKey(hostSigner)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &SFTPServer{Addr: ln.Addr().String(), ClientKeyFile: keyFile, ln: ln, log: log, handlers: h}
	port := ln.Addr().(*net.TCPAddr).Port
	s.KnownHosts = fmt.Sprintf("[127.0.0.1]:%d %s", port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hostSigner.PublicKey()))))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(nc, cfg)
			}()
		}
	}()
	return s, nil
}

// Port is the listening port.
func (s *SFTPServer) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *SFTPServer) serve(nc net.Conn, cfg *ssh.ServerConfig) {
	defer s.closeConn("connection", nc)
	sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		s.log.Debug("demo sftp handshake", "err", err)
		return
	}
	defer s.closeConn("ssh connection", sc)
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			if err := nch.Reject(ssh.UnknownChannelType, "only sessions"); err != nil {
				s.log.Debug("demo sftp reject", "err", err)
			}
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		go func() {
			for req := range creqs {
				ok := req.Type == "subsystem" && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp"
				if err := req.Reply(ok, nil); err != nil {
					s.log.Debug("demo sftp reply", "err", err)
				}
				if ok {
					s.serveSFTP(ch)
					return
				}
			}
		}()
	}
}

func (s *SFTPServer) serveSFTP(ch ssh.Channel) {
	defer s.closeConn("channel", ch)
	var serve func() error
	if s.handlers != nil {
		rs := sftp.NewRequestServer(ch, *s.handlers)
		defer s.closeConn("sftp request server", rs)
		serve = rs.Serve
	} else {
		srv, err := sftp.NewServer(ch, sftp.ReadOnly())
		if err != nil {
			return
		}
		defer s.closeConn("sftp server", srv)
		serve = srv.Serve
	}
	if err := serve(); err != nil && !errors.Is(err, io.EOF) {
		s.log.Debug("demo sftp serve", "err", err)
	}
}

// closeConn closes one side of a finished session. The client usually
// closed it first, so a failure here is worth a debug line at most.
func (s *SFTPServer) closeConn(what string, c io.Closer) {
	if err := c.Close(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("demo sftp close", "what", what, "err", err)
	}
}

// Close stops the server and waits for its connections to end.
func (s *SFTPServer) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}
