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

// LoginLimits are the back-offs of sign-in attempts, under three counters:
//   - AccountIP: one account from one client IP. This is the limit a guesser meets first, and a
//     successful sign-in from that IP clears it. Because it is per IP, someone failing on
//     purpose from elsewhere does not lock the owner out.
//   - Account: one account from anywhere, with a higher threshold: it slows guessing spread over
//     many addresses. This one can hold the owner back too, which is why every back-off is capped.
//   - IP: one client IP over all accounts (credential stuffing), with more free tries because many
//     people can share one IP. A success does not clear it, or one valid account would let a
//     client wipe its record between guesses at others.
type LoginLimits struct {
	AccountIP Backoff
	Account   Backoff
	IP        Backoff
	// Forget is how long after the last attempt a quiet counter is dropped.
	Forget time.Duration
}

// DefaultLoginLimits: after 5 failures for an account from one IP, 20 for an account overall, or
// 30 from one IP overall, each further attempt waits 1 s, doubling up to five minutes; counters
// are forgotten after fifteen quiet minutes.
var DefaultLoginLimits = LoginLimits{
	AccountIP: Backoff{Free: 5, Base: time.Second, Max: 5 * time.Minute},
	Account:   Backoff{Free: 20, Base: time.Second, Max: 5 * time.Minute},
	IP:        Backoff{Free: 30, Base: time.Second, Max: 5 * time.Minute},
	Forget:    15 * time.Minute,
}

// FailureRecord is the count under one key and when the last attempt happened.
type FailureRecord struct {
	Count int
	Last  time.Time
}

// FailureCounter keeps attempt counts under keys that expire when quiet.
type FailureCounter interface {
	// Failures returns the record of each key, in order; a missing key has Count 0.
	Failures(ctx context.Context, keys ...string) ([]FailureRecord, error)
	// Charge counts one attempt at `at` under each key, keeps the keys for ttl after it, and
	// returns the new counts, in order. The increments are atomic, so concurrent attempts each
	// see a different count.
	Charge(ctx context.Context, at time.Time, ttl time.Duration, keys ...string) ([]int, error)
	// Forgive takes back one charged attempt under each key (never below zero).
	Forgive(ctx context.Context, keys ...string) error
	// Reset forgets the keys.
	Reset(ctx context.Context, keys ...string) error
}

// loginKeys are the counters of one attempt, in the order of loginLimits.backoffs. The email is
// hashed so the limiter's storage holds no addresses.
type loginKeys struct {
	accountIP, account, ip string
}

func newLoginKeys(email, ip string) loginKeys {
	sum := sha256.Sum256([]byte(email))
	acct := hex.EncodeToString(sum[:16])
	return loginKeys{accountIP: "login:acctip:" + acct + ":" + ip, account: "login:acct:" + acct, ip: "login:ip:" + ip}
}

func (k loginKeys) all() []string { return []string{k.accountIP, k.account, k.ip} }

func (l LoginLimits) backoffs() []Backoff { return []Backoff{l.AccountIP, l.Account, l.IP} }

// ttl is how long counters live after their last attempt.
func (l LoginLimits) ttl() time.Duration {
	return max(l.AccountIP.Max, l.Account.Max, l.IP.Max) + l.Forget
}

// wait returns how long the caller must still wait given the records of loginKeys.all().
func (l LoginLimits) wait(recs []FailureRecord, now time.Time) time.Duration {
	var w time.Duration
	for i, b := range l.backoffs() {
		w = max(w, recs[i].Last.Add(b.Delay(recs[i].Count)).Sub(now))
	}
	return w
}

// raced reports whether, counting attempts that were charged concurrently with this one (the
// counts Charge returned, less this attempt), a back-off is already due; so a burst of parallel
// guesses cannot slip through before the first of them fails.
func (l LoginLimits) raced(before []FailureRecord, after []int) time.Duration {
	var w time.Duration
	for i, b := range l.backoffs() {
		if prior := after[i] - 1; prior > before[i].Count {
			w = max(w, b.Delay(prior))
		}
	}
	return w
}
