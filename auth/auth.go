package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// Audit actions passed to Options.Audit. The web layer records them in the
// evidence ledger. Details never hold a password, hash, session ID or the
// setup code, and a failed login with an unknown user name does not record
// the name (people type their password into the name field; the ledger is
// append-only and could never be cleaned).
// The actions are kinds of the evidence ledger.
const (
	AuditSetupIssued  = ledger.KindAuthSetupIssued  // a setup code was generated (the code itself is not recorded)
	AuditSetupUsed    = ledger.KindAuthSetupUsed    // the setup code created the first vendor admin
	AuditSetupRefused = ledger.KindAuthSetupRefused // a wrong or expired setup code was entered
	AuditLogin        = ledger.KindAuthLogin
	AuditLoginFailed  = ledger.KindAuthLoginFailed
	AuditLockout      = ledger.KindAuthLockout // a user name from one client, or a client across names, was locked
	AuditLogout       = ledger.KindAuthLogout
	AuditUserAdd      = ledger.KindAuthUserAdd
	AuditUserRemove   = ledger.KindAuthUserRemove
	AuditUserRole     = ledger.KindAuthUserRole
	AuditUserPassword = ledger.KindAuthUserPassword
)

// AuditFunc records who did what; the ledger adds when.
type AuditFunc func(actor string, action ledger.Kind, detail msg.Text)

// Options configure New. Zero values take the defaults in brackets.
type Options struct {
	Dir                 string        // secrets directory holding users.json and the setup code (required)
	Params              Params        // argon2id costs [DefaultParams()]; tests pass tiny ones
	MaxConcurrentHashes int           // argon2id runs at once, bounds memory [1]
	SetupCodeTTL        time.Duration // setup code validity [24h]
	IdleTimeout         time.Duration // session idle timeout [30m]
	MaxLifetime         time.Duration // session absolute lifetime [12h]
	// Failed logins count per user name from one client address, and per
	// client address across names (limiter.go); never per name alone.
	MaxFailures       int           // failures in a row at one name from one client that lock it [5]
	MaxClientFailures int           // failures in a row from one client, any names, that lock it [10]
	Delay             time.Duration // wait after a name's second failure in a row, doubling until the lock [2s]
	Lockout           time.Duration // the first lock; each further lock in a row doubles [15m]
	MaxLockout        time.Duration // the longest lock [1h]
	FailureWindow     time.Duration // quiet time after a wait or lock that forgets the failures [15m]
	Audit             AuditFunc     // [none]
	Log               *slog.Logger  // [discard]
	Now               func() time.Time
	// ClientAddr names the client for the rate limit [host of RemoteAddr].
	// X-Forwarded-For is not trusted by default: there is no proxy on the appliance.
	ClientAddr func(*http.Request) string
}

// Auth is the user store, sessions and login limiter of the web page.
type Auth struct {
	dir        string
	params     Params
	setupTTL   time.Duration
	users      *userStore
	sessions   *sessionStore
	limit      *limiter
	hashSem    chan struct{}
	auditFn    AuditFunc
	log        *slog.Logger
	now        func() time.Time
	clientAddr func(*http.Request) string
	cop        *http.CrossOriginProtection
	tmpl       templates
	setupMu    sync.Mutex // makes checking and consuming the setup code one step
}

