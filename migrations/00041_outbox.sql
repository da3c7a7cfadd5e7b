-- The transactional outbox: events written in the same transaction as the change they announce,
-- relayed after commit by a worker (FOR UPDATE SKIP LOCKED, so every instance can run one), and
-- what the consumers produce.
-- +goose Up
CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic        text NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- a failed event is retried from this time on, with backoff
    available_at timestamptz NOT NULL DEFAULT now(),
    attempts     int NOT NULL DEFAULT 0,
    last_error   text,
    processed_at timestamptz
);
CREATE INDEX outbox_pending_idx ON outbox (available_at, id) WHERE processed_at IS NULL;

-- One marker per consumer and event: a consumer that already handled an event skips it when the
-- event is delivered again (after another consumer of the same event failed, say).
CREATE TABLE processed_events (
    consumer     text NOT NULL,
    event_id     bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Messages to customers. No mail is sent: they are stored here and logged.
CREATE TABLE order_messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id   bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL,
    kind       text NOT NULL,
    subject    text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, kind)
);

-- Alerts raised when a product's available stock falls under the threshold.
CREATE TABLE stock_alerts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   bigint NOT NULL UNIQUE,
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    available  int NOT NULL,
    threshold  int NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE stock_alerts;
DROP TABLE order_messages;
DROP TABLE processed_events;
DROP TABLE outbox;
