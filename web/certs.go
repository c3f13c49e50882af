package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
)

// CertFile is the page's certificate chain and private key, in one PEM
// file (0600) so that a replacement is one atomic rename: the key and its
// certificate can never be seen half-updated.
const CertFile = "server.pem"

// CertStore holds the HTTPS certificate of the page: generated on first
// start (self-signed ECDSA P-256), or uploaded by the vendor.
type CertStore struct {
	dir  string
	mu   sync.RWMutex
	cert *tls.Certificate
}

// OpenCertStore loads dir/server.pem, or generates a self-signed
// certificate for names and ips when there is none. created reports the
// latter.
func OpenCertStore(dir string, names []string, ips []net.IP) (cs *CertStore, created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create the certificate folder %s: %w", dir, err)
	}
	s := &CertStore{dir: dir}
	p := filepath.Join(dir, CertFile)
	raw, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		raw, err = selfSigned(names, ips, time.Now())
		if err != nil {
			return nil, false, err
		}
		if err := atomicfile.Write(p, raw, 0o600); err != nil {
			return nil, false, fmt.Errorf("save the page's certificate: %w", err)
		}
		created = true
	} else if err != nil {
		return nil, false, fmt.Errorf("read the page's certificate: %w", err)
	}
	if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(p, 0o600); err != nil {
			return nil, false, fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	c, err := parsePair(raw)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", p, err)
	}
	s.cert = c
	return s, created, nil
}

// selfSigned makes the first certificate. It never expires (RFC 5280's
// 99991231235959Z): a Raspberry Pi may generate it before NTP has set the
// clock, and a certificate that lapses in some years would lock the vendor
// out of an appliance that nobody watches.
func selfSigned(names []string, ips []net.IP, now time.Time) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate the certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "danzen", Organization: []string{"danzen offline-backup gateway"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create the certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, blk := range []*pem.Block{{Type: "CERTIFICATE", Bytes: der}, {Type: "PRIVATE KEY", Bytes: kder}} {
		if err := pem.Encode(&b, blk); err != nil {
			return nil, fmt.Errorf("encode the certificate: %w", err)
		}
	}
	return b.Bytes(), nil
}

// parsePair reads a chain and its key from one PEM blob.
func parsePair(raw []byte) (*tls.Certificate, error) {
	var certs, keys []byte
	for rest := raw; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			certs = append(certs, pem.EncodeToMemory(blk)...)
		} else if strings.Contains(blk.Type, "PRIVATE KEY") {
			keys = append(keys, pem.EncodeToMemory(blk)...)
		}
	}
	c, err := tls.X509KeyPair(certs, keys)
	if err != nil {
		return nil, fmt.Errorf("certificate and key: %w", err)
	}
	return &c, nil
}

// CertNames are the names the generated certificate is for: the host
// name, "danzen", and every address of the machine.
func CertNames() ([]string, []net.IP) {
	names := []string{"danzen"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "danzen" {
		names = append(names, h)
	}
	var ips []net.IP
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				ips = append(ips, n.IP)
			}
		}
	}
	return names, ips
}

// GetCertificate is tls.Config's hook: a replaced certificate is used
// from the next connection on, without a restart.
func (s *CertStore) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cert, nil
}

// Fingerprint is the SHA-256 of the certificate in use, as browsers show
// it ("AB:CD:…"). The vendor compares it before trusting the page.
func (s *CertStore) Fingerprint() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fingerprintOf(s.cert.Certificate[0])
}

// Leaf is the certificate in use.
func (s *CertStore) Leaf() *x509.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cert.Leaf
}

func fingerprintOf(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// Fingerprint reads the page's certificate fingerprint from a state
// directory's certificate folder, for the documents.
func Fingerprint(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		return "", fmt.Errorf("read the page's certificate: %w", err)
	}
	for rest := raw; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return "", errors.New("the page's certificate file holds no certificate")
		}
		if blk.Type == "CERTIFICATE" {
			return fingerprintOf(blk.Bytes), nil
		}
	}
}

// Replace validates an uploaded certificate (chain) and key and, only if
// they are good, stores and uses them. The old pair stays until then.
// Its errors say why, in both languages, with times in now's zone.
func (s *CertStore) Replace(certPEM, keyPEM []byte, now time.Time) error {
	if !bytes.Contains(certPEM, []byte("CERTIFICATE")) || !bytes.Contains(keyPEM, []byte("PRIVATE KEY")) {
		return msg.New("PEM 形式の証明書と秘密鍵を選んでください", "choose a PEM certificate and a PEM private key")
	}
	if bytes.Contains(keyPEM, []byte("ENCRYPTED")) {
		return msg.New("パスフレーズ付きの秘密鍵は使えません", "a private key protected by a passphrase cannot be used")
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return msg.Errorf("証明書と秘密鍵が対応していないか、読めません: %w", "the certificate and key do not match or cannot be read: %w", err)
	}
	leaf := c.Leaf
	switch {
	case now.Before(leaf.NotBefore):
		return msg.Errorf("証明書の有効期間がまだ始まっていません(%sから)", "the certificate is not valid yet (from %s)", when.In(now.Location()).Stamp(leaf.NotBefore))
	case now.After(leaf.NotAfter):
		return msg.Errorf("証明書の有効期限が切れています(%sまで)", "the certificate has expired (%s)", when.In(now.Location()).Stamp(leaf.NotAfter))
	case len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny):
		return msg.New("サーバ認証用の証明書ではありません", "the certificate is not for server authentication")
	}
	blob := append(append(bytes.TrimSpace(certPEM), '\n'), append(bytes.TrimSpace(keyPEM), '\n')...)
	if _, err := parsePair(blob); err != nil {
		return msg.Errorf("証明書を読めません: %w", "cannot read the certificate: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := atomicfile.Write(filepath.Join(s.dir, CertFile), blob, 0o600); err != nil {
		return msg.Errorf("証明書を保存できません: %w", "cannot save the certificate: %w", err)
	}
	s.cert = &c
	return nil
}
