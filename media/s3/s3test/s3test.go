// Package s3test runs a real S3 server with Object Lock for tests and
// benchmarks: versitygw (posix backend, versioning directory) on
// 127.0.0.1 over HTTPS with a certificate authority made for the run.
// `make test` builds the binary into bin/ and passes it as DANZEN_VERSITYGW.
package s3test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Server is a running versitygw.
type Server struct {
	Endpoint  string // 127.0.0.1:port
	CAFile    string // PEM of the CA that signed the server's certificate
	AccessKey string
	SecretKey string
	Dir       string
	Client    *minio.Client // root client, for setting buckets up
	cmd       *exec.Cmd
	done      chan error
	closeOnce sync.Once
}

// Binary returns the versitygw binary from DANZEN_VERSITYGW, or an error
// saying what to do.
func Binary() (string, error) {
	p := os.Getenv("DANZEN_VERSITYGW")
	if p == "" {
		return "", fmt.Errorf("DANZEN_VERSITYGW is not set: run make test, which builds bin/versitygw")
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("versitygw binary: %w (run make test, which builds bin/versitygw)", err)
	}
	return p, nil
}

// Start runs versitygw with its data, versions and certificates under dir
// (which must support extended attributes: ext4 or a recent tmpfs).
func Start(ctx context.Context, bin, dir string) (*Server, error) {
	s := &Server{Dir: dir, AccessKey: "danzen-root", SecretKey: "root-secret-" + randHex(8), done: make(chan error, 1)}
	for _, d := range []string{"data", "versions"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	certPEM, keyPEM, caPEM, err := makeCerts()
	if err != nil {
		return nil, err
	}
	s.CAFile = filepath.Join(dir, "ca.pem")
	for name, b := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM, "ca.pem": caPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Endpoint = l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "--port", s.Endpoint, "--cert", filepath.Join(dir, "cert.pem"), "--key", filepath.Join(dir, "key.pem"),
		"posix", "--versioning-dir", filepath.Join(dir, "versions"), filepath.Join(dir, "data"))
	// Root credentials by environment, as the gateway does with restic.
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.AccessKey, "ROOT_SECRET_ACCESS_KEY="+s.SecretKey)
	log, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return nil, errors.Join(err, log.Close())
	}
	go func() {
		s.done <- s.cmd.Wait()
		_ = log.Close() // the server has exited: its log is complete on disk
	}()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	s.Client, err = minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Secure: true, Transport: tr})
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := s.Client.ListBuckets(ctx); err == nil {
			return s, nil
		} else if time.Now().After(deadline) {
			cerr := s.Close()
			b, _ := os.ReadFile(filepath.Join(dir, "versitygw.log"))
			return nil, errors.Join(fmt.Errorf("versitygw did not come up: %w\n%s", err, b), cerr)
		}
		select {
		case err := <-s.done:
			b, _ := os.ReadFile(filepath.Join(dir, "versitygw.log"))
			return nil, fmt.Errorf("versitygw exited: %v\n%s", err, b)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Close stops the server; it may be called more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.cmd.Process == nil {
			return
		}
		if kerr := s.cmd.Process.Kill(); kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
			err = fmt.Errorf("stop versitygw: %w", kerr)
			return
		}
		// A killed server exits with an *exec.ExitError that says only
		// that; any other error is news.
		var exit *exec.ExitError
		if werr := <-s.done; werr != nil && !errors.As(werr, &exit) {
			err = werr
		}
	})
	return err
}

// Lock is a bucket's Object Lock default retention; nil means no lock.
type Lock struct {
	Mode minio.RetentionMode
	Days uint
}

// MakeBucket creates a bucket; with lock it has Object Lock (and so
// versioning) and that default retention, with versioning it is only
// versioned.
func (s *Server) MakeBucket(ctx context.Context, name string, versioning bool, lock *Lock) error {
	if err := s.Client.MakeBucket(ctx, name, minio.MakeBucketOptions{ObjectLocking: lock != nil}); err != nil {
		return err
	}
	if versioning || lock != nil {
		if err := s.Client.EnableVersioning(ctx, name); err != nil {
			return err
		}
	}
	if lock != nil && lock.Mode != "" {
		unit := minio.Days
		return s.Client.SetBucketObjectLockConfig(ctx, name, &lock.Mode, &lock.Days, &unit)
	}
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// makeCerts returns a server certificate and key for 127.0.0.1 and the CA
// that signed it, all PEM.
func makeCerts() (cert, key, ca []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "danzen test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		return nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

// Run starts a server for one test and stops it when the test ends. It
// skips under -short: make check runs no peers, make test runs them all.
func Run(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("runs versitygw (bin/versitygw): make test runs it, -short skips it")
	}
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(context.Background(), bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("stop versitygw: %v", err)
		}
	})
	return srv
}
