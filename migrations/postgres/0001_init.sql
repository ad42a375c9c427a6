-- Carebot schema, PostgreSQL. Keep in step with ../sqlite/0001_init.sql: the shared store
-- test-suite runs the same queries against both. Times are UTC epoch milliseconds.

CREATE TABLE homes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL DEFAULT 'Europe/London',
    phone       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE people (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    home_id       BIGINT NOT NULL REFERENCES homes(id),
    handle        TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('resident','family','keyworker','manager','admin')),
    language      TEXT NOT NULL DEFAULT 'en',
    checkin_time  TEXT,
    -- Family members: how often they hear about their resident ('daily' or 'weekly').
    update_cadence TEXT NOT NULL DEFAULT 'weekly' CHECK (update_cadence IN ('daily','weekly')),
    created_ms    BIGINT NOT NULL
);

-- Who is what to a resident: family, keyworker, manager. Revoked links stay for the audit.
CREATE TABLE relations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resident_id  BIGINT NOT NULL REFERENCES people(id),
    person_id    BIGINT NOT NULL REFERENCES people(id),
    relation     TEXT NOT NULL CHECK (relation IN ('family','keyworker','manager')),
    created_ms   BIGINT NOT NULL,
    revoked_ms   BIGINT
);
CREATE INDEX relations_by_resident ON relations (resident_id, relation);

-- A chat account bound to a person by the platform's immutable user id.
CREATE TABLE identities (
    platform    TEXT NOT NULL,
    address     TEXT NOT NULL,
    person_id   BIGINT NOT NULL REFERENCES people(id),
    linked_ms   BIGINT NOT NULL,
    revoked_ms  BIGINT,
    PRIMARY KEY (platform, address)
);
CREATE INDEX identities_by_person ON identities (person_id);

CREATE TABLE link_codes (
    code        TEXT PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people(id),
    expires_ms  BIGINT NOT NULL,
    used_ms     BIGINT
);

CREATE TABLE goals (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people(id),
    text        TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX goals_by_person ON goals (person_id);

CREATE TABLE reviews (
    person_id      BIGINT PRIMARY KEY REFERENCES people(id),
    interval_days  INTEGER NOT NULL,
    next_due       TEXT NOT NULL
);

-- Answers as the person gave them. Never updated: a correction is a new row.
CREATE TABLE answers (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    flow            TEXT NOT NULL,
    flow_version    TEXT NOT NULL,
    run             BIGINT NOT NULL,
    step            TEXT NOT NULL,
    answer_key      TEXT NOT NULL,
    goal_id         BIGINT,
    value           TEXT NOT NULL,
    raw             TEXT NOT NULL,
    truncated_from  BIGINT,
    answered_ms     BIGINT NOT NULL
);
CREATE INDEX answers_by_person ON answers (person_id, answered_ms);

CREATE TABLE consents (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resident_id      BIGINT NOT NULL REFERENCES people(id),
    family_id        BIGINT NOT NULL REFERENCES people(id),
    category         TEXT NOT NULL,
    decision         TEXT NOT NULL CHECK (decision IN ('yes','no','later')),
    wording_version  TEXT NOT NULL,
    -- Exactly what the person was asked, so the decision can be read in its own words later.
    wording          TEXT NOT NULL,
    channel          TEXT NOT NULL,
    -- 'self', or for a resident who cannot decide: 'lpa', 'deputy', 'best_interests'.
    basis            TEXT NOT NULL DEFAULT 'self' CHECK (basis IN ('self','lpa','deputy','best_interests')),
    basis_detail     TEXT,
    recorded_by      BIGINT REFERENCES people(id),
    decided_ms       BIGINT NOT NULL
);
CREATE INDEX consents_by_pair ON consents (resident_id, family_id, category, decided_ms);

CREATE TABLE conversations (
    person_id   BIGINT PRIMARY KEY REFERENCES people(id),
    state       TEXT NOT NULL,
    updated_ms  BIGINT NOT NULL
);

-- Every flow version a conversation may be pinned to.
CREATE TABLE flow_versions (
    flow           TEXT NOT NULL,
    version        TEXT NOT NULL,
    source         TEXT NOT NULL,
    first_seen_ms  BIGINT NOT NULL,
    PRIMARY KEY (flow, version)
);

-- Inbound de-duplication: a replayed platform event is processed once.
CREATE TABLE inbound_events (
    platform     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_ms  BIGINT NOT NULL,
    PRIMARY KEY (platform, event_id)
);

-- The transactional outbox.
CREATE TABLE outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idem_key         TEXT NOT NULL UNIQUE,
    -- NULL for the one reply an unknown account gets.
    person_id        BIGINT REFERENCES people(id),
    platform         TEXT NOT NULL,
    address          TEXT NOT NULL,
    payload          TEXT NOT NULL,
    sensitive        BOOLEAN NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending','sent','dead','withdrawn')),
    -- For messages about a resident (family updates): whom, and which consent categories.
    about_id         BIGINT REFERENCES people(id),
    categories       TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT NOT NULL,
    created_ms       BIGINT NOT NULL,
    sent_ms          BIGINT,
    last_error       TEXT
);
CREATE INDEX outbox_due ON outbox (platform, status, next_attempt_ms);
-- Delivery is in order per recipient: the claim looks for an earlier pending row.
CREATE INDEX outbox_per_address ON outbox (platform, address, status, id);

CREATE TABLE alerts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people(id),
    target      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    words       TEXT,
    created_ms  BIGINT NOT NULL,
    acked_ms    BIGINT,
    acked_by    BIGINT REFERENCES people(id),
    -- Set when an unacknowledged alert was passed on to the manager.
    escalated_ms BIGINT
);

-- Append-only; each row carries the hash of the one before it.
CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms       BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject_id  BIGINT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
