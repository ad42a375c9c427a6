//! The canonical form every rule and example is matched against: lower case, contractions
//! spelt out ("can't" → "can not", "I'm" → "i am", also when the apostrophe is missing),
//! hyphens and other punctuation turned into spaces, and sentence or clause breaks kept as
//! their own tokens (`.` and `,`) so that negation can stop at them.
//!
//! Working on tokens, not bytes, lets the matcher say "the four words before this match" and
//! lets a typo be corrected one word at a time.

/// One message, split into canonical tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Words, and `.` / `,` for breaks.
    pub words: Vec<String>,
}

/// A clause break: negation and "story" scopes stop here. `!` is kept apart from `.` so a
/// rule can tell "help!" from "help".
pub fn is_break(word: &str) -> bool {
    word == "." || word == "," || word == "!"
}

/// Contractions spelt out. The apostrophe-less forms are what people type on phones
/// ("cant", "im", "dont"); each maps to the words a rule author would write.
const CONTRACTIONS: &[(&str, &str)] = &[
    ("can't", "can not"),
    ("cant", "can not"),
    ("cannot", "can not"),
    ("won't", "will not"),
    ("wont", "will not"),
    ("shan't", "shall not"),
    ("ain't", "am not"),
    ("i'm", "i am"),
    ("im", "i am"),
    ("i've", "i have"),
    ("ive", "i have"),
    ("i'd", "i would"),
    ("i'll", "i will"),
    ("you're", "you are"),
    ("youre", "you are"),
    ("they're", "they are"),
    ("we're", "we are"),
    ("it's", "it is"),
    ("its", "it is"),
    ("that's", "that is"),
    ("thats", "that is"),
    ("there's", "there is"),
    ("theres", "there is"),
    ("what's", "what is"),
    ("whats", "what is"),
    ("who's", "who is"),
    ("he's", "he is"),
    ("she's", "she is"),
    ("let's", "let us"),
    ("dont", "do not"),
    ("doesnt", "does not"),
    ("didnt", "did not"),
    ("isnt", "is not"),
    ("wasnt", "was not"),
    ("arent", "are not"),
    ("werent", "were not"),
    ("havent", "have not"),
    ("hasnt", "has not"),
    ("hadnt", "had not"),
    ("couldnt", "could not"),
    ("wouldnt", "would not"),
    ("shouldnt", "should not"),
    ("nobodys", "nobody is"),
    ("noone", "no one"),
    // Text-speak and phonetic spellings.
    ("u", "you"),
    ("ur", "your"),
    ("wat", "what"),
    ("wot", "what"),
    ("pls", "please"),
    ("plz", "please"),
    ("thx", "thanks"),
    ("nite", "night"),
    ("rite", "right"),
    ("cos", "because"),
    ("coz", "because"),
    ("wanna", "want to"),
    ("gonna", "going to"),
    ("dunno", "do not know"),
    ("no-one", "no one"),
];

/// Splits `raw` into canonical tokens. Never fails; any input gives some tokens (maybe none).
pub fn tokenize(raw: &str) -> Tokens {
    let lowered = raw.to_lowercase();
    let mut words = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if word.is_empty() {
            return;
        }
        let w = word.trim_matches('\'');
        if !w.is_empty() {
            push_word(w, words);
        }
        word.clear();
    };
    for c in lowered.chars() {
        match c {
            '\u{2019}' | '\u{2018}' | '`' | '\'' => word.push('\''),
            c if c.is_alphanumeric() => word.push(c),
            '!' => {
                flush(&mut word, &mut words);
                push_break("!", &mut words);
            }
            '.' | '?' | ';' | ':' | '\n' => {
                flush(&mut word, &mut words);
                push_break(".", &mut words);
            }
            ',' | '(' | ')' | '—' | '–' => {
                flush(&mut word, &mut words);
                push_break(",", &mut words);
            }
            _ => flush(&mut word, &mut words),
        }
    }
    flush(&mut word, &mut words);
    while words.last().is_some_and(|w| w == "." || w == ",") {
        words.pop();
    }
    Tokens { words }
}

