-- Indexes for removing ended sessions: the sweep finds sessions by their ends, and deleting a
-- session cascades to its rotated tokens, which needs an index on the referencing column.
-- +goose Up
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_last_used_idx ON sessions (last_used_at);
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX session_rotated_tokens_session_idx ON session_rotated_tokens (session_id);
CREATE INDEX session_rotated_tokens_rotated_idx ON session_rotated_tokens (rotated_at);

-- +goose Down
DROP INDEX session_rotated_tokens_rotated_idx;
DROP INDEX session_rotated_tokens_session_idx;
DROP INDEX sessions_revoked_idx;
DROP INDEX sessions_last_used_idx;
DROP INDEX sessions_expires_idx;
