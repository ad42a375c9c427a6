//! Messages between a resident and their family, passed on at once in the sender's words:
//! "a message for Ava" from her brother, "reply to Sam" from Ava. Who may write to whom is the
//! access table's `Messages` (a family member to their resident, a resident to their family);
//! the store passes a message on only along an active family relation and audits each one.

use super::answer::normalize;
use super::io::Effect;
use super::turn::{Turn, SEND_MESSAGE};
use crate::access::{allowed, Action, Actor, Relation, Resource};
use crate::domain::{Relative, Role};
use serde_json::{json, Map};

impl Turn<'_> {
    /// "a message for Ava": starts the message flow about the person the words name, or the
    /// only one the speaker can write to; otherwise says whom they can write to.
    pub(super) fn message_to(&mut self, rest: &str, raw: &str) {
        let p = self.ctx.profile;
        let (people, relation): (&[Relative], Relation) = match p.role {
            Role::Family => (&p.family_of, Relation::Family),
            Role::Resident => (&p.family, Relation::Themself),
            _ => (&[], Relation::Unrelated),
        };
        let may = allowed(
            Actor::Person(p.role),
            Action::Write,
            Resource::Messages,
            relation,
        )
        .permits();
        if !may {
            return self.say_system("fallback", Map::new());
        }
        if people.is_empty() {
            return self.say_system("message_nobody", Map::new());
        }
        let words = normalize(if rest.is_empty() { raw } else { rest });
        let named: Vec<&Relative> = people
            .iter()
            .filter(|r| {
                r.name
                    .split_whitespace()
                    .any(|n| crate::flow::system::contains_words(&words, &normalize(n)))
            })
            .collect();
        let to = match (named.as_slice(), people) {
            ([one], _) => (*one).clone(),
            ([], [only]) => only.clone(),
            _ => {
                let names: Vec<&str> = people.iter().map(|r| r.name.as_str()).collect();
                let mut vars = Map::new();
                vars.insert("names".into(), json!(names.join(", ")));
                return self.say_system("message_which", vars);
            }
        };
        if let Some(active) = self.s.active.take() {
            self.s.suspended = Some(active);
        }
        self.start_flow_about(SEND_MESSAGE, to);
    }

    /// The `relay` action: the words stored under `from` go to the person the flow is about.
    pub(super) fn relay(&mut self, from: &str) {
        let Some(frame) = self.s.active.as_ref() else {
            return;
        };
        let Some(to) = frame.about.as_ref() else {
            return;
        };
        let Some(words) = frame.answers.get(from).and_then(|v| v.as_str()) else {
            return;
        };
        let p = self.ctx.profile;
        let resident = if p.role == Role::Resident {
            p.id
        } else {
            to.id
        };
        self.fx.push(Effect::Relay {
            to: to.id,
            resident,
            words: words.to_string(),
            run: frame.run,
        });
    }
}
