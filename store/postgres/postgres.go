// Package postgres implements the domain stores on Postgres with pgx. It is the only place that
// writes SQL, and it turns driver errors into the domain's own errors.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Open connects a pool to the database at url and checks that it answers. Every statement goes
// through a tracer that counts it for the request's StatementCounter, if any.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns()
	}
	cfg.ConnConfig.Tracer = countingTracer{}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to Postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping Postgres: %w", err)
	}
	return pool, nil
}

// defaultMaxConns sizes the pool when DATABASE_URL does not (pool_max_conns=N). pgx's own default,
// one connection per CPU (at least four), starves a small machine: a transaction holds its
// connection across several round trips, during which neither Go nor Postgres is busy with it,
// so at a few hundred checkouts a second requests queued for a connection while both sides
// idled (scripts/bench.sh). Sixteen keeps Postgres busy without crowding it; Postgres needs
// max_connections for every instance's pool.
func defaultMaxConns() int32 { return int32(max(16, 4*runtime.GOMAXPROCS(0))) }

// StatementCounter counts the SQL statements run on behalf of one context: tests use it to prove
// that loaders batch, and the server to count statements per GraphQL operation.
type StatementCounter struct {
	n atomic.Int64
	// outer is the counter of an enclosing context, which counts the same statements: a test's
	// counter around a request keeps counting when the server adds its own per request.
	outer *StatementCounter
}

// Count returns the number of statements seen so far.
func (c *StatementCounter) Count() int64 { return c.n.Load() }

type counterKey struct{}

// WithStatementCounter returns a context whose statements are counted by the returned counter
// (and by any counter ctx already had).
func WithStatementCounter(ctx context.Context) (context.Context, *StatementCounter) {
	outer, _ := ctx.Value(counterKey{}).(*StatementCounter)
	c := &StatementCounter{outer: outer}
	return context.WithValue(ctx, counterKey{}, c), c
}

func countStatement(ctx context.Context) {
	c, _ := ctx.Value(counterKey{}).(*StatementCounter)
	for ; c != nil; c = c.outer {
		c.n.Add(1)
	}
}

// countingTracer implements pgx's query and batch tracers.
type countingTracer struct{}

func (countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	countStatement(ctx)
	return ctx
}

func (countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (countingTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (countingTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchQueryData) {
	countStatement(ctx)
}

func (countingTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// Postgres error codes this package translates.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeCheckViolation      = "23514"
	codeSerialization       = "40001"
	codeDeadlock            = "40P01"
)

// pgCode returns the SQLSTATE of a Postgres error, or "".
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// pgConstraint returns the constraint a Postgres error names, or "".
func pgConstraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

// InTx runs fn in a transaction, committing when it returns nil. Serialization failures and
// deadlocks are retried a few times, because they say only that a concurrent writer won a race.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return retryConflicts(func() error { return pgx.BeginFunc(ctx, pool, fn) })
}

// retryConflicts runs attempt until it ends in anything but a serialization failure or a
// deadlock, five times at most: those say only that a concurrent writer won a race, so the same
// work may succeed when run again. It returns the last attempt's error.
func retryConflicts(attempt func() error) error {
	var err error
	for range 5 {
		err = attempt()
		if c := pgCode(err); c != codeSerialization && c != codeDeadlock {
			return err
		}
	}
	return err
}

// InPipelinedTx runs a transaction in as few round trips as its logic allows: BEGIN travels with
// the statements open queues, body runs on their answers (it may query further on q) and
// returns the writes, which travel with COMMIT. A read-modify-write thus costs two round trips
// instead of BEGIN, each statement and COMMIT apart: fewer wake-ups for the server and the
// backend, and a shorter hold on the rows it locks. Statements still run in order, so a lock
// taken by one is held when the next is read. Like InTx, it retries serialization failures and
// deadlocks; anything else, from Postgres or body, rolls the transaction back.
func InPipelinedTx(ctx context.Context, pool *pgxpool.Pool, open func(first *pgx.Batch),
	body func(q Queryer) (last *pgx.Batch, err error)) error {
	return retryConflicts(func() error { return pipelinedTx(ctx, pool, open, body) })
}

// onTxConn runs fn on a connection of pool that fn drives a transaction on by hand, and rolls
// back whatever fn left uncommitted. Should the rollback fail too, the pool closes a connection
// that is still in a transaction when it is released rather than hand it out again.
func onTxConn(ctx context.Context, pool *pgxpool.Pool, fn func(*pgxpool.Conn) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	defer func() {
		if conn.Conn().PgConn().TxStatus() != 'I' {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_, _ = conn.Exec(rctx, "ROLLBACK")
		}
	}()
	return fn(conn)
}

func pipelinedTx(ctx context.Context, pool *pgxpool.Pool, open func(*pgx.Batch),
	body func(Queryer) (*pgx.Batch, error)) error {
	return onTxConn(ctx, pool, func(conn *pgxpool.Conn) error { return pipelined(ctx, conn, open, body) })
}

func pipelined(ctx context.Context, conn *pgxpool.Conn, open func(*pgx.Batch),
	body func(Queryer) (*pgx.Batch, error)) error {
	first := &pgx.Batch{}
	first.Queue("BEGIN")
	open(first)
	if err := conn.SendBatch(ctx, first).Close(); err != nil {
		return err
	}
	last, err := body(conn)
	if err != nil {
		return err
	}
	if last == nil {
		last = &pgx.Batch{}
	}
	last.Queue("COMMIT")
	return conn.SendBatch(ctx, last).Close()
}
