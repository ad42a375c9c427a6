//! Delivering outbox messages to the terminal.

use carebot_engine::engine::OutMessage;
use carebot_runtime::{Carries, Channel, DeliveryError};
use carebot_store::outbox::OutboxRow;
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

    /// Prints a line of the bot's. A person's own words in it (a read-back, say) may hold
    /// control characters: they are shown, never obeyed by the terminal.
    pub fn say(&self, text: &str) {
        let text = &visible(text);
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

/// `text` with every control character but line breaks and tabs replaced by a visible
/// stand-in (ESC becomes "␛", the other C0 codes their Unicode control pictures, DEL and C1
/// codes "�"), so escape sequences cannot retitle, clear or recolour the terminal.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            c if !unsafe_char(c) => c,
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            _ => '\u{fffd}',
        })
        .collect::<String>()
        .into()
}

impl Channel for ConsoleChannel {
    fn platform(&self) -> &str {
        super::PLATFORM
    }

    /// The console's messages stay on this machine.
    fn carries(&self) -> Carries {
        Carries::Private
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

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        let shown = visible("You said: \u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\nThanks\tbye");
        assert_eq!(
            shown,
            "You said: \u{241b}]0;pwned\u{2407}\u{241b}[2J\u{fffd}31m\nThanks\tbye"
        );
        assert!(!shown
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'));
    }
}
