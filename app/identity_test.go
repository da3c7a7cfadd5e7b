package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	goredis "github.com/redis/go-redis/v9"

	"storefront/app"
	"storefront/domain/identity"
	"storefront/testsupport"
)

const meQuery = `{ me { id email name role } }`

type meAnswer struct {
	Me *struct {
		ID, Email, Name, Role string
	}
}

const refreshMutation = `mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken expiresAt user { email } } }`

type refreshAnswer struct {
	RefreshSession *struct {
		AccessToken, RefreshToken string
		ExpiresAt                 time.Time
	}
}

// mustBeSignedIn fails unless c's token is accepted.
func mustBeSignedIn(t *testing.T, c *testsupport.Client, email string) {
	t.Helper()
	var me meAnswer
	c.Do(t, meQuery, nil).Decode(t, &me)
	if me.Me == nil || me.Me.Email != email {
		t.Fatalf("me = %+v; want %s", me.Me, email)
	}
}

// mustBeRefused fails unless c's token is refused with HTTP 401 UNAUTHENTICATED.
func mustBeRefused(t *testing.T, c *testsupport.Client, why string) {
	t.Helper()
	resp := c.Do(t, meQuery, nil)
	if resp.Status != http.StatusUnauthorized || resp.ErrorCode() != "UNAUTHENTICATED" {
		t.Fatalf("%s: status %d code %q data %s; want 401 UNAUTHENTICATED", why, resp.Status, resp.ErrorCode(), resp.Data)
	}
}

func TestRegisterLoginMeLogout(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	_, info := srv.NewCustomer(t)

	c, login := srv.Login(t, strings.ToUpper(info.Email), info.Password)
	var me meAnswer
	c.Do(t, meQuery, nil).Decode(t, &me)
	if me.Me == nil || me.Me.Email != info.Email || me.Me.Role != "CUSTOMER" || me.Me.ID != login.ID || me.Me.Name != info.Name {
		t.Fatalf("me = %+v; want %s as CUSTOMER", me.Me, info.Email)
	}

	var out struct{ Logout bool }
	c.Do(t, `mutation { logout }`, nil).Decode(t, &out)
	if !out.Logout {
		t.Fatal("logout = false")
	}
	mustBeRefused(t, c, "after logout")
	if resp := srv.Client().Do(t, refreshMutation, map[string]any{"t": login.RefreshToken}); resp.ErrorCode() != "UNAUTHENTICATED" {
		t.Fatalf("refresh after logout: %q; want UNAUTHENTICATED", resp.ErrorCode())
	}

	var guest meAnswer
	srv.Client().Do(t, meQuery, nil).Decode(t, &guest)
	if guest.Me != nil {
		t.Fatalf("guest me = %+v; want null", guest.Me)
	}
}

func TestRefreshRotatesAndReuseRevokesTheSession(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	_, info := srv.NewCustomer(t)

	var first refreshAnswer
	srv.Client().Do(t, refreshMutation, map[string]any{"t": info.RefreshToken}).Decode(t, &first)
	r := first.RefreshSession
	if r == nil || r.RefreshToken == "" || r.RefreshToken == info.RefreshToken || r.AccessToken == "" {
		t.Fatalf("refresh = %+v; want a new pair", r)
	}
	if d := time.Until(r.ExpiresAt); d < 14*time.Minute || d > 15*time.Minute+time.Second {
		t.Errorf("access token expires in %v; want 15 minutes", d)
	}
	fresh := srv.Client().WithToken(r.AccessToken)
	mustBeSignedIn(t, fresh, info.Email)

	// The old refresh token again: someone holds a copy. The whole session ends.
	resp := srv.Client().Do(t, refreshMutation, map[string]any{"t": info.RefreshToken})
	if resp.ErrorCode() != "UNAUTHENTICATED" {
		t.Fatalf("reused refresh token: %q; want UNAUTHENTICATED", resp.ErrorCode())
	}
	mustBeRefused(t, fresh, "access token of a session revoked for refresh reuse")
	if resp := srv.Client().Do(t, refreshMutation, map[string]any{"t": r.RefreshToken}); resp.ErrorCode() != "UNAUTHENTICATED" {
		t.Fatalf("newest refresh token after reuse: %q; want UNAUTHENTICATED", resp.ErrorCode())
	}
	if resp := srv.Client().Do(t, refreshMutation, map[string]any{"t": "garbage"}); resp.ErrorCode() != "UNAUTHENTICATED" {
		t.Fatalf("garbage refresh token: %q; want UNAUTHENTICATED", resp.ErrorCode())
	}
}

