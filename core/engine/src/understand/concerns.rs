//! Concern rules compiled once: which rules a message sets off, after everyday sayings are
//! taken out and negated or story-telling matches are set aside.
//!
//! For each match of a rule's pattern, the words before it (up to the negation window,
//! stopping at a clause break or a stop word such as "but") are searched for a negation
//! cue, the words after it for a "that's over" cue, and the words before it in the same
//! clause for a story cue. So "no pain in my knee but my hip is agony" alerts on "agony",
//! while "no pain today" and "the pain has gone" do not.

use super::text::is_break;
use crate::flow::concerns::{ConcernsDoc, Rule};
use regex::{Regex, RegexSet};

/// A rule that fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The rule's id (`fall`).
    pub rule: String,
    /// Its category (`urgent`).
    pub category: String,
    /// What staff read ("a fall").
    pub reason: String,
}

/// One compiled text rule.
#[derive(Debug)]
struct TextRule {
    id: String,
    category: String,
    reason: String,
    pattern: Regex,
    unless: Option<Regex>,
}

/// The compiled rules, cues and exclusions.
#[derive(Debug)]
pub struct Concerns {
    rules: Vec<TextRule>,
    any: RegexSet,
    exclude: Option<Regex>,
    before: Vec<Vec<String>>,
    after: Vec<Vec<String>>,
    stop_at: Vec<String>,
    window: usize,
    after_window: usize,
    pseudo: Vec<Vec<String>>,
    resolved: Vec<Vec<String>>,
    contrast: Vec<String>,
    /// Categories a `resolved` phrase never sets aside (those that interrupt: urgent).
    unresolvable: Vec<String>,
    stories: Vec<String>,
    story_window: usize,
    story_stops: Vec<String>,
    /// Category ids, most serious first.
    pub order: Vec<String>,
    /// The ids of the categories that mean a risk to the person (not a plain request).
    pub risk: Vec<String>,
}

/// A pattern that did not compile: which, and the regex crate's reason.
#[derive(Debug)]
pub struct BadPattern {
    /// Byte offset of the pattern in the file.
    pub at: usize,
    /// What is wrong.
    pub why: String,
}

/// A pattern as compiled: `\w` and `\b` mean ASCII word characters (the canonical text is
/// lower-case words between spaces), which keeps the compiled rules small and fast.
pub fn prepare(pattern: &str) -> String {
    pattern
        .replace(r"\w", r"(?-u:\w)")
        .replace(r"\b", r"(?-u:\b)")
}

/// Compiles one pattern alone, as `dialogs check` does, so an error names the one at fault.
pub fn check_one(pattern: &str) -> Result<(), String> {
    compile(&prepare(pattern)).map(|_| ())
}

/// Wraps alternatives as one whole-word regular expression.
fn whole_words<'a>(parts: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let parts: Vec<String> = parts
        .into_iter()
        .map(|p| format!("(?:{})", prepare(p)))
        .collect();
    // Tokens stand between single spaces, so a whole-word match is one between spaces (or
    // the ends); this also lets a pattern end in "!".
    (!parts.is_empty()).then(|| format!(r"(?:^| )(?:{})(?: |$)", parts.join("|")))
}

/// Checks each pattern on its own, so an error names the one at fault.
fn check_each(patterns: &[toml::Spanned<String>]) -> Result<(), BadPattern> {
    for p in patterns {
        check_one(p.get_ref()).map_err(|why| BadPattern {
            at: p.span().start,
            why,
        })?;
    }
    Ok(())
}

fn compile(src: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(src)
        .size_limit(8 << 20)
        .build()
        .map_err(|e| e.to_string())
}

fn phrases(list: &[String]) -> Vec<Vec<String>> {
    list.iter()
        .map(|p| super::text::tokenize(p).words)
        .filter(|p| !p.is_empty())
        .collect()
}

fn text_patterns(rule: &Rule) -> Vec<String> {
    let mut all: Vec<String> = rule.patterns.iter().map(|p| p.get_ref().clone()).collect();
    all.extend(
        rule.words
            .iter()
            .map(|w| regex::escape(&super::text::tokenize(w).joined())),
    );
    all
}

