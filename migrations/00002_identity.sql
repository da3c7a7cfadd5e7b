-- Accounts, their addresses, and the durable copy of sessions (Redis serves them; this survives a
-- Redis restart).
-- +goose Up
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- normalised: trimmed and lower-cased
    email         text NOT NULL UNIQUE,
    name          text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'CUSTOMER' CHECK (role IN ('CUSTOMER', 'ADMIN')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE addresses (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL,
    line1       text NOT NULL,
    line2       text,
    city        text NOT NULL,
    region      text,
    postal_code text NOT NULL,
    country     char(2) NOT NULL,
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user_idx ON addresses (user_id);
CREATE UNIQUE INDEX addresses_one_default_idx ON addresses (user_id) WHERE is_default;

CREATE TABLE sessions (
    id                    text PRIMARY KEY,
    user_id               bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the current refresh token; the token itself is never stored
    refresh_hash          text NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    last_used_at          timestamptz NOT NULL DEFAULT now(),
    -- absolute lifetime: no refresh extends it
    expires_at            timestamptz NOT NULL,
    revoked_at            timestamptz,
    user_agent            text,
    ip                    text
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Hashes of refresh tokens already rotated away: presenting one again means it was stolen.
CREATE TABLE session_rotated_tokens (
    refresh_hash text PRIMARY KEY,
    session_id   text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    rotated_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE session_rotated_tokens;
DROP TABLE sessions;
DROP TABLE addresses;
DROP TABLE users;
