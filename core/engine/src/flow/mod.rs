//! Conversation flows as data.
//!
//! Care staff edit the TOML files in `dialogs/`; this module loads them ([`load`]), checks them
//! ([`validate`]) and keeps every version a conversation may still be pinned to ([`Dialogs`]).
//!
//! - [`model`]: what a flow file may say: steps, questions, branches, actions.
//! - [`concerns`]: `concerns.toml`: rules that raise alerts from a resident's answers.
//! - [`system`]: `system.toml`: the engine's own texts and the global intents.
//! - [`problem`]: an error located at file, line and column, with what to fix.

pub mod concerns;
pub mod load;
pub mod model;
pub mod problem;
pub mod system;
pub mod validate;

pub use load::{load_dir, Dialogs};
pub use model::{Action, Ask, Branch, Flow, FlowDoc, Step, Target};
pub use problem::Problem;
pub use system::{IntentAction, IntentKind, SystemDoc};

/// The language used when a person has not chosen one, and the one every text must have.
pub const DEFAULT_LANGUAGE: &str = "en";

/// The longest single message any platform we deliver to accepts (Discord's limit).
pub const MAX_MESSAGE_CHARS: usize = 2000;
