package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"storefront/store/postgres"
	"storefront/testsupport"
)

// TestWriteBehindTx: a held-back write is seen by the transaction's next read and committed with
// COMMIT; a write refused by Postgres, or one that fails its own check, takes the whole
// transaction with it, COMMIT never running; and each transaction leaves its connection idle.
func TestWriteBehindTx(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE behind (n int PRIMARY KEY CHECK (n > 0))`); err != nil {
		t.Fatal(err)
	}
	rows := func() (n int) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM behind`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	countIn := func(tx *postgres.WriteBehindTx) (n int, err error) {
		err = tx.QueryRow(ctx, `SELECT count(*) FROM behind`).Scan(&n)
		return n, err
	}

	err := postgres.InWriteBehindTx(ctx, pool, func(tx *postgres.WriteBehindTx) error {
		tx.Write("insert 1", `INSERT INTO behind VALUES (1)`)
		tx.Write("insert 2", `INSERT INTO behind VALUES (2)`)
		if n, err := countIn(tx); err != nil || n != 2 {
			t.Errorf("inside the transaction: %d rows (%v); want the two held-back inserts", n, err)
		}
		tx.WriteOne("delete 2", `DELETE FROM behind WHERE n = 2`)
		tx.Write("insert 3", `INSERT INTO behind VALUES (3)`)
		return nil
	})
	if err != nil || rows() != 2 {
		t.Fatalf("committed transaction: err %v, %d rows; want nil and rows 1 and 3", err, rows())
	}

	// Refused by Postgres at COMMIT: the write before it goes too.
	err = postgres.InWriteBehindTx(ctx, pool, func(tx *postgres.WriteBehindTx) error {
		tx.Write("insert 4", `INSERT INTO behind VALUES (4)`)
		tx.Write("insert 1 again", `INSERT INTO behind VALUES (1)`)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "insert 1 again") || rows() != 2 {
		t.Errorf("duplicate key at commit: err %v, %d rows; want an error naming the write and 2 rows", err, rows())
	}

	// Refused by Postgres and surfacing at the next read, which does not run.
	err = postgres.InWriteBehindTx(ctx, pool, func(tx *postgres.WriteBehindTx) error {
		tx.Write("insert -1", `INSERT INTO behind VALUES (-1)`)
		if _, err := countIn(tx); err == nil || !strings.Contains(err.Error(), "insert -1") {
			t.Errorf("read after a refused write: %v; want the write's error", err)
		}
		return nil
	})
	if err == nil || rows() != 2 {
		t.Errorf("refused write: err %v, %d rows; want an error and 2 rows", err, rows())
	}

	// A write that fails its own check (no row changed) is judged before COMMIT is sent: the
	// insert queued beside it is not committed, though Postgres accepted both statements.
	err = postgres.InWriteBehindTx(ctx, pool, func(tx *postgres.WriteBehindTx) error {
		tx.Write("insert 5", `INSERT INTO behind VALUES (5)`)
		tx.WriteOne("delete 9", `DELETE FROM behind WHERE n = 9`)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "delete 9: 0 rows changed") || rows() != 2 {
		t.Errorf("failed check: err %v, %d rows; want the check's error and 2 rows", err, rows())
	}

	// The caller's own error rolls back what was sent and what was still held back.
	refused := errors.New("refused")
	err = postgres.InWriteBehindTx(ctx, pool, func(tx *postgres.WriteBehindTx) error {
		tx.Write("insert 6", `INSERT INTO behind VALUES (6)`)
		if _, err := countIn(tx); err != nil {
			return err
		}
		tx.Write("insert 7", `INSERT INTO behind VALUES (7)`)
		return refused
	})
	if !errors.Is(err, refused) || rows() != 2 {
		t.Errorf("caller refused: err %v, %d rows; want %v and 2 rows", err, rows(), refused)
	}

	// Batches sent through the transaction run after the held-back writes.
	err = postgres.InWriteBehindTx(ctx, pool, func(tx *postgres.WriteBehindTx) error {
		tx.Write("insert 8", `INSERT INTO behind VALUES (8)`)
		var n int
		b := &pgx.Batch{}
		b.Queue(`SELECT max(n) FROM behind`).QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
		if err := tx.SendBatch(ctx, b).Close(); err != nil || n != 8 {
			t.Errorf("batch after a held-back write: max %d (%v); want 8", n, err)
		}
		return nil
	})
	if err != nil || rows() != 3 {
		t.Errorf("batch transaction: err %v, %d rows; want nil and 3", err, rows())
	}

	assertPoolIdle(t, pool)
}
