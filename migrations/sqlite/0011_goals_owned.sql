-- Goals belong to the resident (issue 14). Keep in step with the other backend's
-- 0011_goals_owned.sql.
--
-- `state`: active (asked about), paused, suggested (by staff, asked about only once the
-- resident says it is theirs), achieved, dropped, declined. `active` stays true exactly when
-- the state is active, for readers written before this column.
-- `cadence`: daily, some_days (Monday, Wednesday, Friday) or weekly (Sunday).
-- `suggested_by`: the member of staff who suggested it, when known.
ALTER TABLE goals ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
ALTER TABLE goals ADD COLUMN cadence TEXT NOT NULL DEFAULT 'daily';
ALTER TABLE goals ADD COLUMN suggested_by BIGINT;
ALTER TABLE goals ADD COLUMN changed_ms BIGINT;
UPDATE goals SET state = 'dropped' WHERE active = FALSE;

-- Each change the resident makes to a goal, oldest first: the goal's history (in the export,
-- "what do you know about me" and the keyworker's digest). `text` holds the words of an
-- added or reworded goal; every other change has none.
CREATE TABLE goal_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    goal_id     BIGINT NOT NULL REFERENCES goals(id),
    person_id   BIGINT NOT NULL REFERENCES people(id),
    change      TEXT NOT NULL,
    text        TEXT,
    at_ms       BIGINT NOT NULL
);
CREATE INDEX goal_changes_by_person ON goal_changes (person_id, at_ms);
