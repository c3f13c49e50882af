package auth

import (
	"context"
	"net/http"

	"github.com/danzen-gw/danzen/internal/msg"
)

// The page is read in one language at a time, Japanese by default. The
// language switch is a link with ?lang=ja or ?lang=en: signed in, the
// choice is kept on the user's account (users.json), so it follows the
// person to any browser; before sign-in (the login and setup pages) it is
// kept in a cookie. A signed-in user who never chose reads the language
// chosen on the login page, else Japanese.
//
// A switch is a GET that changes a stored preference. Another site cannot
// make a signed-in browser do it: the session cookie is SameSite=Strict,
// so a link from elsewhere arrives without a session and at most changes
// that browser's cookie.
const (
	LangParam  = "lang"        // the switch's query parameter
	LangCookie = "danzen_lang" // the choice before sign-in; a preference, not a secret
)

type langKey struct{}

// Lang is the language the request's person reads: JA or EN, as
// Middleware found it. Without Middleware it is the browser's choice.
func Lang(r *http.Request) msg.Lang {
	if l, ok := r.Context().Value(langKey{}).(msg.Lang); ok {
		return l
	}
	return browserLang(r)
}

// parseLang reads a language code of the switch, the cookie or the store.
func parseLang(s string) (msg.Lang, bool) {
	switch s {
	case "ja":
		return msg.JA, true
	case "en":
		return msg.EN, true
	}
	return msg.JA, false
}

// switchTo is the language a switch in the URL asks for.
func switchTo(r *http.Request) (msg.Lang, bool) {
	return parseLang(r.URL.Query().Get(LangParam))
}

// browserLang is the language of a request without a session: a switch
// in the URL, else the cookie, else Japanese.
func browserLang(r *http.Request) msg.Lang {
	if l, ok := switchTo(r); ok {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if l, ok := parseLang(c.Value); ok {
			return l
		}
	}
	return msg.JA
}

// language finds the request's language and keeps a switch: on the
// account of the signed-in user, else (user is "") in the cookie.
func (a *Auth) language(w http.ResponseWriter, r *http.Request, user string) msg.Lang {
	l, switched := switchTo(r)
	if user == "" {
		if switched {
			http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l.String(), Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		return browserLang(r)
	}
	u, _ := a.users.get(user)
	if switched {
		if u.Lang != l.String() {
			if err := a.users.setLang(user, l.String()); err != nil {
				// The page still follows the switch; the choice is just not kept.
				a.log.Warn("store the user's page language", "user", user, "err", err)
			}
		}
		return l
	}
	if l, ok := parseLang(u.Lang); ok {
		return l
	}
	return browserLang(r)
}

// withLang puts the request's language where Lang finds it.
func withLang(r *http.Request, l msg.Lang) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), langKey{}, l))
}
