package ledger

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Report is the result of Verify, for `danzen ledger verify` and the documents.
type Report struct {
	Path string `json:"path"`
	// OK is true when the chain, every hash and head.json agree.
	OK bool `json:"ok"`
	// Entries is the number of complete lines checked.
	Entries  int       `json:"entries"`
	LastSeq  uint64    `json:"last_seq"`
	LastHash string    `json:"last_hash"`
	LastTime time.Time `json:"last_time,omitzero"`
	// Head is head.json as read (nil if missing). HeadLagsByOne is the
	// tolerated crash state: the last entry is written, head.json not yet.
	Head          *Head `json:"head,omitempty"`
	HeadLagsByOne bool  `json:"head_lags_by_one,omitempty"`
	// FirstBadLine / FirstBadSeq locate the first finding (0 if none);
	// FirstBadSeq is the seq written on that line.
	FirstBadLine int       `json:"first_bad_line,omitempty"`
	FirstBadSeq  uint64    `json:"first_bad_seq,omitempty"`
	Problems     []Problem `json:"problems,omitempty"`
	// ProblemCount counts all findings; Problems keeps the first 100.
	ProblemCount int `json:"problem_count"`
	// TornFiles are side files holding torn lines moved aside by Open;
	// each is named in an "interrupted" entry. They are not an error.
	TornFiles []string `json:"torn_files,omitempty"`
	// ClockBackwards lists seqs whose time is earlier than the entry
	// before (the clock was set back, e.g. no RTC before NTP). Not an
	// error, but worth a look by whoever reads the times.
	ClockBackwards []uint64 `json:"clock_backwards,omitempty"`
}

// Verify checks the ledger in dir without changing anything: every line's
// hash, the seq and prev chain, and head.json against the end of the chain.
// It returns an error wrapping ErrCorrupt when any of these fail (the
// Report then says where and what), or an I/O error when the ledger cannot
// be read. It may run while danzend appends: it reads a consistent
// snapshot under a shared lock.
func Verify(dir string) (Report, error) { return VerifyFrom(dir, Anchor{}, nil) }

// VerifyFrom is Verify for the part of the chain after from, a point an
// earlier verification reached (the zero Anchor: the whole chain). It
// checks from against the file first; when that fails, the error wraps
// ErrAnchorMismatch and nothing else was checked. The Report counts every
// line, but lists ClockBackwards only among the entries after from.
// visit, when not nil, is called with each entry after from whose line has
// no finding, in order, and the Anchor just past it.
func VerifyFrom(dir string, from Anchor, visit func(Entry, Anchor)) (Report, error) {
	path := filepath.Join(dir, FileName)
	rep := Report{Path: path}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return rep, ioError(path, fmt.Sprintf("証跡台帳 %s がありません", path),
				fmt.Sprintf("there is no evidence ledger at %s", path), err)
		}
		return rep, ioError(path, "証跡台帳を開けません", "cannot open the evidence ledger", err)
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose at Close
	size, head, headErr, err := snapshot(f, dir)
	if err != nil {
		return rep, ioError(path, "証跡台帳を読めません", "cannot read the evidence ledger", err)
	}
	opt := scanOptions{from: from}
	if visit != nil {
		opt.visit = func(e Entry, a Anchor) error { visit(e, a); return nil }
	}
	if from.Seq > 0 {
		if opt.prev, err = checkAnchor(f, size, from); err != nil {
			return rep, anchorError(path, err)
		}
	}
	res, err := scanLedger(io.NewSectionReader(f, from.Offset, size-from.Offset), opt)
	if err != nil {
		return rep, ioError(path, "証跡台帳を読めません", "cannot read the evidence ledger", err)
	}
	rep.fill(res, head, headErr)
	if rep.TornFiles, err = TornFiles(dir); err != nil {
		return rep, ioError(dir, "証跡台帳のフォルダを読めません", "cannot list the evidence ledger folder", err)
	}
	if len(rep.Problems) > 0 {
		return rep, corruptError(path, false, rep.Problems)
	}
	rep.OK = true
	return rep, nil
}