// Two refreshes racing with one token: exactly one may get a new pair, and since the other then
// presents a rotated token, the session ends.
func TestConcurrentRefreshWithOneToken(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	_, info := srv.NewCustomer(t)
	const n = 6
	var wg sync.WaitGroup
	results := make([]testsupport.Response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = srv.Client().Do(t, refreshMutation, map[string]any{"t": info.RefreshToken})
		}()
	}
	wg.Wait()
	var won []string
	for _, resp := range results {
		if len(resp.Errors) == 0 {
			var a refreshAnswer
			resp.Decode(t, &a)
			won = append(won, a.RefreshSession.AccessToken)
		} else if resp.ErrorCode() != "UNAUTHENTICATED" {
			t.Fatalf("refresh failed with %q; want UNAUTHENTICATED", resp.ErrorCode())
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d refreshes succeeded; want exactly 1", len(won))
	}
	mustBeRefused(t, srv.Client().WithToken(won[0]), "session after a replayed refresh token")
}

func TestForgedAndExpiredTokensAreRefused(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	srv := testsupport.StartServer(t, cfg)
	_, info := srv.NewCustomer(t)

	// Take the real claims, so only the property under test differs.
	var real jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(info.AccessToken, &real); err != nil {
		t.Fatal(err)
	}
	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range real {
			c[k] = v
		}
		change(c)
		return c
	}
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	same := func(jwt.MapClaims) {}
	now := time.Now()

	// Control: re-signing the real claims with the server's key works.
	mustBeSignedIn(t, srv.Client().WithToken(sign(jwt.SigningMethodHS256, cfg.JWTSecret, claims(same))), info.Email)

	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(same)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for name, tok := range map[string]string{
		"alg none":       none,
		"another key":    sign(jwt.SigningMethodHS256, []byte(strings.Repeat("z", 32)), claims(same)),
		"expired":        sign(jwt.SigningMethodHS256, cfg.JWTSecret, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })),
		"without exp":    sign(jwt.SigningMethodHS256, cfg.JWTSecret, claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"other audience": sign(jwt.SigningMethodHS256, cfg.JWTSecret, claims(func(c jwt.MapClaims) { c["aud"] = "elsewhere" })),
		"other issuer":   sign(jwt.SigningMethodHS256, cfg.JWTSecret, claims(func(c jwt.MapClaims) { c["iss"] = "elsewhere" })),
		"unknown session": sign(jwt.SigningMethodHS256, cfg.JWTSecret, claims(func(c jwt.MapClaims) {
			c["sid"] = "AAAAAAAAAAAAAAAAAAAAAA"
		})),
		"another user's sub": sign(jwt.SigningMethodHS256, cfg.JWTSecret, claims(func(c jwt.MapClaims) { c["sub"] = "999999" })),
		"not a JWT":          "hello",
	} {
		mustBeRefused(t, srv.Client().WithToken(tok), name)
	}
	// A header that is not a bearer token is refused too, not taken for a guest.
	c := srv.Client()
	c.Header = http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}
	mustBeRefused(t, c, "Basic authorization")
}

