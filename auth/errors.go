package auth

// Error is a message a person reads, Japanese first then English. Being a
// string type, the sentinels below are constants, not mutable globals.
type Error string

func (e Error) Error() string { return string(e) }

// Errors to test with errors.Is. Their text is shown on the page as is.
const (
	ErrPasswordTooShort = Error("パスワードは12文字以上にしてください / The password must be at least 12 characters long.")
	ErrPasswordTooLong  = Error("パスワードが長すぎます（1024バイトまで） / The password is too long (at most 1024 bytes).")
	ErrPasswordMismatch = Error("確認用パスワードが一致しません / The two passwords do not match.")
	ErrInvalidUserName  = Error("ユーザー名は英小文字・数字・「._@-」で1〜64文字にしてください / A user name is 1 to 64 characters: lower-case letters, digits and . _ @ -.")
	ErrInvalidRole      = Error("不明な役割です / Unknown role.")
	ErrUserExists       = Error("そのユーザー名は既に使われています / That user name is already taken.")
	ErrNoSuchUser       = Error("ユーザーが見つかりません / No such user.")
	ErrLastAdmin        = Error("最後の保守ベンダ管理者は削除・変更できません / The last vendor admin cannot be removed or given another role.")
	ErrBadCredentials   = Error("ユーザー名またはパスワードが違います / Wrong user name or password.")
	ErrSetupCode        = Error("セットアップコードが違うか、有効期限が切れています。期限切れの場合は danzend を再起動すると新しいコードが表示されます / The setup code is wrong or has expired. If it expired, restart danzend to get a new code.")
	ErrSetupDone        = Error("初期設定は完了しています。ログインしてください / Setup is already done. Please log in.")
	ErrCSRF             = Error("フォームの有効期限が切れたか、不正な要求です。ページを再読み込みしてやり直してください / The form has expired or the request is not allowed. Reload the page and try again.")
	ErrUnauthenticated  = Error("ログインしてください / Please log in.")
	ErrForbidden        = Error("この操作の権限がありません / You are not allowed to do this.")
	ErrLockedOut        = Error("ログインの失敗が続いたため、しばらくログインできません / Too many failed logins: logging in is blocked for a while.")
	ErrMethod           = Error("このメソッドは使えません / Method not allowed.")
)
