package build

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The vendor's update key is an ed25519 key pair in the PEM files openssl
// writes (`openssl genpkey -algorithm ed25519 -out update.key` and
// `openssl pkey -in update.key -pubout -out update.pub`), or GenerateKeys.
// The public key is pinned in every image (Options.UpdateKey); the
// private key signs bundles (WriteBundle) and never goes into an image.
const (
	PublicKeyFile  = "update.pub"
	PrivateKeyFile = "update.key"
)

// LoadUpdateKey reads a PEM "PUBLIC KEY" file holding an ed25519 key.
func LoadUpdateKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("update key %s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("update key %s is a %T, not an ed25519 key", path, k)
	}
	return pub, nil
}

// LoadSigningKey reads a PEM "PRIVATE KEY" (PKCS #8) file holding an
// ed25519 key.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is a %T, not an ed25519 key", path, k)
	}
	return priv, nil
}

func readPEM(path, typ string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != typ {
		return nil, fmt.Errorf("%s is not a PEM %q file", path, typ)
	}
	return blk.Bytes, nil
}

// GenerateKeys makes a new update key pair in dir (update.key, mode 0600,
// and update.pub). It never overwrites: a replaced private key would
// leave every gateway built with the old one without updates.
func GenerateKeys(dir string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for _, name := range []string{PrivateKeyFile, PublicKeyFile} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return nil, fmt.Errorf("%s exists already: an update key is never replaced by accident (gateways built with it could no longer be updated)", filepath.Join(dir, name))
		}
	}
	for _, f := range []struct {
		name, typ string
		der       []byte
		mode      os.FileMode
	}{
		{PrivateKeyFile, "PRIVATE KEY", privDER, 0o600},
		{PublicKeyFile, "PUBLIC KEY", pubDER, 0o644},
	} {
		p := filepath.Join(dir, f.name)
		out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%s exists already: an update key is never replaced by accident (gateways built with it could no longer be updated)", p)
		}
		if err != nil {
			return nil, err
		}
		err = pem.Encode(out, &pem.Block{Type: f.typ, Bytes: f.der})
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	return pub, nil
}
