-- Checkout: what orders cost (shipping methods, tax rates, discount codes), the orders themselves
-- with their status history, payments, and idempotency keys for checkout and payOrder.
-- +goose Up
CREATE TABLE shipping_methods (
    code      text PRIMARY KEY,
    name      text NOT NULL,
    -- minor units
    price     bigint NOT NULL CHECK (price >= 0),
    -- goods (after discount) at or above this ship free; NULL: never free
    free_over bigint CHECK (free_over > 0),
    position  int NOT NULL DEFAULT 0,
    active    boolean NOT NULL DEFAULT true
);

-- Tax by destination: region '' is the whole country; a region's own row wins over it.
CREATE TABLE tax_rates (
    country      char(2) NOT NULL CHECK (country = upper(country)),
    region       text NOT NULL DEFAULT '' CHECK (region = upper(region)),
    basis_points int NOT NULL CHECK (basis_points BETWEEN 0 AND 10000),
    PRIMARY KEY (country, region)
);

CREATE TABLE discount_codes (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- trimmed, upper case
    code               text NOT NULL UNIQUE CHECK (code = upper(code)),
    kind               text NOT NULL CHECK (kind IN ('PERCENT', 'FIXED')),
    -- basis points for PERCENT, minor units for FIXED
    value              bigint NOT NULL CHECK (value > 0),
    min_subtotal       bigint NOT NULL DEFAULT 0 CHECK (min_subtotal >= 0),
    starts_at          timestamptz,
    ends_at            timestamptz,
    -- NULL: no cap
    usage_limit        int CHECK (usage_limit > 0),
    per_customer_limit int CHECK (per_customer_limit > 0),
    -- redemptions by orders that were not cancelled; kept under the row lock taken at checkout
    times_used         int NOT NULL DEFAULT 0 CHECK (times_used >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'PERCENT' OR value <= 10000)
);

CREATE TABLE orders (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                bigint NOT NULL REFERENCES users (id),
    cart_id                text,
    status                 text NOT NULL CHECK (status IN
                               ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED')),
    currency               char(3) NOT NULL,
    subtotal               bigint NOT NULL CHECK (subtotal >= 0),
    discount               bigint NOT NULL CHECK (discount >= 0),
    shipping               bigint NOT NULL CHECK (shipping >= 0),
    tax                    bigint NOT NULL CHECK (tax >= 0),
    total                  bigint NOT NULL CHECK (total >= 0),
    discount_id            bigint REFERENCES discount_codes (id),
    discount_code          text,
    shipping_method        text NOT NULL,
    ship_name              text NOT NULL,
    ship_line1             text NOT NULL,
    ship_line2             text NOT NULL DEFAULT '',
    ship_city              text NOT NULL,
    ship_region            text NOT NULL DEFAULT '',
    ship_postal_code       text NOT NULL,
    ship_country           char(2) NOT NULL,
    tracking_carrier       text,
    tracking_number        text,
    -- set while PENDING_PAYMENT: the stock hold lapses then
    reservation_expires_at timestamptz,
    cancel_reason          text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_idx ON orders (user_id, id DESC);
CREATE INDEX orders_user_status_idx ON orders (user_id, status, id DESC);
CREATE INDEX orders_expiry_idx ON orders (reservation_expires_at) WHERE status = 'PENDING_PAYMENT';
CREATE INDEX orders_discount_user_idx ON orders (discount_id, user_id)
    WHERE discount_id IS NOT NULL AND status NOT IN ('CANCELLED', 'REFUNDED');

-- Lines as bought: name and price copied at checkout. While the order is PENDING_PAYMENT its
-- quantities are held in inventory.reserved.
CREATE TABLE order_lines (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id   bigint REFERENCES products (id) ON DELETE SET NULL,
    product_name text NOT NULL,
    quantity     int NOT NULL CHECK (quantity > 0),
    unit_price   bigint NOT NULL CHECK (unit_price >= 0),
    line_total   bigint NOT NULL CHECK (line_total >= 0)
);
CREATE INDEX order_lines_order_idx ON order_lines (order_id, id);

CREATE TABLE order_status_history (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status   text NOT NULL,
    note     text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL
);
CREATE INDEX order_status_history_order_idx ON order_status_history (order_id, id);

CREATE TABLE payments (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id       bigint NOT NULL REFERENCES orders (id),
    user_id        bigint NOT NULL REFERENCES users (id),
    status         text NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'DECLINED', 'REFUNDED')),
    amount         bigint NOT NULL CHECK (amount >= 0),
    currency       char(3) NOT NULL,
    -- the gateway token; card numbers are never stored
    token          text NOT NULL,
    brand          text,
    last4          text,
    -- our id of the attempt, sent as the gateway's idempotency key
    reference      text NOT NULL UNIQUE,
    charge_id      text UNIQUE,
    failure_reason text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order_idx ON payments (order_id, id);
-- One attempt in flight per order: a second concurrent payOrder cannot charge the card twice.
CREATE UNIQUE INDEX payments_one_pending_per_order_idx ON payments (order_id) WHERE status = 'PENDING';
CREATE INDEX payments_pending_idx ON payments (updated_at) WHERE status = 'PENDING';

-- Gateway webhook events already applied: a replayed event changes nothing.
CREATE TABLE payment_webhook_events (
    event_id    text PRIMARY KEY,
    type        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- Idempotency keys of checkout and payOrder, per user. The row is written in its own transaction
-- before any work; the request hash catches a key reused for a different request.
CREATE TABLE idempotency_keys (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    -- IN_PROGRESS until the result exists; DONE with the order or payment it produced
    status       text NOT NULL DEFAULT 'IN_PROGRESS' CHECK (status IN ('IN_PROGRESS', 'DONE')),
    result_id    bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE payment_webhook_events;
DROP TABLE payments;
DROP TABLE order_status_history;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE discount_codes;
DROP TABLE tax_rates;
DROP TABLE shipping_methods;
