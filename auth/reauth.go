package auth

import (
	"context"
	"net/http"

	"github.com/danzen-gw/danzen/internal/msg"
)

// ErrNoSession: a re-authentication needs a signed-in user.
var ErrNoSession = msg.New("ログインしていません", "not signed in")

// Reauthenticate checks that the signed-in user of r typed their own
// password again, under the same rate limit and lockout as a login (a
// stolen session cannot guess it), before an operation that could not be
// undone (an update of the firmware, deleting a medium …). It returns the
// user's name.
func (a *Auth) Reauthenticate(ctx context.Context, r *http.Request, password string) (string, error) {
	s, ok := SessionFrom(r.Context())
	if !ok {
		return "", ErrNoSession
	}
	u, err := a.authenticate(ctx, s.User, password, a.clientAddr(r))
	if err != nil {
		return "", err
	}
	return u.Name, nil
}
