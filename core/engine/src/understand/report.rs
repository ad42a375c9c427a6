//! The figures `carebot dialogs test` prints: precision and recall per category and context,
//! a confusion table, and every miss with the rule that fired (or the closest intent).

use super::eval::{Label, Trial, Where};
use crate::flow::system::Targets;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The headline figures, each a fraction (None when there was nothing to count).
#[derive(Clone, Debug, Default)]
pub struct Figures {
    /// Risk and urgent lines that raised an alert, per context.
    pub risk_recall: BTreeMap<Where, Option<f64>>,
    /// Urgent lines that raised an urgent alert, per context.
    pub urgent_recall: BTreeMap<Where, Option<f64>>,
    /// Urgent lines that raised only a risk alert, per context (must be 0).
    pub urgent_below_risk: BTreeMap<Where, usize>,
    /// `none` lines that raised an alert, per context.
    pub false_alarms: BTreeMap<Where, Option<f64>>,
    /// Intent lines that started the intent named.
    pub intents: Option<f64>,
    /// `none` lines sent as a plain message that started an intent (no target: ordinary
    /// talk taken as a command is a nuisance, not a danger, but it is watched).
    pub none_as_intent: Option<f64>,
}

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn alert(l: &Label) -> bool {
    matches!(l, Label::Urgent | Label::Risk)
}

impl Figures {
    /// Computes the figures from every trial.
    pub fn of(trials: &[Trial]) -> Figures {
        let mut f = Figures::default();
        for w in [Where::Message, Where::Answer] {
            let here: Vec<&Trial> = trials.iter().filter(|t| t.context == w).collect();
            let risky: Vec<&&Trial> = here.iter().filter(|t| alert(&t.example.expected)).collect();
            let urgent: Vec<&&Trial> = here
                .iter()
                .filter(|t| t.example.expected == Label::Urgent)
                .collect();
            let none: Vec<&&Trial> = here
                .iter()
                .filter(|t| t.example.expected == Label::None)
                .collect();
            f.risk_recall.insert(
                w,
                ratio(risky.iter().filter(|t| alert(&t.got)).count(), risky.len()),
            );
            f.urgent_recall.insert(
                w,
                ratio(
                    urgent.iter().filter(|t| t.got == Label::Urgent).count(),
                    urgent.len(),
                ),
            );
            f.urgent_below_risk
                .insert(w, urgent.iter().filter(|t| t.got == Label::Risk).count());
            f.false_alarms.insert(
                w,
                ratio(none.iter().filter(|t| alert(&t.got)).count(), none.len()),
            );
        }
        let intents: Vec<&Trial> = trials
            .iter()
            .filter(|t| matches!(t.example.expected, Label::Intent(_)))
            .collect();
        f.intents = ratio(intents.iter().filter(|t| t.passed()).count(), intents.len());
        let plain_none: Vec<&Trial> = trials
            .iter()
            .filter(|t| t.context == Where::Message && t.example.expected == Label::None)
            .collect();
        f.none_as_intent = ratio(
            plain_none
                .iter()
                .filter(|t| matches!(t.got, Label::Intent(_)))
                .count(),
            plain_none.len(),
        );
        f
    }

    /// The targets missed, in words (empty when every target is met).
    pub fn missed(&self, t: &Targets) -> Vec<String> {
        let mut out = Vec::new();
        for (w, v) in &self.risk_recall {
            if v.is_some_and(|v| v < t.risk_recall) {
                out.push(format!(
                    "risk + urgent recall as a {} is below {}",
                    w.name(),
                    pct(t.risk_recall)
                ));
            }
        }
        for (w, v) in &self.urgent_recall {
            if v.is_some_and(|v| v < t.urgent_recall) {
                out.push(format!(
                    "urgent recall as a {} is below {}",
                    w.name(),
                    pct(t.urgent_recall)
                ));
            }
        }
        for (w, n) in &self.urgent_below_risk {
            if *n > 0 {
                out.push(format!(
                    "{n} urgent line(s) classed only as risk as a {}",
                    w.name()
                ));
            }
        }
        for (w, v) in &self.false_alarms {
            if v.is_some_and(|v| v > t.false_alarms) {
                out.push(format!(
                    "false alarms as a {} are above {}",
                    w.name(),
                    pct(t.false_alarms)
                ));
            }
        }
        if self.intents.is_some_and(|v| v < t.intents) {
            out.push(format!("intents correct are below {}", pct(t.intents)));
        }
        out
    }
}

fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), pct)
}

/// The outcome's column in the confusion table.
fn column(t: &Trial) -> String {
    match (&t.example.expected, &t.got) {
        (Label::Intent(e), Label::Intent(g)) if e == g => "intent (right)".into(),
        (_, Label::Intent(_)) => "intent (other)".into(),
        (_, g) => g.name(),
    }
}