// deletePrefix removes this test's Redis keys only; other tests share the server.
func deletePrefix(t *testing.T, prefix string) int {
	t.Helper()
	opts, err := goredis.ParseURL(testsupport.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return len(keys)
}

func TestSessionsSurviveLosingRedis(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	srv := testsupport.StartServer(t, cfg)
	c, info := srv.NewCustomer(t)
	other, _ := srv.NewCustomer(t)
	mustBeSignedIn(t, c, info.Email)
	if n := deletePrefix(t, cfg.RedisPrefix); n == 0 {
		t.Fatal("no session keys in Redis to lose; is the cache used?")
	}
	mustBeSignedIn(t, c, info.Email)
	// The lookup refilled the cache, and a logout after the loss still ends the session.
	if n := deletePrefix(t, cfg.RedisPrefix); n == 0 {
		t.Fatal("the session was not cached again after a Postgres read")
	}
	other.Do(t, `mutation { logout }`, nil)
	deletePrefix(t, cfg.RedisPrefix)
	mustBeRefused(t, other, "logged-out session after Redis lost its keys")
	var r refreshAnswer
	srv.Client().Do(t, refreshMutation, map[string]any{"t": info.RefreshToken}).Decode(t, &r)
	if r.RefreshSession == nil {
		t.Fatal("refresh after Redis lost its keys failed")
	}
}

func TestLogoutAllEndsEverySession(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	first, info := srv.NewCustomer(t)
	second, login := srv.Login(t, info.Email, info.Password)
	stranger, strangerInfo := srv.NewCustomer(t)

	var out struct{ LogoutAll bool }
	second.Do(t, `mutation { logoutAll }`, nil).Decode(t, &out)
	if !out.LogoutAll {
		t.Fatal("logoutAll = false")
	}
	mustBeRefused(t, first, "first session after logoutAll")
	mustBeRefused(t, second, "second session after logoutAll")
	for _, rt := range []string{info.RefreshToken, login.RefreshToken} {
		if resp := srv.Client().Do(t, refreshMutation, map[string]any{"t": rt}); resp.ErrorCode() != "UNAUTHENTICATED" {
			t.Fatalf("refresh after logoutAll: %q; want UNAUTHENTICATED", resp.ErrorCode())
		}
	}
	mustBeSignedIn(t, stranger, strangerInfo.Email)
}

func TestAdminOnlyMutationNeedsAdminRole(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	customer, _ := srv.NewCustomer(t)
	const q = `mutation { inventorySet(productId: "UHJvZHVjdDox", onHand: 5) { userErrors { code } } }`
	if code := customer.Do(t, q, nil).ErrorCode(); code != "FORBIDDEN" {
		t.Errorf("customer: code %q; want FORBIDDEN", code)
	}
	if code := srv.Client().Do(t, q, nil).ErrorCode(); code != "UNAUTHENTICATED" {
		t.Errorf("guest: code %q; want UNAUTHENTICATED", code)
	}
	admin := srv.NewAdmin(t)
	var me meAnswer
	admin.Do(t, meQuery, nil).Decode(t, &me)
	if me.Me == nil || me.Me.Role != "ADMIN" {
		t.Fatalf("NewAdmin's me = %+v; want role ADMIN", me.Me)
	}
	if code := admin.Do(t, q, nil).ErrorCode(); code == "FORBIDDEN" || code == "UNAUTHENTICATED" {
		t.Errorf("admin: code %q; the directive must let an admin through", code)
	}
}

type userErrors []struct {
	Code    string
	Field   []string
	Message string
}

func (u userErrors) codes() string {
	var cs []string
	for _, e := range u {
		cs = append(cs, e.Code+"@"+strings.Join(e.Field, "."))
	}
	return strings.Join(cs, ",")
}

const registerMutation = `mutation($input: RegisterInput!) {
  register(input: $input) { accessToken user { email } userErrors { code field message } }
}`

func TestRegisterRefusals(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	_, taken := srv.NewCustomer(t)
	for name, tc := range map[string]struct {
		email, password, name string
		want                  string
	}{
		"short password":     {"new1@example.com", "123456789", "A", "WEAK_PASSWORD@input.password"},
		"long password":      {"new2@example.com", strings.Repeat("p", 257), "A", "WEAK_PASSWORD@input.password"},
		"taken email":        {"  " + strings.ToUpper(taken.Email), "long-enough-1", "A", "EMAIL_TAKEN@input.email"},
		"bad email":          {"not-an-email", "long-enough-1", "A", "INVALID_INPUT@input.email"},
		"no name, bad email": {"x@", "long-enough-1", " ", "INVALID_INPUT@input.email,INVALID_INPUT@input.name"},
	} {
		var out struct {
			Register struct {
				AccessToken *string
				UserErrors  userErrors
			}
		}
		srv.Client().Do(t, registerMutation, map[string]any{"input": map[string]any{
			"email": tc.email, "password": tc.password, "name": tc.name,
		}}).Decode(t, &out)
		if got := out.Register.UserErrors.codes(); got != tc.want || out.Register.AccessToken != nil {
			t.Errorf("%s: userErrors %s, token %v; want %s and no token", name, got, out.Register.AccessToken != nil, tc.want)
		}
	}
}

const loginMutation = `mutation($input: LoginInput!) {
  login(input: $input) { accessToken userErrors { code field message } }
}`

type loginAnswer struct {
	Login struct {
		AccessToken *string
		UserErrors  userErrors
	}
}

func login(t *testing.T, srv *testsupport.Server, email, password string) testsupport.Response {
	t.Helper()
	return srv.Client().Do(t, loginMutation, map[string]any{"input": map[string]any{"email": email, "password": password}})
}

func TestWrongEmailAndWrongPasswordLookAlike(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	_, info := srv.NewCustomer(t)
	var wrongPassword, wrongEmail loginAnswer
	login(t, srv, info.Email, info.Password+"x").Decode(t, &wrongPassword)
	login(t, srv, "nobody-"+info.Email, info.Password).Decode(t, &wrongEmail)
	if wrongPassword.Login.AccessToken != nil || wrongPassword.Login.UserErrors.codes() != "INVALID_CREDENTIALS@" {
		t.Fatalf("wrong password: %+v", wrongPassword.Login)
	}
	a, _ := json.Marshal(wrongPassword.Login.UserErrors)
	b, _ := json.Marshal(wrongEmail.Login.UserErrors)
	if string(a) != string(b) {
		t.Fatalf("wrong password answers %s but wrong email answers %s", a, b)
	}
}

// loginFrom signs in as a client at ip; the test server trusts loopback proxies for this.
func loginFrom(t *testing.T, srv *testsupport.Server, ip, email, password string) testsupport.Response {
	t.Helper()
	c := srv.Client()
	c.Header = http.Header{"X-Forwarded-For": {ip}}
	return c.Do(t, loginMutation, map[string]any{"input": map[string]any{"email": email, "password": password}})
}

// rateLimitConfig turns login limits on with the given back-offs; counters left zero never limit.
func rateLimitConfig(t *testing.T, l identity.LoginLimits) app.Config {
	cfg := testsupport.Config(t)
	cfg.RateLimit = true
	never := identity.Backoff{Free: 1000, Base: time.Second, Max: time.Second}
	for _, b := range []*identity.Backoff{&l.AccountIP, &l.Account, &l.IP} {
		if b.Free == 0 {
			*b = never
		}
	}
	l.Forget = time.Minute
	cfg.LoginLimits = l
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	return cfg
}

func TestLoginRateLimitBacksOffThenAllowsAgain(t *testing.T) {
	t.Parallel()
	// Long enough that a loaded machine finishes the third failure well inside it.
	const backoff = 2 * time.Second
	srv := testsupport.StartServer(t, rateLimitConfig(t, identity.LoginLimits{
		AccountIP: identity.Backoff{Free: 2, Base: backoff, Max: 2 * backoff},
	}))
	_, info := srv.NewCustomer(t)
	const ip = "203.0.113.10"

	for i := range 3 { // two free failures, then one that starts the back-off
		var out loginAnswer
		loginFrom(t, srv, ip, info.Email, "wrong-password").Decode(t, &out)
		if out.Login.UserErrors.codes() != "INVALID_CREDENTIALS@" {
			t.Fatalf("failure %d: %+v", i+1, out.Login)
		}
	}
	limited := time.Now()
	resp := loginFrom(t, srv, ip, info.Email, info.Password)
	if resp.ErrorCode() != "RATE_LIMITED" {
		t.Fatalf("right password during back-off: code %q data %s; want RATE_LIMITED", resp.ErrorCode(), resp.Data)
	}
	if ra, _ := resp.Errors[0].Extensions["retryAfter"].(float64); ra < 1 {
		t.Fatalf("retryAfter = %v; want at least 1 (second)", resp.Errors[0].Extensions["retryAfter"])
	}
	// Another account from the same IP is not held back by this one's failures.
	_, other := srv.NewCustomer(t)
	var ok loginAnswer
	loginFrom(t, srv, ip, other.Email, other.Password).Decode(t, &ok)
	if ok.Login.AccessToken == nil {
		t.Fatalf("another account was limited too: %+v", ok.Login)
	}

	time.Sleep(time.Until(limited.Add(backoff + 50*time.Millisecond)))
	var after loginAnswer
	loginFrom(t, srv, ip, info.Email, info.Password).Decode(t, &after)
	if after.Login.AccessToken == nil {
		t.Fatalf("after the back-off: %+v; want a session", after.Login)
	}
	// Success forgot the failures: a mistake now costs nothing.
	for range 2 {
		var again loginAnswer
		loginFrom(t, srv, ip, info.Email, "wrong-password").Decode(t, &again)
		if again.Login.UserErrors.codes() != "INVALID_CREDENTIALS@" {
			t.Fatalf("failure after a success: %+v", again.Login)
		}
	}
}

// Someone failing on purpose from elsewhere must not lock the owner out.
func TestLoginLockoutDoesNotReachOtherAddresses(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, rateLimitConfig(t, identity.LoginLimits{
		AccountIP: identity.Backoff{Free: 2, Base: time.Minute, Max: time.Minute},
		Account:   identity.Backoff{Free: 6, Base: time.Minute, Max: 2 * time.Minute},
	}))
	_, info := srv.NewCustomer(t)
	const attacker, owner = "203.0.113.66", "198.51.100.7"
	for range 3 {
		loginFrom(t, srv, attacker, info.Email, "guess-guess-guess")
	}
	if code := loginFrom(t, srv, attacker, info.Email, "guess-guess-guess").ErrorCode(); code != "RATE_LIMITED" {
		t.Fatalf("attacker after 3 failures: %q; want RATE_LIMITED", code)
	}
	var out loginAnswer
	loginFrom(t, srv, owner, info.Email, info.Password).Decode(t, &out)
	if out.Login.AccessToken == nil {
		t.Fatalf("the owner, elsewhere, was locked out: %+v", out.Login)
	}

	// Guessing spread over many addresses meets the account-wide limit, which is capped.
	for i := range 7 {
		loginFrom(t, srv, fmt.Sprintf("192.0.2.%d", i+1), info.Email, "guess-guess-guess")
	}
	resp := loginFrom(t, srv, "192.0.2.200", info.Email, "guess-guess-guess")
	if resp.ErrorCode() != "RATE_LIMITED" {
		t.Fatalf("eighth address: %q; want RATE_LIMITED by the account-wide limit", resp.ErrorCode())
	}
	if ra, _ := resp.Errors[0].Extensions["retryAfter"].(float64); ra > 120 {
		t.Fatalf("retryAfter = %v; the back-off must be capped at 120 s", ra)
	}
}

