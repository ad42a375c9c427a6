-- The scheduler: follow-up timers (nudge, missed), each check-in's outcome, and how far the
-- scheduler has got. Keep in step with ../sqlite/0002_scheduler.sql.

CREATE TABLE timers (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people(id),
    kind        TEXT NOT NULL,
    flow        TEXT NOT NULL,
    run         BIGINT NOT NULL,
    due_ms      BIGINT NOT NULL,
    done_ms     BIGINT
);
CREATE INDEX timers_due ON timers (done_ms, due_ms);

-- One row per scheduled check-in: started, then completed, missed or skipped.
CREATE TABLE checkins (
    person_id   BIGINT NOT NULL REFERENCES people(id),
    run         BIGINT NOT NULL,
    local_date  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('started','completed','missed','skipped')),
    started_ms  BIGINT NOT NULL,
    ended_ms    BIGINT,
    PRIMARY KEY (person_id, run)
);

CREATE TABLE scheduler_state (
    name     TEXT PRIMARY KEY,
    value_ms BIGINT NOT NULL
);
