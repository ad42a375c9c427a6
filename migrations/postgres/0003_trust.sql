-- Trust (issue 7). Keep in step with the other backend's 0003_trust.sql.

-- When a resident was told that no member of staff could be reached by message about their
-- alert (and given a phone number instead). Set once.
ALTER TABLE alerts ADD COLUMN resident_told_ms BIGINT;

-- When a person's records were erased; the row stays (anonymised) so ids in the audit log and
-- in other people's records keep pointing at something, but it holds nothing personal.
ALTER TABLE people ADD COLUMN erased_ms BIGINT;
