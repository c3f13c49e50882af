package restic

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
)

var japanese = regexp.MustCompile(`[\p{Hiragana}\p{Katakana}\p{Han}]`)

// cannedStdout/cannedStderr mimic restic 0.19.1 backup --json output with
// plain-text lines mixed in (as restic prints warnings and hints).
const cannedStdout = `{"message_type":"status","seconds_remaining":1,"percent_done":0.25,"total_files":4,"files_done":1,"total_bytes":400,"bytes_done":100,"current_files":["/a","/b"]}
using parent snapshot 743616b6
{"message_type":"status","percent_done":0.75,"total_files":4,"files_done":3,"total_bytes":400,"bytes_done":300}` + "\r\n" +
	`{"message_type":"summary","files_new":3,"files_changed":1,"files_unmodified":0,"dirs_new":1,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":3,"tree_blobs":2,"data_added":1234,"data_added_packed":999,"total_files_processed":4,"total_bytes_processed":400,"total_duration":0.5,"backup_start":"2026-11-26T00:15:55.597738589Z","backup_end":"2026-11-26T00:15:56.491805894Z","snapshot_id":"0cc6b04faf14adfc70c30d2ae2aa99dcbaf36b7fb0eacab0466745007af1d075"}
`

const cannedStderr = `repository 1234abcd opened (version 2, compression level auto)
{not json at all
Warning: at least one source file could not be read
{"message_type":"error","error":{"message":"/src/locked: open locked: permission denied"},"during":"archival","item":"/src/locked"}
[ also not json
{"message_type":"exit_error","code":3,"message":"Warning: at least one source file could not be read"}
last plain line without newline`

// feedInPieces writes s to w in awkward pieces: lines split across
// writes, several per write.
func feedInPieces(t *testing.T, w *lineWriter, s string) {
	t.Helper()
	for _, n := range []int{1, 7, 64, 3, 200, 5} {
		if s == "" {
			return
		}
		n = min(n, len(s))
		feed(t, w, s[:n])
		s = s[n:]
	}
	feed(t, w, s)
}

