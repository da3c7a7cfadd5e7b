-- The payment sandbox's own books. The sandbox plays an external provider inside the same binary;
-- keeping its charges in Postgres lets any instance answer for them and lets them survive a restart,
-- as a real provider's would.
-- +goose Up
CREATE TABLE sandbox_charges (
    id              text PRIMARY KEY,
    -- the merchant's idempotency key: a repeated key returns this charge
    idempotency_key text NOT NULL UNIQUE,
    amount          bigint NOT NULL CHECK (amount >= 0),
    currency        char(3) NOT NULL,
    token           text NOT NULL,
    brand           text NOT NULL,
    last4           text NOT NULL,
    -- approved, declined, or pending until approve_at
    status          text NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    decline_reason  text,
    approve_at      timestamptz,
    refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_charges_due_idx ON sandbox_charges (approve_at) WHERE status = 'pending';

CREATE TABLE sandbox_refunds (
    id              text PRIMARY KEY,
    charge_id       text NOT NULL REFERENCES sandbox_charges (id),
    idempotency_key text NOT NULL UNIQUE,
    amount          bigint NOT NULL CHECK (amount > 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE sandbox_refunds;
DROP TABLE sandbox_charges;
