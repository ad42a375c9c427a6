-- Matrix identity (issue 13). Keep in step with the other backend's 0006_matrix_identity.sql.

-- The cryptographic identity (master key) an account had when it was linked, and when a
-- different one was first seen. While `key_changed_ms` is set, health text is held back from
-- the account, until staff confirm with a fresh link code (which clears both).
ALTER TABLE identities ADD COLUMN key_fingerprint TEXT;
ALTER TABLE identities ADD COLUMN key_changed_ms BIGINT;

-- Messages that reached the bot but could not be read (end-to-end keys withheld or missing):
-- counted per channel for `carebot status`. The event id only; never the sender or the words.
CREATE TABLE unreadable_messages (
    platform    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (platform, event_id)
);
