package auth

import (
	"errors"
	"net/http"

	"github.com/danzen-gw/danzen/internal/msg"
)

// FieldProblem is what is wrong with one field of a form that creates an
// account or sets a password.
type FieldProblem struct {
	Field string // FieldName, FieldRole, FieldPassword or FieldAgain
	Err   Error
}

// The fields CheckAccount names; the page's forms use them as input names
// (the setup form calls the name "username").
const (
	FieldName     = "name"
	FieldRole     = "role"
	FieldPassword = "password"
	FieldAgain    = "password2"
)

// CheckAccount checks every field of a new account at once, so that a
// form can show all its problems together instead of one per try: the
// user name (and that it is free), the role, the password and its
// repetition. A password-only form passes name "" and no role (then
// neither is checked). Nothing is changed.
func (a *Auth) CheckAccount(name string, role Role, password, again string) []FieldProblem {
	var out []FieldProblem
	add := func(field string, e Error) { out = append(out, FieldProblem{Field: field, Err: e}) }
	if name != "" || role != "" {
		n := normalizeUserName(name)
		if validUserName(n) != nil {
			add(FieldName, ErrInvalidUserName)
		} else if _, taken := a.users.get(n); taken {
			add(FieldName, ErrUserExists)
		}
		if !role.Valid() {
			add(FieldRole, ErrInvalidRole)
		}
	}
	var e Error
	if errors.As(checkPassword(password), &e) {
		add(FieldPassword, e)
	}
	if password != again {
		add(FieldAgain, ErrPasswordMismatch)
	}
	return out
}

// setupEntry is a refused setup form: what was typed (the user name: the
// setup code and the passwords are secrets, never sent back) and every
// problem.
type setupEntry struct {
	typed map[string]string
	errs  map[string][]msg.Text
	list  []msg.Text
}

func setupFieldCode() msg.Text { return msg.T("セットアップコード", "Setup code") }

// readSetupForm keeps what the setup form typed and checks its account
// fields, all at once.
func (a *Auth) readSetupForm(r *http.Request) setupEntry {
	f := setupEntry{typed: map[string]string{"username": r.PostFormValue("username")}}
	labels := map[string]struct {
		input string
		label msg.Text
	}{
		FieldName:     {"username", msg.T("ユーザー名", "User name")},
		FieldPassword: {"password", msg.T("パスワード", "Password")},
		FieldAgain:    {"password2", msg.T("パスワード(確認)", "Password (again)")},
	}
	for _, p := range a.CheckAccount(r.PostFormValue("username"), RoleVendorAdmin, r.PostFormValue("password"), r.PostFormValue("password2")) {
		l := labels[p.Field]
		f.add(l.input, l.label, p.Err)
	}
	return f
}

func (f *setupEntry) add(input string, label msg.Text, e Error) {
	if f.errs == nil {
		f.errs = map[string][]msg.Text{}
	}
	f.errs[input] = append(f.errs[input], e.Text())
	f.list = append(f.list, msg.Sprintf("%s: %s", "%s: %s", label, e.Text()))
}

// heading says how many problems the form has; the code and the
// passwords are typed again, since a page never holds a secret.
func (f *setupEntry) heading() msg.Text {
	return msg.Sprintf("入力に誤りが %d 件あります。各欄を確認し、セットアップコードとパスワードはもう一度入力してください:",
		"Problems found: %d. See each field, and type the setup code and the passwords again:", len(f.list))
}