// New opens (or starts) the user store in opts.Dir.
func New(opts Options) (*Auth, error) {
	if opts.Dir == "" {
		return nil, errors.New("auth: Options.Dir is required")
	}
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams()
	}
	if err := opts.Params.validate(); err != nil {
		return nil, fmt.Errorf("auth: %w", err) // the costs are the program's, not a person's
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.SetupCodeTTL, 24*time.Hour)
	def(&opts.IdleTimeout, 30*time.Minute)
	def(&opts.MaxLifetime, 12*time.Hour)
	def(&opts.FailureWindow, 15*time.Minute)
	def(&opts.Delay, 2*time.Second)
	def(&opts.Lockout, 15*time.Minute)
	def(&opts.MaxLockout, time.Hour)
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	if opts.MaxClientFailures <= 0 {
		opts.MaxClientFailures = 10
	}
	if opts.MaxConcurrentHashes <= 0 {
		opts.MaxConcurrentHashes = 1
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ClientAddr == nil {
		opts.ClientAddr = remoteHost
	}
	users, err := openUserStore(opts.Dir, opts.Log)
	if err != nil {
		return nil, msg.Wrap(err, "ログイン機能を開始できません", "auth")
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Auth{
		dir:        opts.Dir,
		params:     opts.Params,
		setupTTL:   opts.SetupCodeTTL,
		users:      users,
		sessions:   newSessionStore(opts.IdleTimeout, opts.MaxLifetime),
		limit:      newLimiter(opts.limitRules()),
		hashSem:    make(chan struct{}, opts.MaxConcurrentHashes),
		auditFn:    opts.Audit,
		log:        opts.Log,
		now:        opts.Now,
		clientAddr: opts.ClientAddr,
		cop:        http.NewCrossOriginProtection(),
		tmpl:       tmpl,
	}, nil
}

// limitRules are the limiter's rules: a client trying many names is not
// slowed between names (each is a first failure at that name), only
// locked once it has failed MaxClientFailures times in a row.
func (o Options) limitRules() (byName, byClient rule, window time.Duration) {
	maxLock := max(o.MaxLockout, o.Lockout)
	return rule{max: o.MaxFailures, delay: o.Delay, lockout: o.Lockout, maxLock: maxLock},
		rule{max: o.MaxClientFailures, lockout: o.Lockout, maxLock: maxLock}, o.FailureWindow
}

func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

func (a *Auth) audit(actor string, action ledger.Kind, detail msg.Text) {
	if a.auditFn != nil {
		a.auditFn(actor, action, detail)
	}
}

// acquire waits for a hashing slot: argon2id at 64 MiB each must not run
// unbounded on a 1 GB board, whatever arrives at /login.
func (a *Auth) acquire(ctx context.Context) error {
	select {
	case a.hashSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return msg.Errorf("パスワードの照合を待てませんでした: %w", "wait to hash a password: %w", ctx.Err())
	}
}

func (a *Auth) release() { <-a.hashSem }

func (a *Auth) hash(ctx context.Context, pw string) (string, error) {
	if err := a.acquire(ctx); err != nil {
		return "", err
	}
	defer a.release()
	return hashPassword(pw, a.params)
}

// LockedOutError is returned while a user name (from that client) or a
// client address must wait before its next login is checked: a few
// seconds after failures in a row, then a lock.
type LockedOutError struct {
	Until time.Time
	Wait  bool // a short wait between tries, not a lock
}

func (e *LockedOutError) reason() Error {
	if e.Wait {
		return ErrWait
	}
	return ErrLockedOut
}

func (e *LockedOutError) Error() string { return e.reason().Error() }

// Localize renders the error in l.
func (e *LockedOutError) Localize(l msg.Lang) string { return e.reason().Localize(l) }

// Is makes errors.Is(err, ErrLockedOut) true.
func (e *LockedOutError) Is(target error) bool { return target == ErrLockedOut }

// authenticate checks name and password under the rate limit. It fails
// the same way for an unknown user and a wrong password, in about the same
// time, so the page does not reveal which user names exist.
func (a *Auth) authenticate(ctx context.Context, name, pw, client string) (userRecord, error) {
	name = normalizeUserName(name)
	keys := limitKeys(name, client)
	if err := a.heldBack(keys); err != nil {
		a.log.Info("login refused while held back", "client", client)
		return userRecord{}, err
	}
	if err := a.acquire(ctx); err != nil {
		return userRecord{}, err
	}
	u, known := a.users.get(name)
	var match, stale bool
	if known {
		var err error
		if match, stale, err = verifyPassword(u.Hash, pw, a.params); err != nil {
			a.log.Error("stored password hash unusable", "user", name, "err", err)
		}
	} else {
		burnHash(pw, a.params)
	}
	a.release()

	if !match {
		return userRecord{}, a.loginFailed(name, known, client, keys)
	}
	a.limit.reset(keys...)
	if stale {
		// The costs were raised since this hash was made: upgrade it now
		// that the password is at hand.
		if h, err := a.hash(ctx, pw); err != nil {
			a.log.Warn("re-hash password", "user", name, "err", err)
		} else if err := a.users.setHash(name, h, u.Hash, a.now()); err != nil {
			a.log.Warn("store re-hashed password", "user", name, "err", err)
		}
	}
	return u, nil
}

// limitKeys are what a login of name from client counts against.
func limitKeys(name, client string) []limitKey {
	return []limitKey{nameKey(name, client), clientKey(client)}
}

// heldBack is a *LockedOutError while any of keys must still wait.
func (a *Auth) heldBack(keys []limitKey) error {
	if until, locked := a.limit.held(a.now(), keys...); !until.IsZero() {
		return &LockedOutError{Until: until, Wait: !locked}
	}
	return nil
}

// loginFailed records a failed login and the locks it caused. The answer
// is ErrBadCredentials, or a *LockedOutError once this failure locked.
func (a *Auth) loginFailed(name string, known bool, client string, keys []limitKey) error {
	actor, why := "-", msg.T("ユーザー名が登録されていません", "unknown user name")
	if known {
		actor, why = name, msg.T("パスワードが違います", "wrong password")
	}
	a.audit(actor, AuditLoginFailed, msg.Sprintf("%s。接続元 %s", "%s; client %s", why, client))
	locks := a.limit.fail(a.now(), keys...)
	for _, l := range locks {
		who := actor
		if !l.key.byName {
			who = "-"
		}
		a.audit(who, AuditLockout, lockDetail(l))
	}
	if err := a.heldBack(keys); err != nil && len(locks) > 0 {
		return err
	}
	return ErrBadCredentials
}

// lockDetail says in the ledger what a lock holds back, without
// repeating an unknown user name (see the audit constants): the actor
// names a known user.
func lockDetail(l lockEvent) msg.Text {
	if l.key.byName {
		return msg.Sprintf("接続元 %[1]s からこのユーザー名へのログインに %[2]d 回続けて失敗したため、この接続元からのログインを %[3]s ロックしました（他の接続元からは引き続きログインできます）",
			"logins to this user name from client %[1]s locked for %[3]s after %[2]d failures in a row (other clients can still log in)",
			l.key.client, l.failures, span(l.period))
	}
	return msg.Sprintf("接続元 %[1]s からのログインに（ユーザー名を問わず）%[2]d 回続けて失敗したため、この接続元を %[3]s ロックしました",
		"client %[1]s locked for %[3]s after %[2]d failed logins in a row across user names",
		l.key.client, l.failures, span(l.period))
}

// span is a lock's length in words: "15分" / "15 min".
func span(d time.Duration) msg.Text {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return msg.Sprintf("%d時間", "%d h", int(d/time.Hour))
	case d >= time.Minute:
		return msg.Sprintf("%d分", "%d min", int(d/time.Minute))
	}
	return msg.Sprintf("%d秒", "%d s", int(d/time.Second))
}

