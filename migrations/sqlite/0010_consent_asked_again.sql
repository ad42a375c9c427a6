-- "Ask me later" is asked later (issue 14). Keep in step with the other backend's
-- 0010_consent_asked_again.sql.
--
-- A consent decision of "later" is asked about again once, `[schedule] ask_again_after_days`
-- after it was given: this is when. A "later" given in answer is a new row, asked about again
-- in its turn; a "no, not now" to the opening question leaves the rows marked, so the same
-- decision is never asked about twice.
ALTER TABLE consents ADD COLUMN asked_again_ms BIGINT;
