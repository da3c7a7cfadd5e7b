package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"storefront/domain/apperr"
	"storefront/domain/identity/token"
)

// UserStore keeps accounts.
type UserStore interface {
	// CreateUser stores a new account and returns it with its id; ErrEmailTaken when the email is
	// in use.
	CreateUser(ctx context.Context, u User) (User, error)
	// UserByEmail finds an account by normalised email; apperr.ErrNotFound when there is none.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserByID finds an account; apperr.ErrNotFound when there is none.
	UserByID(ctx context.Context, id int64) (User, error)
	// UpdateUserName changes the display name.
	UpdateUserName(ctx context.Context, id int64, name string) (User, error)
	// UpdatePasswordHash replaces the stored hash, e.g. after the hashing parameters were raised.
	UpdatePasswordHash(ctx context.Context, id int64, hash string) error
}

// AddressStore keeps users' saved addresses. Every method is scoped to one user: an address of
// someone else is apperr.ErrNotFound, never its data.
type AddressStore interface {
	// Addresses lists the user's addresses, the default first, then newest first.
	Addresses(ctx context.Context, userID int64) ([]Address, error)
	// Address returns one of the user's addresses.
	Address(ctx context.Context, userID, id int64) (Address, error)
	// AddAddress saves a new address. It becomes the default when makeDefault is set or the user
	// has no default yet, so a user with addresses always has a default. ErrTooManyAddresses when
	// the user already has limit addresses.
	AddAddress(ctx context.Context, userID int64, f AddressFields, makeDefault bool, limit int) (Address, error)
	// UpdateAddress rewrites one of the user's addresses, and makes it the default when asked.
	UpdateAddress(ctx context.Context, userID, id int64, f AddressFields, makeDefault bool) (Address, error)
	// RemoveAddress deletes one of the user's addresses. When it was the default, the newest
	// remaining one takes its place.
	RemoveAddress(ctx context.Context, userID, id int64) error
}

// SessionStore keeps sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	// SessionStatus returns what a request checks; apperr.ErrNotFound for an unknown id.
	SessionStatus(ctx context.Context, id string) (SessionStatus, error)
	// RotateRefresh locks the session, tells decide how presentedHash relates to it, applies the
	// change decide returns in the same transaction and commits it, then returns the session after
	// the change together with decide's error. apperr.ErrNotFound for an unknown id.
	RotateRefresh(ctx context.Context, id, presentedHash string,
		decide func(Session, RefreshMatch) (SessionChange, error)) (Session, error)
	// RevokeSession ends one session of the user; false when it was not active.
	RevokeSession(ctx context.Context, userID int64, id string, at time.Time) (bool, error)
	// RevokeUserSessions ends every active session of the user and returns their ids.
	RevokeUserSessions(ctx context.Context, userID int64, at time.Time) ([]string, error)
}

// RevocationPublisher tells every server instance that sessions ended, so they close the
// subscriptions those sessions hold open.
type RevocationPublisher interface {
	PublishRevoked(ctx context.Context, sessionIDs ...string) error
}

