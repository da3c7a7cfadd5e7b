package identity

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pw   string
		weak bool
	}{
		{"", true},
		{"123456789", true},
		{"1234567890", false},
		{"ééééééééé", true}, // nine characters, eighteen bytes: length counts characters
		{"éééééééééé", false},
		{strings.Repeat("a", 256), false},
		{strings.Repeat("a", 257), true},
	} {
		err := CheckPassword(tc.pw)
		if (err != nil) != tc.weak {
			t.Errorf("CheckPassword(%d chars) = %v; weak want %v", len([]rune(tc.pw)), err, tc.weak)
		}
		if err != nil && err.Code != CodeWeakPassword {
			t.Errorf("code = %q; want %s", err.Code, CodeWeakPassword)
		}
	}
}

func TestHasherRoundTripAndFormat(t *testing.T) {
	t.Parallel()
	h, err := NewHasher(OWASPParams)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with OWASP parameters", enc)
	}
	if ok, err := h.Verify("correct horse battery", enc); !ok || err != nil {
		t.Fatalf("Verify(right) = %v, %v", ok, err)
	}
	if ok, _ := h.Verify("correct horse batterY", enc); ok {
		t.Fatal("Verify(wrong) = true")
	}
	again, _ := h.Hash("correct horse battery")
	if again == enc {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	if h.NeedsRehash(enc) {
		t.Fatal("NeedsRehash of a current hash = true")
	}
	weaker, _ := NewHasher(Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	old, _ := weaker.Hash("pw-of-old-params")
	if !h.NeedsRehash(old) {
		t.Fatal("NeedsRehash of a weaker hash = false")
	}
	if ok, err := h.Verify("pw-of-old-params", old); !ok || err != nil {
		t.Fatalf("a hash made with other parameters must still verify: %v, %v", ok, err)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"} {
		if _, err := h.Verify("x", bad); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) err = %v; want ErrMalformedHash", bad, err)
		}
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	t.Parallel()
	b := Backoff{Free: 3, Base: time.Second, Max: 10 * time.Second}
	want := []time.Duration{0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for n, w := range want {
		if got := b.Delay(n); got != w {
			t.Errorf("Delay(%d) = %v; want %v", n, got, w)
		}
	}
	if got := b.Delay(1000); got != b.Max {
		t.Errorf("Delay(1000) = %v; want the cap", got)
	}
}

func TestEmailNormalisationAndValidation(t *testing.T) {
	t.Parallel()
	if got := NormalizeEmail("  Ann.Lee@Example.COM "); got != "ann.lee@example.com" {
		t.Errorf("NormalizeEmail = %q", got)
	}
	for _, e := range []string{"ann@example.com", "a+tag@mail.example.org"} {
		if err := ValidateEmail(e); err != nil {
			t.Errorf("ValidateEmail(%q) = %v", e, err)
		}
	}
	for _, e := range []string{"", "ann", "ann@", "ann@localhost", "Ann <ann@example.com>", "a@b.", strings.Repeat("a", 250) + "@example.com"} {
		if err := ValidateEmail(e); err == nil {
			t.Errorf("ValidateEmail(%q) = nil; want an error", e)
		}
	}
}

func TestAddressValidation(t *testing.T) {
	t.Parallel()
	good := AddressFields{Name: " Ann Lee ", Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "us"}.Normalize()
	if err := good.Validate(); err != nil {
		t.Fatalf("valid address refused: %v", err)
	}
	if good.Country != "US" || good.Name != "Ann Lee" {
		t.Fatalf("Normalize = %+v", good)
	}
	bad := AddressFields{Line1: strings.Repeat("x", 201), City: "X", PostalCode: "1", Country: "XX"}.Normalize()
	var v *ValidationError
	if err := bad.Validate(); !errors.As(err, &v) {
		t.Fatalf("Validate = %v; want a ValidationError", err)
	}
	fields := map[string]bool{}
	for _, f := range v.Fields {
		fields[f.Field] = true
	}
	for _, f := range []string{"name", "line1", "country"} {
		if !fields[f] {
			t.Errorf("no error for %s in %+v", f, v.Fields)
		}
	}
	if len(countryCodes) != 249 {
		t.Errorf("%d country codes; ISO 3166-1 assigns 249", len(countryCodes))
	}
}

func TestRefreshTokenFormat(t *testing.T) {
	t.Parallel()
	sid, _ := newSessionID()
	tok, err := newRefreshToken(sid)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := parseRefreshToken(tok); !ok || got != sid {
		t.Fatalf("parseRefreshToken(%q) = %q, %v; want %q", tok, got, ok, sid)
	}
	for _, bad := range []string{"", sid, sid + ".", "x.y", sid + "." + strings.Repeat("!", 43)} {
		if _, ok := parseRefreshToken(bad); ok {
			t.Errorf("parseRefreshToken(%q) accepted", bad)
		}
	}
}

func TestSessionPolicy(t *testing.T) {
	t.Parallel()
	p := SessionPolicy{IdleTimeout: time.Hour, AbsoluteLifetime: 24 * time.Hour}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := SessionStatus{UserID: 1, LastUsedAt: start, ExpiresAt: start.Add(p.AbsoluteLifetime)}
	if err := p.Check(st, start.Add(59*time.Minute)); err != nil {
		t.Errorf("fresh session refused: %v", err)
	}
	if err := p.Check(st, start.Add(time.Hour)); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("idle session: %v; want ErrSessionExpired", err)
	}
	st.LastUsedAt = start.Add(23*time.Hour + 30*time.Minute)
	if err := p.Check(st, start.Add(24*time.Hour)); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("session past its absolute lifetime: %v; want ErrSessionExpired", err)
	}
	st.Revoked = true
	if err := p.Check(st, start); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("revoked session: %v; want ErrSessionEnded", err)
	}

	sess := Session{ID: "s", UserID: 1, LastUsedAt: start, ExpiresAt: start.Add(p.AbsoluteLifetime)}
	if ch, err := p.decideRefresh(sess, RefreshCurrent, "new", start.Add(time.Minute)); err != nil || ch.NewRefreshHash != "new" {
		t.Errorf("current token: %+v, %v; want a rotation", ch, err)
	}
	if ch, err := p.decideRefresh(sess, RefreshRotated, "new", start); !errors.Is(err, ErrRefreshReused) || !ch.Revoke {
		t.Errorf("rotated token: %+v, %v; want revocation", ch, err)
	}
	if ch, err := p.decideRefresh(sess, RefreshUnknown, "new", start); !errors.Is(err, ErrInvalidRefresh) || ch.Revoke || ch.NewRefreshHash != "" {
		t.Errorf("unknown token: %+v, %v; want a refusal that changes nothing", ch, err)
	}
}

