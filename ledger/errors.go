package ledger

import (
	"github.com/danzen-gw/danzen/internal/msg"
)

// sentinel lets the package export comparable error values as constants,
// so there is no package-level mutable state.
type sentinel string

func (s sentinel) Error() string { return string(s) }

// Errors to test with errors.Is.
const (
	// ErrCorrupt: the ledger's chain or head anchor is broken.
	ErrCorrupt = sentinel("ledger: corrupt")
	// ErrInUse: another Ledger (this or another process) holds the ledger open.
	ErrInUse = sentinel("ledger: in use")
	// ErrClosed: Append after Close.
	ErrClosed = sentinel("ledger: closed")
	// ErrHeadNotUpdated: the entry was stored and fsynced, but head.json
	// could not be replaced. The next Append retries it first.
	ErrHeadNotUpdated = sentinel("ledger: head.json not updated")
	// ErrAnchorMismatch: an Anchor given to read on from is not an entry
	// of this ledger's chain where it says (VerifyFrom, Options.From).
	ErrAnchorMismatch = sentinel("ledger: anchor does not match the ledger")
)

// ProblemCode classifies what Verify found.
type ProblemCode string

const (
	ProblemMalformed ProblemCode = "malformed" // a line is not a readable entry
	ProblemHash      ProblemCode = "hash"      // content changed after writing
	ProblemChain     ProblemCode = "chain"     // seq gap / prev mismatch: deleted, inserted or reordered
	ProblemTorn      ProblemCode = "torn"      // last line incomplete (crash while writing)
	ProblemTruncated ProblemCode = "truncated" // head.json records more than the file holds
	ProblemHead      ProblemCode = "head"      // head.json missing, unreadable or disagreeing
)

// Problem is one finding, worded for the person who must act.
type Problem struct {
	Code ProblemCode `json:"code"`
	// Line is the 1-based line in ledger.jsonl, 0 when the finding is about head.json only.
	Line int `json:"line"`
	// Seq is the seq written on that line (0 if unreadable); for
	// ProblemTruncated the first missing seq.
	Seq     uint64   `json:"seq"`
	Message msg.Text `json:"message"`
}

func (p Problem) String() string { return p.Message.String() }

// Error is what the ledger returns for people: what failed, in both
// languages; Unwrap gives the sentinel or cause.
type Error struct {
	Path     string
	Text     msg.Text
	Problems []Problem
	Err      error
}

func (e *Error) Error() string { return e.Localize(msg.Both) }

// Localize renders the error in l; a cause that is one of the sentinels
// is not repeated (the text already says it).
func (e *Error) Localize(l msg.Lang) string {
	if e.Err == nil {
		return e.Text.Localize(l)
	}
	if _, ok := e.Err.(sentinel); ok {
		return e.Text.Localize(l)
	}
	return msg.WrapText(e.Err, e.Text).(msg.Localizer).Localize(l)
}

func (e *Error) Unwrap() error { return e.Err }

func ioError(path, ja, en string, err error) error {
	return &Error{Path: path, Text: msg.T(ja, en), Err: err}
}

// corruptError is what Open and Read return for a broken ledger.
func corruptError(path string, refuseAppend bool, problems []Problem) error {
	first := problems[0].Message
	e := &Error{Path: path, Problems: problems, Err: ErrCorrupt}
	if refuseAppend {
		e.Text = msg.Sprintf("証跡台帳 %s が改ざんまたは破損しているため、記録を追加できません（%s）。ファイルを変更・削除せず保守ベンダに連絡してください。詳細は danzen ledger verify で確認できます。新しい台帳で運用を再開する場合は、証拠として保管するためフォルダごと別名に移動してください",
			"the evidence ledger %s has been altered or damaged, so danzen will not add records to it (%s). Do not edit or delete the files; contact the maintenance vendor. Run `danzen ledger verify` for details. To continue with a new ledger, move the whole folder aside and keep it as evidence",
			path, first)
	} else {
		e.Text = msg.Sprintf("証跡台帳 %s が改ざんまたは破損しています（%s）。保守ベンダに連絡してください",
			"the evidence ledger %s has been altered or damaged (%s); contact the maintenance vendor", path, first)
	}
	return e
}

func problemMalformed(line int, why string) Problem {
	return Problem{Code: ProblemMalformed, Line: line,
		Message: msg.Sprintf("%d 行目は台帳の記録として読めません（%s）", "line %d is not a readable ledger entry (%s)", line, why)}
}

func problemHash(line int, seq uint64) Problem {
	return Problem{Code: ProblemHash, Line: line, Seq: seq,
		Message: msg.Sprintf("%d 行目（seq %d）の内容が記録後に変更されています（ハッシュ不一致）",
			"line %d (seq %d) was changed after it was written (hash mismatch)", line, seq)}
}

func problemSeq(line int, want, got uint64) Problem {
	return Problem{Code: ProblemChain, Line: line, Seq: got,
		Message: msg.Sprintf("%d 行目の順序が崩れています（seq %d のはずが seq %d）。それより前の記録が削除・挿入・並べ替えされています",
			"line %d is out of sequence (expected seq %d, found seq %d): entries before it were deleted, inserted or reordered", line, want, got)}
}

func problemPrev(line int, seq uint64) Problem {
	return Problem{Code: ProblemChain, Line: line, Seq: seq,
		Message: msg.Sprintf("%d 行目（seq %d）が直前の記録とつながっていません（prev 不一致）。直前の記録が差し替えられたか、記録が挿入されています",
			"line %d (seq %d) does not chain to the entry before it (prev mismatch): the entry before it was replaced or an entry was inserted", line, seq)}
}

func problemTorn(line int, size int64) Problem {
	return Problem{Code: ProblemTorn, Line: line,
		Message: msg.Sprintf("最終行（%d 行目、%d バイト）が書きかけです。記録中に停止したと考えられます。次回起動時に別ファイルへ退避されます",
			"the last line (line %d, %d bytes) is incomplete: the device stopped while writing it. It is moved to a side file at the next start", line, size)}
}

func problemTruncated(line int, last, head uint64) Problem {
	return Problem{Code: ProblemTruncated, Line: line, Seq: last + 1,
		Message: msg.Sprintf("台帳は seq %d で終わっていますが、head.json は seq %d を記録しています。末尾の記録が削除されています",
			"the ledger ends at seq %d but head.json records seq %d: entries were removed from the end", last, head)}
}

func problemHead(t msg.Text) Problem {
	return Problem{Code: ProblemHead, Message: t}
}
