package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/domain/apperr"
	"storefront/domain/identity"
)

// Sessions implements identity.SessionStore: the durable copy of sessions, which outlives any
// Redis restart.
type Sessions struct {
	pool *pgxpool.Pool
}

// NewSessions returns the session store over pool.
func NewSessions(pool *pgxpool.Pool) *Sessions { return &Sessions{pool: pool} }

var _ identity.SessionStore = (*Sessions)(nil)

// CreateSession inserts a new session.
func (s *Sessions) CreateSession(ctx context.Context, sess identity.Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions
		(id, user_id, refresh_hash, created_at, last_used_at, expires_at, user_agent, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		sess.ID, sess.UserID, sess.RefreshHash, sess.CreatedAt, sess.LastUsedAt, sess.ExpiresAt,
		nullIfEmpty(sess.UserAgent), nullIfEmpty(sess.IP))
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionStatus returns what a request checks about a session.
func (s *Sessions) SessionStatus(ctx context.Context, id string) (identity.SessionStatus, error) {
	var st identity.SessionStatus
	err := s.pool.QueryRow(ctx, `SELECT user_id, last_used_at, expires_at, revoked_at IS NOT NULL
		FROM sessions WHERE id = $1`, id).Scan(&st.UserID, &st.LastUsedAt, &st.ExpiresAt, &st.Revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, apperr.ErrNotFound
	}
	if err != nil {
		return st, fmt.Errorf("select session: %w", err)
	}
	return st, nil
}

const sessionColumns = `id, user_id, refresh_hash, created_at, last_used_at, expires_at, revoked_at,
	coalesce(user_agent, ''), coalesce(ip, '')`

func scanSession(row pgx.Row) (identity.Session, error) {
	var s identity.Session
	err := row.Scan(&s.ID, &s.UserID, &s.RefreshHash, &s.CreatedAt, &s.LastUsedAt, &s.ExpiresAt, &s.RevokedAt, &s.UserAgent, &s.IP)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, apperr.ErrNotFound
	}
	return s, err
}

// RotateRefresh runs decide on the locked session and applies its change in one transaction. The
// row lock makes two refreshes with the same token run one after the other, so the second sees
// the token as rotated.
func (s *Sessions) RotateRefresh(ctx context.Context, id, presentedHash string,
	decide func(identity.Session, identity.RefreshMatch) (identity.SessionChange, error)) (identity.Session, error) {
	var (
		sess      identity.Session
		decideErr error
	)
	err := InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		sess, err = scanSession(tx.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		match := identity.RefreshCurrent
		if sess.RefreshHash != presentedHash {
			var rotated bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM session_rotated_tokens
				WHERE refresh_hash = $1 AND session_id = $2)`, presentedHash, id).Scan(&rotated); err != nil {
				return err
			}
			match = identity.RefreshUnknown
			if rotated {
				match = identity.RefreshRotated
			}
		}
		var change identity.SessionChange
		change, decideErr = decide(sess, match)
		switch {
		case change.Revoke:
			if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, change.At); err != nil {
				return err
			}
			at := change.At
			sess.RevokedAt = &at
		case change.NewRefreshHash != "":
			if _, err := tx.Exec(ctx, `UPDATE sessions SET refresh_hash = $2, last_used_at = $3 WHERE id = $1`,
				id, change.NewRefreshHash, change.At); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO session_rotated_tokens (refresh_hash, session_id, rotated_at)
				VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, presentedHash, id, change.At); err != nil {
				return err
			}
			sess.RefreshHash, sess.LastUsedAt = change.NewRefreshHash, change.At
		}
		return nil
	})
	if errors.Is(err, apperr.ErrNotFound) {
		return identity.Session{}, err
	}
	if err != nil {
		return identity.Session{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	return sess, decideErr
}

// RevokeSession ends one session of the user.
func (s *Sessions) RevokeSession(ctx context.Context, userID int64, id string, at time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE sessions SET revoked_at = $3
		WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, id, userID, at)
	if err != nil {
		return false, fmt.Errorf("revoke session: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// RevokeUserSessions ends every active session of the user.
func (s *Sessions) RevokeUserSessions(ctx context.Context, userID int64, at time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `UPDATE sessions SET revoked_at = $2
		WHERE user_id = $1 AND revoked_at IS NULL RETURNING id`, userID, at)
	if err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	return ids, nil
}

// DeleteEndedSessions removes sessions that ended before cutoff (past their lifetime, idle for
// longer than idle, or revoked), with their rotated tokens, and forgets rotated tokens older than
// the idle timeout: such a token could not refresh anyway, so a replay of it is refused without
// the record. It returns the number of sessions removed.
func (s *Sessions) DeleteEndedSessions(ctx context.Context, cutoff time.Time, idle time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions
		WHERE expires_at < $1 OR last_used_at < $2 OR revoked_at < $1`, cutoff, cutoff.Add(-idle))
	if err != nil {
		return 0, fmt.Errorf("delete ended sessions: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM session_rotated_tokens WHERE rotated_at < $1`, cutoff.Add(-idle)); err != nil {
		return 0, fmt.Errorf("delete old rotated tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}