// feed writes s to w in one write.
func feed(t *testing.T, w *lineWriter, s string) {
	t.Helper()
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func TestParserSkipsPlainLines(t *testing.T) {
	var events []Event
	p := newParser("backup", func(e Event) { events = append(events, e) }, nil)
	out := &lineWriter{p: p, stream: "stdout"}
	errw := &lineWriter{p: p, stream: "stderr"}
	feedInPieces(t, out, cannedStdout)
	feedInPieces(t, errw, cannedStderr)
	out.flush()
	errw.flush()

	var kinds []EventKind
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	want := []EventKind{KindStatus, KindStatus, KindSummary, KindError, KindExitError}
	if len(kinds) != len(want) {
		t.Fatalf("event kinds = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("event kinds = %v, want %v", kinds, want)
		}
	}

	st := events[0].Status
	if st == nil || st.PercentDone != 0.25 || st.TotalFiles != 4 || st.FilesDone != 1 || st.TotalBytes != 400 ||
		st.BytesDone != 100 || len(st.CurrentFiles) != 2 || st.CurrentFiles[1] != "/b" {
		t.Errorf("first status = %+v", st)
	}
	if st := events[1].Status; st == nil || st.BytesDone != 300 {
		t.Errorf("status after CRLF line = %+v", st)
	}
	sum := events[2].Summary
	if sum == nil || sum.FilesNew != 3 || sum.FilesChanged != 1 || sum.DataAdded != 1234 || sum.DataAddedPacked != 999 ||
		sum.TotalBytesProcessed != 400 || sum.TotalDuration != 0.5 || !strings.HasPrefix(sum.SnapshotID, "0cc6b04f") {
		t.Errorf("summary = %+v", sum)
	}
	if e := events[3].Error; e == nil || e.Item != "/src/locked" || e.During != "archival" || !strings.Contains(e.Message, "permission denied") {
		t.Errorf("error event = %+v", e)
	}
	if x := events[4].Exit; x == nil || x.Code != 3 {
		t.Errorf("exit event = %+v", x)
	}
	for _, e := range events {
		if e.Op != "backup" || len(e.Raw) == 0 || e.Raw[0] != '{' {
			t.Errorf("event %v: op %q raw %q", e.Kind, e.Op, e.Raw)
		}
	}

	tail := p.tailLines()
	wantTail := []string{
		"using parent snapshot 743616b6",
		"repository 1234abcd opened (version 2, compression level auto)",
		"{not json at all",
		"Warning: at least one source file could not be read",
		"[ also not json",
		"last plain line without newline",
	}
	if strings.Join(tail, "|") != strings.Join(wantTail, "|") {
		t.Errorf("plain tail = %q\nwant        %q", tail, wantTail)
	}
	if items := p.itemErrors(); len(items) != 1 || items[0].Item != "/src/locked" {
		t.Errorf("items = %+v", items)
	}
	if x := p.exitStatus(); x == nil || x.Code != 3 {
		t.Errorf("exit status = %+v", x)
	}
}

func TestParserTailKeepsLastLines(t *testing.T) {
	p := newParser("check", nil, nil)
	w := &lineWriter{p: p, stream: "stderr"}
	for i := range 20 {
		feed(t, w, "line "+string(rune('a'+i))+"\n")
	}
	tail := p.tailLines()
	if len(tail) != maxTail || tail[0] != "line m" || tail[maxTail-1] != "line t" {
		t.Fatalf("tail = %q", tail)
	}
}

func TestParserArraysAndCheckErrors(t *testing.T) {
	p := newParser("check", nil, nil)
	w := &lineWriter{p: p, stream: "stdout"}
	feed(t, w, `load indexes`+"\n"+
		`{"message_type":"error","message":"pack 1234: not referenced in any index"}`+"\n"+
		`{"message_type":"summary","num_errors":1,"broken_packs":["1234"],"suggest_repair_index":true,"suggest_prune":false}`+"\n"+
		`[{"id":"ab"}]`+"\n")
	ev, ok := p.lastEvent(KindSummary)
	if !ok || ev.CheckSummary == nil || ev.CheckSummary.NumErrors != 1 || !ev.CheckSummary.HintRepairIndex {
		t.Fatalf("check summary = %+v", ev)
	}
	items := p.itemErrors()
	if len(items) != 1 || !strings.Contains(items[0].Message, "not referenced") {
		t.Fatalf("check error items = %+v", items)
	}
	if raw, ok := p.lastArray(); !ok || string(raw) != `[{"id":"ab"}]` {
		t.Fatalf("array = %q", raw)
	}
}

func TestExitErrorMessagesAndIs(t *testing.T) {
	cases := []struct {
		code     ExitCode
		sentinel error
		ja, en   string
	}{
		{12, ErrWrongPassword, "リポジトリのパスワードが違います", "wrong repository password for /mnt/x"},
		{10, ErrRepoMissing, "リポジトリが見つかりません", "repository does not exist at /mnt/x"},
		{11, ErrLocked, "ロックされています", "repository /mnt/x is locked"},
		{130, ErrInterrupted, "中断されました", "interrupted"},
		{1, ErrFatal, "失敗しました", "failed"},
		{3, ErrSourceUnreadable, "読み取れませんでした", "could not be read"},
	}
	for _, c := range cases {
		var err error = &ExitError{Op: "backup", Repo: "/mnt/x", Code: c.code, Message: "Fatal: detail",
			Items: []ItemError{{Item: "/s/a"}}}
		err = wrap("backup", err)
		if !errors.Is(err, c.sentinel) {
			t.Errorf("code %d: errors.Is(%v) false", c.code, c.sentinel)
		}
		for _, other := range []error{ErrFatal, ErrLocked, ErrWrongPassword} {
			if other != c.sentinel && errors.Is(err, other) {
				t.Errorf("code %d also matches %v", c.code, other)
			}
		}
		both := err.Error()
		if !strings.Contains(both, c.ja) || !strings.Contains(both, c.en) || !strings.Contains(both, " / ") {
			t.Errorf("code %d message %q lacks %q / %q", c.code, both, c.ja, c.en)
		}
		if c.code == 3 && !strings.Contains(both, "/s/a") {
			t.Errorf("exit 3 message does not name the item: %q", both)
		}
		// Each language alone holds its own text and none of the other's.
		ja, en := msg.In(err, msg.JA), msg.In(err, msg.EN)
		if !strings.Contains(ja, c.ja) || strings.Contains(ja, c.en) || !strings.Contains(en, c.en) || japanese.MatchString(en) {
			t.Errorf("code %d: Japanese %q, English %q", c.code, ja, en)
		}
	}
	cp := &ExitError{Op: "copy", Repo: "/mnt/b", From: "/mnt/a", Code: ErrWrongPassword}
	if ja, en := msg.In(cp, msg.JA), msg.In(cp, msg.EN); !strings.Contains(ja, "コピー元 /mnt/a") || !strings.Contains(en, "/mnt/b (source /mnt/a)") {
		t.Errorf("copy error does not name both repositories: %q, %q", ja, en)
	}
	be := &BinaryError{Path: "/x/restic", Err: errors.New("no such file")}
	if !errors.Is(be, ErrBinaryMissing) || !strings.Contains(be.Error(), "/x/restic") || japanese.MatchString(msg.In(be, msg.EN)) {
		t.Errorf("binary error %v", be)
	}
}

func TestDisplayLocationRedactsCredentials(t *testing.T) {
	r := &Repo{Location: "rest:https://user:secret@backup.example:8000/repo"}
	if got := r.displayLocation(); strings.Contains(got, "secret") || !strings.Contains(got, "backup.example:8000/repo") {
		t.Fatalf("displayLocation = %q", got)
	}
	args := redactArgs([]string{"backup", "--repo=" + r.Location}, r, nil)
	if strings.Contains(strings.Join(args, " "), "secret") {
		t.Fatalf("redactArgs = %q", args)
	}
}

func TestReorderPutsPositionalLast(t *testing.T) {
	got := strings.Join(reorder([]string{"restore", "--target=/t", "abcdef12", "--json", "--repo=/r"}), " ")
	if got != "restore --target=/t --json --repo=/r -- abcdef12" {
		t.Fatalf("reorder = %q", got)
	}
}

func TestCheckEnvRefusesSecrets(t *testing.T) {
	if err := checkEnv([]string{"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"RESTIC_PASSWORD=x", "RESTIC_REPOSITORY=/r", "novalue"} {
		if err := checkEnv([]string{bad}); err == nil {
			t.Errorf("checkEnv(%q) accepted", bad)
		}
	}
}
