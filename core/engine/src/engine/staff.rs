//! What staff ask about the residents they look after: the requests still open and the
//! care-plan reviews coming up. The profile holds only their own residents' rows (the store
//! selects them through the relations table); the intent checks the access table first.

use super::turn::Turn;
use serde_json::{json, Map};

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
        self.say_listing("reviews_due", json!({ "reviews": items }));
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
