package auth

import "github.com/danzen-gw/danzen/internal/msg"

// Error is a refusal a person reads, held in both languages. Being an
// integer type, the sentinels below are constants, not mutable globals:
// errors.Is compares them, and msg.In renders one in the reader's
// language (Error is a msg.Localizer).
type Error int

// Errors to test with errors.Is.
const (
	ErrPasswordTooShort Error = iota + 1
	ErrPasswordTooLong
	ErrPasswordMismatch
	ErrInvalidUserName
	ErrInvalidRole
	ErrUserExists
	ErrNoSuchUser
	ErrLastAdmin
	ErrBadCredentials
	ErrSetupCode
	ErrSetupDone
	ErrCSRF
	ErrUnauthenticated
	ErrForbidden
	ErrLockedOut
	ErrMethod
	// ErrBusy: no hashing slot came free before the request gave up.
	ErrBusy
	// ErrSaveAdmin: the first admin could not be written to users.json.
	ErrSaveAdmin
	// ErrWait: failed logins in a row; the next try waits a few seconds.
	ErrWait
)

// Text is the error's wording.
func (e Error) Text() msg.Text {
	switch e {
	case ErrPasswordTooShort:
		return msg.T("パスワードは12文字以上にしてください", "The password must be at least 12 characters long.")
	case ErrPasswordTooLong:
		return msg.T("パスワードが長すぎます（1024バイトまで）", "The password is too long (at most 1024 bytes).")
	case ErrPasswordMismatch:
		return msg.T("確認用パスワードが一致しません", "The two passwords do not match.")
	case ErrInvalidUserName:
		return msg.T("ユーザー名は英小文字・数字・「._@-」で1〜64文字にしてください", "A user name is 1 to 64 characters: lower-case letters, digits and . _ @ -.")
	case ErrInvalidRole:
		return msg.T("不明な役割です", "Unknown role.")
	case ErrUserExists:
		return msg.T("そのユーザー名は既に使われています", "That user name is already taken.")
	case ErrNoSuchUser:
		return msg.T("ユーザーが見つかりません", "No such user.")
	case ErrLastAdmin:
		return msg.T("最後の保守ベンダ管理者は削除・変更できません", "The last vendor admin cannot be removed or given another role.")
	case ErrBadCredentials:
		return msg.T("ユーザー名またはパスワードが違います", "Wrong user name or password.")
	case ErrSetupCode:
		return msg.T("セットアップコードが違うか、有効期限が切れています。期限切れの場合は danzend を再起動すると新しいコードが表示されます",
			"The setup code is wrong or has expired. If it expired, restart danzend to get a new code.")
	case ErrSetupDone:
		return msg.T("初期設定は完了しています。ログインしてください", "Setup is already done. Please log in.")
	case ErrCSRF:
		return msg.T("フォームの有効期限が切れたか、不正な要求です。ページを再読み込みしてやり直してください",
			"The form has expired or the request is not allowed. Reload the page and try again.")
	case ErrUnauthenticated:
		return msg.T("ログインしてください", "Please log in.")
	case ErrForbidden:
		return msg.T("この操作の権限がありません", "You are not allowed to do this.")
	case ErrLockedOut:
		return msg.T("ログインの失敗が続いたため、しばらくログインできません", "Too many failed logins: logging in is blocked for a while.")
	case ErrMethod:
		return msg.T("このメソッドは使えません", "Method not allowed.")
	case ErrBusy:
		return msg.T("混み合っています。もう一度お試しください", "Busy, please try again.")
	case ErrSaveAdmin:
		return msg.T("管理者を保存できませんでした", "Could not save the admin account.")
	case ErrWait:
		return msg.T("ログインの失敗が続いたため、少し待ってからやり直してください", "Several failed logins in a row: wait a moment before trying again.")
	}
	return msg.Sprintf("認証エラー %d", "authentication error %d", int(e))
}

// Error gives both languages, Japanese first: for logs.
func (e Error) Error() string { return e.Text().String() }

// Localize renders the error in l.
func (e Error) Localize(l msg.Lang) string { return e.Text().Localize(l) }
