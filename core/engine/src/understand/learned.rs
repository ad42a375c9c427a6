//! A concern model learned from the labelled examples, for the ways of saying things the
//! rules do not list: naive Bayes over word stems and pairs of stems (the classic text
//! classifier, small enough to train in a few milliseconds when the dialogs load; no
//! network, no downloaded model).
//!
//! The rules' own understanding shapes what it sees. Everyday sayings are taken out first;
//! a word a negation cue reaches is a different feature (`no:pain`, not `pain`), as is one a
//! story cue reaches (`tale:hit`) and one an "it is over" cue follows (`over:pain`). So
//! "no pain today" looks like the `none` examples that say the same, not like "pain today".
//!
//! It only ever adds an alert; a rule that fires is never overruled (see [`super::Matcher`]).

use super::eval::Label;
use super::text::is_break;
use crate::flow::concerns::Learned as Settings;
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::{HashMap, HashSet};

/// The three classes it tells apart.
const URGENT: usize = 0;
const RISK: usize = 1;
const NONE: usize = 2;

/// Add-half smoothing for a feature a class never saw.
const SMOOTHING: f64 = 0.5;

/// How sure the model is, per class, for one message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Belief {
    /// Probability of an urgent concern.
    pub urgent: f64,
    /// Probability of another concern.
    pub risk: f64,
}

impl Belief {
    /// Probability of any concern.
    pub fn concern(&self) -> f64 {
        self.urgent + self.risk
    }
}

/// What the model decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// An urgent concern: the `[learned] urgent` category.
    Urgent,
    /// Another concern: the `[learned] risk` category.
    Risk,
}

/// The trained model.
pub struct Model {
    stemmer: Stemmer,
    /// Log-probability of each known feature per class.
    log_p: HashMap<String, [f64; 3]>,
    log_prior: [f64; 3],
    /// Features that, on their own, point to a concern: seen in at least two concern
    /// examples and several times likelier there than in ordinary talk.
    telling: HashSet<String>,
    ignore: HashSet<String>,
    alert_at: f64,
    urgent_at: f64,
    /// How many examples it learned from.
    pub trained_on: usize,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("features", &self.log_p.len())
            .field("trained_on", &self.trained_on)
            .finish()
    }
}

impl Model {
    /// Trains on `examples` (urgent, risk, none and intent lines; an intent line counts as no
    /// concern). `mark` turns canonical words into marked words (see the module comment).
    /// `cues` are the words of the negation and "it is over" cues: a feature holding one of
    /// them, or a marked word, is never evidence on its own.
    pub fn train(
        examples: &[(Label, Vec<String>)],
        settings: &Settings,
        cues: &[String],
        mark: impl Fn(&[String]) -> Vec<String>,
    ) -> Self {
        let mut model = Model {
            stemmer: Stemmer::create(Algorithm::English),
            log_p: HashMap::new(),
            log_prior: [0.0; 3],
            telling: HashSet::new(),
            ignore: settings.ignore.iter().cloned().collect(),
            alert_at: settings.alert_at,
            urgent_at: settings.urgent_at,
            trained_on: examples.len(),
        };
        let cues: HashSet<String> = cues
            .iter()
            .map(|c| model.stemmer.stem(c).into_owned())
            .collect();
        let mut docs = [0usize; 3];
        let mut counts: HashMap<String, [usize; 3]> = HashMap::new();
        for (label, words) in examples {
            let class = match label {
                Label::Urgent => URGENT,
                Label::Risk => RISK,
                Label::None | Label::Intent(_) => NONE,
            };
            docs[class] += 1;
            for f in model.features(&mark(words)) {
                counts.entry(f).or_insert([0; 3])[class] += 1;
            }
        }
        let total_docs = docs.iter().sum::<usize>().max(1) as f64;
        let mut totals = [0usize; 3];
        for c in counts.values() {
            for (total, n) in totals.iter_mut().zip(c) {
                *total += n;
            }
        }
        let vocabulary = counts.len() as f64;
        for (prior, &n) in model.log_prior.iter_mut().zip(&docs) {
            // A class with no examples never wins.
            *prior = if n == 0 {
                f64::NEG_INFINITY
            } else {
                (n as f64 / total_docs).ln()
            };
        }
        let concern_docs = (docs[URGENT] + docs[RISK]).max(1) as f64;
        let none_docs = docs[NONE].max(1) as f64;
        model.telling = counts
            .iter()
            .filter(|(f, _)| !f.contains(':') && !f.split('+').any(|w| cues.contains(w)))
            .filter(|(_, c)| {
                let concern = (c[URGENT] + c[RISK]) as f64;
                let rate = |n: f64, of: f64| (n + SMOOTHING) / (of + 1.0);
                concern >= 2.0
                    && rate(concern, concern_docs)
                        >= settings.evidence * rate(c[NONE] as f64, none_docs)
            })
            .map(|(f, _)| f.clone())
            .collect();
        model.log_p = counts
            .into_iter()
            .map(|(f, c)| {
                let lp = std::array::from_fn(|k| {
                    ((c[k] as f64 + SMOOTHING) / (totals[k] as f64 + SMOOTHING * vocabulary)).ln()
                });
                (f, lp)
            })
            .collect();
        model
    }

