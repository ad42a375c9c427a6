//! `carebot dialogs test`: labelled examples run through the real engine, and the figures.
//!
//! An example file has lines `expected<TAB>utterance`: `urgent`, `risk`, `none` or
//! `intent:NAME` (the format of `shared/examples/understanding.tsv`). `# role: family` (or
//! `keyworker`, `manager`) makes the lines after it come from that role. Every `urgent`,
//! `risk` and `none` line is tried twice, as a plain message and as the answer to the
//! check-in's last free-text question; intent lines as a plain message.
//!
//! What the engine did is read off its effects: an alert's category (urgent; another risk
//! category; a request), else the intent it reported, else nothing.

use crate::domain::{Goal, Profile, Relative, Role};
use crate::engine::{step, Context, Conversation, Effect, Input, Settings};
use crate::flow::{Ask, Dialogs};
use crate::ids::{GoalId, PersonId};
use chrono::{DateTime, Utc};

/// What a line expects.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Label {
    /// An urgent alert.
    Urgent,
    /// An alert of any risk category.
    Risk,
    /// No alert.
    None,
    /// This intent.
    Intent(String),
}

impl Label {
    fn parse(s: &str) -> Option<Label> {
        match s {
            "urgent" => Some(Label::Urgent),
            "risk" => Some(Label::Risk),
            "none" => Some(Label::None),
            _ => s
                .strip_prefix("intent:")
                .filter(|n| !n.is_empty())
                .map(|n| Label::Intent(n.to_string())),
        }
    }

    /// As written in the files.
    pub fn name(&self) -> String {
        match self {
            Label::Urgent => "urgent".into(),
            Label::Risk => "risk".into(),
            Label::None => "none".into(),
            Label::Intent(n) => format!("intent:{n}"),
        }
    }
}

/// One labelled line.
#[derive(Clone, Debug)]
pub struct Example {
    /// Where it came from (`file:line`).
    pub at: String,
    /// What it expects.
    pub expected: Label,
    /// What is said.
    pub text: String,
    /// Who says it.
    pub role: Role,
}

/// Reads one example file. An unreadable line is an error naming the line.
pub fn parse_examples(name: &str, source: &str) -> Result<Vec<Example>, String> {
    let mut role = Role::Resident;
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let at = format!("{name}:{}", n + 1);
        let trimmed = line.trim();
        if let Some(comment) = trimmed.strip_prefix('#') {
            if let Some(r) = comment.trim().strip_prefix("role:") {
                role = r
                    .trim()
                    .parse()
                    .map_err(|e| format!("{at}: {e}; fix: write '# role: family' or similar"))?;
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        let Some((label, text)) = line.split_once('\t') else {
            return Err(format!(
                "{at}: no TAB between the label and the words; fix: write LABEL<TAB>words"
            ));
        };
        let expected = Label::parse(label.trim()).ok_or_else(|| {
            format!(
                "{at}: '{}' is not a label; fix: use urgent, risk, none or intent:NAME",
                label.trim()
            )
        })?;
        out.push(Example {
            at,
            expected,
            text: text.trim().to_string(),
            role,
        });
    }
    Ok(out)
}

/// Where a line was said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Where {
    /// Out of any flow.
    Message,
    /// As the answer to the check-in's last free-text question.
    Answer,
}

impl Where {
    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Where::Message => "plain message",
            Where::Answer => "check-in answer",
        }
    }
}

/// One try of one line.
#[derive(Clone, Debug)]
pub struct Trial {
    /// The line.
    pub example: Example,
    /// Where it was said.
    pub context: Where,
    /// What the engine did.
    pub got: Label,
    /// The rules that fired (`fall`), or the intent and its score.
    pub why: String,
}

impl Trial {
    /// Whether the engine did what the line expects. A `none` line passes with any outcome
    /// but an alert; an urgent line only with an urgent alert.
    pub fn passed(&self) -> bool {
        match (&self.example.expected, &self.got) {
            (Label::None, got) => !matches!(got, Label::Urgent | Label::Risk),
            (e, g) => e == g,
        }
    }
}

