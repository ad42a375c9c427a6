//! The dialogue engine: a pure step function.
//!
//! ```text
//! step(&Context, Conversation, Input, now) -> (Conversation, Vec<Effect>)
//! ```
//!
//! It reads flows and the person's profile from the [`Context`], never touches the network,
//! the disk or the clock, and returns what should happen as [`Effect`]s. The runtime stores
//! the effects and the new state in one transaction before anything is sent.
//!
//! - [`state`]: what is remembered between turns.
//! - [`io`]: inputs and effects.
//! - [`answer`]: turning "not great" into 2.
//! - [`render`]: filling in `{{ person.name }}`.
//! - [`turn`]: the step function itself; `intents` holds what interrupts it, `items` what
//!   `for_each` steps repeat over, `say` what the bot says, `actions` what steps do.
//! - [`requests`]: a resident's requests, closed by staff with what was done.

mod actions;
pub mod answer;
mod concerns;
mod contacts;
mod goals;
mod intents;
pub mod io;
mod items;
mod messages;
pub mod render;
pub mod requests;
mod say;
pub mod staff;
pub mod state;
pub mod turn;

pub use contacts::Contacts;
pub use io::{AnswerRecord, ChoiceButton, Effect, Input, OutMessage, TimerKind};
pub use requests::ReplyDays;
pub use state::{Awaiting, Conversation, Frame};
pub use turn::step;

use crate::domain::Profile;
use crate::flow::Dialogs;

/// Knobs a home may turn.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Unrecognised answers in a row before the bot offers to pass the message to a person.
    pub max_retries: u8,
    /// Longest message the engine will read; longer ones get a polite reply.
    pub max_message_chars: usize,
    /// Longest free-text answer kept when a step sets no `max_chars`.
    pub max_answer_chars: usize,
    /// The home's time zone, for "today" and "tomorrow".
    pub timezone: chrono_tz::Tz,
    /// Contacts shown to residents (`{{ contacts.advocacy }}`): complaints, advocacy, regulator.
    pub contacts: std::collections::BTreeMap<String, String>,
    /// Days the home's procedure gives staff to reply to a request, by kind.
    pub reply_days: ReplyDays,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_retries: 3,
            max_message_chars: 4000,
            max_answer_chars: 2000,
            timezone: chrono_tz::Europe::London,
            contacts: Contacts::default().into_map(),
            reply_days: ReplyDays::default(),
        }
    }
}

/// What the engine may read during a turn.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Flows (every pinned version the conversation may need), texts and intents.
    pub dialogs: &'a Dialogs,
    /// The person being talked to.
    pub profile: &'a Profile,
    /// The home's settings.
    pub settings: &'a Settings,
}
