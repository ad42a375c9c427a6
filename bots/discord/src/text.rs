//! Turning Carebot's plain text into what Discord shows exactly as written.
//!
//! A resident's own words travel inside the bot's messages (read-backs, reminders quoting what
//! they want to raise). Discord reads Markdown and mentions in message content, so an answer of
//! `*sigh*` or `@everyone` would be restyled or, without care, ping a whole server. Every
//! message is escaped here, sent with mentions switched off, and split to Discord's length
//! limit.

use carebot_engine::engine::render::split_message;
use sha2::{Digest, Sha256};

/// Discord's longest message content, in characters.
pub const MAX_CHARS: usize = 2_000;

/// Discord's longest nonce, in characters.
const MAX_NONCE: usize = 25;

/// Escapes everything Discord would read as Markdown, and breaks `@everyone` and `@here` with a
/// zero-width space, so the text shows as written and cannot ping anyone even if a client
/// ignored `allowed_mentions`. Headings, quotes and list dashes only mean something at the
/// start of a line, so only there are they escaped (push notifications show the backslashes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let body = line.trim_start();
        out.push_str(&line[..line.len() - body.len()]);
        if body.starts_with(['#', '>', '-']) {
            out.push('\\');
        }
        for c in body.chars() {
            if matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '<') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.replace("@everyone", "@\u{200b}everyone")
        .replace("@here", "@\u{200b}here")
}

/// The escaped text in parts of at most [`MAX_CHARS`], split where a reader would pause.
pub fn parts(text: &str) -> Vec<String> {
    let escaped = escape(text);
    if escaped.is_empty() {
        return Vec::new();
    }
    split_message(&escaped, MAX_CHARS)
}

/// A Discord nonce for part `part` of the outbox message with idempotency key `key`.
///
/// The outbox key (`person.turn.n`) can be longer than the 25 characters Discord allows, so
/// the nonce is a hash of it: the same row, retried, always sends the same nonce, and with
/// `enforce_nonce` Discord returns the message it already made instead of making another.
pub fn nonce(key: &str, part: usize) -> String {
    let digest = Sha256::digest(format!("{key}#{part}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("cb{}", &hex[..MAX_NONCE - 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_in_a_residents_words_shows_as_written() {
        assert_eq!(escape("*sigh* it's _fine_"), r"\*sigh\* it's \_fine\_");
        assert_eq!(escape("||spoiler|| `code`"), r"\|\|spoiler\|\| \`code\`");
        assert_eq!(escape("# big\n> quote"), "\\# big\n\\> quote");
        assert_eq!(escape("[link](http://x)"), r"\[link\](http://x)");
        assert_eq!(escape("- a - b\n  # c (d)"), "\\- a - b\n  \\# c (d)");
        assert_eq!(escape(r"a\b"), r"a\\b");
    }

    #[test]
    fn everyone_and_here_cannot_ping() {
        let e = escape("hey @everyone and @here");
        assert!(!e.contains("@everyone") && !e.contains("@here"), "{e}");
        assert!(e.contains("everyone") && e.contains("here"));
        assert_eq!(escape("<@123>"), r"\<@123>");
    }

    #[test]
    fn long_text_is_split_under_the_limit_on_sentences() {
        let sentence = "This is one sentence of a long reminder. ";
        let text = sentence.repeat(120);
        let parts = parts(&text);
        assert!(parts.len() >= 3, "{}", parts.len());
        for p in &parts {
            assert!(p.chars().count() <= MAX_CHARS);
            assert!(p.trim_end().ends_with('.'), "split mid-sentence: {p:?}");
        }
    }

    #[test]
    fn nonces_are_short_stable_and_distinct() {
        let long_key = "12345678901234567890.1234567890.99";
        let a = nonce(long_key, 0);
        assert_eq!(a.len(), 25);
        assert_eq!(a, nonce(long_key, 0));
        assert_ne!(a, nonce(long_key, 1));
        assert_ne!(a, nonce("other.1.0", 0));
    }
}