// Config shapes the service.
type Config struct {
	Sessions SessionPolicy
	// Logins limits sign-in attempts; nil turns limiting off (load tests only).
	Logins *LoginLimits
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Deps are the stores and helpers the service runs on.
type Deps struct {
	Users     UserStore
	Addresses AddressStore
	Sessions  SessionStore
	// Failures counts failed logins; required when Config.Logins is set.
	Failures    FailureCounter
	Revocations RevocationPublisher
	Hasher      *Hasher
	Tokens      *token.Issuer
	Log         *slog.Logger
}

// Service runs accounts, sign-in and sessions.
type Service struct {
	Deps
	cfg Config
	now func() time.Time
}

// NewService returns the identity service.
func NewService(d Deps, cfg Config) (*Service, error) {
	if d.Users == nil || d.Addresses == nil || d.Sessions == nil || d.Revocations == nil || d.Hasher == nil || d.Tokens == nil {
		return nil, errors.New("identity: missing dependency")
	}
	if cfg.Logins != nil && d.Failures == nil {
		return nil, errors.New("identity: login limits need a failure counter")
	}
	if cfg.Sessions.IdleTimeout <= 0 || cfg.Sessions.AbsoluteLifetime <= 0 {
		return nil, errors.New("identity: session idle timeout and lifetime must be positive")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Service{Deps: d, cfg: cfg, now: now}, nil
}

// Policy returns the session policy in force.
func (s *Service) Policy() SessionPolicy { return s.cfg.Sessions }

// Client describes where a sign-in comes from, kept on the session for the user's own review.
type Client struct {
	IP        string
	UserAgent string
}

// Auth is a started or refreshed session: what the client keeps.
type Auth struct {
	User         User
	SessionID    string
	AccessToken  string
	RefreshToken string
	// AccessExpiresAt is when AccessToken stops working.
	AccessExpiresAt time.Time
}

// RegisterInput is a new account's form.
type RegisterInput struct {
	Email    string
	Password string
	Name     string
}

// Register creates an account and signs it in.
func (s *Service) Register(ctx context.Context, in RegisterInput, c Client) (Auth, error) {
	email, name := NormalizeEmail(in.Email), NormalizeName(in.Name)
	if err := collect(ValidateEmail(email), ValidateName(name), CheckPassword(in.Password)); err != nil {
		return Auth{}, err
	}
	hash, err := s.Hasher.Hash(in.Password)
	if err != nil {
		return Auth{}, fmt.Errorf("register: %w", err)
	}
	u, err := s.Users.CreateUser(ctx, User{Email: email, Name: name, Role: RoleCustomer, PasswordHash: hash})
	if err != nil {
		return Auth{}, fmt.Errorf("register: %w", err)
	}
	return s.startSession(ctx, u, c)
}

// Login checks credentials and starts a session. Unknown email and wrong password fail alike,
// with ErrInvalidCredentials and in about the same time. Repeated failures are slowed down (see
// LoginLimits) with an *apperr.RateLimitError.
func (s *Service) Login(ctx context.Context, email, password string, c Client) (Auth, error) {
	email = NormalizeEmail(email)
	keys := newLoginKeys(email, c.IP)
	if err := s.admitLogin(ctx, keys); err != nil {
		return Auth{}, err
	}
	// From here the attempt is counted as a failure unless it succeeds.
	u, err := s.Users.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		s.Hasher.VerifyDummy(password)
		return Auth{}, ErrInvalidCredentials
	case err != nil:
		return Auth{}, fmt.Errorf("login: %w", err)
	}
	ok, err := s.Hasher.Verify(password, u.PasswordHash)
	if err != nil {
		return Auth{}, fmt.Errorf("login: verify password of user %d: %w", u.ID, err)
	}
	if !ok {
		return Auth{}, ErrInvalidCredentials
	}
	s.loginSucceeded(ctx, keys)
	if s.Hasher.NeedsRehash(u.PasswordHash) {
		if h, err := s.Hasher.Hash(password); err == nil {
			if err := s.Users.UpdatePasswordHash(ctx, u.ID, h); err != nil {
				s.Log.WarnContext(ctx, "rehash password", "user", u.ID, "err", err)
			}
		}
	}
	return s.startSession(ctx, u, c)
}

// admitLogin refuses an attempt that comes before its back-off ended, and otherwise counts it
// (as a failure until it succeeds) before the password is checked. An attempt refused here is not
// counted, so hammering during a back-off does not stretch it. When the counter is unreachable,
// sign-in goes on unlimited: locking every user out because Redis hiccups is worse than a few
// unthrottled guesses against argon2id.
func (s *Service) admitLogin(ctx context.Context, keys loginKeys) error {
	l := s.cfg.Logins
	if l == nil {
		return nil
	}
	recs, err := s.Failures.Failures(ctx, keys.all()...)
	if err != nil {
		s.Log.WarnContext(ctx, "read login attempts; not limiting", "err", err)
		return nil
	}
	now := s.now()
	if wait := l.wait(recs, now); wait > 0 {
		return &apperr.RateLimitError{RetryAfter: wait}
	}
	counts, err := s.Failures.Charge(ctx, now, l.ttl(), keys.all()...)
	if err != nil {
		s.Log.WarnContext(ctx, "count login attempt; not limiting", "err", err)
		return nil
	}
	if wait := l.raced(recs, counts); wait > 0 {
		return &apperr.RateLimitError{RetryAfter: wait}
	}
	return nil
}

// loginSucceeded clears the account's counters (the owner got in, so earlier failures, perhaps
// someone else's, no longer hold it back) and takes this attempt off the IP's count.
func (s *Service) loginSucceeded(ctx context.Context, keys loginKeys) {
	if s.cfg.Logins == nil {
		return
	}
	if err := s.Failures.Reset(ctx, keys.accountIP, keys.account); err != nil {
		s.Log.WarnContext(ctx, "reset login attempts", "err", err)
	}
	if err := s.Failures.Forgive(ctx, keys.ip); err != nil {
		s.Log.WarnContext(ctx, "forgive login attempt", "err", err)
	}
}

func (s *Service) startSession(ctx context.Context, u User, c Client) (Auth, error) {
	sid, err := newSessionID()
	if err != nil {
		return Auth{}, err
	}
	refresh, err := newRefreshToken(sid)
	if err != nil {
		return Auth{}, err
	}
	now := s.now()
	sess := Session{
		ID: sid, UserID: u.ID, RefreshHash: HashRefreshToken(refresh),
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(s.cfg.Sessions.AbsoluteLifetime),
		UserAgent: truncate(c.UserAgent, 300), IP: c.IP,
	}
	if err := s.Sessions.CreateSession(ctx, sess); err != nil {
		return Auth{}, fmt.Errorf("start session: %w", err)
	}
	access, exp, err := s.Tokens.Issue(u.ID, sid, string(u.Role))
	if err != nil {
		return Auth{}, err
	}
	return Auth{User: u, SessionID: sid, AccessToken: access, RefreshToken: refresh, AccessExpiresAt: exp}, nil
}

// Refresh swaps a refresh token for a new pair. The old token stops working; presenting it again
// later revokes the session (ErrRefreshReused). The user's current role goes into the new access
// token, so a role change takes effect at the next refresh.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Auth, error) {
	sid, ok := parseRefreshToken(refreshToken)
	if !ok {
		return Auth{}, ErrInvalidRefresh
	}
	next, err := newRefreshToken(sid)
	if err != nil {
		return Auth{}, err
	}
	now := s.now()
	var revoked bool
	sess, err := s.Sessions.RotateRefresh(ctx, sid, HashRefreshToken(refreshToken),
		func(cur Session, m RefreshMatch) (SessionChange, error) {
			ch, err := s.cfg.Sessions.decideRefresh(cur, m, HashRefreshToken(next), now)
			revoked = ch.Revoke
			return ch, err
		})
	if revoked {
		s.Log.WarnContext(ctx, "refresh token reused: session revoked", "session", sid)
		s.publishRevoked(ctx, sid)
	}
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		return Auth{}, ErrInvalidRefresh
	case err != nil:
		return Auth{}, fmt.Errorf("refresh session: %w", err)
	}
	u, err := s.Users.UserByID(ctx, sess.UserID)
	if errors.Is(err, apperr.ErrNotFound) {
		return Auth{}, ErrSessionEnded // the account is gone
	}
	if err != nil {
		return Auth{}, fmt.Errorf("refresh session: %w", err)
	}
	access, exp, err := s.Tokens.Issue(u.ID, sid, string(u.Role))
	if err != nil {
		return Auth{}, err
	}
	return Auth{User: u, SessionID: sid, AccessToken: access, RefreshToken: next, AccessExpiresAt: exp}, nil
}

