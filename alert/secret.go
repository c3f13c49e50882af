package alert

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
)

const maxSecret = 4096

// readSecret reads a password or token. It refuses files that others can
// read: a secret that leaked that way should be rotated, not used quietly.
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", msg.Errorf("秘密情報ファイルを開けません: %w", "cannot open secret file: %w", err)
	}
	defer closeQuietly(f) // read only
	fi, err := f.Stat()
	if err != nil {
		return "", msg.Errorf("秘密情報ファイル %s を確認できません: %w", "cannot stat secret file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", msg.Errorf("秘密情報ファイル %s が通常のファイルではありません", "secret file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", msg.Errorf("秘密情報ファイル %s は権限 %04o で他者が読めます。0600 にしてください", "secret file %s has mode %04o, readable by others: make it 0600", path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecret+1))
	if err != nil {
		return "", msg.Errorf("秘密情報ファイル %s を読めません: %w", "cannot read secret file %s: %w", path, err)
	}
	if len(b) > maxSecret {
		return "", msg.Errorf("秘密情報ファイル %s が大きすぎます", "secret file %s is too large", path)
	}
	// Editors add a final newline; it is never part of the secret.
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", msg.Errorf("秘密情報ファイル %s が空です", "secret file %s is empty", path)
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", msg.Errorf("秘密情報ファイル %s は1行にしてください", "secret file %s must hold a single line", path)
	}
	return s, nil
}

func resolvePath(secretsDir, name string) (string, error) {
	if filepath.IsAbs(name) {
		return name, nil
	}
	if secretsDir == "" {
		return "", msg.Errorf("相対パス %q の基準となる secrets ディレクトリが指定されていません", "relative path %q needs Options.SecretsDir", name)
	}
	return filepath.Join(secretsDir, name), nil
}

// tlsConfig trusts only caFile when it is given: an on-premise CA is the
// one issuer that server's certificate should come from.
func tlsConfig(serverName, secretsDir, caFile string) (*tls.Config, error) {
	c := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return c, nil
	}
	p, err := resolvePath(secretsDir, caFile)
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(p)
	if err != nil {
		return nil, msg.Errorf("CA証明書ファイルを読めません: %w", "cannot read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, msg.Errorf("CA証明書ファイル %s にPEM形式の証明書がありません", "CA file %s holds no PEM certificate", p)
	}
	c.RootCAs = pool
	return c, nil
}