impl Concerns {
    /// Compiles the file. Score rules (`answer` / `at_most`) are left to the engine.
    pub fn compile(doc: &ConcernsDoc) -> Result<Self, BadPattern> {
        let mut rules = Vec::new();
        for rule in &doc.rule {
            check_each(&rule.patterns)?;
            check_each(&rule.unless)?;
            let Some(src) = whole_words(text_patterns(rule).iter().map(String::as_str)) else {
                continue;
            };
            let at = rule.id.span().start;
            let pattern = compile(&src).map_err(|why| BadPattern { at, why })?;
            let unless = whole_words(rule.unless.iter().map(|p| p.get_ref().as_str()))
                .map(|s| compile(&s).map_err(|why| BadPattern { at, why }))
                .transpose()?;
            rules.push(TextRule {
                id: rule.id.get_ref().clone(),
                category: rule
                    .category
                    .as_ref()
                    .map_or_else(|| "distress".to_string(), |c| c.get_ref().clone()),
                reason: rule.reason.clone(),
                pattern,
                unless,
            });
        }
        let any =
            RegexSet::new(rules.iter().map(|r| r.pattern.as_str())).map_err(|e| BadPattern {
                at: 0,
                why: e.to_string(),
            })?;
        let mut exclude_parts = Vec::new();
        for e in &doc.exclude {
            check_each(&e.patterns)?;
            exclude_parts.extend(e.patterns.iter().map(|p| p.get_ref().as_str()));
        }
        let exclude = whole_words(exclude_parts)
            .map(|s| compile(&s).map_err(|why| BadPattern { at: 0, why }))
            .transpose()?;
        Ok(Concerns {
            rules,
            any,
            exclude,
            before: phrases(&doc.negation.before),
            after: phrases(&doc.negation.after),
            stop_at: doc.negation.stop_at.clone(),
            window: doc.negation.window,
            after_window: doc.negation.after_window,
            pseudo: phrases(&doc.negation.pseudo),
            resolved: phrases(&doc.negation.resolved),
            contrast: doc.negation.contrast.clone(),
            unresolvable: doc
                .category
                .iter()
                .filter(|c| c.interrupts)
                .map(|c| c.id.get_ref().clone())
                .collect(),
            stories: doc.stories.cues.clone(),
            story_window: doc.stories.window,
            story_stops: doc.stories.stop_at.clone(),
            order: doc
                .category
                .iter()
                .map(|c| c.id.get_ref().clone())
                .collect(),
            risk: doc
                .category
                .iter()
                .filter(|c| c.risk)
                .map(|c| c.id.get_ref().clone())
                .collect(),
        })
    }

    /// The rules `words` (canonical, corrected tokens) set off, most serious category first.
    pub fn check(&self, words: &[String]) -> Vec<Hit> {
        let masked = self.mask(words);
        let cues = self.without_pseudo(&masked);
        let joined = masked.join(" ");
        let starts = offsets(&masked);
        let mut hits: Vec<Hit> = Vec::new();
        for i in self.any.matches(&joined).iter() {
            let rule = &self.rules[i];
            let fired = rule.pattern.find_iter(&joined).any(|m| {
                let (a, b) = span(&joined, &starts, m.start(), m.end());
                let resolved =
                    self.resolved_after(&masked, b) && !self.unresolvable.contains(&rule.category);
                !self.negated_before(&cues, a)
                    && !self.over_after(&masked, b)
                    && !resolved
                    && !self.story_before(&masked, a)
                    && !rule
                        .unless
                        .as_ref()
                        .is_some_and(|u| u.is_match(&clause(&masked, a, b)))
            });
            if fired && !hits.iter().any(|h| h.rule == rule.id) {
                hits.push(Hit {
                    rule: rule.id.clone(),
                    category: rule.category.clone(),
                    reason: rule.reason.clone(),
                });
            }
        }
        self.sort(&mut hits);
        hits
    }

    /// Puts hits in category order, most serious first.
    pub fn sort(&self, hits: &mut [Hit]) {
        let rank = |c: &str| self.order.iter().position(|o| o == c).unwrap_or(usize::MAX);
        hits.sort_by_key(|h| rank(&h.category));
    }

    /// The words as the learned model sees them (see [`super::learned`]): everyday sayings
    /// as `_`; a word a negation cue reaches as `no:word`, one a story cue reaches as
    /// `tale:word`, one an "it is over" cue follows as `over:word`.
    pub fn marked(&self, words: &[String]) -> Vec<String> {
        let masked = self.mask(words);
        let cues = self.without_pseudo(&masked);
        (0..masked.len())
            .map(|i| {
                let w = &masked[i];
                if w == "_" || is_break(w) {
                    w.clone()
                } else if self.negated_before(&cues, i) {
                    format!("no:{w}")
                } else if self.story_before(&masked, i) {
                    format!("tale:{w}")
                } else if self.over_after(&masked, i + 1) || self.resolved_after(&masked, i + 1) {
                    format!("over:{w}")
                } else {
                    w.clone()
                }
            })
            .collect()
    }

