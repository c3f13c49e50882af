package web

import (
	"errors"
	"net"
	"net/http"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/internal/msg"
)

type usersBody struct {
	Users   []userRow
	Roles   []optionView
	Error   msg.Text
	Summary *formSummary // every problem of a refused add-user form
	Name    string       // the add-user form's name, as typed
	Errs    map[string][]msg.Text
	MinLen  int
}

// userForm is a refused add-user form: what was typed (never the
// passwords) and every field's problem.
type userForm struct {
	name string
	role auth.Role
	errs map[string][]msg.Text
	sum  *formSummary
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

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, msg.Text{}, userForm{})
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, errMsg msg.Text, f userForm) {
	role := auth.RoleStaff
	if f.role.Valid() {
		role = f.role
	}
	b := usersBody{Error: errMsg, Roles: roleOptions(role), MinLen: auth.MinPasswordLen, Summary: f.sum, Name: f.name, Errs: f.errs}
	z := s.zone()
	for _, u := range s.auth.Users() {
		b.Users = append(b.Users, userRow{Name: u.Name, Role: u.Role.Label(), Created: z.Stamp(u.Created), Changed: z.Stamp(u.PasswordChanged),
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
		role := auth.Role(r.PostFormValue("role"))
		if f := s.checkNewUser(name, role, pw, r.PostFormValue("password2")); f.sum != nil {
			s.renderUsers(w, r, msg.Text{}, f)
			return
		}
		err = s.auth.AddUser(r.Context(), who, name, role, pw)
	case "role":
		err = s.auth.SetRole(who, name, auth.Role(r.PostFormValue("role")))
	case "password":
		if pw != r.PostFormValue("password2") {
			err = auth.ErrPasswordMismatch
		} else {
			err = s.auth.SetPassword(r.Context(), who, name, pw)
		}
	case "delete":
		// Guarded (pending.go): the password typed again, recorded with
		// the client's address.
		var refused msg.Text
		if who, refused = s.confirmGuarded(r); !refused.IsZero() {
			s.renderUsers(w, r, refused, userForm{})
			return
		}
		if err = s.auth.RemoveUser(who, name); err == nil {
			s.recordGuarded(r, who, "user.delete", name, guardedText("user.delete", name))
		}
	default:
		s.message(w, r, http.StatusNotFound, noSuchPage(), true, "/users")
		return
	}
	if err != nil {
		s.renderUsers(w, r, authMessage(err), userForm{})
		return
	}
	if name == who && (r.PathValue("op") == "password" || r.PathValue("op") == "delete") {
		// Own sessions ended: log in again.
		http.Redirect(w, r, auth.LoginPath, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/users?done=user", http.StatusSeeOther)
}

// checkNewUser checks every field of the add-user form at once; a
// refused form keeps the name and role typed.
func (s *Server) checkNewUser(name string, role auth.Role, pw, again string) userForm {
	f := userForm{name: name, role: role, errs: map[string][]msg.Text{}}
	labels := map[string]msg.Text{auth.FieldName: msg.T("ユーザー名", "User name"), auth.FieldRole: msg.T("役割", "Role"),
		auth.FieldPassword: msg.T("パスワード", "Password"), auth.FieldAgain: msg.T("パスワード(確認)", "Password (again)")}
	ids := map[string]string{auth.FieldName: "u-name", auth.FieldRole: "u-role", auth.FieldPassword: "u-pw", auth.FieldAgain: "u-pw2"}
	for _, p := range s.auth.CheckAccount(name, role, pw, again) {
		f.errs[p.Field] = append(f.errs[p.Field], p.Err.Text())
		f.sum = f.sum.with(summaryField{ID: ids[p.Field], Label: labels[p.Field], Texts: []msg.Text{p.Err.Text()}})
	}
	return f
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