fn push_break(b: &str, words: &mut Vec<String>) {
    match words.last() {
        None => {}
        Some(last) if is_break(last) => {
            let last = last.clone();
            // "!!" or ". ," is one break; "!" outranks a full stop, which outranks a comma.
            if b == "!" || (b == "." && last != "!") {
                if let Some(l) = words.last_mut() {
                    *l = b.into();
                }
            }
        }
        Some(_) => words.push(b.into()),
    }
}

/// [`CONTRACTIONS`] as a map, built once.
fn contractions() -> &'static std::collections::HashMap<&'static str, &'static str> {
    static MAP: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static str>> =
        std::sync::OnceLock::new();
    MAP.get_or_init(|| CONTRACTIONS.iter().copied().collect())
}

fn push_word(w: &str, words: &mut Vec<String>) {
    if let Some(full) = contractions().get(w) {
        words.extend(full.split(' ').map(String::from));
        return;
    }
    if let Some(stem) = w.strip_suffix("n't") {
        // "doesn't" → "does not", "couldn't" → "could not".
        words.push(stem.to_string());
        words.push("not".into());
        return;
    }
    for (suffix, full) in [
        ("'ve", "have"),
        ("'re", "are"),
        ("'ll", "will"),
        ("'d", "would"),
    ] {
        if let Some(stem) = w.strip_suffix(suffix) {
            words.push(stem.to_string());
            words.push(full.into());
            return;
        }
    }
    // Possessive or "is": "ava's" → "ava s"; rules never need the difference.
    if let Some(stem) = w.strip_suffix("'s") {
        words.push(stem.to_string());
        words.push("s".into());
        return;
    }
    words.push(w.replace('\'', ""));
}

/// For each of `words`, the byte offset where it starts in `words.join(" ")`.
pub fn offsets(words: &[String]) -> Vec<usize> {
    let mut at = 0;
    words
        .iter()
        .map(|w| {
            let here = at;
            at += w.len() + 1;
            here
        })
        .collect()
}

impl Tokens {
    /// The tokens joined by single spaces: what rule patterns are matched against.
    pub fn joined(&self) -> String {
        self.words.join(" ")
    }

    /// For each token, the byte offset where it starts in [`Tokens::joined`].
    pub fn starts(&self) -> Vec<usize> {
        offsets(&self.words)
    }

    /// Only the words, without breaks (for comparing with intent examples).
    pub fn plain(&self) -> Vec<&str> {
        self.words
            .iter()
            .map(String::as_str)
            .filter(|w| !is_break(w))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> String {
        tokenize(s).joined()
    }

    #[test]
    fn contractions_are_spelt_out_with_or_without_the_apostrophe() {
        assert_eq!(t("I can't breathe"), "i can not breathe");
        assert_eq!(t("I cant breathe"), "i can not breathe");
        assert_eq!(t("I don\u{2019}t want to live"), "i do not want to live");
        assert_eq!(t("Im scared"), "i am scared");
        assert_eq!(t("I've had a fall"), "i have had a fall");
        assert_eq!(t("It doesn't hurt"), "it does not hurt");
    }

    #[test]
    fn punctuation_becomes_breaks_and_hyphens_spaces() {
        assert_eq!(t("No, my hip hurts!!"), "no , my hip hurts !");
        assert_eq!(t("help!"), "help !");
        assert_eq!(t("daughter-in-law"), "daughter in law");
        assert_eq!(t("fine. but sore"), "fine . but sore");
        assert_eq!(t("...help..."), "help");
        assert_eq!(t(""), "");
        assert_eq!(t("   "), "");
    }

    #[test]
    fn offsets_point_at_each_token() {
        let toks = tokenize("my hip, aches");
        let joined = toks.joined();
        for (w, at) in toks.words.iter().zip(toks.starts()) {
            assert!(joined[at..].starts_with(w.as_str()));
        }
    }
}