func TestLoginRateLimitPerIP(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, rateLimitConfig(t, identity.LoginLimits{
		IP: identity.Backoff{Free: 3, Base: time.Minute, Max: time.Minute},
	}))
	const ip = "203.0.113.20"
	for i := range 4 {
		if code := loginFrom(t, srv, ip, fmt.Sprintf("nobody%d@example.com", i), "whatever-password").ErrorCode(); code != "" {
			t.Fatalf("attempt %d: %q; want a plain failure", i+1, code)
		}
	}
	resp := loginFrom(t, srv, ip, "someone-else@example.com", "whatever-password")
	if resp.ErrorCode() != "RATE_LIMITED" {
		t.Fatalf("fifth account from one IP: %q; want RATE_LIMITED", resp.ErrorCode())
	}
	if ra, _ := resp.Errors[0].Extensions["retryAfter"].(float64); ra < 50 || ra > 60 {
		t.Fatalf("retryAfter = %v; want about 60", ra)
	}
	if code := loginFrom(t, srv, "203.0.113.21", "someone-else@example.com", "whatever-password").ErrorCode(); code != "" {
		t.Fatalf("another IP: %q; want a plain failure", code)
	}
}

// A burst of parallel guesses must not all be checked before the first of them is counted.
func TestLoginBurstIsLimited(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, rateLimitConfig(t, identity.LoginLimits{
		AccountIP: identity.Backoff{Free: 2, Base: time.Minute, Max: time.Minute},
	}))
	_, info := srv.NewCustomer(t)
	const n = 8
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out loginAnswer
			resp := loginFrom(t, srv, "203.0.113.30", info.Email, "guess-guess-guess")
			if resp.ErrorCode() != "" {
				codes[i] = resp.ErrorCode()
				return
			}
			resp.Decode(t, &out)
			codes[i] = out.Login.UserErrors.codes()
		}()
	}
	wg.Wait()
	checked := 0
	for _, c := range codes {
		switch c {
		case "INVALID_CREDENTIALS@":
			checked++
		case "RATE_LIMITED":
		default:
			t.Fatalf("unexpected answer %q", c)
		}
	}
	if checked > 3 {
		t.Fatalf("%d of %d parallel guesses were checked; the limit allows 3 (%v)", checked, n, codes)
	}
}

