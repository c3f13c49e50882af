package restic

import (
	"errors"
	"fmt"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
)

// ExitCode is a restic exit status. The named values are also sentinel
// errors: errors.Is(err, restic.ErrLocked) is true for every error this
// package returns when restic exited with code 11.
type ExitCode int

// restic 0.19.1 exit codes (see "EXIT STATUS" in restic's help).
const (
	// ErrFatal: the command failed; for backup, no snapshot was written.
	ErrFatal ExitCode = 1
	// ErrSourceUnreadable: backup wrote a snapshot but some source files
	// could not be read. danzen treats this as a failed export; the
	// unreadable items are in (*ExitError).Items. (forget also exits 3 when
	// it could not delete some snapshot files.)
	ErrSourceUnreadable ExitCode = 3
	// ErrRepoMissing: there is no repository at the location.
	ErrRepoMissing ExitCode = 10
	// ErrLocked: the repository is locked by another process or by a stale
	// lock (see Repo.Unlock).
	ErrLocked ExitCode = 11
	// ErrWrongPassword: the password does not open any key of the repository.
	ErrWrongPassword ExitCode = 12
	// ErrInterrupted: the operation was cancelled (context done / SIGINT).
	ErrInterrupted ExitCode = 130
)

func (c ExitCode) Error() string {
	switch c {
	case ErrFatal:
		return "restic: fatal error (exit 1)"
	case ErrSourceUnreadable:
		return "restic: some source files could not be read (exit 3)"
	case ErrRepoMissing:
		return "restic: repository does not exist (exit 10)"
	case ErrLocked:
		return "restic: repository is locked (exit 11)"
	case ErrWrongPassword:
		return "restic: wrong password (exit 12)"
	case ErrInterrupted:
		return "restic: interrupted (exit 130)"
	}
	return fmt.Sprintf("restic: exit status %d", int(c))
}

// constError is an immutable sentinel error.
type constError string

func (e constError) Error() string { return string(e) }

const (
	// ErrBinaryMissing is matched (errors.Is) by a *BinaryError.
	ErrBinaryMissing = constError("restic binary not found")
	// ErrPasswordFile is matched by errors about the password file
	// (missing, not a regular file, readable by group or others).
	ErrPasswordFile = constError("restic password file unusable")
)

// ExitError reports a restic run that did not succeed.
type ExitError struct {
	Op   string   // restic subcommand, e.g. "backup"
	Repo string   // repository location (credentials in URLs redacted)
	From string   // copy: the repository copied from, likewise redacted
	Code ExitCode // restic's exit code; 130 also when the context was cancelled; -1 if killed by a signal
	// Message is restic's own exit message (from its exit_error JSON line),
	// or the last plain-text lines it printed when there was none.
	Message string
	// Items are the per-file errors restic reported (backup: unreadable
	// source files; restore: files it could not write; check: problems).
	Items []ItemError
	// Tail holds the last plain (non-JSON) lines restic printed.
	Tail []string
	// Cause is the context error for an interrupted run, else nil.
	Cause error
}

// maxListedItems bounds how many items a message names.
const maxListedItems = 10

// Error returns an operator-facing message, Japanese then English.
func (e *ExitError) Error() string { return e.message().Error() }

// Localize returns the operator-facing message in l.
func (e *ExitError) Localize(l msg.Lang) string { return msg.In(e.message(), l) }

// message is the operator's message, with restic's own words (which are
// English only) after it when they add anything.
func (e *ExitError) message() error {
	t, detail := e.text()
	if detail == "" {
		return t.Err()
	}
	return msg.WrapText(errors.New(detail), t)
}