// Authenticate turns an access token into the caller: the signature and claims must hold and the
// session must still be active. Every refusal wraps apperr.ErrUnauthenticated; other errors mean
// the session could not be checked at all.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (Principal, error) {
	claims, err := s.Tokens.Verify(accessToken)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	p := Principal{UserID: claims.UserID, SessionID: claims.SessionID, Role: Role(claims.Role)}
	if err := s.CheckSession(ctx, p); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// Logout ends the caller's session at once, on every instance.
func (s *Service) Logout(ctx context.Context, p Principal) error {
	ended, err := s.Sessions.RevokeSession(ctx, p.UserID, p.SessionID, s.now())
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if ended {
		s.publishRevoked(ctx, p.SessionID)
	}
	return nil
}

// LogoutAll ends every session of the caller, this one included.
func (s *Service) LogoutAll(ctx context.Context, p Principal) error {
	ids, err := s.Sessions.RevokeUserSessions(ctx, p.UserID, s.now())
	if err != nil {
		return fmt.Errorf("logout everywhere: %w", err)
	}
	s.publishRevoked(ctx, ids...)
	return nil
}

// publishRevoked is best effort: the revocation is already durable and every later request is
// refused; only open subscriptions on other instances wait for their periodic re-check.
func (s *Service) publishRevoked(ctx context.Context, ids ...string) {
	if len(ids) == 0 {
		return
	}
	if err := s.Revocations.PublishRevoked(context.WithoutCancel(ctx), ids...); err != nil {
		s.Log.WarnContext(ctx, "publish session revocation", "err", err)
	}
}

