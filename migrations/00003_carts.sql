-- Carts: Postgres is the truth; Redis caches the read model.
-- +goose Up
CREATE TABLE carts (
    -- 128 random bits, base64url: for a guest cart the id is also its key
    id         text PRIMARY KEY,
    user_id    bigint REFERENCES users (id) ON DELETE CASCADE,
    status     text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'MERGED', 'CHECKED_OUT')),
    -- bumped by every write; the cache keeps only the highest version it has seen
    version    bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX carts_one_active_per_user_idx ON carts (user_id) WHERE status = 'ACTIVE' AND user_id IS NOT NULL;
CREATE INDEX carts_guest_updated_idx ON carts (updated_at) WHERE user_id IS NULL;

CREATE TABLE cart_lines (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cart_id          text NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id       bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    quantity         int NOT NULL CHECK (quantity > 0),
    -- the catalog price when the line was added, to warn when it changed
    added_unit_price bigint NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (cart_id, product_id)
);

-- +goose Down
DROP TABLE cart_lines;
DROP TABLE carts;
