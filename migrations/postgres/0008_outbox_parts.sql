-- How many parts of a long message a platform has already accepted (Discord splits at 2,000
-- characters). A retry sends only the rest: Discord honours a nonce for a few minutes only, so
-- resending an accepted part after a longer outage would post it twice. Keep in step with the
-- other backend's 0008_outbox_parts.sql.
ALTER TABLE outbox ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0;