// Users lists the accounts (never with passwords or hashes).
func (a *Auth) Users() []User { return a.users.list() }

// User returns one account.
func (a *Auth) User(name string) (User, bool) {
	u, ok := a.users.get(normalizeUserName(name))
	return u.User, ok
}

// AddUser creates an account. actor is the user doing it, for the audit.
func (a *Auth) AddUser(ctx context.Context, actor, name string, role Role, password string) error {
	name = normalizeUserName(name)
	if err := validUserName(name); err != nil {
		return err
	}
	if !role.Valid() {
		return ErrInvalidRole
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	h, err := a.hash(ctx, password)
	if err != nil {
		return msg.Errorf("ユーザー %s を追加できません: %w", "add user %s: %w", name, err)
	}
	now := a.now()
	if err := a.users.add(userRecord{User: User{Name: name, Role: role, Created: now, PasswordChanged: now}, Hash: h}, false); err != nil {
		return msg.Errorf("ユーザー %s を追加できません: %w", "add user %s: %w", name, err)
	}
	a.audit(actor, AuditUserAdd, msg.Sprintf("ユーザー %s を役割 %s で追加", "added user %s with role %s", name, role))
	return nil
}

// RemoveUser deletes an account and ends its sessions. The last vendor
// admin cannot be removed (ErrLastAdmin).
func (a *Auth) RemoveUser(actor, name string) error {
	name = normalizeUserName(name)
	if err := a.users.remove(name); err != nil {
		return msg.Errorf("ユーザー %s を削除できません: %w", "remove user %s: %w", name, err)
	}
	a.sessions.destroyUser(name)
	a.audit(actor, AuditUserRemove, msg.Sprintf("ユーザー %s を削除", "removed user %s", name))
	return nil
}

// SetRole changes an account's role; it applies to the user's open
// sessions at their next request. The last vendor admin keeps the role.
func (a *Auth) SetRole(actor, name string, role Role) error {
	name = normalizeUserName(name)
	if !role.Valid() {
		return ErrInvalidRole
	}
	old, ok := a.users.get(name)
	if !ok {
		return msg.Errorf("%s の役割を変更できません: %w", "set role of %s: %w", name, ErrNoSuchUser)
	}
	if err := a.users.setRole(name, role); err != nil {
		return msg.Errorf("%s の役割を変更できません: %w", "set role of %s: %w", name, err)
	}
	a.audit(actor, AuditUserRole, msg.Sprintf("%s の役割を %s から %s に変更", "role of %s changed from %s to %s", name, old.Role, role))
	return nil
}

// SetPassword sets a new password (an admin's reset, or the user's own
// change after ChangeOwnPassword's check) and ends the user's sessions.
func (a *Auth) SetPassword(ctx context.Context, actor, name, password string) error {
	name = normalizeUserName(name)
	if err := checkPassword(password); err != nil {
		return err
	}
	if _, ok := a.users.get(name); !ok {
		return msg.Errorf("%s のパスワードを変更できません: %w", "set password of %s: %w", name, ErrNoSuchUser)
	}
	h, err := a.hash(ctx, password)
	if err != nil {
		return msg.Errorf("%s のパスワードを変更できません: %w", "set password of %s: %w", name, err)
	}
	if err := a.users.setHash(name, h, "", a.now()); err != nil {
		return msg.Errorf("%s のパスワードを変更できません: %w", "set password of %s: %w", name, err)
	}
	a.sessions.destroyUser(name)
	a.audit(actor, AuditUserPassword, msg.Sprintf("%s のパスワードを変更", "password of %s changed", name))
	return nil
}

// ChangeOwnPassword checks the current password (under the login rate
// limit) before setting a new one. All of the user's sessions end, the
// caller's too: the user logs in again with the new password.
func (a *Auth) ChangeOwnPassword(ctx context.Context, name, current, password, client string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	u, err := a.authenticate(ctx, name, current, client)
	if err != nil {
		return err
	}
	return a.SetPassword(ctx, u.Name, u.Name, password)
}
