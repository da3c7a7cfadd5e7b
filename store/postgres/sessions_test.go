package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"storefront/domain/apperr"
	"storefront/domain/identity"
	"storefront/store/postgres"
	"storefront/testsupport"
)

func TestDeleteEndedSessions(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ctx := context.Background()
	u, err := postgres.NewUsers(pool).CreateUser(ctx, identity.User{Email: "s@example.com", Name: "S", Role: identity.RoleCustomer, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewSessions(pool)
	now := time.Now()
	day := 24 * time.Hour
	revokedLongAgo, revokedJustNow := now.Add(-2*day), now.Add(-time.Minute)
	sessions := map[string]identity.Session{
		"active":          {LastUsedAt: now, ExpiresAt: now.Add(day)},
		"expired":         {LastUsedAt: now.Add(-3 * day), ExpiresAt: now.Add(-2 * day)},
		"idle":            {LastUsedAt: now.Add(-40 * day), ExpiresAt: now.Add(day)},
		"revoked-old":     {LastUsedAt: now, ExpiresAt: now.Add(day), RevokedAt: &revokedLongAgo},
		"revoked-minute":  {LastUsedAt: now, ExpiresAt: now.Add(day), RevokedAt: &revokedJustNow},
		"expired-an-hour": {LastUsedAt: now.Add(-2 * day), ExpiresAt: now.Add(-time.Hour)},
	}
	for id, s := range sessions {
		s.ID, s.UserID, s.RefreshHash, s.CreatedAt = id, u.ID, "h-"+id, s.LastUsedAt
		if err := store.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if s.RevokedAt != nil {
			if _, err := store.RevokeSession(ctx, u.ID, id, *s.RevokedAt); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := store.DeleteEndedSessions(ctx, now.Add(-day), 30*day)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("deleted %d sessions; want 3 (expired, idle, revoked-old)", n)
	}
	for id := range sessions {
		_, err := store.SessionStatus(ctx, id)
		gone := errors.Is(err, apperr.ErrNotFound)
		wantGone := id == "expired" || id == "idle" || id == "revoked-old"
		if gone != wantGone {
			t.Errorf("session %s: gone %v; want %v (err %v)", id, gone, wantGone, err)
		}
	}
}
