package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Backoff is exponential back-off after repeated failures: the first Free failures cost nothing,
// then each further one doubles the wait, from Base up to Max. The cap matters as much as the
// growth: whoever knows an email can fail logins for it, and must not lock its owner out for long.
type Backoff struct {
	Free int
	Base time.Duration
	Max  time.Duration
}

// Delay returns how long to wait after the last of failures failures.
func (b Backoff) Delay(failures int) time.Duration {
	over := failures - b.Free
	if over <= 0 {
		return 0
	}
	d := b.Base
	for i := 1; i < over; i++ {
		d *= 2
		if d >= b.Max {
			return b.Max
		}
	}
	return min(d, b.Max)
}

// LoginLimits are the back-offs of sign-in attempts: per account, counted from anywhere, and per
// client IP, counted over every account (credential stuffing), with more free tries because many
// people can share one IP.
type LoginLimits struct {
	Account Backoff
	IP      Backoff
	// Forget is how long after the last failure a counter is dropped.
	Forget time.Duration
}

// DefaultLoginLimits: five free tries per account and twenty per IP, then 1 s doubling to at most
// five minutes; counters are forgotten after fifteen quiet minutes.
var DefaultLoginLimits = LoginLimits{
	Account: Backoff{Free: 5, Base: time.Second, Max: 5 * time.Minute},
	IP:      Backoff{Free: 20, Base: time.Second, Max: 5 * time.Minute},
	Forget:  15 * time.Minute,
}

// FailureRecord is the failure count under one key and when the last one happened.
type FailureRecord struct {
	Count int
	Last  time.Time
}

// FailureCounter keeps failure counts under keys that expire when quiet.
type FailureCounter interface {
	// Failures returns the record of each key, in order; a missing key has Count 0.
	Failures(ctx context.Context, keys ...string) ([]FailureRecord, error)
	// RecordFailure adds one failure at `at` under each key and keeps them for ttl after it.
	RecordFailure(ctx context.Context, at time.Time, ttl time.Duration, keys ...string) error
	// Reset forgets the keys.
	Reset(ctx context.Context, keys ...string) error
}

// loginKeys names the counters of one attempt. The email is hashed so the limiter's storage holds
// no addresses.
func loginKeys(email, ip string) (account, client string) {
	sum := sha256.Sum256([]byte(email))
	return "login:acct:" + hex.EncodeToString(sum[:16]), "login:ip:" + ip
}

// wait returns how long the caller must still wait given the two records.
func (l LoginLimits) wait(acct, ip FailureRecord, now time.Time) time.Duration {
	w := max(
		acct.Last.Add(l.Account.Delay(acct.Count)).Sub(now),
		ip.Last.Add(l.IP.Delay(ip.Count)).Sub(now),
	)
	return max(w, 0)
}
