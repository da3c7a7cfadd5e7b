package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"storefront/domain/apperr"
	"storefront/domain/identity"
	"storefront/metrics"
	"storefront/resolvers"
	sredis "storefront/store/redis"
)

// Rate limits live in Redis so they hold across instances. When Redis cannot answer, requests
// pass (and a warning is logged): the limits protect the store, and refusing every customer
// because the limiter is down would do the attacker's work for him.

// limitByIP spends one token of the client address's bucket per HTTP request to /graphql
// (a websocket counts once, at its upgrade), refusing floods before any parsing.
func (a *App) limitByIP(next http.Handler) http.Handler {
	if !a.cfg.RateLimit {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		ip := clientIPFrom(r.Context())
		ok, retry := a.allow(r.Context(), "ip", "ip:"+ip, a.cfg.Rates.PerIP, 1)
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(retry)))
			writeRateLimited(w, retry)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeRateLimited(w http.ResponseWriter, retry time.Duration) {
	err := resolvers.PresentError(context.Background(), &apperr.RateLimitError{RetryAfter: retry})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{err}})
}

// allow asks the limiter, counting refusals under rule and failing open when Redis fails.
func (a *App) allow(ctx context.Context, rule, key string, rate sredis.Rate, n int) (bool, time.Duration) {
	if rate.Count <= 0 || n <= 0 {
		return true, 0
	}
	ok, retry, err := a.limiter.Allow(ctx, key, rate, n)
	if err != nil {
		// One warning per interval: with Redis down every request fails here.
		now, last := time.Now().UnixNano(), a.limiterWarnedAt.Load()
		if now-last > int64(limiterWarnEvery) && a.limiterWarnedAt.CompareAndSwap(last, now) {
			a.log.LogAttrs(ctx, slog.LevelWarn, "rate limiter unavailable; requests let through",
				slog.String("rule", rule), slog.String("err", err.Error()), slog.String("request_id", RequestID(ctx)))
		}
		return true, 0
	}
	if !ok {
		metrics.RateLimited(rule)
	}
	return ok, retry
}

// limiterWarnEvery spaces the warnings of an unavailable limiter.
const limiterWarnEvery = 10 * time.Second

// fieldRule is a stricter budget for the root fields that guess secrets or cost money.
type fieldRule struct {
	rule  string
	field string
	rate  func(RateLimits) sredis.Rate
	perIP bool // keyed by client address even when signed in (nobody is signed in yet)
}

var fieldRules = []fieldRule{
	{rule: "login", field: "login", rate: func(r RateLimits) sredis.Rate { return r.Login }, perIP: true},
	{rule: "register", field: "register", rate: func(r RateLimits) sredis.Rate { return r.Register }, perIP: true},
	{rule: "checkout", field: "checkout", rate: func(r RateLimits) sredis.Rate { return r.Checkout }},
	{rule: "payment", field: "payOrder", rate: func(r RateLimits) sredis.Rate { return r.Payment }},
}

// operationRateLimit spends tokens per operation (websocket subscriptions included): one of the
// signed-in user's bucket (or, on a guest websocket, of the address's), and one per occurrence
// of each guarded root field, so ten aliased logins cost ten.
type operationRateLimit struct{ a *App }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationRateLimit{}

func (operationRateLimit) ExtensionName() string                   { return "OperationRateLimit" }
func (operationRateLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l operationRateLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	a := l.a
	s := shapeOf(opCtx)
	if s == nil {
		return nil
	}
	ip := clientIPFrom(ctx)
	p, signedIn := identity.PrincipalFrom(ctx)
	owner := "ip:" + ip
	if signedIn {
		owner = "user:" + strconv.FormatInt(p.UserID, 10)
	}
	type check struct {
		rule, key string
		rate      sredis.Rate
		n         int
	}
	var checks []check
	if signedIn {
		checks = append(checks, check{"user", owner, a.cfg.Rates.PerUser, 1})
	} else if info := infoFrom(ctx); info != nil && info.websocket {
		// A guest's HTTP requests were counted by limitByIP; its websocket messages are not.
		checks = append(checks, check{"ip", owner, a.cfg.Rates.PerIP, 1})
	}
	for _, fr := range fieldRules {
		n := 0
		for _, f := range s.RootFields {
			if f == fr.field {
				n++
			}
		}
		key := owner
		if fr.perIP {
			key = "ip:" + ip
		}
		checks = append(checks, check{fr.rule, fr.rule + ":" + key, fr.rate(a.cfg.Rates), n})
	}
	var retry time.Duration
	for _, c := range checks {
		if ok, d := a.allow(ctx, c.rule, c.key, c.rate, c.n); !ok {
			retry = max(d, time.Millisecond) // never 0: 0 means allowed below
			break
		}
	}
	if retry == 0 {
		return nil
	}
	noteRetryAfter(ctx, retry)
	metrics.Operation(s.Type, s.Name, "rejected", 0)
	return &gqlerror.Error{Err: &apperr.RateLimitError{RetryAfter: retry}, Message: "rate limited"}
}
