package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/gateway"
	"storefront/gateway/sandbox"
)

// SandboxStore implements sandbox.Store: the payment sandbox's books.
type SandboxStore struct{ pool *pgxpool.Pool }

// NewSandboxStore returns the sandbox's store over pool.
func NewSandboxStore(pool *pgxpool.Pool) *SandboxStore { return &SandboxStore{pool: pool} }

var _ sandbox.Store = (*SandboxStore)(nil)

const sandboxChargeColumns = `id, idempotency_key, status, amount, currency, brand, last4, coalesce(decline_reason, ''), refunded_amount`

func scanSandboxCharge(row pgx.Row) (gateway.Charge, error) {
	var c gateway.Charge
	err := row.Scan(&c.ID, &c.Reference, &c.Status, &c.Amount, &c.Currency, &c.Brand, &c.Last4, &c.DeclineReason, &c.RefundedAmount)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, sandbox.ErrNotFound
	}
	return c, err
}

// CreateCharge records a charge unless its idempotency key was used before.
func (s *SandboxStore) CreateCharge(ctx context.Context, c sandbox.NewCharge) (gateway.Charge, error) {
	var reason *string
	if c.DeclineReason != "" {
		reason = &c.DeclineReason
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sandbox_charges (id, idempotency_key, amount, currency, token, brand, last4,
		status, decline_reason, approve_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		c.ID, c.IdempotencyKey, c.Amount, c.Currency, c.Token, c.Brand, c.Last4, c.Status, reason, c.ApproveAt)
	if err != nil {
		return gateway.Charge{}, fmt.Errorf("sandbox: insert charge: %w", err)
	}
	return s.ChargeByKey(ctx, c.IdempotencyKey)
}

// settle approves a pending charge whose time has come; reading a charge always settles it first,
// so its verdict does not depend on any one instance staying up.
func (s *SandboxStore) settle(ctx context.Context, where string, arg string) (gateway.Charge, error) {
	if _, err := s.pool.Exec(ctx, `UPDATE sandbox_charges SET status = 'approved'
		WHERE `+where+` = $1 AND status = 'pending' AND approve_at <= now()`, arg); err != nil {
		return gateway.Charge{}, fmt.Errorf("sandbox: settle charge: %w", err)
	}
	return scanSandboxCharge(s.pool.QueryRow(ctx, `SELECT `+sandboxChargeColumns+` FROM sandbox_charges WHERE `+where+` = $1`, arg))
}

// Charge returns a charge by id.
func (s *SandboxStore) Charge(ctx context.Context, id string) (gateway.Charge, error) {
	return s.settle(ctx, "id", id)
}

// ChargeByKey returns the charge made with an idempotency key.
func (s *SandboxStore) ChargeByKey(ctx context.Context, key string) (gateway.Charge, error) {
	return s.settle(ctx, "idempotency_key", key)
}

// Refund records a refund once per key, never beyond what is left of the charge.
func (s *SandboxStore) Refund(ctx context.Context, chargeID, key, refundID string, amount int64) (gateway.Refund, error) {
	var out gateway.Refund
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var left int64
		if err := tx.QueryRow(ctx, `SELECT amount - refunded_amount FROM sandbox_charges WHERE id = $1 FOR UPDATE`, chargeID).Scan(&left); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return sandbox.ErrNotFound
			}
			return err
		}
		err := tx.QueryRow(ctx, `SELECT id, charge_id, amount FROM sandbox_refunds WHERE idempotency_key = $1`, key).
			Scan(&out.ID, &out.ChargeID, &out.Amount)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if amount > left {
			return sandbox.ErrRefundTooLarge
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sandbox_refunds (id, charge_id, idempotency_key, amount) VALUES ($1, $2, $3, $4)`,
			refundID, chargeID, key, amount); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sandbox_charges SET refunded_amount = refunded_amount + $2 WHERE id = $1`, chargeID, amount); err != nil {
			return err
		}
		out = gateway.Refund{ID: refundID, ChargeID: chargeID, Amount: amount}
		return nil
	})
	if err != nil && !errors.Is(err, sandbox.ErrNotFound) && !errors.Is(err, sandbox.ErrRefundTooLarge) {
		return out, fmt.Errorf("sandbox: refund: %w", err)
	}
	return out, err
}
