package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ReplicaLag returns how many bytes of the primary's write-ahead log the replica has not yet
// replayed: 0 when it has caught up with everything committed before the call. It measures in
// bytes, not seconds, because a replay timestamp only moves when the primary writes, so an idle
// primary would look like a replica falling further and further behind.
func ReplicaLag(ctx context.Context, primary, replica *pgxpool.Pool) (int64, error) {
	var lsn string
	if err := primary.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
		return 0, fmt.Errorf("read primary WAL position: %w", err)
	}
	var behind *int64
	// pg_last_wal_replay_lsn is not NULL on a primary that went through crash recovery at its
	// start: ask whether the server is a replica at all.
	err := replica.QueryRow(ctx, `SELECT CASE WHEN pg_is_in_recovery()
		THEN pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::bigint END`, lsn).Scan(&behind)
	if err != nil {
		return 0, fmt.Errorf("read replica replay position: %w", err)
	}
	if behind == nil {
		// Not in recovery: DATABASE_REPLICA_URL names a primary, which is never behind itself.
		return 0, nil
	}
	return max(*behind, 0), nil
}
