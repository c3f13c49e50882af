package web

import (
	"errors"
	"net"
	"net/http"

	"github.com/danzen-gw/danzen/auth"
)

type usersBody struct {
	Users  []userRow
	Roles  []optionView
	Error  string
	MinLen int
}

type userRow struct {
	Name, Role, Created, Changed string
	Roles                        []optionView
	Self                         bool
}

func roleOptions(l lang, selected auth.Role) []optionView {
	var out []optionView
	for _, r := range auth.Roles() {
		out = append(out, optionView{Value: string(r), Label: l.split(r.Label()), Selected: r == selected})
	}
	return out
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) { s.renderUsers(w, r, "") }

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, errMsg string) {
	l := langOf(w, r)
	b := usersBody{Error: errMsg, Roles: roleOptions(l, auth.RoleStaff), MinLen: auth.MinPasswordLen}
	for _, u := range s.auth.Users() {
		b.Users = append(b.Users, userRow{Name: u.Name, Role: l.split(u.Role.Label()), Created: stamp(u.Created), Changed: stamp(u.PasswordChanged),
			Roles: roleOptions(l, u.Role), Self: u.Name == actor(r)})
	}
	flash, bad := flashOf(l, r)
	s.render(w, r, http.StatusOK, "users.html", "/users", l.t("ユーザー管理", "Users"), flash, bad, b)
}

// usersSubmit adds, changes and removes accounts through package auth,
// which records each change in the ledger with the acting admin.
func (s *Server) usersSubmit(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	who := actor(r)
	name := r.PostFormValue("name")
	pw := r.PostFormValue("password")
	var err error
	switch r.PathValue("op") {
	case "add":
		if pw != r.PostFormValue("password2") {
			err = auth.ErrPasswordMismatch
		} else {
			err = s.auth.AddUser(r.Context(), who, name, auth.Role(r.PostFormValue("role")), pw)
		}
	case "role":
		err = s.auth.SetRole(who, name, auth.Role(r.PostFormValue("role")))
	case "password":
		if pw != r.PostFormValue("password2") {
			err = auth.ErrPasswordMismatch
		} else {
			err = s.auth.SetPassword(r.Context(), who, name, pw)
		}
	case "delete":
		err = s.auth.RemoveUser(who, name)
	default:
		s.message(w, r, http.StatusNotFound, l.t("そのページはありません", "no such page"), true, "/users")
		return
	}
	if err != nil {
		s.renderUsers(w, r, l.split(authMessage(err)))
		return
	}
	if name == who && (r.PathValue("op") == "password" || r.PathValue("op") == "delete") {
		// Own sessions ended: log in again.
		http.Redirect(w, r, auth.LoginPath, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/users?done=user", http.StatusSeeOther)
}

// authMessage finds auth's bilingual sentinel inside a wrapped error, so
// the page shows the person's words and not a Go error chain.
func authMessage(err error) string {
	var ae auth.Error
	if errors.As(err, &ae) {
		return string(ae)
	}
	return err.Error()
}

type accountBody struct {
	Name, Role string
	Error      string
	MinLen     int
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) { s.renderAccount(w, r, "") }

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, errMsg string) {
	l := langOf(w, r)
	sess, _ := auth.SessionFrom(r.Context())
	s.render(w, r, http.StatusOK, "account.html", "/account", l.t("アカウント", "Account"), "", false,
		accountBody{Name: sess.User, Role: l.split(sess.Role.Label()), Error: errMsg, MinLen: auth.MinPasswordLen})
}

// accountPassword changes the user's own password; the current one is
// checked under the login lockout. Every session of the user ends.
func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("password2") {
		s.renderAccount(w, r, l.split(string(auth.ErrPasswordMismatch)))
		return
	}
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	if err := s.auth.ChangeOwnPassword(r.Context(), actor(r), r.PostFormValue("current"), pw, client); err != nil {
		s.renderAccount(w, r, l.split(authMessage(err)))
		return
	}
	http.Redirect(w, r, auth.LoginPath, http.StatusSeeOther)
}
