package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// SetupCodeFile is the name of the pending setup code inside Options.Dir.
// It is kept (0600) so that a restart within the validity shows the same
// code again; it is deleted once the first admin exists.
const SetupCodeFile = "setup-code.json"

// setupAlphabet has no 0/O or 1/I, because the code is read off a console
// and typed by hand. 32 symbols: a random byte & 31 is uniform.
const setupAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// setupCodeLen symbols of 5 bits: 100 bits, far beyond guessing within the
// login rate limit and the code's lifetime.
const setupCodeLen = 20

type setupCode struct {
	Code    string    `json:"code"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

func newSetupCode() string {
	b := make([]byte, setupCodeLen)
	rand.Read(b) // never fails since Go 1.24
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(setupAlphabet[c&31])
	}
	return s.String()
}

// normalizeSetupCode forgives case, spaces and hyphens in what was typed.
func normalizeSetupCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\u3000' || r == '\t' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
}

func (a *Auth) setupPath() string { return filepath.Join(a.dir, SetupCodeFile) }

func (a *Auth) readSetupCode() (setupCode, bool, error) {
	b, err := os.ReadFile(a.setupPath())
	if errors.Is(err, fs.ErrNotExist) {
		return setupCode{}, false, nil
	}
	if err != nil {
		return setupCode{}, false, msg.Errorf("セットアップコードを読めません: %w", "read setup code: %w", err)
	}
	var c setupCode
	if err := json.Unmarshal(b, &c); err != nil {
		return setupCode{}, false, msg.Errorf("セットアップコード %s を解釈できません: %w", "parse setup code %s: %w", a.setupPath(), err)
	}
	return c, true, nil
}

// EnsureSetupCode returns the one-time setup code while no user exists,
// for the daemon to print on the console. A still-valid code is returned
// again; an expired or missing one is replaced by a new one. Once users
// exist it returns "" and removes any leftover code file.
func (a *Auth) EnsureSetupCode() (code string, expires time.Time, err error) {
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	if a.users.count() > 0 {
		if err := a.removeSetupCode(); err != nil {
			return "", time.Time{}, err
		}
		return "", time.Time{}, nil
	}
	now := a.now()
	c, ok, err := a.readSetupCode()
	if err != nil {
		a.log.Warn("replacing unreadable setup code", "err", err)
	}
	if ok && now.Before(c.Expires) {
		return c.Code, c.Expires, nil
	}
	c = setupCode{Code: newSetupCode(), Created: now, Expires: now.Add(a.setupTTL)}
	b, err := json.Marshal(c)
	if err != nil {
		return "", time.Time{}, msg.Errorf("セットアップコードを書き出せません: %w", "encode setup code: %w", err)
	}
	if err := atomicfile.Write(a.setupPath(), b, 0o600); err != nil {
		return "", time.Time{}, msg.Errorf("セットアップコードを保存できません: %w", "save setup code: %w", err)
	}
	a.audit("system", AuditSetupIssued, msg.Sprintf("一回限りのセットアップコードを発行。有効期限 %s", "one-time setup code issued; valid until %s", c.Expires.UTC().Format(time.RFC3339)))
	a.log.Info("setup code issued", "expires", c.Expires)
	return c.Code, c.Expires, nil
}

// SetupPending reports whether no user exists yet, i.e. the setup page is open.
func (a *Auth) SetupPending() bool { return a.users.count() == 0 }

func (a *Auth) removeSetupCode() error {
	err := os.Remove(a.setupPath())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return msg.Errorf("使用済みのセットアップコードを削除できません: %w", "remove used setup code: %w", err)
	}
	if err == nil {
		if err := atomicfile.SyncDir(a.dir); err != nil {
			return msg.Errorf("使用済みのセットアップコードを削除できません: %w", "remove used setup code: %w", err)
		}
	}
	return nil
}

// checkSetupCode compares typed with the pending code in constant time.
// Called with setupMu held.
func (a *Auth) checkSetupCode(typed string) error {
	c, ok, err := a.readSetupCode()
	if err != nil {
		return err
	}
	if !ok {
		return ErrSetupCode
	}
	match := subtle.ConstantTimeCompare([]byte(normalizeSetupCode(typed)), []byte(normalizeSetupCode(c.Code))) == 1
	if !match || !a.now().Before(c.Expires) {
		return ErrSetupCode
	}
	return nil
}
