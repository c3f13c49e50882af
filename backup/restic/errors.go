package restic

import (
	"fmt"
	"strings"
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

// maxListedItems bounds how many items Error() names.
const maxListedItems = 10

// Error returns an operator-facing message, Japanese then English.
func (e *ExitError) Error() string {
	var ja, en string
	detail := oneLine(e.Message)
	switch e.Code {
	case ErrSourceUnreadable:
		if e.Op != "backup" { // forget: some snapshot files could not be deleted
			ja = fmt.Sprintf("restic %s: 一部のスナップショットを削除できませんでした", e.Op)
			en = fmt.Sprintf("restic %s on %s could not remove some snapshots", e.Op, e.Repo)
			break
		}
		names := e.itemList()
		ja = fmt.Sprintf("一部の元ファイルを読み取れませんでした（%d件: %s）。このバックアップは不完全です", len(e.Items), names)
		en = fmt.Sprintf("some source files could not be read (%d: %s); the backup of %s is incomplete", len(e.Items), names, e.Repo)
		detail = ""
	case ErrRepoMissing:
		ja = "リポジトリが見つかりません（媒体の接続・マウントと保存先の設定を確認してください）"
		en = fmt.Sprintf("repository does not exist at %s", e.Repo)
		detail = ""
	case ErrLocked:
		ja = "リポジトリがロックされています（他の処理が実行中か、異常終了した処理のロックが残っています）"
		en = fmt.Sprintf("repository %s is locked", e.Repo)
	case ErrWrongPassword:
		ja = "リポジトリのパスワードが違います"
		en = fmt.Sprintf("wrong repository password for %s", e.Repo)
		detail = ""
	case ErrInterrupted:
		ja = fmt.Sprintf("restic %s が中断されました", e.Op)
		en = fmt.Sprintf("restic %s on %s was interrupted", e.Op, e.Repo)
		detail = ""
	case ErrFatal:
		switch e.Op {
		case "backup":
			ja = "バックアップに失敗しました（スナップショットは作成されていません）"
			en = fmt.Sprintf("backup to %s failed, no snapshot was written", e.Repo)
		case "check":
			ja = "リポジトリの検査でエラーが見つかりました"
			en = fmt.Sprintf("check of %s failed", e.Repo)
		default:
			ja = fmt.Sprintf("restic %s が失敗しました", e.Op)
			en = fmt.Sprintf("restic %s on %s failed", e.Op, e.Repo)
		}
	default:
		if e.Code < 0 {
			ja = fmt.Sprintf("restic %s が強制終了されました", e.Op)
			en = fmt.Sprintf("restic %s on %s was killed", e.Op, e.Repo)
		} else {
			ja = fmt.Sprintf("restic %s が終了コード %d で失敗しました", e.Op, int(e.Code))
			en = fmt.Sprintf("restic %s on %s failed with exit code %d", e.Op, e.Repo, int(e.Code))
		}
	}
	msg := ja + " / " + en
	if detail != "" {
		msg += ": " + detail
	}
	return msg
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

func (e *ExitError) itemList() string {
	var names []string
	for i, it := range e.Items {
		if i == maxListedItems {
			names = append(names, fmt.Sprintf("… 他%d件 / %d more", len(e.Items)-i, len(e.Items)-i))
			break
		}
		name := it.Item
		if name == "" {
			name = it.Message
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ", ")
}

// BinaryError reports that the restic executable cannot be run.
type BinaryError struct {
	Path string
	Err  error
}

func (e *BinaryError) Error() string {
	return fmt.Sprintf("restic の実行ファイルが見つかりません / restic binary not found or not executable: %s: %v", e.Path, e.Err)
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
