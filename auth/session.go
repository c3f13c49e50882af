package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Session is the logged-in user as handlers see it. The session ID is not
// part of it: only the cookie carries that.
type Session struct {
	User      string
	Role      Role
	CSRFToken string // put it in forms (field CSRFField) or the X-CSRF-Token header
	Created   time.Time
	LastSeen  time.Time
}

type sessionKey struct{}

// SessionFrom returns the session that Middleware found for the request.
func SessionFrom(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(Session)
	return s, ok
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionStore keeps sessions in memory only: a restart logs everyone out,
// which is acceptable for an appliance page and leaves nothing on /perm.
type sessionStore struct {
	mu       sync.Mutex
	byID     map[string]*Session
	idle     time.Duration
	lifetime time.Duration
}

func newSessionStore(idle, lifetime time.Duration) *sessionStore {
	return &sessionStore{byID: map[string]*Session{}, idle: idle, lifetime: lifetime}
}

func (s *sessionStore) expired(x *Session, now time.Time) bool {
	return now.Sub(x.LastSeen) >= s.idle || now.Sub(x.Created) >= s.lifetime
}

func (s *sessionStore) create(user string, role Role, now time.Time) (id string, sess Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, x := range s.byID { // a few sessions at most; prune as we go
		if s.expired(x, now) {
			delete(s.byID, k)
		}
	}
	id = randomToken()
	x := &Session{User: user, Role: role, CSRFToken: randomToken(), Created: now, LastSeen: now}
	s.byID[id] = x
	return id, *x
}

// touch returns the live session for id and extends its idle time.
func (s *sessionStore) touch(id string, now time.Time) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.byID[id]
	if !ok {
		return Session{}, false
	}
	if s.expired(x, now) {
		delete(s.byID, id)
		return Session{}, false
	}
	x.LastSeen = now
	return *x, true
}

func (s *sessionStore) destroy(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.byID[id]
	delete(s.byID, id)
	if !ok {
		return Session{}, false
	}
	return *x, true
}

// destroyUser ends every session of user, e.g. after removal or a new password.
func (s *sessionStore) destroyUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, x := range s.byID {
		if x.User == user {
			delete(s.byID, k)
		}
	}
}