// fill sets what a scan and head.json say; OK and TornFiles are left.
func (r *Report) fill(res scanResult, head *Head, headErr error) {
	r.Entries = res.Lines
	r.LastSeq, r.LastHash, r.LastTime = res.Last.Seq, res.Last.Hash, res.Last.Time
	r.Head = head
	r.ClockBackwards = res.Backwards
	problems, count := res.Problems, res.ProblemCount
	if res.Torn != nil {
		problems = append(problems, problemTorn(res.Torn.Line, res.Torn.Size))
		count++
	}
	headProblems, lag := checkHead(head, headErr, res)
	r.Problems, r.ProblemCount = append(problems, headProblems...), count+len(headProblems)
	r.HeadLagsByOne = lag
	if len(r.Problems) > 0 {
		r.FirstBadLine, r.FirstBadSeq = r.Problems[0].Line, r.Problems[0].Seq
	}
}

// anchorError is the error for an Anchor that could not be checked.
func anchorError(path string, err error) error {
	if errors.Is(err, ErrAnchorMismatch) {
		return &Error{Path: path, Err: err, Text: msg.T("前回の検証位置が証跡台帳と一致しません",
			"the point verified before is not where the evidence ledger says")}
	}
	return ioError(path, "証跡台帳を読めません", "cannot read the evidence ledger", err)
}

// snapshot reads the file size and head.json together under a shared lock,
// so an append in between cannot make them disagree.
func snapshot(f *os.File, dir string) (size int64, head *Head, headErr error, err error) {
	if err := flock(f, syscall.LOCK_SH); err != nil {
		return 0, nil, nil, err
	}
	// Closing the file releases the lock too; an unlock that fails leaves
	// nothing held for long.
	defer func() { _ = flock(f, syscall.LOCK_UN) }()
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, nil, err
	}
	head, headErr = readHead(dir)
	return fi.Size(), head, headErr, nil
}

// String renders the report in both languages.
func (r Report) String() string { return r.Localize(msg.Both) }

// Localize renders the report for the operator in l.
func (r Report) Localize(l msg.Lang) string {
	var b strings.Builder
	// Detail lines are indented outside the text, so "both" reads
	// "  ファイル: x / file: x".
	line := func(t msg.Text) { b.WriteString(t.Localize(l) + "\n") }
	detail := func(t msg.Text) { b.WriteString("  " + t.Localize(l) + "\n") }
	if r.OK {
		line(msg.T("証跡台帳の検証: 正常", "ledger verification: OK"))
	} else {
		line(msg.T("証跡台帳の検証: 異常あり", "ledger verification: FAILED"))
	}
	detail(msg.Sprintf("ファイル: %s", "file: %s", r.Path))
	detail(msg.Sprintf("検証した記録数: %d", "entries checked: %d", r.Entries))
	if r.LastSeq > 0 {
		detail(msg.Sprintf("最終記録: seq %d、%s、hash %s", "last entry: seq %d, %s, hash %s", r.LastSeq, r.LastTime.Format(time.RFC3339Nano), r.LastHash))
	}
	if r.Head == nil {
		detail(msg.T("head.json: なし", "head.json: missing"))
	} else {
		detail(msg.Sprintf("head.json: seq %d、hash %s", "head.json: seq %d, hash %s", r.Head.Seq, r.Head.Hash))
	}
	if r.HeadLagsByOne {
		detail(msg.T("注: head.json が 1 件遅れています（記録直後に停止）。次回起動時に修復されます",
			"note: head.json is one entry behind (stopped right after writing); repaired at next start"))
	}
	for _, t := range r.TornFiles {
		detail(msg.Sprintf("退避された書きかけ行: %s", "torn line kept aside: %s", t))
	}
	if len(r.ClockBackwards) > 0 {
		detail(msg.Sprintf("注: 時刻が前の記録より戻っている記録: seq %v", "note: time earlier than the entry before at seq %v", r.ClockBackwards))
	}
	if !r.OK {
		detail(msg.Sprintf("最初の異常: %d 行目、seq %d", "first problem: line %d, seq %d", r.FirstBadLine, r.FirstBadSeq))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  - [%s] %s\n", p.Code, p.Message.Localize(l))
		}
		if more := r.ProblemCount - len(r.Problems); more > 0 {
			detail(msg.Sprintf("… ほか %d 件", "… and %d more", more))
		}
	}
	return b.String()
}
