// Package auth guards danzen's local web page: user accounts with roles,
// argon2id password hashes, the one-time setup code that creates the first
// vendor admin, server-side sessions, CSRF tokens and the login lockout.
//
// There is no default password. On first start the daemon calls
// EnsureSetupCode and prints the code on the console; the code creates the
// first vendor admin once and expires after Options.SetupCodeTTL.
//
// Wiring (package web / cmd/danzend):
//
//	a, err := auth.New(auth.Options{Dir: "/perm/danzen/secrets", Audit: toLedger, Log: log})
//	if code, exp, err := a.EnsureSetupCode(); err == nil && code != "" { fmt.Println(code, exp) }
//	mux.Handle(auth.LoginPath, a.LoginHandler())
//	mux.Handle(auth.LogoutPath, a.LogoutHandler())
//	mux.Handle(auth.SetupPath, a.SetupHandler())
//	mux.Handle("GET /{$}", a.RequireAction(auth.ViewStatus, dashboard))
//	srv.Handler = a.Middleware(mux)
//
// Each person reads the page in one language, Japanese by default: Lang
// gives a request's, and Middleware keeps a switch (?lang=en) on the user's
// account, or in a cookie before sign-in (lang.go).
//
// Sessions live in memory only: a restart of danzend logs everyone out.
// The session cookie is Secure, so the page must be served over HTTPS
// (browsers only send Secure cookies over plain HTTP to localhost).
package auth