func TestSessionIdleTimeoutAndLifetimeAreEnforced(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.RefreshIdleTimeout = 1500 * time.Millisecond
	cfg.SessionMaxLifetime = 3 * time.Second
	srv := testsupport.StartServer(t, cfg)
	start := time.Now() // the session starts after this
	_, info := srv.NewCustomer(t)
	created := time.Now() // and before this: signing up is slow on a loaded machine

	// Refreshing often keeps the session past its idle timeout, but not past its lifetime. The
	// checks allow for a slow machine: only a refusal that neither deadline explains fails.
	rt, prevStart := info.RefreshToken, start
	var aliveAfterIdle bool
	for {
		time.Sleep(300 * time.Millisecond)
		sent := time.Now()
		resp := srv.Client().Do(t, refreshMutation, map[string]any{"t": rt})
		answered := time.Now()
		if resp.ErrorCode() == "UNAUTHENTICATED" {
			if answered.Before(start.Add(cfg.SessionMaxLifetime)) && answered.Sub(prevStart) < cfg.RefreshIdleTimeout {
				t.Fatalf("session ended %v after start, %v after the last refresh: before either deadline",
					answered.Sub(start), answered.Sub(prevStart))
			}
			break
		}
		var r refreshAnswer
		resp.Decode(t, &r)
		rt, prevStart = r.RefreshSession.RefreshToken, sent
		if sent.After(start.Add(cfg.RefreshIdleTimeout)) {
			aliveAfterIdle = true
		}
		if sent.After(created.Add(cfg.SessionMaxLifetime + time.Second)) {
			t.Fatal("session outlived its absolute lifetime")
		}
	}
	if !aliveAfterIdle {
		t.Fatal("refreshing did not keep the session past its idle timeout")
	}

	// Left idle, a session ends, access token included.
	c, idle := srv.Login(t, info.Email, info.Password)
	time.Sleep(cfg.RefreshIdleTimeout + 100*time.Millisecond)
	mustBeRefused(t, c, "idle session")
	if resp := srv.Client().Do(t, refreshMutation, map[string]any{"t": idle.RefreshToken}); resp.ErrorCode() != "UNAUTHENTICATED" {
		t.Fatalf("refresh of an idle session: %q; want UNAUTHENTICATED", resp.ErrorCode())
	}
}

const addressFields = `id name line1 line2 city region postalCode country isDefault`

type address struct {
	ID, Name, Line1, City, PostalCode, Country string
	Line2, Region                              *string
	IsDefault                                  bool
}

