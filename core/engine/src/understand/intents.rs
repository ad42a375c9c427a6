//! Intents from example phrases, the classic Rasa way but small: each example becomes a bag
//! of word stems (Snowball's English stemmer, after everyday fillers such as "please" and
//! "I'd like to" are dropped), weighted by how few intents use that stem (IDF). A message is
//! scored against every example of every intent open to the speaker's role by cosine
//! similarity; the best score per intent is the intent's score.
//!
//! Typos are already corrected towards the examples' own words by [`super::spelling`], so
//! "chek in" meets "check in". Extra words lower the score ("check in" vs "I want to check in
//! about the film tonight"), which keeps a long free-text answer from starting a flow.

use crate::domain::Role;
use crate::flow::system::Intent;
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::{HashMap, HashSet};

/// Longest message (in words) that may be an intent.
pub const MAX_WORDS: usize = 40;

/// How sure the matcher is about a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Guess {
    /// One intent clearly fits: its index in `system.toml`, and the score.
    One(usize, f64),
    /// Two (or more) fit about equally well: ask "Did you mean …?".
    Close(Vec<usize>, f64),
    /// Nothing fits well enough.
    Nothing,
}

/// Scoring thresholds, from `[understanding]` in `system.toml`.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Lowest score that counts as understood, outside a question.
    pub accept: f64,
    /// Lowest score that interrupts a question that is waiting for an answer.
    pub interrupt: f64,
    /// Two intents within this of each other are "close": ask which.
    pub margin: f64,
}

/// One example phrase, compiled.
struct Example {
    /// Its stems: the content words', or every word's when all of them are fillers ("what
    /// can you do"), so such a phrase still means something.
    stems: Vec<String>,
    /// Whether `stems` holds every word (the phrase is all fillers).
    every_word: bool,
}

/// The compiled examples.
pub struct Intents {
    stemmer: Stemmer,
    fillers: HashSet<String>,
    /// Per intent: its examples, and the roles it is open to.
    examples: Vec<(Vec<Example>, Vec<Role>)>,
    idf: HashMap<String, f64>,
    unseen_idf: f64,
    /// The thresholds in force.
    pub thresholds: Thresholds,
}

impl std::fmt::Debug for Intents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intents")
            .field("intents", &self.examples.len())
            .finish()
    }
}

impl Intents {
    /// Builds the matcher from `system.toml`'s intents. `correct` spells each example word as
    /// the speller will spell a message's, so both sides meet.
    pub fn new(
        intents: &[Intent],
        fillers: &[String],
        thresholds: Thresholds,
        correct: impl Fn(&[String]) -> Vec<String>,
    ) -> Self {
        let stemmer = Stemmer::create(Algorithm::English);
        let fillers: HashSet<String> = fillers
            .iter()
            .flat_map(|f| super::text::tokenize(f).words)
            .collect();
        let mut me = Intents {
            stemmer,
            fillers,
            examples: Vec::new(),
            idf: HashMap::new(),
            unseen_idf: 0.0,
            thresholds,
        };
        for i in intents {
            let ex = i
                .phrases
                .iter()
                .filter_map(|p| {
                    let words = correct(&super::text::tokenize(p).words);
                    let stems = me.stems(&words);
                    if !stems.is_empty() {
                        return Some(Example {
                            stems,
                            every_word: false,
                        });
                    }
                    let stems = me.every_stem(&words);
                    (!stems.is_empty()).then_some(Example {
                        stems,
                        every_word: true,
                    })
                })
                .collect();
            me.examples.push((ex, i.roles.clone()));
        }
        let n = me.examples.len().max(1) as f64;
        let mut df: HashMap<String, usize> = HashMap::new();
        for (ex, _) in &me.examples {
            let seen: HashSet<&String> = ex.iter().flat_map(|e| &e.stems).collect();
            for s in seen {
                *df.entry(s.clone()).or_default() += 1;
            }
        }
        me.idf = df
            .into_iter()
            .map(|(s, d)| (s, (1.0 + n / d as f64).ln()))
            .collect();
        me.unseen_idf = (1.0 + n).ln();
        me
    }

    /// The content stems of canonical `words`, fillers and breaks left out, in order, once.
    pub fn stems(&self, words: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in words {
            if super::text::is_break(w) || self.fillers.contains(w) {
                continue;
            }
            let s = self.stemmer.stem(w).into_owned();
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// The stems of every word of canonical `words` (fillers too), breaks left out.
    fn every_stem(&self, words: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in words {
            if super::text::is_break(w) {
                continue;
            }
            let s = self.stemmer.stem(w).into_owned();
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    fn weight(&self, stem: &str) -> f64 {
        self.idf.get(stem).copied().unwrap_or(self.unseen_idf)
    }

    /// How well message stems `m` fit example stems `e`, 0 to 1: the cosine of their
    /// idf-weighted vectors. A word no example uses weighs the most, so a message about
    /// something else fits nothing well.
    fn similarity(&self, m: &[String], e: &[String]) -> f64 {
        let norm = |v: &[String]| v.iter().map(|s| self.weight(s).powi(2)).sum::<f64>().sqrt();
        let (nm, ne) = (norm(m), norm(e));
        if nm == 0.0 || ne == 0.0 {
            return 0.0;
        }
        let shared: f64 = m
            .iter()
            .filter(|s| e.contains(s))
            .map(|s| self.weight(s).powi(2))
            .sum();
        shared / (nm * ne)
    }

    /// Each intent's best score for `words`, for intents open to `role`, best first.
    pub fn scores(&self, words: &[String], role: Role) -> Vec<(usize, f64)> {
        // Intents are short things to say; a long message is never taken as one (and is not
        // stemmed word by word for nothing).
        if words.len() > MAX_WORDS {
            return Vec::new();
        }
        let stems = self.stems(words);
        let every = self.every_stem(words);
        if every.is_empty() {
            return Vec::new();
        }
        let mut scores: Vec<(usize, f64)> = self
            .examples
            .iter()
            .enumerate()
            .filter(|(_, (_, roles))| roles.is_empty() || roles.contains(&role))
            .map(|(i, (ex, _))| {
                let best = ex
                    .iter()
                    .map(|e| {
                        let m = if e.every_word { &every } else { &stems };
                        self.similarity(m, &e.stems)
                    })
                    .fold(0.0, f64::max);
                (i, best)
            })
            .filter(|(_, s)| *s > 0.0)
            .collect();
        scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scores
    }

    /// The guess for `words` from `role`, at the `accept` threshold.
    pub fn guess(&self, words: &[String], role: Role, accept: f64) -> Guess {
        let scores = self.scores(words, role);
        let Some(&(best, top)) = scores.first() else {
            return Guess::Nothing;
        };
        if top < accept {
            return Guess::Nothing;
        }
        let close: Vec<usize> = scores
            .iter()
            .take_while(|(_, s)| *s >= accept && top - *s < self.thresholds.margin)
            .map(|(i, _)| *i)
            .take(3)
            .collect();
        if close.len() > 1 && top < 0.999 {
            Guess::Close(close, top)
        } else {
            Guess::One(best, top)
        }
    }
}
