//! SQL written once: the pieces more than one query needs, as macros that expand to string
//! literals, so they compose with `concat!` into the `&'static str` sqlx takes and no query
//! has to be formatted at run time.
//!
//! - [`outbox_insert!`]: the head of every INSERT into the outbox (one column list).
//! - [`inbound_event_insert!`]: recording an inbound event, skipped when it was seen before.
//! - [`reachable_staff!`]: which of a resident's staff can be reached by message. Alerts,
//!   their escalation to managers and review reminders all use it, so they cannot drift
//!   apart: an erased person, a revoked relation or a revoked chat account is never reached.
//! - [`reachable_accounts!`]: the same rule for one person's own accounts (a resident told
//!   that their alert was seen).

/// `INSERT INTO outbox (…)` with every column a queued message has; the caller goes on with
/// `VALUES` or `SELECT` in this order: idem_key, person_id, platform, address, payload,
/// sensitive, status, next_attempt_ms, created_ms, about_id, categories.
macro_rules! outbox_insert {
    () => {
        "INSERT INTO outbox (idem_key, person_id, platform, address, payload, sensitive, status, next_attempt_ms, created_ms, about_id, categories) "
    };
}

/// `INSERT INTO inbound_events (platform, event_id, received_ms)`; with `values` it goes on
/// with `VALUES ($1, $2, $3)` and skips an event already recorded (0 rows affected).
macro_rules! inbound_event_insert {
    () => {
        "INSERT INTO inbound_events (platform, event_id, received_ms) "
    };
    (values) => {
        concat!(
            $crate::sql::inbound_event_insert!(),
            "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
    };
}

/// `FROM … WHERE …` over the staff of resident `$resident` (a placeholder such as `"$5"`)
/// whose current relation meets `$relation` (a condition on `r.relation`) and who can be
/// reached: not erased, with a chat account that is not revoked. One row per account:
/// `r.person_id` is the member of staff, `i.platform` and `i.address` where to send.
macro_rules! reachable_staff {
    (resident = $resident:literal, relation = $relation:literal) => {
        concat!(
            " FROM relations r",
            " JOIN people s ON s.id = r.person_id AND s.erased_ms IS NULL",
            " JOIN identities i ON i.person_id = r.person_id AND i.revoked_ms IS NULL",
            " WHERE r.resident_id = ",
            $resident,
            " AND r.revoked_ms IS NULL AND ",
            $relation,
            " "
        )
    };
}

/// `FROM … WHERE …` over the chat accounts of person `$person` (a placeholder) that can be
/// reached: not erased, not revoked. One row per account: `i.person_id`, `i.platform`,
/// `i.address`.
macro_rules! reachable_accounts {
    (person = $person:literal) => {
        concat!(
            " FROM identities i",
            " JOIN people s ON s.id = i.person_id AND s.erased_ms IS NULL",
            " WHERE i.person_id = ",
            $person,
            " AND i.revoked_ms IS NULL "
        )
    };
}

/// `(SELECT resident_id …)`: the residents member of staff `$staff` (a placeholder such as
/// `"$1"`) is keyworker or manager for now, the rows `ack`, `close` and a staff profile may
/// touch (the access table's rule, applied to the rows).
macro_rules! staff_residents {
    (staff = $staff:literal) => {
        concat!(
            "(SELECT resident_id FROM relations WHERE person_id = ",
            $staff,
            " AND relation IN ('keyworker', 'manager') AND revoked_ms IS NULL)"
        )
    };
}

pub(crate) use {
    inbound_event_insert, outbox_insert, reachable_accounts, reachable_staff, staff_residents,
};
