//! Requests that reach someone and come back: a resident asks for something (a complaint, an
//! advocate, a review, help with something), staff acknowledge it like an alert and close it
//! with what was done in their own words, and the resident is told. A resident can ask what
//! they have asked for at any time.
//!
//! The engine decides what is said and what is written; the store applies the same access
//! rule to the rows (a member of staff closes only requests about their own residents).

use super::io::Effect;
use super::turn::{vars, Turn};
use crate::access::{allowed, staff_relation, Action, Actor, Relation, Resource};
use crate::flow::Target;
use serde_json::{json, Map};
use std::collections::BTreeMap;

/// The home's procedure for requests: how many days staff have to reply, by kind of request
/// (`complaint`), with `default` for every other kind (`[requests] reply_days` in config).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyDays(pub BTreeMap<String, u32>);

impl Default for ReplyDays {
    fn default() -> Self {
        // A common complaints procedure: a full reply within 20 working days (four weeks);
        // anything else within a week.
        Self(BTreeMap::from([
            ("complaint".to_string(), 28),
            ("default".to_string(), 7),
        ]))
    }
}

impl ReplyDays {
    /// Days staff have to reply to a request of `kind`.
    pub fn for_kind(&self, kind: &str) -> u32 {
        self.0
            .get(kind)
            .or_else(|| self.0.get("default"))
            .copied()
            .unwrap_or(7)
    }
}

/// The text that names a request of `kind` for the resident ("your complaint").
pub fn what_key(kind: &str) -> String {
    format!("request_what_{kind}")
}

impl Turn<'_> {
    /// A resident's request: an alert to `to` that is tracked as a request of `kind`, and the
    /// reply `reply`, which may say how many days the home has to answer.
    pub(super) fn make_request(
        &mut self,
        kind: String,
        to: Target,
        reason: String,
        reply: &str,
        raw: &str,
    ) {
        let days = self.ctx.settings.reply_days.for_kind(&kind);
        self.fx.push(Effect::Alert {
            to,
            reason,
            words: Some(raw.to_string()),
            category: None,
            rule: None,
            copy_to: Vec::new(),
            request: Some(kind),
        });
        self.say_system(reply, vars([("days", json!(days))]));
    }

    /// "close 12 we have changed the menu": the number and what was done, read from the
    /// message as written (staff's own words reach the resident unchanged).
    pub(super) fn close_request(&mut self, raw: &str) {
        let role = self.ctx.profile.role;
        let may = allowed(
            Actor::Person(role),
            Action::Write,
            Resource::Requests,
            staff_relation(role),
        );
        if !may.permits() {
            self.say_system("fallback", Map::new());
            return;
        }
        let open = &self.ctx.profile.open_requests;
        let (number, outcome) = number_and_words(raw);
        // Without a number, the one open request is meant; with several, staff must say.
        let chosen = match number {
            Some(n) => open.iter().find(|r| r.number == n),
            None if open.len() == 1 => open.first(),
            None => None,
        };
        let Some(crate::domain::OpenRequest {
            number: id, kind, ..
        }) = chosen.cloned()
        else {
            self.say_system("close_nothing", Map::new());
            return;
        };
        if outcome.is_empty() {
            self.say_system("close_needs_words", vars([("alert", json!(id))]));
            return;
        }
        self.fx.push(Effect::Close {
            request: id,
            kind,
            outcome: outcome.to_string(),
        });
        self.say_system("close_done", vars([("alert", json!(id))]));
    }

    /// "What have I asked for?": the resident's requests, newest first, and how each stands.
    pub(super) fn my_requests(&mut self) {
        let p = self.ctx.profile;
        let may = allowed(
            Actor::Person(p.role),
            Action::Read,
            Resource::Requests,
            Relation::Themself,
        );
        if !may.permits() || p.role != crate::domain::Role::Resident {
            self.say_system("fallback", Map::new());
            return;
        }
        if p.requests.is_empty() {
            self.say_system("requests_none", Map::new());
            return;
        }
        let sys = &self.ctx.dialogs.system;
        let items: Vec<_> = p
            .requests
            .iter()
            .map(|r| {
                let key = what_key(&r.kind);
                let what = if sys.text.contains_key(&key) {
                    sys.text(&key, self.lang()).to_string()
                } else {
                    sys.text("request_what_help", self.lang()).to_string()
                };
                let date = chrono::DateTime::from_timestamp_millis(r.at_ms)
                    .map(|t| {
                        t.with_timezone(&self.ctx.settings.timezone)
                            .format("%-d %B")
                            .to_string()
                    })
                    .unwrap_or_default();
                json!({ "what": what, "date": date, "seen": r.seen, "seen_by": r.seen_by, "outcome": r.outcome })
            })
            .collect();
        // Staff's replies are about the resident's care: health information.
        let text = {
            let mut all = super::render::base_vars(self.ctx, None);
            all.insert("requests".into(), json!(items));
            super::render::render(sys.text("requests_list", self.lang()), &all)
        };
        self.send(text, true, Vec::new(), false);
    }
}

/// The first number in the opening words of `raw` (`#12` too), and the words after it with
/// any separator (`:`, `-`, `,`) trimmed; without a number, the words after the first one
/// ("close we fixed it" gives no number and "we fixed it").
fn number_and_words(raw: &str) -> (Option<i64>, &str) {
    let separator = |c: char| c.is_whitespace() || matches!(c, ':' | '-' | ',' | '.' | '–' | '—');
    for word in raw.split_whitespace().take(4) {
        // `word` is a slice of `raw`: its offset says where the words after it begin.
        let start = word.as_ptr() as usize - raw.as_ptr() as usize;
        let body = word.trim_start_matches('#');
        let digits = body.len() - body.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            let end = start + (word.len() - body.len()) + digits;
            let rest = raw[end..].trim_start_matches(separator).trim_end();
            return (body[..digits].parse().ok(), rest);
        }
    }
    let rest = raw.trim_start();
    let rest = rest.find(char::is_whitespace).map_or("", |i| &rest[i..]);
    (None, rest.trim_start_matches(separator).trim_end())
}

#[cfg(test)]
mod tests {
    use super::number_and_words;

    #[test]
    fn the_number_and_staff_words_are_read_as_written() {
        assert_eq!(
            number_and_words("close 12 We have changed the menu."),
            (Some(12), "We have changed the menu.")
        );
        assert_eq!(
            number_and_words("Close #3: spoke to Ava, new chair ordered"),
            (Some(3), "spoke to Ava, new chair ordered")
        );
        assert_eq!(
            number_and_words("close request 7 - sorted"),
            (Some(7), "sorted")
        );
        assert_eq!(number_and_words("close 4"), (Some(4), ""));
        assert_eq!(
            number_and_words("close we fixed the tap"),
            (None, "we fixed the tap")
        );
        assert_eq!(number_and_words("close"), (None, ""));
    }
}
