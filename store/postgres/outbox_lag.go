package postgres

import (
	"context"
	"fmt"
	"time"
)

// OutboxLag returns the age of the oldest event the relay has not processed yet, 0 when none
// waits: how far subscriptions, mails and alerts run behind the commits that caused them.
func (o *Outbox) OutboxLag(ctx context.Context) (time.Duration, error) {
	var seconds float64
	err := o.pool.QueryRow(ctx, `SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8
		FROM outbox WHERE processed_at IS NULL`).Scan(&seconds)
	if err != nil {
		return 0, fmt.Errorf("outbox lag: %w", err)
	}
	return time.Duration(seconds * float64(time.Second)), nil
}
