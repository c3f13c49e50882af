package auth

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// UsersFile is the name of the user store inside Options.Dir.
const UsersFile = "users.json"

// User is an account as the rest of danzen sees it: never a password or hash.
type User struct {
	Name            string    `json:"name"`
	Role            Role      `json:"role"`
	Created         time.Time `json:"created"`
	PasswordChanged time.Time `json:"password_changed"`
	// Lang is the page language the user chose with the language switch:
	// "ja" or "en"; empty until they choose (users.json written before
	// the choice existed has none). See Lang.
	Lang string `json:"lang,omitempty"`
}

// userRecord is a User as stored, with its argon2id PHC hash.
type userRecord struct {
	User
	Hash string `json:"hash"`
}

type usersFile struct {
	Version int          `json:"version"`
	Users   []userRecord `json:"users"`
}

// userStore is the users.json file and its in-memory copy. Every change is
// written atomically first and applied in memory only once it is on disk.
type userStore struct {
	path  string
	mu    sync.Mutex
	users map[string]userRecord
}

func openUserStore(dir string, log *slog.Logger) (*userStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, msg.Errorf("秘密情報のフォルダ %s を作成できません: %w", "create secrets directory %s: %w", dir, err)
	}
	s := &userStore{path: filepath.Join(dir, UsersFile), users: map[string]userRecord{}}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, msg.Errorf("ユーザー情報を読めません: %w", "read user store: %w", err)
	}
	if fi, err := os.Stat(s.path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		// The hashes are secrets; tighten rather than refuse to start.
		log.Warn("user store was readable by others; setting mode 0600", "path", s.path, "mode", fi.Mode().Perm())
		if err := os.Chmod(s.path, 0o600); err != nil {
			return nil, msg.Errorf("ユーザー情報の権限を 0600 にできません: %w", "chmod user store: %w", err)
		}
	}
	var f usersFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, msg.Errorf("ユーザー情報 %s を解釈できません: %w", "parse user store %s: %w", s.path, err)
	}
	if f.Version != 1 {
		return nil, msg.Errorf("ユーザー情報 %s の形式 %d には対応していません", "user store %s: unsupported version %d", s.path, f.Version)
	}
	for _, u := range f.Users {
		if _, dup := s.users[u.Name]; dup || validUserName(u.Name) != nil || !u.Role.Valid() {
			return nil, msg.Errorf("ユーザー情報 %s: ユーザー %q が不正か重複しています", "user store %s: bad or duplicate user %q", s.path, u.Name)
		}
		if _, ok := parseLang(u.Lang); !ok && u.Lang != "" {
			u.Lang = "" // a hand-edited value: the default applies
		}
		s.users[u.Name] = u
	}
	return s, nil
}

// normalizeUserName makes names case-insensitive ("Tanaka" logs in as "tanaka").
func normalizeUserName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

func validUserName(name string) error {
	if len(name) < 1 || len(name) > 64 {
		return ErrInvalidUserName
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && strings.ContainsRune("._@-", c)
		if !ok {
			return ErrInvalidUserName
		}
	}
	return nil
}

// save writes next to disk and, on success, makes it the current state.
// Called with mu held.
func (s *userStore) save(next map[string]userRecord) error {
	f := usersFile{Version: 1}
	for _, u := range next {
		f.Users = append(f.Users, u)
	}
	slices.SortFunc(f.Users, func(a, b userRecord) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return msg.Errorf("ユーザー情報を書き出せません: %w", "encode user store: %w", err)
	}
	if err := atomicfile.Write(s.path, append(b, '\n'), 0o600); err != nil {
		return msg.Errorf("ユーザー情報を保存できません: %w", "save user store: %w", err)
	}
	s.users = next
	return nil
}

// edit runs fn on a copy of the users and saves the copy if fn succeeds.
func (s *userStore) edit(fn func(m map[string]userRecord) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]userRecord, len(s.users)+1)
	for k, v := range s.users {
		next[k] = v
	}
	if err := fn(next); err != nil {
		return err
	}
	return s.save(next)
}

func (s *userStore) get(name string) (userRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	return u, ok
}

func (s *userStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users)
}

func (s *userStore) list() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u.User)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// add creates a user. With onlyIfEmpty it refuses when any user exists,
// which is what makes the setup code single-use even under a race.
func (s *userStore) add(u userRecord, onlyIfEmpty bool) error {
	return s.edit(func(m map[string]userRecord) error {
		if onlyIfEmpty && len(m) > 0 {
			return ErrSetupDone
		}
		if _, ok := m[u.Name]; ok {
			return ErrUserExists
		}
		m[u.Name] = u
		return nil
	})
}

func (s *userStore) remove(name string) error {
	return s.edit(func(m map[string]userRecord) error {
		if _, ok := m[name]; !ok {
			return ErrNoSuchUser
		}
		delete(m, name)
		return requireAdmin(m)
	})
}

func (s *userStore) setRole(name string, role Role) error {
	return s.edit(func(m map[string]userRecord) error {
		u, ok := m[name]
		if !ok {
			return ErrNoSuchUser
		}
		u.Role = role
		m[name] = u
		return requireAdmin(m)
	})
}

// setHash replaces a user's hash. If expect is not empty the current hash
// must still be expect, so a re-hash at login cannot undo a concurrent
// password change.
func (s *userStore) setHash(name, hash, expect string, now time.Time) error {
	return s.edit(func(m map[string]userRecord) error {
		u, ok := m[name]
		if !ok {
			return ErrNoSuchUser
		}
		if expect != "" && u.Hash != expect {
			return msg.New("パスワードが同時に変更されました", "password changed concurrently")
		}
		u.Hash = hash
		if expect == "" {
			u.PasswordChanged = now
		}
		m[name] = u
		return nil
	})
}

// requireAdmin keeps at least one vendor admin, so nobody can lock the
// vendor out of the appliance through the page.
func requireAdmin(m map[string]userRecord) error {
	for _, u := range m {
		if u.Role == RoleVendorAdmin {
			return nil
		}
	}
	return ErrLastAdmin
}

// setLang stores the page language name chose ("ja" or "en").
func (s *userStore) setLang(name, lang string) error {
	return s.edit(func(m map[string]userRecord) error {
		u, ok := m[name]
		if !ok {
			return ErrNoSuchUser
		}
		u.Lang = lang
		m[name] = u
		return nil
	})
}