// text says what failed in the operator's words, and returns restic's
// own message when it adds to them.
func (e *ExitError) text() (msg.Text, string) {
	detail := oneLine(e.Message)
	repo := e.repo()
	switch e.Code {
	case ErrSourceUnreadable:
		if e.Op != "backup" { // forget: some snapshot files could not be deleted
			return msg.Sprintf("restic %s(%s): 一部のスナップショットを削除できませんでした", "restic %s on %s could not remove some snapshots", e.Op, repo), detail
		}
		return msg.Sprintf("一部の元ファイルを読み取れませんでした(%d件: %s)。%s へのこのバックアップは不完全です",
			"some source files could not be read (%d: %s); the backup of %s is incomplete", len(e.Items), e.itemList(), repo), ""
	case ErrRepoMissing:
		return msg.Sprintf("リポジトリが見つかりません: %s(媒体の接続・マウントと保存先の設定を確認してください)",
			"repository does not exist at %s", repo), ""
	case ErrLocked:
		return msg.Sprintf("リポジトリ %s がロックされています(他の処理が実行中か、異常終了した処理のロックが残っています)",
			"repository %s is locked", repo), detail
	case ErrWrongPassword:
		return msg.Sprintf("リポジトリのパスワードが違います: %s", "wrong repository password for %s", repo), ""
	case ErrInterrupted:
		return msg.Sprintf("restic %s(%s)が中断されました", "restic %s on %s was interrupted", e.Op, repo), ""
	case ErrFatal:
		return e.fatalText(repo), detail
	}
	if e.Code < 0 {
		return msg.Sprintf("restic %s(%s)が強制終了されました", "restic %s on %s was killed", e.Op, repo), detail
	}
	return msg.Sprintf("restic %s(%s)が終了コード %d で失敗しました", "restic %s on %s failed with exit code %d", e.Op, repo, int(e.Code)), detail
}

// fatalText words exit code 1 by operation.
func (e *ExitError) fatalText(repo msg.Text) msg.Text {
	switch e.Op {
	case "backup":
		return msg.Sprintf("%s へのバックアップに失敗しました(スナップショットは作成されていません)", "backup to %s failed, no snapshot was written", repo)
	case "check":
		return msg.Sprintf("リポジトリ %s の検査でエラーが見つかりました", "check of %s failed", repo)
	}
	return msg.Sprintf("restic %s(%s)が失敗しました", "restic %s on %s failed", e.Op, repo)
}

// repo names the repository, and for a copy the one copied from.
func (e *ExitError) repo() msg.Text {
	if e.From == "" {
		return msg.Plain(e.Repo)
	}
	return msg.Sprintf("%s(コピー元 %s)", "%s (source %s)", e.Repo, e.From)
}

// Unwrap lets errors.Is match the ExitCode sentinel and, for an
// interrupted run, the context error.
func (e *ExitError) Unwrap() []error {
	errs := []error{e.Code}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// itemList names the first maxListedItems items.
func (e *ExitError) itemList() msg.Text {
	var names []string
	for i, it := range e.Items {
		if i == maxListedItems {
			break
		}
		name := it.Item
		if name == "" {
			name = it.Message
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return msg.Plain("-")
	}
	list := msg.Plain(strings.Join(names, ", "))
	if more := len(e.Items) - maxListedItems; more > 0 {
		list = list.Append(", ", msg.Sprintf("… 他%d件", "… %d more", more))
	}
	return list
}

// BinaryError reports that the restic executable cannot be run.
type BinaryError struct {
	Path string
	Err  error
}

func (e *BinaryError) Error() string { return e.message().Error() }

// Localize says in l that restic cannot be run, and why.
func (e *BinaryError) Localize(l msg.Lang) string { return msg.In(e.message(), l) }

func (e *BinaryError) message() error {
	return msg.Wrap(fmt.Errorf("%s: %w", e.Path, e.Err), "restic の実行ファイルが見つかりません", "restic binary not found or not executable")
}

func (e *BinaryError) Unwrap() []error { return []error{ErrBinaryMissing, e.Err} }

// oneLine folds restic's multi-line messages for a one-line error.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}
