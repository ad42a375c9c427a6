//! What staff ask about the residents they look after: the requests still open, the
//! care-plan reviews coming up, and how a resident has been. The profile holds only their
//! own residents' rows (the store selects them through the relations table); the intent
//! checks the access table first.

use super::turn::Turn;
use super::Effect;
use crate::domain::Profile;
use crate::ids::PersonId;
use serde_json::{json, Map};

/// The residents a member of staff's message names, among those they look after: any part
/// of a name as a whole word ("how is Ava", "Thompson?", "Ava's week"). Never a guess: a
/// message that names none of them ("how is she", or a resident they no longer look after)
/// names nobody, even when they look after one resident only. The runtime asks this before a
/// turn to know whose summaries to prepare; the `summary` intent asks it again to choose what
/// to send.
pub fn named_residents(profile: &Profile, text: &str) -> Vec<PersonId> {
    let text = super::answer::normalize(text);
    profile
        .caring_for
        .iter()
        .filter(|r| {
            r.name
                .split_whitespace()
                .any(|n| crate::flow::system::contains_words(&text, &super::answer::normalize(n)))
        })
        .map(|r| r.id)
        .collect()
}

impl Turn<'_> {
    /// "open requests": each request not closed yet, its number, whose it is and what they
    /// asked for, in the words staff were told when it was made.
    pub(super) fn open_requests(&mut self) {
        let p = self.ctx.profile;
        if p.open_requests.is_empty() {
            self.say_system("requests_open_none", Map::new());
            return;
        }
        let items: Vec<_> = p
            .open_requests
            .iter()
            .map(|r| {
                let name = p
                    .caring_for
                    .iter()
                    .find(|c| c.id == r.resident)
                    .map_or("a resident", |c| c.name.as_str());
                json!({ "number": r.number, "resident": name, "reason": r.reason })
            })
            .collect();
        let mut residents: Vec<PersonId> = p.open_requests.iter().map(|r| r.resident).collect();
        residents.sort_by_key(|r| r.0);
        residents.dedup();
        self.fx.push(Effect::StaffRead {
            what: "requests".into(),
            residents,
        });
        // Who asked for what is about a resident's care: health information.
        self.say_listing(
            "requests_open",
            json!({ "count": items.len(), "requests": items }),
        );
    }

    /// "reviews due": each resident with a review date, soonest first, and how far off it is.
    pub(super) fn reviews_due(&mut self) {
        let p = self.ctx.profile;
        if p.reviews_due.is_empty() {
            self.say_system("reviews_due_none", Map::new());
            return;
        }
        let today = crate::scheduler::local_date(self.now, self.ctx.settings.timezone);
        let items: Vec<_> = p
            .reviews_due
            .iter()
            .filter_map(|(resident, due)| {
                let name = &p.caring_for.iter().find(|r| r.id == *resident)?.name;
                let days = chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d")
                    .ok()
                    .map(|d| (d - today).num_days());
                Some(json!({ "resident": name, "due": due, "days": days }))
            })
            .collect();
        self.fx.push(Effect::StaffRead {
            what: "reviews".into(),
            residents: p.reviews_due.iter().map(|(r, _)| *r).collect(),
        });
        self.say_listing("reviews_due", json!({ "reviews": items }));
    }

    /// "how is Ava": the runtime's summary of each resident the words name, or, when they
    /// name none of the speaker's residents, which ones they may ask about.
    pub(super) fn summary(&mut self, rest: &str, raw: &str) {
        let p = self.ctx.profile;
        if p.caring_for.is_empty() {
            self.say_system("summary_nobody", Map::new());
            return;
        }
        let text = if rest.is_empty() { raw } else { rest };
        let residents = named_residents(p, text);
        if residents.is_empty() {
            let names: Vec<&str> = p.caring_for.iter().map(|r| r.name.as_str()).collect();
            let mut vars = Map::new();
            vars.insert("names".into(), json!(names.join(", ")));
            self.say_system("summary_which", vars);
            return;
        }
        self.fx.push(Effect::SummaryRequested { residents });
    }

    /// Sends the system text `key` with `extra` (an object) as its variables, as health
    /// information (withheld where a room is not end-to-end encrypted).
    fn say_listing(&mut self, key: &str, extra: serde_json::Value) {
        let mut all = super::render::base_vars(self.ctx, None);
        if let serde_json::Value::Object(extra) = extra {
            all.extend(extra);
        }
        let key = self.ctx.dialogs.system.key_for(key, self.ctx.profile.role);
        let text = super::render::render(self.ctx.dialogs.system.text(&key, self.lang()), &all);
        self.send(text, true, Vec::new(), false);
    }
}
