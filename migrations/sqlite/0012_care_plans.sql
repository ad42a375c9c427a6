-- A care plan the resident can read and agree to (issue 14). Keep in step with the other
-- backend's 0012_care_plans.sql.
--
-- Each time staff write a resident's plan (`carebot plan-set`) it is a new version; nothing is
-- overwritten. `sections` is JSON: [{ "title": "What matters to me", "text": "..." }, ...].
CREATE TABLE care_plans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id   BIGINT NOT NULL REFERENCES people(id),
    version     BIGINT NOT NULL,
    sections    TEXT NOT NULL,
    written_by  TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    UNIQUE (person_id, version)
);

-- The resident's answer about one version, recorded like consent: the exact wording shown,
-- the time and the channel. `words` are what they said they disagree with, as they said it.
CREATE TABLE plan_agreements (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id     BIGINT NOT NULL REFERENCES care_plans(id),
    person_id   BIGINT NOT NULL REFERENCES people(id),
    version     BIGINT NOT NULL,
    agreed      BOOLEAN NOT NULL,
    wording     TEXT NOT NULL,
    words       TEXT,
    channel     TEXT NOT NULL,
    decided_ms  BIGINT NOT NULL
);
CREATE INDEX plan_agreements_by_plan ON plan_agreements (plan_id, id);
