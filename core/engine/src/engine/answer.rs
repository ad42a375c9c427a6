//! Understanding answers the way people write them: "4", "good", "not great", "yes please",
//! "2pm", "tomorrow". An answer that cannot be understood is an `Err`, and the engine asks
//! again kindly; it never guesses at health information.

use crate::flow::model::{Ask, ChoiceOption};
use crate::flow::system::contains_words;
use chrono::NaiveDate;
use serde_json::{json, Value};

/// An understood answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// Stored value.
    pub value: Value,
    /// What branches compare with `when` ("yes", an option id).
    pub key: Option<String>,
    /// What branches compare with `at_most` / `at_least`.
    pub number: Option<f64>,
}

/// Lower-cased, trimmed of surrounding punctuation, inner white space folded.
pub fn normalize(raw: &str) -> String {
    let lowered = raw.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
    let folded: Vec<&str> = lowered.split_whitespace().collect();
    folded
        .join(" ")
        .trim_matches(|c: char| c.is_ascii_punctuation())
        .trim()
        .to_string()
}

const YES: &[&str] = &[
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "ye",
    "yes please",
    "ok",
    "okay",
    "sure",
    "please",
    "please do",
    "of course",
    "aye",
    "correct",
    "that's right",
    "right",
    "go on",
    "👍",
];
const NO: &[&str] = &[
    "no",
    "n",
    "nope",
    "nah",
    "no thanks",
    "no thank you",
    "not now",
    "not really",
    "don't",
    "do not",
    "no way",
    "👎",
];

/// Yes or no, in the usual ways of saying them.
pub fn yes_no(norm: &str) -> Option<bool> {
    if YES.contains(&norm) {
        Some(true)
    } else if NO.contains(&norm) {
        Some(false)
    } else {
        None
    }
}

/// Understands `raw` (already normalized as `norm`) as an answer to `ask`.
/// `today` is the home's local date, for "today" and "tomorrow".
pub fn parse(ask: &Ask, raw: &str, norm: &str, lang: &str, today: NaiveDate) -> Option<Parsed> {
    match ask {
        Ask::YesNo => yes_no(norm).map(|yes| {
            let key = if yes { "yes" } else { "no" };
            Parsed {
                value: json!(key),
                key: Some(key.into()),
                number: None,
            }
        }),
        Ask::Scale { min, max, words } => scale(norm, *min, *max, words).map(|n| Parsed {
            value: json!(n),
            key: None,
            number: Some(n as f64),
        }),
        Ask::Choice { options } => choice(norm, options, lang).map(|o| Parsed {
            value: json!(o.id),
            key: Some(o.id.clone()),
            number: None,
        }),
        Ask::Number { min, max } => number(norm)
            .filter(|n| min.is_none_or(|m| *n >= m) && max.is_none_or(|m| *n <= m))
            .map(|n| Parsed {
                value: json!(n),
                key: None,
                number: Some(n),
            }),
        Ask::Text { .. } => (!raw.trim().is_empty()).then(|| Parsed {
            value: json!(raw),
            key: None,
            number: None,
        }),
        Ask::Time => time(norm).map(|t| Parsed {
            value: json!(t),
            key: None,
            number: None,
        }),
        Ask::Date => date(norm, today).map(|d| Parsed {
            value: json!(d.format("%Y-%m-%d").to_string()),
            key: None,
            number: None,
        }),
        // The engine asks it as a choice among the person's goals (`Turn::concrete_ask`).
        Ask::Goal => None,
    }
}

fn scale(
    norm: &str,
    min: i64,
    max: i64,
    words: &std::collections::BTreeMap<String, i64>,
) -> Option<i64> {
    let first = norm.split([' ', '/']).next().unwrap_or("");
    if let Ok(n) = first.parse::<i64>() {
        return (min..=max).contains(&n).then_some(n);
    }
    if let Some(v) = words.get(norm) {
        return Some(*v);
    }
    // The longest phrase found as whole words, unless negated ("not good" is not "good").
    let mut found: Vec<(&String, &i64)> = words
        .iter()
        .filter(|(w, _)| contains_words(norm, w) && !negated(norm, w))
        .collect();
    found.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
    found.first().map(|(_, v)| **v)
}

fn negated(norm: &str, phrase: &str) -> bool {
    if phrase.starts_with("not ") || phrase.starts_with("no ") {
        return false;
    }
    norm.match_indices(phrase).any(|(at, _)| {
        let before = norm[..at].trim_end();
        before.ends_with("not") || before.ends_with("n't") || before.ends_with("no")
    })
}

fn choice<'a>(norm: &str, options: &'a [ChoiceOption], lang: &str) -> Option<&'a ChoiceOption> {
    if let Ok(n) = norm.parse::<usize>() {
        return n.checked_sub(1).and_then(|i| options.get(i));
    }
    let names = |o: &'a ChoiceOption| {
        let label = o
            .label
            .get(lang)
            .or_else(|| o.label.values().next())
            .map(|l| normalize(l));
        std::iter::once(o.id.replace(['_', '-'], " "))
            .chain(label)
            .chain(o.words.iter().map(|w| normalize(w)))
            .collect::<Vec<String>>()
    };
    if let Some(o) = options.iter().find(|o| names(o).iter().any(|n| n == norm)) {
        return Some(o);
    }
    let hits: Vec<&ChoiceOption> = options
        .iter()
        .filter(|o| names(o).iter().any(|n| contains_words(norm, n)))
        .collect();
    match hits.as_slice() {
        [only] => Some(only),
        _ => None,
    }
}

