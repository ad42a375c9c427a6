//! Message bodies: a plain `body` and a safe HTML `formatted_body`.
//!
//! Everything Carebot sends may quote a resident's own words (a read-back of their answers),
//! so the HTML is built from escaped text only: nothing a person typed can become markup.

use carebot_engine::engine::OutMessage;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;

/// The Matrix content for `text`.
pub fn content(text: &str) -> RoomMessageEventContent {
    RoomMessageEventContent::text_html(text, html(text))
}

/// The text to send for `message`: choices become a numbered list (numbers and words both
/// answer).
/// A notice (`m.notice`): how bots mark what is about the conversation rather than in it.
pub fn notice(text: &str) -> RoomMessageEventContent {
    RoomMessageEventContent::notice_html(text, html(text))
}

pub fn text(message: &OutMessage) -> String {
    message.plain()
}

/// Escaped HTML with line breaks kept.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_residents_markup_is_escaped() {
        assert_eq!(
            html("You said: <b>\"hi\" & 'bye'</b>\nThanks"),
            "You said: &lt;b&gt;&quot;hi&quot; &amp; &#39;bye&#39;&lt;/b&gt;<br>Thanks"
        );
    }

    #[test]
    fn choices_are_a_numbered_list() {
        let m = OutMessage {
            text: "Which?".into(),
            choices: vec![
                carebot_engine::engine::ChoiceButton {
                    answer: "1".into(),
                    label: "Tea".into(),
                },
                carebot_engine::engine::ChoiceButton {
                    answer: "2".into(),
                    label: "Coffee".into(),
                },
            ],
            list: true,
            ..OutMessage::default()
        };
        assert_eq!(text(&m), "Which?\n1. Tea\n2. Coffee");
    }
}
