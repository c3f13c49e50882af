package register

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Encoding is a CSV file's character encoding.
type Encoding string

const (
	// UTF8 is written with a byte order mark, which is what makes Excel
	// open a UTF-8 CSV as UTF-8 rather than as Shift_JIS.
	UTF8 Encoding = "utf-8"
	// CP932 is what Excel on Japanese Windows writes for "CSV (comma
	// delimited)": Shift_JIS with Microsoft's extensions (①, ㈱, NEC
	// and IBM extended kanji). For older tools that read nothing else.
	CP932 Encoding = "cp932"
)

// ParseEncoding reads an encoding's name as a person may write it.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "utf-8", "utf8":
		return UTF8, nil
	case "cp932", "shift_jis", "shift-jis", "sjis", "windows-31j":
		return CP932, nil
	}
	return "", msg.Errorf("文字コード %q は使えません(utf-8 か cp932)", "unknown encoding %q (utf-8 or cp932)", s)
}

// decodeCSV gives the text of a CSV file: UTF-8 (with or without a byte
// order mark) as it is, anything else read as CP932. Valid UTF-8 is
// taken as UTF-8: Japanese text in CP932 is almost never valid UTF-8.
func decodeCSV(data []byte) (string, error) {
	data = bytes.TrimPrefix(data, []byte(bom))
	if utf8.Valid(data) {
		return string(data), nil
	}
	text, err := japanese.ShiftJIS.NewDecoder().Bytes(data)
	// The decoder puts U+FFFD for a byte CP932 does not have; CP932 has
	// no U+FFFD of its own, so one here means the file is neither.
	if err != nil || bytes.ContainsRune(text, utf8.RuneError) {
		return "", msg.New("CSV の文字コードが UTF-8 でも Shift_JIS(CP932)でもありません。Excel で「CSV UTF-8」か「CSV」として保存し直してください",
			"the CSV is neither UTF-8 nor Shift_JIS (CP932): save it again from Excel as \"CSV UTF-8\" or \"CSV\"")
	}
	return string(text), nil
}

// inCP932 reports whether s can be written in CP932.
func inCP932(s string) bool {
	_, err := japanese.ShiftJIS.NewEncoder().String(s)
	return err == nil
}
