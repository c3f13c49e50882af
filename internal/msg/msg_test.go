package msg

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"testing"
)

func TestNestedCauseKeepsEachLanguage(t *testing.T) {
	inner := Errorf("取得元 %s の鍵がありません", "source %s has no key", "hosp")
	outer := Errorf("設定に誤りがあります: %w", "the configuration is invalid: %w", inner)
	for l, want := range map[Lang]string{
		JA:   "設定に誤りがあります: 取得元 hosp の鍵がありません",
		EN:   "the configuration is invalid: source hosp has no key",
		Both: "設定に誤りがあります: 取得元 hosp の鍵がありません / the configuration is invalid: source hosp has no key",
	} {
		if got := In(outer, l); got != want {
			t.Errorf("%v: got %q, want %q", l, got, want)
		}
	}
	if !errors.Is(outer, inner) {
		t.Error("errors.Is does not find the wrapped cause")
	}
}

func TestForeignCauseSaidOnce(t *testing.T) {
	_, cause := os.Open("/nonexistent/danzen-msg-test")
	err := Wrap(Wrap(cause, "鍵を読めません", "cannot read the key"), "取得できません", "cannot pull")
	want := "取得できません: 鍵を読めません / cannot pull: cannot read the key: " + cause.Error()
	if got := err.Error(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := In(err, EN), "cannot pull: cannot read the key: "+cause.Error(); got != want {
		t.Errorf("EN: got %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is(fs.ErrNotExist) lost through two wraps")
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Error("errors.As(*fs.PathError) lost")
	}
}

func TestReorderedArguments(t *testing.T) {
	txt := Sprintf("秘密鍵 %s の種類 %s は使えません", "key type %[2]s of %[1]s is not supported", "id_x", "dsa")
	if txt.EN != "key type dsa of id_x is not supported" || txt.JA != "秘密鍵 id_x の種類 dsa は使えません" {
		t.Errorf("got %+v", txt)
	}
	err := Errorf("%s を開けません: %w", "cannot open %[1]s: %[2]w", "x", errors.New("boom"))
	if In(err, EN) != "cannot open x: boom" || len(err.(*Error).Unwrap()) != 1 {
		t.Errorf("indexed %%w: %q, causes %d", In(err, EN), len(err.(*Error).Unwrap()))
	}
}

func TestTextArgumentsLocalized(t *testing.T) {
	kind := T("媒体", "medium")
	got := Sprintf("%s %q がありません", "no %s %q", kind, "usb1")
	if got.JA != `媒体 "usb1" がありません` || got.EN != `no medium "usb1"` {
		t.Errorf("got %+v", got)
	}
	if Plain("x").String() != "x" || T("a", "b").String() != "a / b" {
		t.Error("String of Plain or T")
	}
}

func TestWrapNil(t *testing.T) {
	if Wrap(nil, "a", "b") != nil || WrapText(nil, T("a", "b")) != nil {
		t.Error("wrapping nil must give nil")
	}
}

func TestPercentInText(t *testing.T) {
	err := T("100% 完了", "100% done").Err()
	if In(err, JA) != "100% 完了" || In(err, EN) != "100% done" {
		t.Errorf("got %q / %q", In(err, JA), In(err, EN))
	}
}

func TestParseLangAndEnv(t *testing.T) {
	for s, want := range map[string]Lang{"ja": JA, "EN": EN, "both": Both, "": Both} {
		if got, err := ParseLang(s); err != nil || got != want {
			t.Errorf("ParseLang(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseLang("fr"); err == nil || !Bilingual(err) {
		t.Errorf("ParseLang(fr) = %v", err)
	}
	for lang, want := range map[string]Lang{"ja_JP.UTF-8": JA, "en_US.UTF-8": EN, "C.UTF-8": Both, "C": Both} {
		t.Setenv("LC_ALL", "")
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", lang)
		if got := FromEnv(); got != want {
			t.Errorf("LANG=%s: %v, want %v", lang, got, want)
		}
	}
}

func TestTextJSON(t *testing.T) {
	b, err := json.Marshal(T("切断", "cut"))
	if err != nil || string(b) != `{"ja":"切断","en":"cut"}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	for in, want := range map[string]Text{
		`{"ja":"切断","en":"cut"}`: T("切断", "cut"),
		`"切断を確認 / cut verified"`: T("切断を確認", "cut verified"),
		`"cycle 20260101: ok"`:   Plain("cycle 20260101: ok"),
		`"a / b / c"`:            T("a", "b / c"),
	} {
		var got Text
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("%s: %+v %v", in, got, err)
		}
	}
	// A legacy string reads back exactly as it was stored.
	for _, s := range []string{"切断を確認 / cut verified", "plain", "設定 / config: x / y"} {
		if Legacy(s).String() != s {
			t.Errorf("Legacy(%q).String() = %q", s, Legacy(s).String())
		}
	}
}

func TestJoinKeepsLanguages(t *testing.T) {
	a, b := New("甲", "a"), New("乙", "b")
	for name, err := range map[string]error{"msg.Join": Join(a, nil, b), "errors.Join": errors.Join(a, b)} {
		if got := In(err, JA); got != "甲\n乙" {
			t.Errorf("%s JA: %q", name, got)
		}
		if got := In(err, EN); got != "a\nb" {
			t.Errorf("%s EN: %q", name, got)
		}
		if !errors.Is(err, b) || TextOf(err) != T("甲\n乙", "a\nb") {
			t.Errorf("%s: Is %v, TextOf %+v", name, errors.Is(err, b), TextOf(err))
		}
	}
	if Join(nil, nil) != nil || Join(nil, a) != a {
		t.Error("Join of nils, or of one error")
	}
}