    /// The words with everyday sayings replaced by `_`.
    fn mask(&self, words: &[String]) -> Vec<String> {
        let mut out = words.to_vec();
        let Some(ex) = &self.exclude else {
            return out;
        };
        let joined = words.join(" ");
        let starts = offsets(words);
        for m in ex.find_iter(&joined) {
            let (a, b) = span(&joined, &starts, m.start(), m.end());
            for w in out.iter_mut().take(b).skip(a) {
                *w = "_".into();
            }
        }
        out
    }

    /// The words with pseudo-negations ("can not stop") blanked, for finding negation cues.
    fn without_pseudo(&self, words: &[String]) -> Vec<String> {
        let mut out = words.to_vec();
        for i in 0..words.len() {
            for p in &self.pseudo {
                if words[i..].starts_with(p.as_slice()) {
                    for w in out.iter_mut().skip(i).take(p.len()) {
                        *w = "~".into();
                    }
                }
            }
        }
        out
    }

    fn stops(&self, w: &str) -> bool {
        is_break(w) || self.stop_at.iter().any(|s| s == w)
    }

    /// A negation cue within the window before token `a`, in the same clause.
    fn negated_before(&self, words: &[String], a: usize) -> bool {
        let from = a.saturating_sub(self.window);
        for i in (from..a).rev() {
            if self.stops(&words[i]) {
                return false;
            }
            if self
                .before
                .iter()
                .any(|cue| words[i..a].starts_with(cue.as_slice()))
            {
                return true;
            }
        }
        false
    }

    /// An "it is over" cue within the window after token `b`, in the same clause.
    fn over_after(&self, words: &[String], b: usize) -> bool {
        let to = (b + self.after_window).min(words.len());
        for i in b..to {
            if self.stops(&words[i]) {
                return false;
            }
            if self
                .after
                .iter()
                .any(|cue| words[i..].starts_with(cue.as_slice()))
            {
                return true;
            }
        }
        false
    }

    /// A contrast word ("but") later in the same sentence, then an "all right now" phrase.
    fn resolved_after(&self, words: &[String], b: usize) -> bool {
        let end = words[b..]
            .iter()
            .position(|w| w == "." || w == "!")
            .map_or(words.len(), |i| b + i);
        let Some(c) = words[b..end]
            .iter()
            .position(|w| self.contrast.iter().any(|x| x == w))
        else {
            return false;
        };
        (b + c + 1..end).any(|i| {
            self.resolved
                .iter()
                .any(|r| words[i..end].starts_with(r.as_slice()))
        })
    }

    /// A story cue earlier in the same clause.
    fn story_before(&self, words: &[String], a: usize) -> bool {
        let from = a.saturating_sub(self.story_window);
        for i in (from..a).rev() {
            if is_break(&words[i]) || self.story_stops.iter().any(|s| s == &words[i]) {
                return false;
            }
            if self.stories.iter().any(|s| s == &words[i]) {
                return true;
            }
        }
        false
    }
}

/// The clause around tokens `a..b`, joined: from the break before to the break after.
fn clause(words: &[String], a: usize, b: usize) -> String {
    let start = words[..a]
        .iter()
        .rposition(|w| is_break(w))
        .map_or(0, |i| i + 1);
    let end = words[b..]
        .iter()
        .position(|w| is_break(w))
        .map_or(words.len(), |i| b + i);
    words[start..end].join(" ")
}

fn offsets(words: &[String]) -> Vec<usize> {
    super::text::offsets(words)
}

/// The tokens `a..b` a match over bytes `start..end` covers, without the spaces around it.
fn span(joined: &str, starts: &[usize], start: usize, end: usize) -> (usize, usize) {
    let bytes = joined.as_bytes();
    let start = if bytes.get(start) == Some(&b' ') {
        start + 1
    } else {
        start
    };
    let end = if end > start && bytes.get(end - 1) == Some(&b' ') {
        end - 1
    } else {
        end
    };
    let a = token_at(starts, start);
    let b = token_at(starts, end.saturating_sub(1).max(start)) + 1;
    (a, b)
}

/// The token holding byte `at` of the joined text.
fn token_at(starts: &[usize], at: usize) -> usize {
    match starts.binary_search(&at) {
        Ok(i) => i,
        Err(i) => i.saturating_sub(1),
    }
}
