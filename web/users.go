package web

import (
	"errors"
	"net"
	"net/http"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/internal/msg"
)

type usersBody struct {
	Users  []userRow
	Roles  []optionView
	Error  msg.Text
	MinLen int
}

type userRow struct {
	Name, Created, Changed string
	Role                   msg.Text
	Roles                  []optionView
	Self                   bool
}

func roleOptions(selected auth.Role) []optionView {
	var out []optionView
	for _, r := range auth.Roles() {
		out = append(out, optionView{Value: string(r), Label: r.Label(), Selected: r == selected})
	}
	return out
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) { s.renderUsers(w, r, msg.Text{}) }

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, errMsg msg.Text) {
	b := usersBody{Error: errMsg, Roles: roleOptions(auth.RoleStaff), MinLen: auth.MinPasswordLen}
	for _, u := range s.auth.Users() {
		b.Users = append(b.Users, userRow{Name: u.Name, Role: u.Role.Label(), Created: stamp(u.Created), Changed: stamp(u.PasswordChanged),
			Roles: roleOptions(u.Role), Self: u.Name == actor(r)})
	}
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "users.html", "/users", msg.T("ユーザー管理", "Users"), flash, bad, b)
}

// usersSubmit adds, changes and removes accounts through package auth,
// which records each change in the ledger with the acting admin.
func (s *Server) usersSubmit(w http.ResponseWriter, r *http.Request) {
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
		s.message(w, r, http.StatusNotFound, noSuchPage(), true, "/users")
		return
	}
	if err != nil {
		s.renderUsers(w, r, authMessage(err))
		return
	}
	if name == who && (r.PathValue("op") == "password" || r.PathValue("op") == "delete") {
		// Own sessions ended: log in again.
		http.Redirect(w, r, auth.LoginPath, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/users?done=user", http.StatusSeeOther)
}

// authMessage finds auth's refusal inside a wrapped error, so the page
// shows the person's words and not the chain of what was being done.
func authMessage(err error) msg.Text {
	var ae auth.Error
	if errors.As(err, &ae) {
		return ae.Text()
	}
	return msg.TextOf(err)
}

type accountBody struct {
	Name   string
	Role   msg.Text
	Error  msg.Text
	MinLen int
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, msg.Text{})
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, errMsg msg.Text) {
	sess, _ := auth.SessionFrom(r.Context())
	s.render(w, r, http.StatusOK, "account.html", "/account", msg.T("アカウント", "Account"), msg.Text{}, false,
		accountBody{Name: sess.User, Role: sess.Role.Label(), Error: errMsg, MinLen: auth.MinPasswordLen})
}

// accountPassword changes the user's own password; the current one is
// checked under the login lockout. Every session of the user ends.
func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("password2") {
		s.renderAccount(w, r, auth.ErrPasswordMismatch.Text())
		return
	}
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	if err := s.auth.ChangeOwnPassword(r.Context(), actor(r), r.PostFormValue("current"), pw, client); err != nil {
		s.renderAccount(w, r, authMessage(err))
		return
	}
	http.Redirect(w, r, auth.LoginPath, http.StatusSeeOther)
}