func addAddress(t *testing.T, c *testsupport.Client, name string, setDefault bool) address {
	t.Helper()
	var out struct {
		AddressAdd struct {
			Address    *address
			UserErrors userErrors
		}
	}
	c.Do(t, `mutation($in: AddressInput!, $d: Boolean) { addressAdd(input: $in, setDefault: $d) { address { `+addressFields+` } userErrors { code field message } } }`,
		map[string]any{"in": map[string]any{"name": name, "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "us"}, "d": setDefault}).Decode(t, &out)
	if out.AddressAdd.Address == nil {
		t.Fatalf("addressAdd: %+v", out.AddressAdd.UserErrors)
	}
	return *out.AddressAdd.Address
}

func TestAddressBook(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	c, _ := srv.NewCustomer(t)

	home := addAddress(t, c, "Home", false)
	if !home.IsDefault || home.Country != "US" || home.Line2 != nil {
		t.Fatalf("first address = %+v; want the default, country US, no line2", home)
	}
	work := addAddress(t, c, "Work", false)
	if work.IsDefault {
		t.Fatal("second address took the default without being asked")
	}
	var upd struct {
		AddressUpdate struct {
			Address    *address
			UserErrors userErrors
		}
	}
	c.Do(t, `mutation($id: ID!, $in: AddressInput!) { addressUpdate(id: $id, input: $in, setDefault: true) { address { `+addressFields+` } userErrors { code field } } }`,
		map[string]any{"id": work.ID, "in": map[string]any{"name": "Office", "line1": "2 High St", "line2": "Floor 3", "city": "Leeds", "postalCode": "LS1 1AA", "country": "GB"}}).Decode(t, &upd)
	if a := upd.AddressUpdate.Address; a == nil || !a.IsDefault || a.Name != "Office" || a.Line2 == nil || *a.Line2 != "Floor 3" {
		t.Fatalf("addressUpdate = %+v %+v", a, upd.AddressUpdate.UserErrors)
	}

	var me struct {
		Me struct {
			Addresses      []address
			DefaultAddress *address
		}
	}
	c.Do(t, `{ me { addresses { `+addressFields+` } defaultAddress { id } } }`, nil).Decode(t, &me)
	if len(me.Me.Addresses) != 2 || me.Me.DefaultAddress == nil || me.Me.DefaultAddress.ID != work.ID || me.Me.Addresses[0].ID != work.ID {
		t.Fatalf("me.addresses = %+v, default %+v; want 2 with Office as default and first", me.Me.Addresses, me.Me.DefaultAddress)
	}

	var rm struct {
		AddressRemove struct {
			DeletedAddressID *string
			UserErrors       userErrors
		}
	}
	c.Do(t, `mutation($id: ID!) { addressRemove(id: $id) { deletedAddressId userErrors { code field } } }`, map[string]any{"id": work.ID}).Decode(t, &rm)
	if rm.AddressRemove.DeletedAddressID == nil || *rm.AddressRemove.DeletedAddressID != work.ID {
		t.Fatalf("addressRemove = %+v", rm.AddressRemove)
	}
	c.Do(t, `{ me { addresses { `+addressFields+` } defaultAddress { id } } }`, nil).Decode(t, &me)
	if len(me.Me.Addresses) != 1 || me.Me.DefaultAddress == nil || me.Me.DefaultAddress.ID != home.ID {
		t.Fatalf("after removing the default: %+v, default %+v; want Home promoted", me.Me.Addresses, me.Me.DefaultAddress)
	}

	// Bad input: every field at fault is named, nothing is saved.
	var bad struct {
		AddressAdd struct {
			Address    *address
			UserErrors userErrors
		}
	}
	c.Do(t, `mutation($in: AddressInput!) { addressAdd(input: $in) { address { id } userErrors { code field message } } }`,
		map[string]any{"in": map[string]any{"name": "", "line1": strings.Repeat("x", 201), "city": "X", "postalCode": "1", "country": "USA"}}).Decode(t, &bad)
	if got := bad.AddressAdd.UserErrors.codes(); bad.AddressAdd.Address != nil || got != "INVALID_INPUT@input.name,INVALID_INPUT@input.line1,INVALID_INPUT@input.country" {
		t.Fatalf("bad address: %s, %+v", got, bad.AddressAdd.Address)
	}
	c.Do(t, `{ me { addresses { `+addressFields+` } defaultAddress { id } } }`, nil).Decode(t, &me)
	if len(me.Me.Addresses) != 1 {
		t.Fatalf("a refused address was saved: %+v", me.Me.Addresses)
	}

	var prof struct {
		ProfileUpdate struct {
			User       *struct{ Name string }
			UserErrors userErrors
		}
	}
	c.Do(t, `mutation { profileUpdate(input: {name: "  Ann Lee "}) { user { name } userErrors { code field } } }`, nil).Decode(t, &prof)
	if prof.ProfileUpdate.User == nil || prof.ProfileUpdate.User.Name != "Ann Lee" {
		t.Fatalf("profileUpdate = %+v", prof.ProfileUpdate)
	}
	c.Do(t, `mutation { profileUpdate(input: {name: ""}) { user { name } userErrors { code field } } }`, nil).Decode(t, &prof)
	if prof.ProfileUpdate.UserErrors.codes() != "INVALID_INPUT@input.name" {
		t.Fatalf("empty name: %+v", prof.ProfileUpdate)
	}
}

func TestAnotherUsersDataIsNotFound(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	owner, ownerInfo := srv.NewCustomer(t)
	intruder, intruderInfo := srv.NewCustomer(t)
	a := addAddress(t, owner, "Home", false)

	var node struct{ Node *struct{ ID string } }
	intruder.Do(t, `query($id: ID!) { node(id: $id) { id ... on Address { line1 } } }`, map[string]any{"id": a.ID}).Decode(t, &node)
	if node.Node != nil {
		t.Fatalf("intruder sees the address: %+v", node.Node)
	}
	owner.Do(t, `query($id: ID!) { node(id: $id) { id ... on Address { line1 } } }`, map[string]any{"id": a.ID}).Decode(t, &node)
	if node.Node == nil || node.Node.ID != a.ID {
		t.Fatalf("owner cannot see the address: %+v", node.Node)
	}
	intruder.Do(t, `query($id: ID!) { node(id: $id) { id ... on User { email } } }`, map[string]any{"id": ownerInfo.ID}).Decode(t, &node)
	if node.Node != nil {
		t.Fatalf("intruder sees the owner's account: %+v", node.Node)
	}
	intruder.Do(t, `query($id: ID!) { node(id: $id) { id ... on User { email } } }`, map[string]any{"id": intruderInfo.ID}).Decode(t, &node)
	if node.Node == nil {
		t.Fatal("a user cannot see their own account by node id")
	}

	var upd struct {
		AddressUpdate struct {
			Address    *address
			UserErrors userErrors
		}
	}
	intruder.Do(t, `mutation($id: ID!, $in: AddressInput!) { addressUpdate(id: $id, input: $in) { address { id } userErrors { code field } } }`,
		map[string]any{"id": a.ID, "in": map[string]any{"name": "Mine", "line1": "x", "city": "x", "postalCode": "1", "country": "US"}}).Decode(t, &upd)
	if upd.AddressUpdate.Address != nil || upd.AddressUpdate.UserErrors.codes() != "NOT_FOUND@id" {
		t.Fatalf("intruder's addressUpdate = %+v", upd.AddressUpdate)
	}
	var rm struct {
		AddressRemove struct {
			DeletedAddressID *string
			UserErrors       userErrors
		}
	}
	intruder.Do(t, `mutation($id: ID!) { addressRemove(id: $id) { deletedAddressId userErrors { code field } } }`, map[string]any{"id": a.ID}).Decode(t, &rm)
	if rm.AddressRemove.DeletedAddressID != nil || rm.AddressRemove.UserErrors.codes() != "NOT_FOUND@id" {
		t.Fatalf("intruder's addressRemove = %+v", rm.AddressRemove)
	}
	owner.Do(t, `query($id: ID!) { node(id: $id) { id ... on Address { line1 } } }`, map[string]any{"id": a.ID}).Decode(t, &node)
	if node.Node == nil {
		t.Fatal("the intruder's addressRemove deleted the owner's address")
	}
}

// wsConnect opens a graphql-transport-ws connection and sends connection_init with payload. It
// returns the connection and the type of the first message the server answers with.
func wsConnect(t *testing.T, srv *testsupport.Server, payload map[string]any) (*websocket.Conn, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial websocket: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": payload})
	if err := conn.Write(ctx, websocket.MessageText, init); err != nil {
		t.Fatalf("send connection_init: %v", err)
	}
	_, raw, err := conn.Read(ctx)
	if err != nil {
		return conn, "closed:" + websocket.CloseStatus(err).String()
	}
	var msg struct{ Type string }
	_ = json.Unmarshal(raw, &msg)
	return conn, msg.Type
}

// waitClosed reads until the server closes the connection; it fails after timeout.
func waitClosed(t *testing.T, conn *websocket.Conn, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the websocket stayed open")
			}
			return
		}
	}
}

