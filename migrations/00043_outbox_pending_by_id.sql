-- The relay claims pending events in id order (ORDER BY id LIMIT n). The partial index on
-- (available_at, id) cannot give that order, so the planner walked the primary key instead and
-- filtered out every event ever processed: the poll cost grew with the outbox's history (2.7 ms per
-- poll with 8,000 processed events, a fifth of Postgres's time under 200 checkouts per second). A
-- partial index on id alone holds only the pending events, in the order the relay takes them.
-- +goose Up
CREATE INDEX outbox_pending_id_idx ON outbox (id) WHERE processed_at IS NULL;
DROP INDEX outbox_pending_idx;

-- +goose Down
CREATE INDEX outbox_pending_idx ON outbox (available_at, id) WHERE processed_at IS NULL;
DROP INDEX outbox_pending_id_idx;
