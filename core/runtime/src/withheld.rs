//! What a person is told instead of a health message their channel must not carry.
//!
//! Flows mark health text `sensitive`. Matrix refuses to put it into a room without end-to-end
//! encryption; Discord, which has none, holds it back unless the home opts in. Either way the
//! person is told there is something for them and where to read it, in words staff can edit
//! (`withheld_*` texts in `dialogs/system.toml`).

use super::Carebot;
use carebot_engine::engine::render::render;
use serde_json::{json, Map, Value};

/// Why a message was held back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Withheld<'a> {
    /// This room or chat is not end-to-end encrypted (Matrix).
    Unencrypted,
    /// This chat is not end-to-end encrypted, and an encrypted one has just been opened.
    MovedToEncrypted,
    /// The whole platform is not end-to-end encrypted (Discord), named for the person.
    Platform(&'a str),
    /// The person's account now has a different cryptographic identity from the one it was
    /// linked with, until staff confirm with a fresh link code.
    IdentityChanged,
}

impl Carebot {
    /// The notice sent in place of a withheld message.
    pub fn withheld_notice(&self, why: Withheld<'_>) -> String {
        let system = &self.dialogs.system;
        let lang = carebot_engine::flow::DEFAULT_LANGUAGE;
        let mut vars = Map::<String, Value>::new();
        vars.insert("contacts".into(), json!(self.settings.contacts));
        match why {
            Withheld::Unencrypted => render(system.text("withheld_unencrypted", lang), &vars),
            Withheld::MovedToEncrypted => render(system.text("withheld_moved", lang), &vars),
            Withheld::IdentityChanged => render(system.text("withheld_identity", lang), &vars),
            Withheld::Platform(platform) => {
                vars.insert("platform".into(), json!(platform));
                render(system.text("withheld_platform", lang), &vars)
            }
        }
    }
}
