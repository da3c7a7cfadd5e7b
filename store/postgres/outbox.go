package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/domain/checkout"
)

// Outbox implements checkout.Outbox: the relay of the transactional outbox and the tables its
// consumers write.
type Outbox struct{ pool *pgxpool.Pool }

// NewOutbox returns the outbox over pool.
func NewOutbox(pool *pgxpool.Pool) *Outbox { return &Outbox{pool: pool} }

var _ checkout.Outbox = (*Outbox)(nil)

// maxBackoff caps the wait before a failing event is tried again.
const maxBackoff = 5 * time.Minute

// claimOutboxSQL takes the oldest due events. The partial index outbox_pending_id_idx holds only
// pending events in id order, so the claim reads those alone however many were processed before.
const claimOutboxSQL = `SELECT id, topic, payload, attempts FROM outbox
	WHERE processed_at IS NULL AND available_at <= now()
	ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`

// ProcessBatch claims due events with FOR UPDATE SKIP LOCKED, so relays on several instances
// split the work without waiting on each other, hands each to handle, and in the same transaction
// marks it processed or schedules a retry with exponential backoff.
func (o *Outbox) ProcessBatch(ctx context.Context, limit int, handle func(context.Context, checkout.Event) error) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, claimOutboxSQL, limit)
		if err != nil {
			return fmt.Errorf("claim outbox events: %w", err)
		}
		type claimed struct {
			ev       checkout.Event
			attempts int
		}
		var batch []claimed
		for rows.Next() {
			var c claimed
			if err := rows.Scan(&c.ev.ID, &c.ev.Topic, &c.ev.Payload, &c.attempts); err != nil {
				rows.Close()
				return fmt.Errorf("scan outbox event: %w", err)
			}
			batch = append(batch, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim outbox events: %w", err)
		}
		n = len(batch)
		for _, c := range batch {
			hctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			herr := handle(hctx, c.ev)
			cancel()
			if herr == nil {
				if _, err := tx.Exec(ctx, `UPDATE outbox SET processed_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`, c.ev.ID); err != nil {
					return fmt.Errorf("mark outbox event %d: %w", c.ev.ID, err)
				}
				continue
			}
			backoff := min(time.Duration(1<<min(c.attempts, 16))*time.Second, maxBackoff)
			if _, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
				available_at = now() + $3 * interval '1 millisecond' WHERE id = $1`,
				c.ev.ID, herr.Error(), backoff.Milliseconds()); err != nil {
				return fmt.Errorf("reschedule outbox event %d: %w", c.ev.ID, err)
			}
		}
		return nil
	})
	return n, err
}

// Consumed says whether consumer already handled the event.
func (o *Outbox) Consumed(ctx context.Context, consumer string, eventID int64) (bool, error) {
	var done bool
	err := o.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2)`,
		consumer, eventID).Scan(&done)
	if err != nil {
		return false, fmt.Errorf("read processed-event marker: %w", err)
	}
	return done, nil
}

// MarkConsumed records that consumer handled the event.
func (o *Outbox) MarkConsumed(ctx context.Context, consumer string, eventID int64) error {
	_, err := o.pool.Exec(ctx, `INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		consumer, eventID)
	if err != nil {
		return fmt.Errorf("write processed-event marker: %w", err)
	}
	return nil
}

// SaveMessage stores a customer message once per order and kind.
func (o *Outbox) SaveMessage(ctx context.Context, m checkout.Message) (bool, error) {
	tag, err := o.pool.Exec(ctx, `INSERT INTO order_messages (order_id, user_id, kind, subject, body)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id, kind) DO NOTHING`, m.OrderID, m.UserID, m.Kind, m.Subject, m.Body)
	if err != nil {
		return false, fmt.Errorf("store message: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// SaveStockAlert stores a low-stock alert once per event.
func (o *Outbox) SaveStockAlert(ctx context.Context, eventID int64, e checkout.LowStockEvent) (bool, error) {
	tag, err := o.pool.Exec(ctx, `INSERT INTO stock_alerts (event_id, product_id, available, threshold)
		VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING`, eventID, e.ProductID, e.Available, e.Threshold)
	if err != nil {
		return false, fmt.Errorf("store stock alert: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// MarkRefunded moves an approved payment to REFUNDED.
func (o *Outbox) MarkRefunded(ctx context.Context, paymentID int64) error {
	_, err := o.pool.Exec(ctx, `UPDATE payments SET status = 'REFUNDED', updated_at = now() WHERE id = $1 AND status = 'APPROVED'`, paymentID)
	if err != nil {
		return fmt.Errorf("mark payment %d refunded: %w", paymentID, err)
	}
	return nil
}