// User returns an account.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	u, err := s.Users.UserByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("load user: %w", err)
	}
	return u, nil
}

// UpdateProfile changes the caller's own profile; nil fields stay as they are.
func (s *Service) UpdateProfile(ctx context.Context, userID int64, name *string) (User, error) {
	if name == nil {
		return s.User(ctx, userID)
	}
	n := NormalizeName(*name)
	if err := collect(ValidateName(n)); err != nil {
		return User{}, err
	}
	u, err := s.Users.UpdateUserName(ctx, userID, n)
	if err != nil {
		return User{}, fmt.Errorf("update profile: %w", err)
	}
	return u, nil
}

// Addresses lists the user's saved addresses, the default first.
func (s *Service) Addresses(ctx context.Context, userID int64) ([]Address, error) {
	as, err := s.Deps.Addresses.Addresses(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	return as, nil
}

// Address returns one of the user's addresses; apperr.ErrNotFound for anyone else's.
func (s *Service) Address(ctx context.Context, userID, id int64) (Address, error) {
	a, err := s.Deps.Addresses.Address(ctx, userID, id)
	if err != nil {
		return Address{}, fmt.Errorf("load address: %w", err)
	}
	return a, nil
}

// AddAddress validates and saves a new address for the user.
func (s *Service) AddAddress(ctx context.Context, userID int64, f AddressFields, makeDefault bool) (Address, error) {
	f = f.Normalize()
	if err := f.Validate(); err != nil {
		return Address{}, err
	}
	a, err := s.Deps.Addresses.AddAddress(ctx, userID, f, makeDefault, MaxAddresses)
	if err != nil {
		return Address{}, fmt.Errorf("add address: %w", err)
	}
	return a, nil
}

// UpdateAddress validates and rewrites one of the user's addresses.
func (s *Service) UpdateAddress(ctx context.Context, userID, id int64, f AddressFields, makeDefault bool) (Address, error) {
	f = f.Normalize()
	if err := f.Validate(); err != nil {
		return Address{}, err
	}
	a, err := s.Deps.Addresses.UpdateAddress(ctx, userID, id, f, makeDefault)
	if err != nil {
		return Address{}, fmt.Errorf("update address: %w", err)
	}
	return a, nil
}

// RemoveAddress deletes one of the user's addresses.
func (s *Service) RemoveAddress(ctx context.Context, userID, id int64) error {
	if err := s.Deps.Addresses.RemoveAddress(ctx, userID, id); err != nil {
		return fmt.Errorf("remove address: %w", err)
	}
	return nil
}

// truncate cuts s to at most n bytes of valid UTF-8 without NULs, which Postgres text refuses.
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
}

// CheckSession reports whether the caller's session is still active; long-lived connections call
// it now and then.
func (s *Service) CheckSession(ctx context.Context, p Principal) error {
	st, err := s.Sessions.SessionStatus(ctx, p.SessionID)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		return ErrSessionEnded
	case err != nil:
		return fmt.Errorf("check session: %w", err)
	}
	if st.UserID != p.UserID {
		return ErrSessionEnded
	}
	return s.cfg.Sessions.Check(st, s.now())
}
