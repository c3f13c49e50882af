package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits. The upper limit only stops absurd input.
const (
	MinPasswordLen = 12   // characters (runes), so Japanese passphrases count fairly
	MaxPasswordLen = 1024 // bytes
)

// Params are the argon2id cost parameters. They are stored with each hash,
// so raising them later still verifies old hashes, which are then re-hashed
// at the user's next login.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are the production costs: 64 MiB, 3 passes, 2 lanes
// (RFC 9106 §4's second recommendation, with 2 lanes for the Pi's cores
// that restic also needs). On a 1 GB Pi 4 the 64 MiB is affordable because
// Auth lets only Options.MaxConcurrentHashes (default 1) hashes run at once.
func DefaultParams() Params {
	return Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}
}

func (p Params) validate() error {
	switch {
	case p.Time < 1:
		return errors.New("argon2id time must be at least 1")
	case p.Threads < 1:
		return errors.New("argon2id threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads):
		return errors.New("argon2id memory must be at least 8 KiB per thread")
	case p.Memory > 1<<20:
		// A hash that asks for more than 1 GiB would take the appliance down.
		return errors.New("argon2id memory above 1 GiB")
	case p.Time > 64:
		return errors.New("argon2id time above 64")
	case p.SaltLen < 16 || p.SaltLen > 64:
		return errors.New("argon2id salt must be 16 to 64 bytes")
	case p.KeyLen < 16 || p.KeyLen > 64:
		return errors.New("argon2id key must be 16 to 64 bytes")
	}
	return nil
}

// checkPassword applies the password policy.
func checkPassword(pw string) error {
	if len(pw) > MaxPasswordLen {
		return ErrPasswordTooLong
	}
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return ErrPasswordTooShort
	}
	return nil
}

// hashPassword returns the PHC string (unpadded standard base64)
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>.
func hashPassword(pw string, p Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails since Go 1.24
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// decodeHash parses a PHC argon2id string.
func decodeHash(encoded string) (p Params, salt, key []byte, err error) {
	f := strings.Split(encoded, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(f[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("unsupported argon2 version %q", f[2])
	}
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("argon2id parameters %q: %w", f[3], err)
	}
	if salt, err = base64.RawStdEncoding.DecodeString(f[4]); err != nil {
		return p, nil, nil, fmt.Errorf("argon2id salt: %w", err)
	}
	if key, err = base64.RawStdEncoding.DecodeString(f[5]); err != nil {
		return p, nil, nil, fmt.Errorf("argon2id key: %w", err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.validate(); err != nil {
		return p, nil, nil, err
	}
	return p, salt, key, nil
}

// verifyPassword reports whether pw matches encoded, and whether encoded
// was made with parameters other than want (so it should be re-hashed).
func verifyPassword(encoded, pw string, want Params) (ok, stale bool, err error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, p != want, nil
}

// burnHash spends the same work as a verification, so a login for an
// unknown user takes as long as one for a known user.
func burnHash(pw string, p Params) {
	salt := make([]byte, p.SaltLen)
	argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}
