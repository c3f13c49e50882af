package auth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSetupFormKeepsWhatWasTypedAndListsEveryError: a refused setup form
// comes back with the user name as typed and every problem at once,
// beside its field and in a summary at the top; the setup code and the
// passwords are secrets and are never sent back.
func TestSetupFormKeepsWhatWasTypedAndListsEveryError(t *testing.T) {
	e := newEnv(t, nil)
	code, _, err := e.a.EnsureSetupCode()
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser("192.0.2.10")
	post := func(f url.Values) (int, string) {
		g := b.do("GET", SetupPath, nil, http.Header{"Accept": {"text/html"}})
		f.Set(CSRFField, formToken(t, g.Body.String()))
		w := b.do("POST", SetupPath, f, nil)
		return w.Code, w.Body.String()
	}
	c, body := post(url.Values{"code": {code}, "username": {"Bad Name!"}, "password": {"short"}, "password2": {"other"}})
	if c != http.StatusBadRequest {
		t.Fatalf("status %d", c)
	}
	if !strings.Contains(body, `value="Bad Name!"`) {
		t.Errorf("the typed user name is not kept:\n%s", body)
	}
	for _, want := range []string{"入力に誤りが 3 件あります", "ユーザー名は英小文字", "12文字以上", "確認用パスワードが一致しません", `id="error-summary"`} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %q:\n%s", want, body)
		}
	}
	if n := strings.Count(body, `class="field-error"`); n != 3 {
		t.Errorf("%d messages beside the fields, want 3", n)
	}
	// A wrong code is listed with the other problems, not instead of them.
	c, body = post(url.Values{"code": {"WRONG-CODE"}, "username": {"vendor"}, "password": {"short"}, "password2": {"short"}})
	if c != http.StatusForbidden || !strings.Contains(body, "入力に誤りが 2 件あります") || !strings.Contains(body, "セットアップコードが違う") ||
		!strings.Contains(body, "12文字以上") || !strings.Contains(body, `value="vendor"`) {
		t.Errorf("wrong code and a short password: %d\n%s", c, body)
	}
	if strings.Contains(body, "WRONG-CODE") || strings.Contains(body, `value="short"`) {
		t.Error("a secret was sent back")
	}
	if len(e.a.Users()) != 0 {
		t.Fatal("a refused form created a user")
	}
}

func TestCheckAccountListsEveryProblem(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.a.AddUser(t.Context(), "test", "taken", RoleStaff, "a-long-password-1"); err != nil {
		t.Fatal(err)
	}
	got := map[string]Error{}
	for _, p := range e.a.CheckAccount("Taken", "boss", "short", "shorter") {
		got[p.Field] = p.Err
	}
	want := map[string]Error{FieldName: ErrUserExists, FieldRole: ErrInvalidRole, FieldPassword: ErrPasswordTooShort, FieldAgain: ErrPasswordMismatch}
	if len(got) != len(want) {
		t.Errorf("problems %v, want %v", got, want)
	}
	for f, w := range want {
		if got[f] != w {
			t.Errorf("%s: %v, want %v", f, got[f], w)
		}
	}
	if p := e.a.CheckAccount("", "", "a-long-password-2", "a-long-password-2"); len(p) != 0 {
		t.Errorf("a good password alone: %v", p)
	}
}