func TestLoginLimitsWaitAndRace(t *testing.T) {
	t.Parallel()
	l := LoginLimits{
		AccountIP: Backoff{Free: 2, Base: time.Second, Max: time.Minute},
		Account:   Backoff{Free: 10, Base: time.Second, Max: time.Minute},
		IP:        Backoff{Free: 10, Base: time.Second, Max: time.Minute},
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	recs := []FailureRecord{{Count: 4, Last: now.Add(-time.Second)}, {Count: 4, Last: now}, {}}
	// Per account and IP: Delay(4) = 2 s after the last attempt a second ago.
	if w := l.wait(recs, now); w != time.Second {
		t.Fatalf("wait = %v; want 1s", w)
	}
	if w := l.wait([]FailureRecord{{Count: 2, Last: now}, {}, {}}, now); w != 0 {
		t.Fatalf("wait within the free tries = %v; want 0", w)
	}
	before := []FailureRecord{{Count: 1}, {Count: 1}, {Count: 1}}
	if w := l.raced(before, []int{2, 2, 2}); w != 0 {
		t.Fatalf("no concurrent attempt: raced = %v; want 0", w)
	}
	if w := l.raced(before, []int{5, 5, 5}); w != 2*time.Second {
		t.Fatalf("three concurrent attempts ahead: raced = %v; want Delay(4) = 2s", w)
	}
}