/// A resident, a family member and a keyworker of the demo kind, for running lines.
fn profile(role: Role) -> Profile {
    let ava = Relative {
        id: PersonId(1),
        name: "Ava".into(),
    };
    let mut p = Profile {
        id: PersonId(1),
        name: "Ava".into(),
        role,
        language: crate::flow::DEFAULT_LANGUAGE.into(),
        goals: vec![Goal::active(GoalId(1), "walk to the garden")],
        keyworker: Some("Kim".into()),
        home_name: "Rowan House".into(),
        home_phone: "01632 960000".into(),
        family: vec![Relative {
            id: PersonId(5),
            name: "Sam".into(),
        }],
        consents: Vec::new(),
        family_of: Vec::new(),
        caring_for: Vec::new(),
        recent: Vec::new(),
        open_alerts: Vec::new(),
        expected_checkins: Vec::new(),
        requests: Vec::new(),
        open_requests: Vec::new(),
        reviews_due: Vec::new(),
        plan: None,
    };
    match role {
        Role::Resident => {}
        Role::Family => {
            p.id = PersonId(5);
            p.name = "Sam".into();
            p.family = Vec::new();
            p.goals = Vec::new();
            p.family_of = vec![ava];
        }
        _ => {
            p.id = PersonId(3);
            p.name = "Kim".into();
            p.family = Vec::new();
            p.goals = Vec::new();
            p.caring_for = vec![ava];
            p.open_alerts = vec![1];
        }
    }
    p
}

/// A check-in walked to its last free-text question, with simple answers before it.
fn at_last_text_question(ctx: &Context<'_>, now: DateTime<Utc>) -> Option<Conversation> {
    let flow = ctx.dialogs.flow(crate::engine::turn::CHECKIN)?;
    let last_text = flow
        .doc
        .steps
        .iter()
        .rev()
        .find(|s| matches!(s.ask, Some(Ask::Text { .. })))?
        .id
        .get_ref()
        .clone();
    let (mut state, _) = step(
        ctx,
        Conversation::default(),
        Input::Start {
            flow: crate::engine::turn::CHECKIN.into(),
        },
        now,
    );
    for _ in 0..16 {
        let frame = state.active.as_ref()?;
        if frame.step == last_text {
            return Some(state);
        }
        let answer = match &flow.step(&frame.step)?.ask {
            Some(Ask::Scale { max, .. }) => max.to_string(),
            Some(Ask::YesNo) => "no".into(),
            Some(Ask::Number { .. }) | Some(Ask::Choice { .. }) => "1".into(),
            Some(Ask::Time) => "10".into(),
            Some(Ask::Date) => "today".into(),
            _ => "fine".into(),
        };
        state = step(ctx, state, Input::Message(answer), now).0;
    }
    None
}

/// What the effects say the engine understood.
fn outcome(ctx: &Context<'_>, fx: &[Effect]) -> (Label, String) {
    let risky = |c: &str| {
        ctx.dialogs
            .concerns
            .category
            .iter()
            .find(|k| k.id.get_ref() == c)
            .is_none_or(|k| k.risk)
    };
    let rules: Vec<String> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Alert { rule: Some(r), .. } => Some(r.clone()),
            _ => None,
        })
        .collect();
    let mut got = Label::None;
    for e in fx {
        if let Effect::Alert {
            category: Some(c), ..
        } = e
        {
            let l = if c == "urgent" {
                Label::Urgent
            } else if risky(c) {
                Label::Risk
            } else {
                Label::Intent(c.clone())
            };
            if got == Label::None || l < got {
                got = l;
            }
        }
    }
    if got == Label::None {
        if let Some(name) = fx.iter().find_map(|e| match e {
            Effect::Intent(n) => Some(n.clone()),
            _ => None,
        }) {
            return (Label::Intent(name.clone()), format!("intent {name}"));
        }
    }
    (got, rules.join(", "))
}

/// Runs every example in each context it must hold in.
pub fn run(dialogs: &Dialogs, examples: &[Example], now: DateTime<Utc>) -> Vec<Trial> {
    let settings = Settings::default();
    let profiles: Vec<(Role, Profile)> =
        [Role::Resident, Role::Family, Role::Keyworker, Role::Manager]
            .into_iter()
            .map(|r| (r, profile(r)))
            .collect();
    let mut out = Vec::new();
    for ex in examples {
        let profile = profiles
            .iter()
            .find(|(r, _)| *r == ex.role)
            .map_or_else(|| profile(ex.role), |(_, p)| p.clone());
        let ctx = Context {
            dialogs,
            profile: &profile,
            settings: &settings,
        };
        let mut contexts = vec![Where::Message];
        if !matches!(ex.expected, Label::Intent(_)) && ex.role == Role::Resident {
            contexts.push(Where::Answer);
        }
        for context in contexts {
            let state = match context {
                Where::Message => Some(Conversation::default()),
                Where::Answer => at_last_text_question(&ctx, now),
            };
            let Some(state) = state else {
                out.push(Trial {
                    example: ex.clone(),
                    context,
                    got: Label::None,
                    why: "the check-in could not be walked to its last question".into(),
                });
                continue;
            };
            let (_, fx) = step(&ctx, state, Input::Message(ex.text.clone()), now);
            let (got, why) = outcome(&ctx, &fx);
            out.push(Trial {
                example: ex.clone(),
                context,
                got,
                why,
            });
        }
    }
    out
}
