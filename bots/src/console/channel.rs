//! Delivering outbox messages to the terminal.

use carebot_core::engine::OutMessage;
use carebot_core::runtime::{Channel, DeliveryError};
use carebot_core::store::outbox::OutboxRow;
use std::io::Write;

/// Prints the messages addressed to one console user.
pub struct ConsoleChannel {
    address: String,
    interactive: bool,
}

impl ConsoleChannel {
    /// Writes to stdout the messages for `address`.
    pub fn stdout(address: &str, interactive: bool) -> Self {
        Self {
            address: address.to_string(),
            interactive,
        }
    }

    /// Shows a message.
    pub fn show(&self, m: &OutMessage) {
        self.say(&m.plain());
    }

    /// Prints a line of the bot's.
    pub fn say(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = if self.interactive {
            writeln!(out, "Carebot: {}\n", text.replace('\n', "\n         "))
        } else {
            writeln!(out, "{text}")
        };
        let _ = out.flush();
    }

    /// Shows the input prompt.
    pub fn prompt(&self) {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "> ");
        let _ = out.flush();
    }
}

impl Channel for ConsoleChannel {
    fn platform(&self) -> &str {
        super::PLATFORM
    }

    /// Someone else's console messages (an alert for the keyworker, say) wait in the outbox
    /// until they open their own chat.
    fn only_address(&self) -> Option<&str> {
        Some(&self.address)
    }

    async fn deliver(&self, row: &OutboxRow) -> Result<(), DeliveryError> {
        self.show(&row.message);
        Ok(())
    }
}