func TestWebsocketClosesWhenItsSessionEnds(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	c, info := srv.NewCustomer(t)
	other, otherInfo := srv.NewCustomer(t)

	conn, ack := wsConnect(t, srv, map[string]any{"Authorization": "Bearer " + info.AccessToken})
	if ack != "connection_ack" {
		t.Fatalf("first message %q; want connection_ack", ack)
	}
	otherConn, ack := wsConnect(t, srv, map[string]any{"authToken": otherInfo.AccessToken})
	if ack != "connection_ack" {
		t.Fatalf("authToken payload: first message %q; want connection_ack", ack)
	}
	// An open subscription on the connection (its resolver may still refuse; the connection stays).
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { cartUpdated(cartId: "x") { id } }`}})
	if err := conn.Write(context.Background(), websocket.MessageText, sub); err != nil {
		t.Fatal(err)
	}

	c.Do(t, `mutation { logout }`, nil)
	waitClosed(t, conn, 5*time.Second)

	// Only the signed-out session's connection closes.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := otherConn.Read(ctx); ctx.Err() == nil && err != nil {
		t.Fatalf("another session's websocket closed: %v", err)
	}
	mustBeSignedIn(t, other, otherInfo.Email)

	if _, first := wsConnect(t, srv, map[string]any{"Authorization": "Bearer " + info.AccessToken}); first == "connection_ack" {
		t.Fatal("a signed-out token opened a websocket")
	}
	if _, first := wsConnect(t, srv, map[string]any{}); first != "connection_ack" {
		t.Fatalf("guest websocket: %q; want connection_ack", first)
	}
}

func TestWebsocketClosesOnPeriodicRecheck(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.SessionRecheckInterval = 200 * time.Millisecond
	cfg.RefreshIdleTimeout = 1500 * time.Millisecond
	srv := testsupport.StartServer(t, cfg)
	_, info := srv.NewCustomer(t)
	conn, ack := wsConnect(t, srv, map[string]any{"Authorization": "Bearer " + info.AccessToken})
	if ack != "connection_ack" {
		t.Fatalf("first message %q; want connection_ack", ack)
	}
	// No announcement: the session simply goes idle, and the re-check notices.
	waitClosed(t, conn, 5*time.Second)
}

func TestSignInWorksWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	proxy := testsupport.NewRedisProxy(t)
	cfg := testsupport.Config(t)
	cfg.RedisURL = proxy.URL()
	srv := testsupport.StartServer(t, cfg)
	c, info := srv.NewCustomer(t)
	other, _ := srv.NewCustomer(t)

	proxy.SetDown(true)
	mustBeSignedIn(t, c, info.Email)
	again, _ := srv.Login(t, info.Email, info.Password)
	mustBeSignedIn(t, again, info.Email)
	var r refreshAnswer
	srv.Client().Do(t, refreshMutation, map[string]any{"t": info.RefreshToken}).Decode(t, &r)
	if r.RefreshSession == nil {
		t.Fatal("refresh failed while Redis was down")
	}
	other.Do(t, `mutation { logout }`, nil)
	mustBeRefused(t, other, "logged out while Redis was down")

	proxy.SetDown(false)
	mustBeSignedIn(t, again, info.Email)
	// The logout made during the outage reaches the cache once Redis is back; the session's old
	// "active" entry must not bring it back to life. The retry runs every 250 ms; until it has,
	// the stale entry may answer (that window is what the retry closes).
	deadline := time.Now().Add(5 * time.Second)
	for other.Do(t, meQuery, nil).Status != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("a session logged out during the outage is accepted again after Redis came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	mustBeRefused(t, other, "logged out during the outage, after Redis came back")
}

func TestIdentityConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := app.LoadConfig(env(map[string]string{
		"JWT_ISSUER": "shop", "JWT_AUDIENCE": "shop-web", "ACCESS_TOKEN_TTL": "5m",
		"REFRESH_IDLE_TTL": "72h", "SESSION_MAX_LIFETIME": "720h", "LOGIN_BACKOFF_MAX": "2m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.JWTIssuer != "shop" || cfg.JWTAudience != "shop-web" || cfg.AccessTokenTTL != 5*time.Minute ||
		cfg.RefreshIdleTimeout != 72*time.Hour || cfg.SessionMaxLifetime != 720*time.Hour ||
		cfg.LoginLimits.AccountIP.Max != 2*time.Minute || cfg.LoginLimits.IP.Max != 2*time.Minute {
		t.Fatalf("config = %+v", cfg)
	}
	if cfg.PasswordHashing != identity.OWASPParams {
		t.Fatalf("password hashing %+v; production must use the OWASP parameters", cfg.PasswordHashing)
	}
	for _, bad := range []map[string]string{
		{"ACCESS_TOKEN_TTL": "soon"},
		{"REFRESH_IDLE_TTL": "-1h"},
		{"REFRESH_IDLE_TTL": "48h", "SESSION_MAX_LIFETIME": "24h"},
	} {
		if _, err := app.LoadConfig(env(bad)); err == nil {
			t.Errorf("LoadConfig(%v) accepted", bad)
		}
	}
}

func TestAddressBookIsBounded(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	c, info := srv.NewCustomer(t)
	if _, err := srv.App.Pool.Exec(context.Background(), `INSERT INTO addresses (user_id, name, line1, city, postal_code, country)
		SELECT $1, 'A' || g, '1 Main St', 'Springfield', '12345', 'US' FROM generate_series(1, $2) g`, info.Key, identity.MaxAddresses); err != nil {
		t.Fatal(err)
	}
	var out struct {
		AddressAdd struct {
			Address    *address
			UserErrors userErrors
		}
	}
	c.Do(t, `mutation($in: AddressInput!) { addressAdd(input: $in) { address { id } userErrors { code field message } } }`,
		map[string]any{"in": map[string]any{"name": "One more", "line1": "1 Main St", "city": "X", "postalCode": "1", "country": "US"}}).Decode(t, &out)
	if out.AddressAdd.Address != nil || out.AddressAdd.UserErrors.codes() != "INVALID_INPUT@" {
		t.Fatalf("address past the limit: %+v", out.AddressAdd)
	}
}

// Two instances share Postgres and Redis: a logout on one ends the session on the other at once,
// requests and open websockets alike.
func TestLogoutEndsTheSessionOnEveryInstance(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	a := testsupport.StartServer(t, cfg)
	b := testsupport.StartServer(t, cfg)
	onA, info := a.NewCustomer(t)
	onB := b.Client().WithToken(info.AccessToken)
	mustBeSignedIn(t, onB, info.Email)
	conn, ack := wsConnect(t, b, map[string]any{"Authorization": "Bearer " + info.AccessToken})
	if ack != "connection_ack" {
		t.Fatalf("websocket on B: %q; want connection_ack", ack)
	}

	onA.Do(t, `mutation { logout }`, nil)
	mustBeRefused(t, onB, "instance B right after a logout on A")
	waitClosed(t, conn, 5*time.Second)
}
