//! Understanding what people say, in-process and from data: nothing a person says leaves the
//! machine, and every rule is a line in `dialogs/` that care staff can read.
//!
//! A message goes through these steps, each in its own file:
//!
//! 1. [`text`]: canonical tokens: lower case, contractions spelt out, punctuation as breaks.
//! 2. [`spelling`]: typos corrected towards the rules' and examples' own words, never away
//!    from a real word.
//! 3. [`concerns`]: the concern rules of `concerns.toml` (urgent, harm, pain, distress, a
//!    request), with negation scope, story cues and everyday sayings taken out. The engine
//!    checks these first, on every message, and the urgent category wins over everything.
//! 4. [`learned`]: when no rule fired (or none of the urgent category), a naive Bayes model
//!    trained on the labelled example files `[learned]` lists may add an alert: for
//!    everyday ways of saying things that no rule lists. It never removes a rule's alert.
//! 5. [`intents`]: the intent examples of `system.toml`, scored by similarity, with "did you
//!    mean" when two are close.
//!
//! [`eval`] runs labelled examples through the real engine for `carebot dialogs test`.

pub mod concerns;
pub mod eval;
pub mod intents;
pub mod learned;
pub mod report;
pub mod spelling;
pub mod text;

use crate::domain::Role;
use crate::flow::concerns::ConcernsDoc;
use crate::flow::system::SystemDoc;
pub use concerns::{BadPattern, Hit};
pub use intents::Guess;

/// The compiled matcher for one dialogs folder.
#[derive(Debug)]
pub struct Matcher {
    speller: spelling::Speller,
    concerns: concerns::Concerns,
    intents: intents::Intents,
    learned: Option<Learned>,
}

/// The learned model with the categories and reason its alerts carry.
#[derive(Debug)]
struct Learned {
    model: learned::Model,
    urgent: String,
    risk: String,
    reason: String,
}

/// A message in the form the rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heard {
    /// Canonical tokens, typos corrected.
    pub words: Vec<String>,
}

/// The words of a regular expression or phrase that a typo may be corrected towards.
fn letter_runs(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
}

impl Matcher {
    /// Compiles `concerns.toml` and the intents of `system.toml`. `known` lists real words a
    /// typo correction must never change (`words.en.txt`). `training` holds the labelled
    /// examples the `[learned]` model learns from (read from the files it lists).
    pub fn build(
        system: &SystemDoc,
        concerns: &ConcernsDoc,
        known: &[String],
        training: &[&eval::Example],
    ) -> Result<Self, BadPattern> {
        let compiled = concerns::Concerns::compile(concerns)?;
        let mut vocabulary: Vec<String> = Vec::new();
        for r in &concerns.rule {
            for p in r.patterns.iter().chain(&r.unless) {
                vocabulary.extend(letter_runs(p.get_ref()));
            }
            for w in &r.words {
                vocabulary.extend(letter_runs(w));
            }
        }
        for i in &system.intent {
            for p in &i.phrases {
                vocabulary.extend(text::tokenize(p).words.into_iter().filter(|w| w.len() >= 4));
            }
        }
        // Never "correct" a filler or cue into something else either.
        let mut keep: Vec<&str> = known.iter().map(String::as_str).collect();
        keep.extend(system.understanding.fillers.iter().map(String::as_str));
        keep.extend(concerns.negation.before.iter().map(String::as_str));
        let speller = spelling::Speller::new(vocabulary.iter().map(String::as_str), keep);
        let u = &system.understanding;
        let intents = intents::Intents::new(
            &system.intent,
            &u.fillers,
            intents::Thresholds {
                accept: u.accept,
                interrupt: u.interrupt,
                margin: u.margin,
            },
            |words| correct_all(&speller, words),
        );
        let learned = concerns.learned.as_ref().map(|settings| {
            let examples: Vec<(eval::Label, Vec<String>)> = training
                .iter()
                .filter(|e| e.role == Role::Resident)
                .map(|e| {
                    let words = correct_all(&speller, &text::tokenize(&e.text).words);
                    (e.expected.clone(), words)
                })
                .collect();
            let cues: Vec<String> = concerns
                .negation
                .before
                .iter()
                .chain(&concerns.negation.after)
                .flat_map(|c| text::tokenize(c).words)
                .collect();
            Learned {
                model: learned::Model::train(&examples, settings, &cues, |w| compiled.marked(w)),
                urgent: settings.urgent.get_ref().clone(),
                risk: settings.risk.get_ref().clone(),
                reason: settings.reason.clone(),
            }
        });
        Ok(Matcher {
            speller,
            concerns: compiled,
            intents,
            learned,
        })
    }

    /// Tokenizes and corrects `raw`.
    pub fn hear(&self, raw: &str) -> Heard {
        Heard {
            words: correct_all(&self.speller, &text::tokenize(raw).words),
        }
    }

    /// The concerns `heard` raises, most serious category first: the rules that fire, and
    /// the learned model's alert where no urgent rule fired and the model is sure enough.
    pub fn concerns(&self, heard: &Heard) -> Vec<Hit> {
        let mut hits = self.concerns.check(&heard.words);
        let Some(l) = &self.learned else {
            return hits;
        };
        if hits.iter().any(|h| h.category == l.urgent) {
            return hits;
        }
        let category = match l.model.verdict(&self.concerns.marked(&heard.words)) {
            Some(learned::Verdict::Urgent) => &l.urgent,
            // A rule of a risk category already says as much.
            Some(learned::Verdict::Risk) if !hits.iter().any(|h| self.is_risk(&h.category)) => {
                &l.risk
            }
            _ => return hits,
        };
        hits.push(Hit {
            rule: LEARNED.into(),
            category: category.clone(),
            reason: l.reason.clone(),
        });
        self.concerns.sort(&mut hits);
        hits
    }

    /// How sure the learned model is about `heard` (for `dialogs test` to explain a miss).
    pub fn belief(&self, heard: &Heard) -> Option<learned::Belief> {
        let l = self.learned.as_ref()?;
        l.model.belief(&self.concerns.marked(&heard.words))
    }

    fn is_risk(&self, category: &str) -> bool {
        self.concerns.risk.iter().any(|c| c == category)
    }

    /// The intent `heard` from `role` most likely means, at the `accept` threshold.
    pub fn intent(&self, heard: &Heard, role: Role, accept: f64) -> Guess {
        self.intents.guess(&heard.words, role, accept)
    }

    /// Each intent's score, best first (for `dialogs test` to explain a miss).
    pub fn intent_scores(&self, heard: &Heard, role: Role) -> Vec<(usize, f64)> {
        self.intents.scores(&heard.words, role)
    }

    /// The matcher's thresholds.
    pub fn thresholds(&self) -> intents::Thresholds {
        self.intents.thresholds
    }

    /// Category ids, most serious first.
    pub fn category_order(&self) -> &[String] {
        &self.concerns.order
    }
}

/// The rule id stored with an alert the learned model raised.
pub const LEARNED: &str = "learned";

/// Corrects each word on its own; a word seen twice is corrected once.
fn correct_all(speller: &spelling::Speller, words: &[String]) -> Vec<String> {
    let mut cache: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    words
        .iter()
        .map(|w| {
            if w.len() > 24 {
                return w.clone();
            }
            cache
                .entry(w.as_str())
                .or_insert_with(|| speller.correct(w).map_or_else(|| w.clone(), str::to_string))
                .clone()
        })
        .collect()
}
