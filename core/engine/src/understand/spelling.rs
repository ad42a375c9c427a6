//! Typo tolerance: "pian" → "pain", "scard" → "scared", "rihgts" → "rights".
//!
//! A word is corrected only towards the matcher's own vocabulary (the words in concern
//! patterns and intent examples), and only when it is not itself a word: anything in the
//! vocabulary or in the known-words list (`words.en.txt`) is left alone, so "paint", "rain"
//! and "main" are never read as "pain". Words under four letters are never corrected (too
//! many real words are one letter from each other), the first letter must agree, and the
//! distance allowed grows with length: one edit (a swap counts as one) up to seven letters,
//! two from eight.
//!
//! Lookup uses a deletion index (the SymSpell idea): every way of deleting up to two letters
//! from each vocabulary word points back at the word, so a typo is found by deleting letters
//! from it and looking those up, without comparing it with every word.

use std::collections::{HashMap, HashSet};

/// Shortest word ever corrected.
const MIN_LEN: usize = 4;

/// The vocabulary and its deletion index.
#[derive(Debug, Default)]
pub struct Speller {
    vocabulary: HashSet<String>,
    known: HashSet<String>,
    deletes: HashMap<String, Vec<u32>>,
    words: Vec<String>,
}

fn max_edits(len: usize) -> usize {
    if len >= 8 {
        2
    } else {
        1
    }
}

/// Every string made by deleting up to `n` characters of `w` (including `w` itself).
fn deletions(w: &str, n: usize) -> HashSet<String> {
    let mut out = HashSet::from([w.to_string()]);
    let mut frontier = vec![w.to_string()];
    for _ in 0..n {
        let mut next = Vec::new();
        for s in &frontier {
            let chars: Vec<char> = s.chars().collect();
            for i in 0..chars.len() {
                let d: String = chars[..i].iter().chain(&chars[i + 1..]).collect();
                if out.insert(d.clone()) {
                    next.push(d);
                }
            }
        }
        frontier = next;
    }
    out
}

impl Speller {
    /// A speller that corrects towards `vocabulary` and never touches `known` words.
    pub fn new<'a>(
        vocabulary: impl IntoIterator<Item = &'a str>,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut s = Speller {
            known: known.into_iter().map(str::to_string).collect(),
            ..Default::default()
        };
        for w in vocabulary {
            if w.chars().count() < MIN_LEN || !w.chars().all(char::is_alphabetic) {
                continue;
            }
            if !s.vocabulary.insert(w.to_string()) {
                continue;
            }
            let id = s.words.len() as u32;
            s.words.push(w.to_string());
            for d in deletions(w, max_edits(w.chars().count())) {
                s.deletes.entry(d).or_default().push(id);
            }
        }
        s
    }

    /// Whether `w` is a word the speller knows (vocabulary or known list).
    pub fn is_word(&self, w: &str) -> bool {
        self.vocabulary.contains(w) || self.known.contains(w)
    }

    /// The vocabulary word `w` is most likely a typo of, if any.
    pub fn correct(&self, w: &str) -> Option<&str> {
        let len = w.chars().count();
        if len < MIN_LEN || self.is_word(w) || !w.chars().all(char::is_alphabetic) {
            return None;
        }
        let limit = max_edits(len);
        let first = w.chars().next()?;
        let mut best: Option<(usize, &str)> = None;
        let mut seen = HashSet::new();
        for d in deletions(w, limit) {
            for &id in self.deletes.get(&d).into_iter().flatten() {
                if !seen.insert(id) {
                    continue;
                }
                let cand = self.words[id as usize].as_str();
                let cand_len = cand.chars().count();
                let allowed = limit.min(max_edits(cand_len));
                let mut c = cand.chars();
                let (c_first, c_second) = (c.next(), c.next());
                let second = w.chars().nth(1);
                // The first letter agrees, or the first two letters are swapped.
                let swapped = c_first == second && c_second == Some(first);
                if c_first != Some(first) && !swapped {
                    continue;
                }
                let dist = strsim::osa_distance(w, cand);
                if dist == 0 || dist > allowed {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((bd, bw)) => {
                        dist < bd
                            || (dist == bd
                                && (cand_len.abs_diff(len), cand)
                                    < (bw.chars().count().abs_diff(len), bw))
                    }
                };
                if better {
                    best = Some((dist, cand));
                }
            }
        }
        best.map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speller() -> Speller {
        Speller::new(
            [
                "pain", "painful", "scared", "rights", "checkin", "check", "dizzy", "lonely",
            ],
            ["paint", "rain", "main", "pair", "sort"],
        )
    }

    #[test]
    fn common_typos_reach_the_word_meant() {
        let s = speller();
        assert_eq!(s.correct("pian"), Some("pain"));
        assert_eq!(s.correct("painfull"), Some("painful"));
        assert_eq!(s.correct("scard"), Some("scared"));
        assert_eq!(s.correct("rihgts"), Some("rights"));
        assert_eq!(s.correct("chekin"), Some("checkin"));
        assert_eq!(s.correct("lonley"), Some("lonely"));
        assert_eq!(s.correct("dizy"), Some("dizzy"));
    }

    #[test]
    fn real_words_and_short_words_are_left_alone() {
        let s = speller();
        for w in [
            "paint", "rain", "main", "pair", "sort", "pan", "pin", "pain",
        ] {
            assert_eq!(s.correct(w), None, "{w}");
        }
        assert_eq!(s.correct("xain"), None, "the first letter must agree");
    }
}