fn row(l: &Label) -> String {
    match l {
        Label::Intent(_) => "intent".into(),
        l => l.name(),
    }
}

/// Per label: (precision, recall) over every trial, intents by name.
fn per_label(trials: &[Trial]) -> BTreeMap<String, (Option<f64>, Option<f64>, usize)> {
    let mut labels: Vec<Label> = trials.iter().map(|t| t.example.expected.clone()).collect();
    labels.sort();
    labels.dedup();
    let detected = |l: &Label, got: &Label| match l {
        Label::Risk => alert(got),
        Label::None => !alert(got),
        l => l == got,
    };
    labels
        .iter()
        .map(|l| {
            let expected = trials.iter().filter(|t| &t.example.expected == l).count();
            let hit = trials
                .iter()
                .filter(|t| &t.example.expected == l && detected(l, &t.got))
                .count();
            let claimed = trials.iter().filter(|t| detected(l, &t.got)).count();
            (
                l.name(),
                (ratio(hit, claimed), ratio(hit, expected), expected),
            )
        })
        .collect()
}

/// The whole report as text.
pub fn render(trials: &[Trial], targets: &Targets) -> String {
    let f = Figures::of(trials);
    let mut s = String::new();
    let lines: std::collections::BTreeSet<&str> =
        trials.iter().map(|t| t.example.at.as_str()).collect();
    let _ = writeln!(s, "{} labelled lines, {} tries", lines.len(), trials.len());
    let _ = writeln!(
        s,
        "\nper label (every context):\n  {:<28} {:>9} {:>9} {:>6}",
        "label", "precision", "recall", "tries"
    );
    for (name, (p, r, n)) in per_label(trials) {
        let _ = writeln!(s, "  {name:<28} {:>9} {:>9} {n:>6}", show(p), show(r));
    }
    let mut table: BTreeMap<(String, String), usize> = BTreeMap::new();
    for t in trials {
        *table
            .entry((row(&t.example.expected), column(t)))
            .or_default() += 1;
    }
    let cols = ["urgent", "risk", "none", "intent (right)", "intent (other)"];
    let _ = write!(
        s,
        "\nconfusion (rows: expected, columns: what Carebot did):\n  {:<8}",
        ""
    );
    for c in cols {
        let _ = write!(s, " {c:>15}");
    }
    for r in ["urgent", "risk", "none", "intent"] {
        let _ = write!(s, "\n  {r:<8}");
        for c in cols {
            let n = table
                .get(&(r.to_string(), c.to_string()))
                .copied()
                .unwrap_or(0);
            let _ = write!(s, " {n:>15}");
        }
    }
    let misses: Vec<&Trial> = trials.iter().filter(|t| !t.passed()).collect();
    let _ = writeln!(s, "\n\nmisses ({}):", misses.len());
    for t in &misses {
        let why = if t.why.is_empty() {
            "no rule fired".to_string()
        } else {
            t.why.clone()
        };
        let _ = writeln!(
            s,
            "  {} [{}] expected {}, got {} ({}): {}",
            t.example.at,
            t.context.name(),
            t.example.expected.name(),
            t.got.name(),
            why,
            t.example.text
        );
    }
    let taken: Vec<&Trial> = trials
        .iter()
        .filter(|t| {
            t.context == Where::Message
                && t.example.expected == Label::None
                && matches!(t.got, Label::Intent(_))
        })
        .collect();
    let _ = writeln!(s, "\nordinary lines taken as a command ({}):", taken.len());
    for t in &taken {
        let _ = writeln!(
            s,
            "  {} {} ({}): {}",
            t.example.at,
            t.got.name(),
            t.why,
            t.example.text
        );
    }
    let _ = writeln!(s, "\nfigures (target):");
    for w in [Where::Message, Where::Answer] {
        let _ = writeln!(
            s,
            "  {:<16} risk+urgent recall {} (≥ {}), urgent recall {} (≥ {}), urgent classed as risk {}, false alarms {} (≤ {})",
            w.name(),
            show(f.risk_recall.get(&w).copied().flatten()),
            pct(targets.risk_recall),
            show(f.urgent_recall.get(&w).copied().flatten()),
            pct(targets.urgent_recall),
            f.urgent_below_risk.get(&w).copied().unwrap_or(0),
            show(f.false_alarms.get(&w).copied().flatten()),
            pct(targets.false_alarms),
        );
    }
    let _ = writeln!(
        s,
        "  intents correct {} (≥ {}), ordinary lines taken as a command {}",
        show(f.intents),
        pct(targets.intents),
        show(f.none_as_intent)
    );
    let missed = f.missed(targets);
    if missed.is_empty() {
        let _ = writeln!(s, "result: every target met");
    } else {
        let _ = writeln!(
            s,
            "result: {} target(s) missed: {}",
            missed.len(),
            missed.join("; ")
        );
    }
    s
}