const NUMBER_WORDS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
];

fn number(norm: &str) -> Option<f64> {
    let first = norm.split_whitespace().next()?;
    if let Ok(n) = first.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    NUMBER_WORDS
        .iter()
        .position(|w| *w == first)
        .map(|i| i as f64)
}

/// A time of day as "HH:MM".
pub fn time(norm: &str) -> Option<String> {
    let t = norm.trim_start_matches("at ").replace(' ', "");
    match t.as_str() {
        "noon" | "midday" => return Some("12:00".into()),
        "midnight" => return Some("00:00".into()),
        _ => {}
    }
    let (digits, suffix) = if let Some(d) = t.strip_suffix("am") {
        (d, Some(false))
    } else if let Some(d) = t.strip_suffix("pm") {
        (d, Some(true))
    } else {
        (t.as_str(), None)
    };
    let (h, m) = match digits.split_once([':', '.']) {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None => (digits.parse::<u32>().ok()?, 0),
    };
    let h = match (suffix, h) {
        (Some(_), 0) | (Some(_), 13..) => return None,
        (Some(false), 12) => 0,
        (Some(true), 12) => 12,
        (Some(true), h) => h + 12,
        (_, h) => h,
    };
    (h < 24 && m < 60).then(|| format!("{h:02}:{m:02}"))
}

fn date(norm: &str, today: NaiveDate) -> Option<NaiveDate> {
    match norm {
        "today" => return Some(today),
        "tomorrow" => return today.succ_opt(),
        "yesterday" => return today.pred_opt(),
        _ => {}
    }
    NaiveDate::parse_from_str(norm, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(norm, "%d/%m/%Y"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn mood_words() -> BTreeMap<String, i64> {
        [
            ("very good", 5),
            ("good", 4),
            ("ok", 3),
            ("not great", 2),
            ("bad", 1),
            ("awful", 1),
        ]
        .into_iter()
        .map(|(w, v)| (w.to_string(), v))
        .collect()
    }

    #[test]
    fn scale_understands_numbers_words_and_negation() {
        let w = mood_words();
        assert_eq!(scale("4", 1, 5, &w), Some(4));
        assert_eq!(scale("4/5", 1, 5, &w), Some(4));
        assert_eq!(scale("7", 1, 5, &w), None);
        assert_eq!(scale("good", 1, 5, &w), Some(4));
        assert_eq!(scale("not great", 1, 5, &w), Some(2));
        assert_eq!(scale("feeling very good today", 1, 5, &w), Some(5));
        assert_eq!(
            scale("not good", 1, 5, &w),
            None,
            "negated words are not guessed"
        );
        assert_eq!(scale("banana", 1, 5, &w), None);
    }

    #[test]
    fn normalize_folds_case_space_and_punctuation() {
        assert_eq!(normalize("  Yes   Please!! "), "yes please");
        assert_eq!(normalize("That\u{2019}s right."), "that's right");
        assert_eq!(normalize("?!"), "");
    }

    #[test]
    fn yes_and_no_in_everyday_words() {
        assert_eq!(yes_no("yeah"), Some(true));
        assert_eq!(yes_no("no thanks"), Some(false));
        assert_eq!(yes_no("maybe"), None);
    }

    #[test]
    fn numbers_in_digits_or_words_within_bounds() {
        let ask = Ask::Number {
            min: Some(0.0),
            max: Some(10.0),
        };
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid");
        let n = |t: &str| parse(&ask, t, &normalize(t), "en", today).and_then(|p| p.number);
        assert_eq!(n("7"), Some(7.0));
        assert_eq!(n("2.5 glasses"), Some(2.5));
        assert_eq!(n("three"), Some(3.0));
        assert_eq!(n("11"), None, "outside the bounds");
        assert_eq!(n("lots"), None);
        assert_eq!(n("NaN"), None);
    }

    #[test]
    fn times_in_the_ways_people_say_them() {
        assert_eq!(time("10").as_deref(), Some("10:00"));
        assert_eq!(time("10:30").as_deref(), Some("10:30"));
        assert_eq!(time("2pm").as_deref(), Some("14:00"));
        assert_eq!(time("12 am").as_deref(), Some("00:00"));
        assert_eq!(time("at 9.15").as_deref(), Some("09:15"));
        assert_eq!(time("25"), None);
        assert_eq!(time("13pm"), None);
    }

    #[test]
    fn dates_relative_to_the_homes_today() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid");
        assert_eq!(
            date("tomorrow", today),
            NaiveDate::from_ymd_opt(2026, 11, 24)
        );
        assert_eq!(
            date("01/12/2026", today),
            NaiveDate::from_ymd_opt(2026, 12, 1)
        );
        assert_eq!(date("someday", today), None);
    }
}