    /// The features of marked words: each stem once, and each pair of neighbouring stems in
    /// the same clause once.
    fn features(&self, marked: &[String]) -> HashSet<String> {
        let mut out = HashSet::new();
        let mut previous: Option<String> = None;
        for w in marked {
            if is_break(w) || w == "_" {
                previous = None;
                continue;
            }
            let (mark, word) = match w.split_once(':') {
                Some((m, rest)) => (format!("{m}:"), rest),
                None => (String::new(), w.as_str()),
            };
            if self.ignore.contains(word) {
                continue;
            }
            let stem = format!("{mark}{}", self.stemmer.stem(word));
            if let Some(p) = previous.take() {
                out.insert(format!("{p}+{stem}"));
            }
            out.insert(stem.clone());
            previous = Some(stem);
        }
        out
    }

    /// How sure the model is about marked words; `None` when it knows none of them, or none
    /// that tells of a concern on its own.
    pub fn belief(&self, marked: &[String]) -> Option<Belief> {
        let mut score = self.log_prior;
        let mut known = 0;
        let mut telling = false;
        for f in self.features(marked) {
            if let Some(lp) = self.log_p.get(&f) {
                known += 1;
                telling |= self.telling.contains(&f);
                for (s, l) in score.iter_mut().zip(lp) {
                    *s += l;
                }
            }
        }
        if known == 0 || !telling {
            return None;
        }
        let top = score.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let p: Vec<f64> = score.iter().map(|s| (s - top).exp()).collect();
        let sum: f64 = p.iter().sum();
        Some(Belief {
            urgent: p[URGENT] / sum,
            risk: p[RISK] / sum,
        })
    }

    /// Whether marked words are a concern, by the `[learned]` thresholds.
    pub fn verdict(&self, marked: &[String]) -> Option<Verdict> {
        let b = self.belief(marked)?;
        if b.concern() < self.alert_at {
            return None;
        }
        Some(if b.urgent >= self.urgent_at {
            Verdict::Urgent
        } else {
            Verdict::Risk
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        toml::from_str(
            "examples = []\nurgent = \"urgent\"\nrisk = \"concern\"\nreason = \"r\"\nalert_at = 0.9\nignore = [\"i\", \"my\", \"the\", \"am\", \"is\"]",
        )
        .expect("settings")
    }

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    /// Marks words after "not" for two words, as the concern rules' negation would.
    fn mark(w: &[String]) -> Vec<String> {
        let mut left = 0;
        w.iter()
            .map(|w| {
                if w == "not" {
                    left = 2;
                    w.clone()
                } else if left > 0 {
                    left -= 1;
                    format!("no:{w}")
                } else {
                    w.clone()
                }
            })
            .collect()
    }

    fn model() -> Model {
        let mut ex = Vec::new();
        for s in [
            "my legs are wobbly and the room spins",
            "the room keeps spinning",
            "everything spins when i stand",
            "i am wobbly on my legs",
        ] {
            ex.push((Label::Risk, words(s)));
        }
        for s in ["i am on the floor and can not get up", "on the floor again"] {
            ex.push((Label::Urgent, words(s)));
        }
        for s in [
            "the room is lovely",
            "i am not wobbly today",
            "my legs are fine",
            "lovely lunch today",
            "i stand in the garden",
            "check in please",
        ] {
            ex.push((Label::None, words(s)));
        }
        ex.push((Label::Intent("help".into()), words("what can you do")));
        Model::train(&ex, &settings(), &["not".to_string()], mark)
    }

    #[test]
    fn a_new_sentence_with_the_concerns_words_alerts() {
        let m = model();
        assert_eq!(
            m.verdict(&mark(&words("the room started spinning and i felt wobbly"))),
            Some(Verdict::Risk)
        );
        assert_eq!(
            m.verdict(&mark(&words("help i am on the floor"))),
            Some(Verdict::Urgent)
        );
    }

    #[test]
    fn negated_words_and_everyday_ones_do_not() {
        let m = model();
        assert_eq!(m.verdict(&mark(&words("i am not wobbly"))), None);
        assert_eq!(m.verdict(&mark(&words("lovely garden today"))), None);
    }

    #[test]
    fn words_it_never_saw_give_no_belief_at_all() {
        assert_eq!(model().belief(&words("zebra xylophone")), None);
    }

    #[test]
    fn with_no_examples_it_never_alerts() {
        let m = Model::train(&[], &settings(), &[], |w| w.to_vec());
        assert_eq!(m.verdict(&words("the room keeps spinning")), None);
    }
}
