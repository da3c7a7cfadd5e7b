// Package token issues and verifies the short-lived access tokens: HS256-signed JWTs whose claims
// name the user (sub), the session (sid) and the role. Verification accepts HS256 only and
// requires exp, iat, the issuer and the audience, so a token with "alg": "none", one signed for
// another service, or one without an expiry never passes.
package token

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are what an access token says about its bearer.
type Claims struct {
	UserID    int64
	SessionID string
	Role      string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// ErrInvalid wraps every reason a token is refused; the reason itself stays in the server log.
var ErrInvalid = errors.New("invalid access token")

// MinKeyLength is the shortest HS256 key accepted, in bytes: RFC 7518 wants at least the hash size.
const MinKeyLength = 32

// Issuer signs and verifies access tokens with one key.
type Issuer struct {
	key      []byte
	issuer   string
	audience string
	ttl      time.Duration
	parser   *jwt.Parser
	now      func() time.Time
}

// Options configure an Issuer.
type Options struct {
	Key      []byte
	Issuer   string
	Audience string
	// TTL is how long a token is valid after issue.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New returns an issuer.
func New(o Options) (*Issuer, error) {
	switch {
	case len(o.Key) < MinKeyLength:
		return nil, fmt.Errorf("access token key must be at least %d bytes", MinKeyLength)
	case o.Issuer == "" || o.Audience == "":
		return nil, errors.New("access token issuer and audience are required")
	case o.TTL <= 0:
		return nil, errors.New("access token lifetime must be positive")
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Issuer{
		key: o.Key, issuer: o.Issuer, audience: o.Audience, ttl: o.TTL, now: now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithIssuer(o.Issuer),
			jwt.WithAudience(o.Audience),
			// Small clock differences between instances must not refuse fresh tokens.
			jwt.WithLeeway(5*time.Second),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// TTL returns the lifetime of the tokens this issuer makes.
func (i *Issuer) TTL() time.Duration { return i.ttl }

type jwtClaims struct {
	SessionID string `json:"sid"`
	Role      string `json:"role"`
	jwt.RegisteredClaims
}

// Issue returns a signed token for the session and when it expires.
func (i *Issuer) Issue(userID int64, sessionID, role string) (string, time.Time, error) {
	now := i.now().Truncate(time.Second)
	exp := now.Add(i.ttl)
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{
		SessionID: sessionID,
		Role:      role,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   strconv.FormatInt(userID, 10),
			Issuer:    i.issuer,
			Audience:  jwt.ClaimStrings{i.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	})
	signed, err := t.SignedString(i.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, exp, nil
}

// Verify checks the signature and claims of raw and returns them. Every failure wraps ErrInvalid.
func (i *Issuer) Verify(raw string) (Claims, error) {
	var c jwtClaims
	_, err := i.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return i.key, nil })
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	uid, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || uid <= 0 || c.SessionID == "" || c.Role == "" || c.IssuedAt == nil {
		return Claims{}, fmt.Errorf("%w: missing or malformed sub, sid, role or iat", ErrInvalid)
	}
	return Claims{
		UserID: uid, SessionID: c.SessionID, Role: c.Role,
		IssuedAt: c.IssuedAt.Time, ExpiresAt: c.ExpiresAt.Time,
	}, nil
}
