package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// writeBehindTx is a transaction on one connection that spends a round trip only where its caller
// needs an answer. It is for transactions whose reads depend on each other's answers, where
// InPipelinedTx's two round trips cannot hold the logic (the checkout's, the payment's):
//
//   - BEGIN travels with the first statement;
//   - a write whose only answer is success or failure waits and travels with the next read,
//     which Postgres runs after it, so the read sees it;
//   - the writes still waiting at the end travel with COMMIT.
//
// A write whose outcome is judged here rather than by Postgres (writeOne: exactly one row
// changed) never travels with COMMIT: Postgres would commit whatever the judgement, so such
// writes go first and COMMIT follows only once they passed. A write that fails in Postgres
// aborts the transaction, and nothing after it in the same round trip runs, COMMIT included.
//
// A failed write surfaces at the next round trip, as the error of whatever call sent it.
type writeBehindTx struct {
	conn   *pgxpool.Conn
	queued *pgx.Batch
	// judged: a queued write has a check of its own (writeOne), so COMMIT must wait for it.
	judged bool
}

// inWriteBehindTx runs fn in a writeBehindTx, committing when it returns nil. Like InTx, it
// retries serialization failures and deadlocks, and rolls back on any other error.
func inWriteBehindTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx *writeBehindTx) error) error {
	return retryConflicts(func() error { return writeBehind(ctx, pool, fn) })
}

// writeBehind runs fn once; a transaction whose BEGIN never left is idle already, so onTxConn
// has nothing to roll back.
func writeBehind(ctx context.Context, pool *pgxpool.Pool, fn func(*writeBehindTx) error) error {
	return onTxConn(ctx, pool, func(conn *pgxpool.Conn) error {
		tx := &writeBehindTx{conn: conn, queued: &pgx.Batch{}}
		tx.queued.Queue("BEGIN")
		if err := fn(tx); err != nil {
			return err
		}
		return tx.commit(ctx)
	})
}

// take returns the queued statements followed by b's, and empties the queue.
func (t *writeBehindTx) take(b *pgx.Batch) *pgx.Batch {
	out := t.queued
	if b != nil {
		out.QueuedQueries = append(out.QueuedQueries, b.QueuedQueries...)
	}
	t.queued, t.judged = &pgx.Batch{}, false
	return out
}

// SendBatch sends the waiting writes and then b (none when nil), in one round trip; b's callbacks run after
// the writes succeeded. It makes the transaction a batchSender for readOrder and loadDetails.
func (t *writeBehindTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, t.take(b))
}

// QueryRow runs a statement that answers one row, after the waiting writes, in one round trip.
// The round trip happens on Scan.
func (t *writeBehindTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return &writeBehindRow{ctx: ctx, tx: t, sql: sql, args: args}
}

type writeBehindRow struct {
	ctx  context.Context
	tx   *writeBehindTx
	sql  string
	args []any
}

// Scan implements pgx.Row: pgx.ErrNoRows when the statement answered no row, and an earlier
// write's error before the statement's own.
func (r *writeBehindRow) Scan(dest ...any) error {
	b := &pgx.Batch{}
	b.Queue(r.sql, r.args...).QueryRow(func(row pgx.Row) error { return row.Scan(dest...) })
	return r.tx.SendBatch(r.ctx, b).Close()
}

// QueryFunc runs a statement after the waiting writes, in one round trip, and hands its rows to
// each; the rows are closed when it returns.
func (t *writeBehindTx) QueryFunc(ctx context.Context, each func(pgx.Rows) error, sql string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(sql, args...).Query(each)
	return t.SendBatch(ctx, b).Close()
}

// Exec runs a write now, after the waiting ones, for a caller that needs its command tag.
func (t *writeBehindTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	b := &pgx.Batch{}
	b.Queue(sql, args...).Exec(func(ct pgconn.CommandTag) error { tag = ct; return nil })
	err := t.SendBatch(ctx, b).Close()
	return tag, err
}

// write queues a write that only Postgres can refuse; what names it in the error.
func (t *writeBehindTx) write(what, sql string, args ...any) {
	t.queue(what, nil, sql, args)
}

// writeOne queues a write that must change exactly one row; otherwise the transaction fails
// with an error naming what.
func (t *writeBehindTx) writeOne(what, sql string, args ...any) {
	t.queue(what, func(tag pgconn.CommandTag) error {
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("%d rows changed, want 1", tag.RowsAffected())
		}
		return nil
	}, sql, args)
	t.judged = true
}

// queue queues a write whose error, from Postgres or from check, names what.
func (t *writeBehindTx) queue(what string, check func(pgconn.CommandTag) error, sql string, args []any) {
	t.queued.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		if err == nil && check != nil {
			err = check(tag)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}

// commit sends the waiting writes with COMMIT; writes judged here go first, in a round trip
// of their own.
func (t *writeBehindTx) commit(ctx context.Context) error {
	if t.judged {
		if err := t.SendBatch(ctx, nil).Close(); err != nil {
			return err
		}
	}
	// Postgres answers COMMIT in a transaction that an earlier error aborted with ROLLBACK,
	// not with an error: should a caller have let such an error pass, this is where it shows.
	t.queued.Queue("COMMIT").Exec(func(tag pgconn.CommandTag) error {
		if tag.String() != "COMMIT" {
			return errors.New("commit: the transaction was aborted by an earlier error")
		}
		return nil
	})
	return t.SendBatch(ctx, nil).Close()
}
