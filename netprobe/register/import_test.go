package register

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// cp932 encodes s as Excel on Japanese Windows saves "CSV (comma delimited)".
func cp932(t *testing.T, s string) []byte {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadCSVShiftJIS reads the sheet as Excel writes it on Japanese
// Windows, with characters only CP932 has (①, 髙, ㈱): once read as UTF-8,
// it failed with 「用途・システム名を記入してください」.
func TestReadCSVShiftJIS(t *testing.T) {
	in := "ID,用途・システム名,通信形態,脆弱性診断,メーカー,備考\r\n" +
		"CAF00001,電子カルテ①,インターネットVPN,あり,髙橋電機㈱,本部棟\r\n"
	r, err := ReadCSV(bytes.NewReader(cp932(t, in)))
	if err != nil {
		t.Fatal(msg.In(err, msg.JA))
	}
	want := Point{ID: "CAF00001", Purpose: "電子カルテ①", LineType: LineInternetVPN, Scan: true, Maker: "髙橋電機㈱", Note: "本部棟"}
	if len(r.Points) != 1 || r.Points[0] != want {
		t.Fatalf("got %+v", r.Points)
	}
}

func TestReadCSVNeitherEncoding(t *testing.T) {
	in := append([]byte("ID,purpose,line_type\nCAF00001,"), 0x85, 0xff, 0xfe, '\n')
	_, err := ReadCSV(bytes.NewReader(in))
	if err == nil || !strings.Contains(msg.In(err, msg.JA), "Shift_JIS") {
		t.Fatalf("got %v", err)
	}
}

// TestWriteCSVCP932 exports in CP932 on request: the same text as the
// UTF-8 export without its byte order mark, and it imports back.
func TestWriteCSVCP932(t *testing.T) {
	reg := sample()
	reg.Points[0].Maker = "髙橋電機㈱"
	var u, s bytes.Buffer
	if err := WriteCSV(&u, reg); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSVAs(&s, reg, CP932); err != nil {
		t.Fatal(err)
	}
	if want := cp932(t, strings.TrimPrefix(u.String(), bom)); !bytes.Equal(s.Bytes(), want) {
		t.Fatalf("CP932 export differs from the UTF-8 one:\n%q\n%q", s.Bytes(), want)
	}
	got, err := ReadCSV(&s)
	if err != nil || !reflect.DeepEqual(got, reg) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, reg)
	}

	reg.Points[1].Model = "𠮷野家 RTX"
	err = WriteCSVAs(&s, reg, CP932)
	var ve *config.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "O3 機種名" || !strings.Contains(msg.In(err, msg.EN), "UTF-8") {
		t.Fatalf("a character CP932 lacks: %v", err)
	}
}

// TestReadCSVEveryError lists every problem of every row at once, each
// by the cell a person finds in Excel and the file's own heading.
func TestReadCSVEveryError(t *testing.T) {
	in := "ID,用途・システム名,通信形態,脆弱性診断,グローバルIPアドレス\n" +
		"CAF00001,電子カルテ,インターネット,たぶん,\n" + // row 2: flag
		"CAF00002,,閉域網,なし,\n" + // row 3: purpose
		",,,,\n" + // row 4: blank in Excel's used range
		"CAF00001,医事,fax,なし,203.0.113\n" // row 5: duplicate, line type, address
	_, err := ReadCSV(strings.NewReader(in))
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	want := map[string]string{
		"D2 脆弱性診断":       "あり か なし",
		"B3 用途・システム名":    "用途・システム名を記入",
		"A5 ID":          "2 行目と重複",
		"C5 通信形態":        "通信形態は",
		"E5 グローバルIPアドレス": "グローバルIP",
	}
	if len(ve.Fields) != len(want) {
		t.Errorf("want %d errors, got:\n%s", len(want), msg.In(err, msg.JA))
	}
	for field, ja := range want {
		if f := ve.For(field); len(f) != 1 || !strings.Contains(f[0].Text.JA, ja) || f[0].Text.EN == "" {
			t.Errorf("%s: want %q, got %v", field, ja, f)
		}
	}
}

func TestReadCSVMissingColumns(t *testing.T) {
	_, err := ReadCSV(strings.NewReader("ID,メーカー\nCAF00001,Yamaha\n"))
	if err == nil || !strings.Contains(msg.In(err, msg.JA), "用途・システム名、通信形態") {
		t.Fatalf("got %v", err)
	}
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"FortiGate 60F":                  "FortiGate 60F",
		"=HYPERLINK(\"http://x\",\"a\")": "'=HYPERLINK(\"http://x\",\"a\")",
		"+81-3-0000":                     "'+81-3-0000",
		"-2+3":                           "'-2+3",
		"@SUM(A1)":                       "'@SUM(A1)",
		"a=b":                            "a=b",
		"":                               "",
		"本部\n3F\tラック":                    "本部 3F ラック",
		"x\x1b[2Jy":                      "x\ufffd[2Jy",
		"\x1b]0;t\x07":                   "\ufffd]0;t\ufffd",
		"abc\u202edcba":                  "abc\ufffddcba",
		"\u0085=1":                       "\ufffd=1",
		"\r=cmd|' /C calc'!A0":           " =cmd|' /C calc'!A0",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCSVFormulasNeutralised exports register fields that a spreadsheet
// would run as formulas as text, and imports them back unchanged.
func TestCSVFormulasNeutralised(t *testing.T) {
	reg := sample()
	reg.Points[0].Purpose = "=HYPERLINK(\"http://evil.example/\",\"開く\")"
	reg.Points[0].Note = "@SUM(1+1)"
	reg.Points[1].Model = "-RTX1210"
	var b bytes.Buffer
	if err := WriteCSV(&b, reg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`,"'=HYPERLINK(""http://evil.example/"",""開く"")",`, ",'@SUM(1+1)\n", ",'-RTX1210,"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("export lacks %s:\n%s", want, b.String())
		}
	}
	got, err := ReadCSV(&b)
	if err != nil || !reflect.DeepEqual(got, reg) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, reg)
	}
}

func TestParseEncoding(t *testing.T) {
	for in, want := range map[string]Encoding{"": UTF8, "UTF-8": UTF8, "cp932": CP932, "Shift_JIS": CP932, "sjis": CP932} {
		if got, err := ParseEncoding(in); err != nil || got != want {
			t.Errorf("ParseEncoding(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseEncoding("euc-jp"); err == nil {
		t.Error("accepted euc-jp")
	}
}
