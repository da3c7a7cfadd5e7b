package token

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var key = []byte(strings.Repeat("k", 32))

func newIssuer(t *testing.T, now func() time.Time) *Issuer {
	t.Helper()
	i, err := New(Options{Key: key, Issuer: "storefront", Audience: "storefront-api", TTL: 15 * time.Minute, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func sign(t *testing.T, m jwt.SigningMethod, k any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssueAndVerify(t *testing.T) {
	t.Parallel()
	i := newIssuer(t, nil)
	raw, exp, err := i.Issue(42, "sess", "ADMIN")
	if err != nil {
		t.Fatal(err)
	}
	c, err := i.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != 42 || c.SessionID != "sess" || c.Role != "ADMIN" || !c.ExpiresAt.Equal(exp) {
		t.Fatalf("claims = %+v", c)
	}
	if d := time.Until(exp); d < 14*time.Minute || d > 15*time.Minute {
		t.Fatalf("expires in %v; want 15 minutes", d)
	}
}

func TestVerifyRefusesForgedAndIncompleteTokens(t *testing.T) {
	t.Parallel()
	i := newIssuer(t, nil)
	now := time.Now()
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "42", "sid": "sess", "role": "CUSTOMER", "iss": "storefront",
			"aud": "storefront-api", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	}
	without := func(k string) jwt.MapClaims { c := valid(); delete(c, k); return c }
	with := func(k string, v any) jwt.MapClaims { c := valid(); c[k] = v; return c }
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, valid()).SignedString(jwt.UnsafeAllowNoneSignatureType)

	if _, err := i.Verify(sign(t, jwt.SigningMethodHS256, key, valid())); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	for name, raw := range map[string]string{
		"alg none":        none,
		"other key":       sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), valid()),
		"HS512":           sign(t, jwt.SigningMethodHS512, key, valid()),
		"expired":         sign(t, jwt.SigningMethodHS256, key, with("exp", now.Add(-time.Minute).Unix())),
		"no exp":          sign(t, jwt.SigningMethodHS256, key, without("exp")),
		"no iat":          sign(t, jwt.SigningMethodHS256, key, without("iat")),
		"other issuer":    sign(t, jwt.SigningMethodHS256, key, with("iss", "someone-else")),
		"other audience":  sign(t, jwt.SigningMethodHS256, key, with("aud", "another-api")),
		"no sid":          sign(t, jwt.SigningMethodHS256, key, without("sid")),
		"non-numeric sub": sign(t, jwt.SigningMethodHS256, key, with("sub", "admin")),
		"garbage":         "not.a.token",
	} {
		if _, err := i.Verify(raw); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Verify err = %v; want ErrInvalid", name, err)
		}
	}
}

func TestNewRefusesShortKeys(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{Key: []byte("short"), Issuer: "i", Audience: "a", TTL: time.Minute}); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

// BenchmarkVerify is the CPU part of authenticating a request: HMAC check and claim validation.
func BenchmarkVerify(b *testing.B) {
	i, err := New(Options{Key: key, Issuer: "storefront", Audience: "storefront-api", TTL: 15 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	raw, _, _ := i.Issue(42, "sess", "CUSTOMER")
	for b.Loop() {
		if _, err := i.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}
