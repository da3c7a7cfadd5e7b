package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"storefront/domain/apperr"
)

// Session is one sign-in: a device that holds a refresh token. Access tokens name it, so ending
// it ends every access token issued for it at once.
type Session struct {
	ID     string
	UserID int64
	// RefreshHash is the SHA-256 of the current refresh token; the token itself is never stored.
	RefreshHash string
	CreatedAt   time.Time
	// LastUsedAt is the last sign-in or refresh: the idle timeout counts from it.
	LastUsedAt time.Time
	// ExpiresAt is the absolute end of the session, whatever its use.
	ExpiresAt time.Time
	// RevokedAt is set when the session was ended by logout, logoutAll or refresh-token reuse.
	RevokedAt *time.Time
	UserAgent string
	IP        string
}

// SessionStatus is what every request checks about its session: cheap to cache, and without the
// refresh hash.
type SessionStatus struct {
	UserID     int64     `json:"u"`
	LastUsedAt time.Time `json:"l"`
	ExpiresAt  time.Time `json:"e"`
	Revoked    bool      `json:"r,omitempty"`
}

// Status returns the per-request view of the session.
func (s Session) Status() SessionStatus {
	return SessionStatus{UserID: s.UserID, LastUsedAt: s.LastUsedAt, ExpiresAt: s.ExpiresAt, Revoked: s.RevokedAt != nil}
}

// SessionPolicy bounds how long a session lives.
type SessionPolicy struct {
	// IdleTimeout ends a session not refreshed for this long.
	IdleTimeout time.Duration
	// AbsoluteLifetime ends a session this long after sign-in, however active, so a stolen refresh
	// token cannot be kept alive forever.
	AbsoluteLifetime time.Duration
}

// EndsAt is when the session stops being valid if nothing else happens: the earlier of its idle
// deadline and its absolute end.
func (p SessionPolicy) EndsAt(s SessionStatus) time.Time {
	idle := s.LastUsedAt.Add(p.IdleTimeout)
	if idle.Before(s.ExpiresAt) {
		return idle
	}
	return s.ExpiresAt
}

// Check reports whether the session may still be used at now.
func (p SessionPolicy) Check(s SessionStatus, now time.Time) error {
	switch {
	case s.Revoked:
		return ErrSessionEnded
	case !now.Before(p.EndsAt(s)):
		return ErrSessionExpired
	}
	return nil
}

// Session failures. Each is an apperr.ErrUnauthenticated, so callers and the error presenter treat
// them alike: the client must sign in again.
var (
	ErrSessionEnded   = fmt.Errorf("%w: session ended", apperr.ErrUnauthenticated)
	ErrSessionExpired = fmt.Errorf("%w: session expired", apperr.ErrUnauthenticated)
	// ErrRefreshReused: a refresh token that was already swapped was presented again. Either the
	// client or a thief holds a copy; the session is revoked, so neither can go on.
	ErrRefreshReused = fmt.Errorf("%w: refresh token reused; session revoked", apperr.ErrUnauthenticated)
	// ErrInvalidRefresh: the refresh token is malformed or unknown.
	ErrInvalidRefresh = fmt.Errorf("%w: invalid refresh token", apperr.ErrUnauthenticated)
	// ErrInvalidToken: the access token is malformed, forged or expired.
	ErrInvalidToken = fmt.Errorf("%w: invalid access token", apperr.ErrUnauthenticated)
)

// RefreshMatch says how a presented refresh token relates to the session it names.
type RefreshMatch int

const (
	// RefreshCurrent: the session's current refresh token.
	RefreshCurrent RefreshMatch = iota
	// RefreshRotated: a token of this session that was already swapped for a newer one.
	RefreshRotated
	// RefreshUnknown: no token this session ever had.
	RefreshUnknown
)

// SessionChange is what a refresh does to a session, applied by the store in the same transaction
// that read it.
type SessionChange struct {
	// NewRefreshHash, when set, replaces the current refresh hash; the old one is remembered as
	// rotated, and LastUsedAt becomes At.
	NewRefreshHash string
	// Revoke ends the session at At.
	Revoke bool
	At     time.Time
}

// decideRefresh is the rotation rule: the current token is swapped for a new one; a token already
// swapped away revokes the whole session (it was copied); anything else is refused.
func (p SessionPolicy) decideRefresh(s Session, m RefreshMatch, newHash string, now time.Time) (SessionChange, error) {
	switch m {
	case RefreshCurrent:
		if err := p.Check(s.Status(), now); err != nil {
			return SessionChange{}, err
		}
		return SessionChange{NewRefreshHash: newHash, At: now}, nil
	case RefreshRotated:
		if s.RevokedAt != nil {
			return SessionChange{}, ErrRefreshReused
		}
		return SessionChange{Revoke: true, At: now}, ErrRefreshReused
	default:
		return SessionChange{}, ErrInvalidRefresh
	}
}

// newSessionID returns 128 random bits, base64url.
func newSessionID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newRefreshToken returns "<session id>.<256 random bits>": the session id lets a refresh find its
// row without an index on the secret, and the secret is what proves possession.
func newRefreshToken(sessionID string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("refresh token: %w", err)
	}
	return sessionID + "." + base64.RawURLEncoding.EncodeToString(b), nil
}

// parseRefreshToken returns the session id inside a refresh token.
func parseRefreshToken(token string) (sessionID string, ok bool) {
	sid, secret, found := strings.Cut(token, ".")
	if !found || len(sid) != 22 || len(secret) != 43 {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(sid); err != nil {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", false
	}
	return sid, true
}

// HashRefreshToken returns the hex SHA-256 of a refresh token, the form in which it is stored. A
// fast hash is right here: the token has 256 random bits, so there is nothing to brute-force.
func HashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
