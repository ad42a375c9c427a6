-- When a deliverer claimed a pending message (NULL when no claim is held). A claim still held
-- when a single-instance Carebot starts is from a run that stopped mid-send: the message is
-- retried at once, counted as an attempt whose outcome is unknown, not after its lease.
ALTER TABLE outbox ADD COLUMN claimed_ms BIGINT;
