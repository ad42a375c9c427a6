-- Requests that reach someone and come back (issue 14). Keep in step with the other
-- backend's 0009_requests.sql.
--
-- A request (a complaint, an advocate, a review, help with something) is an alert with a kind.
-- Staff acknowledge it like any alert, and close it with what was done, in their own words,
-- which the resident is told. The home's procedure gives each kind a number of days for a
-- reply; one still open then is brought back to the staff it went to, once.
ALTER TABLE alerts ADD COLUMN request TEXT;
ALTER TABLE alerts ADD COLUMN closed_ms BIGINT;
ALTER TABLE alerts ADD COLUMN closed_by BIGINT REFERENCES people(id);
-- What was done, as the member of staff wrote it (the resident's record: erased with it).
ALTER TABLE alerts ADD COLUMN outcome TEXT;
-- When a request still open at its reply date was brought back to staff.
ALTER TABLE alerts ADD COLUMN overdue_ms BIGINT;
-- A resident's own requests, newest first ("what have I asked for?").
CREATE INDEX alerts_requests ON alerts (person_id, id) WHERE request IS NOT NULL;
