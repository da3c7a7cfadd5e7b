package testsupport

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RedisClusterURL returns REDIS_CLUSTER_URL, the Redis Cluster of the scale-out tests, failing the
// test when it is not set.
func RedisClusterURL(t testing.TB) string {
	return requireEnv(t, "REDIS_CLUSTER_URL", howToSetClusterStack)
}

const howToSetClusterStack = "run the scale-out tests with `make test-cluster`, which starts a Redis Cluster and a Postgres replica"

// ReplicaURL returns DATABASE_REPLICA_URL, a streaming replica of DATABASE_URL's server, failing
// the test when it is not set.
func ReplicaURL(t testing.TB) string {
	return requireEnv(t, "DATABASE_REPLICA_URL", howToSetClusterStack)
}

// ReplicaOf returns the URL of the test database dbURL (made by NewDatabase on the primary) on the
// replica at DATABASE_REPLICA_URL. Streaming replication copies the database itself; ReplicaOf
// returns once the replica has replayed everything the primary had committed when it was called,
// so the database, its schema and any rows written before are there.
func ReplicaOf(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("parse database URL: %v", err)
	}
	replica := withDatabase(ReplicaURL(t), strings.TrimPrefix(u.Path, "/"))
	WaitForReplica(t, dbURL, replica)
	return replica
}

// WaitForReplica waits until the replica (replicaURL) has replayed the primary's (primaryURL)
// write-ahead log up to where it was at the call, failing the test after 30 seconds. It connects
// again and again while the replica does not have the database yet.
func WaitForReplica(t testing.TB, primaryURL, replicaURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	primary, err := pgx.Connect(ctx, primaryURL)
	if err != nil {
		t.Fatalf("connect to the primary: %v", err)
	}
	defer primary.Close(context.Background())
	var target string
	if err := primary.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&target); err != nil {
		t.Fatalf("read the primary's WAL position: %v", err)
	}
	var lastErr error
	for ctx.Err() == nil {
		lastErr = func() error {
			replica, err := pgx.Connect(ctx, replicaURL)
			if err != nil {
				return err
			}
			defer replica.Close(context.Background())
			var caughtUp bool
			if err := replica.QueryRow(ctx, `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, target).Scan(&caughtUp); err != nil {
				return err
			}
			if !caughtUp {
				return errBehind
			}
			return nil
		}()
		if lastErr == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the replica did not replay the primary's WAL up to %s within 30s: %v", target, lastErr)
}

var errBehind = errors.New("the replica is behind the primary")
