package postgres_test

import (
	"context"
	"encoding/json"
	"testing"

	"storefront/domain/checkout"
	"storefront/store/postgres"
	"storefront/testsupport"
)

// TestOutboxClaimReadsPendingOnly: with twenty thousand events already processed and three
// pending (one not yet due), the relay claims the two due ones in id order, and the claim's plan
// reads a handful of index and heap pages rather than walking the processed history. Before the
// pending index was keyed by id, the same claim read every processed event's page.
func TestOutboxClaimReadsPendingOnly(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ctx := context.Background()
	for _, q := range []string{
		// Statistics taken while events queued up, as autovacuum's may be: the planner then
		// expects many pending rows, the case where the old index lost to the primary key.
		`INSERT INTO outbox (topic, payload) SELECT 'order.paid', '{}' FROM generate_series(1, 20000)`,
		`ANALYZE outbox`,
		`UPDATE outbox SET processed_at = now()`,
		// Vacuum clears the index entries the update left behind, but not the column statistics.
		`VACUUM outbox`,
		`INSERT INTO outbox (topic, payload) VALUES ('order.placed', '{"n": 1}')`,
		`INSERT INTO outbox (topic, payload, available_at) VALUES ('order.placed', '{"n": 2}', now() + interval '1 hour')`,
		`INSERT INTO outbox (topic, payload) VALUES ('order.placed', '{"n": 3}')`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	var plan []struct {
		Plan struct {
			SharedHitBlocks  int64 `json:"Shared Hit Blocks"`
			SharedReadBlocks int64 `json:"Shared Read Blocks"`
		} `json:"Plan"`
	}
	// EXPLAIN ANALYZE runs the claim; on its own it changes nothing, and its row locks end with it.
	var raw []byte
	if err := pool.QueryRow(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+postgres.ClaimOutboxSQL, 20).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) != 1 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	if pages := plan[0].Plan.SharedHitBlocks + plan[0].Plan.SharedReadBlocks; pages > 20 {
		t.Errorf("the claim read %d pages; want a handful (the pending events only). Plan: %s", pages, raw)
	}

	var payloads []string
	n, err := postgres.NewOutbox(pool).ProcessBatch(ctx, 20, func(_ context.Context, ev checkout.Event) error {
		payloads = append(payloads, string(ev.Payload))
		return nil
	})
	if err != nil || n != 2 || len(payloads) != 2 || payloads[0] != `{"n": 1}` || payloads[1] != `{"n": 3}` {
		t.Errorf("claimed %d events %v (%v); want the two due ones, n 1 then n 3", n, payloads, err)
	}
	var pending int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE processed_at IS NULL`).Scan(&pending); err != nil || pending != 1 {
		t.Errorf("%d events pending after the batch (%v); want 1, the one not yet due", pending, err)
	}
}
