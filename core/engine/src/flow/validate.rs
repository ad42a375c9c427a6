//! What `carebot dialogs check` checks, beyond TOML syntax: every problem names the file and
//! line and says what to change, because the people fixing flows are care staff, not engineers.

use super::model::{Action, Ask, Flow, ForEach, Step};
use super::problem::Problem;
use super::system::{IntentKind, SystemDoc, AUDIENCES, COMMON_VARS, REQUIRED_TEXTS};
use super::MAX_MESSAGE_CHARS;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Template variables a flow step may use; `goal` only in `for_each = "goals"` steps.
pub const FLOW_VARS: &[&str] = &[
    "person",
    "home",
    "keyworker",
    "answers",
    "consents",
    "about",
    "contacts",
];

/// Checks all flows and the system file together (intents name flows, flows share languages).
pub fn check_library(
    flows: &[(PathBuf, Flow)],
    system: (&Path, &str, &SystemDoc),
    languages: &[String],
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for (path, flow) in flows {
        if let Some(first) = seen.insert(flow.id(), path) {
            problems.push(at(
                path,
                flow,
                flow.doc.flow.id.span().start,
                format!(
                    "flow id '{}' is also used by {}",
                    flow.id(),
                    first.display()
                ),
                "give each flow file its own [flow] id",
            ));
        }
        problems.extend(check_flow(path, flow, languages, system.2));
    }
    problems.extend(check_system(system, languages, &seen));
    problems
}

/// Checks one flow: its graph, its texts and its questions.
pub fn check_flow(
    path: &Path,
    flow: &Flow,
    languages: &[String],
    system: &SystemDoc,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut ids = HashSet::new();
    for step in &flow.doc.steps {
        if !ids.insert(step.id.get_ref().as_str()) {
            problems.push(at(
                path,
                flow,
                step.id.span().start,
                format!("step id '{}' is used twice", step.id.get_ref()),
                "rename one of the steps and update any `next` that points to it",
            ));
        }
    }
    if flow.step(flow.start()).is_none() {
        problems.push(at(
            path,
            flow,
            flow.doc.flow.start.span().start,
            format!(
                "the flow starts at step '{}', which does not exist",
                flow.start()
            ),
            "set `start` to the id of one of the steps below",
        ));
    }
    for step in &flow.doc.steps {
        for target in targets(step) {
            if flow.step(target.get_ref()).is_none() {
                problems.push(at(
                    path,
                    flow,
                    target.span().start,
                    format!(
                        "step '{}' goes to '{}', which does not exist",
                        step.id.get_ref(),
                        target.get_ref()
                    ),
                    "point `next` at an existing step id, or add the missing step",
                ));
            }
        }
        problems.extend(check_step(path, flow, step, languages));
        for action in &step.actions {
            if let Action::Relay { from } = action {
                let is_text = flow.doc.steps.iter().any(|s| {
                    s.store.as_deref() == Some(from) && matches!(s.ask, Some(Ask::Text { .. }))
                });
                if !is_text {
                    problems.push(at(
                        path,
                        flow,
                        step.id.span().start,
                        format!(
                            "step '{}' passes on '{from}', which no text question stores",
                            step.id.get_ref()
                        ),
                        "set `from` to the `store` of a step with ask = { kind = \"text\" }",
                    ));
                }
            }
            if let Action::Plan { answer, words } = action {
                let shows_plan = flow.doc.steps.iter().any(|s| {
                    s.store.as_deref() == Some(answer.as_str()) && s.for_each == Some(ForEach::Plan)
                });
                if !shows_plan {
                    problems.push(at(path, flow, step.id.span().start,
                        format!("step '{}' records an answer about the care plan from '{answer}', which no step showing the plan stores", step.id.get_ref()),
                        "set `answer` to the `store` of a step with for_each = \"plan\""));
                }
                let words_ok = words.as_ref().is_none_or(|k| {
                    flow.doc.steps.iter().any(|s| {
                        s.store.as_deref() == Some(k.as_str())
                            && matches!(s.ask, Some(Ask::Text { .. }))
                    })
                });
                if !words_ok {
                    problems.push(at(path, flow, step.id.span().start,
                        format!("step '{}' quotes what the resident would like different from a key no text question stores", step.id.get_ref()),
                        "set `words` to the `store` of a step with ask = { kind = \"text\" }, or leave it out"));
                }
            }
            if let Action::Request { kind, quote, .. } = action {
                if let Some(q) = quote {
                    if !flow
                        .doc
                        .steps
                        .iter()
                        .any(|s| s.store.as_deref() == Some(q.as_str()))
                    {
                        problems.push(at(
                            path,
                            flow,
                            step.id.span().start,
                            format!(
                                "step '{}' quotes '{q}' in its request, which no step stores",
                                step.id.get_ref()
                            ),
                            "set `quote` to the `store` of an earlier step, or leave it out",
                        ));
                    }
                }
                let what = crate::engine::requests::what_key(kind);
                if !system.text.contains_key(&what) {
                    problems.push(at(path, flow, step.id.span().start,
                        format!("step '{}' makes a request of kind '{kind}', which no text `{what}` names for the resident", step.id.get_ref()),
                        format!("add [text.{what}] to system.toml, or use a kind that has one")));
                }
            }
            if let Action::Goal { change, goal, from } = action {
                let stored = |key: &Option<String>, fits: &dyn Fn(&Ask) -> bool| {
                    key.as_ref().is_some_and(|k| {
                        flow.doc.steps.iter().any(|s| {
                            s.store.as_deref() == Some(k.as_str())
                                && s.ask.as_ref().is_some_and(fits)
                        })
                    })
                };
                use super::model::GoalOp;
                let needs_goal = *change != GoalOp::Add;
                if needs_goal && !stored(goal, &|a| matches!(a, Ask::Goal)) {
                    problems.push(at(path, flow, step.id.span().start,
                        format!("step '{}' changes a goal, but `goal` names no step that asks which goal", step.id.get_ref()),
                        "set `goal` to the `store` of a step with ask = { kind = \"goal\" }"));
                }
                let words_needed = matches!(change, GoalOp::Add | GoalOp::Reword);
                if words_needed && !stored(from, &|a| matches!(a, Ask::Text { .. })) {
                    problems.push(at(
                        path,
                        flow,
                        step.id.span().start,
                        format!(
                            "step '{}' needs the goal's words, but `from` names no text question",
                            step.id.get_ref()
                        ),
                        "set `from` to the `store` of a step with ask = { kind = \"text\" }",
                    ));
                }
                let often = |a: &Ask| match a {
                    Ask::Choice { options } => {
                        let mut ids: Vec<&str> = options.iter().map(|o| o.id.as_str()).collect();
                        ids.sort_unstable();
                        ids == ["daily", "some_days", "weekly"]
                    }
                    _ => false,
                };
                if *change == GoalOp::Often && !stored(from, &often) {
                    problems.push(at(path, flow, step.id.span().start,
                        format!("step '{}' sets how often a goal is asked about, but `from` names no choice of daily, some_days and weekly", step.id.get_ref()),
                        "set `from` to the `store` of a choice with options daily, some_days and weekly"));
                }
            }
            if let Action::SetCheckinTime { from } = action {
                let is_time =
                    flow.doc.steps.iter().any(|s| {
                        s.store.as_deref() == Some(from) && matches!(s.ask, Some(Ask::Time))
                    });
                if !is_time {
                    problems.push(at(path, flow, step.id.span().start,
                        format!("step '{}' sets the check-in time from '{from}', which no time question stores", step.id.get_ref()),
                        "set `from` to the `store` of a step with ask = { kind = \"time\" }"));
                }
            }
        }
    }
    problems.extend(check_reachable(path, flow));
    problems
}

fn targets(step: &Step) -> impl Iterator<Item = &toml::Spanned<String>> {
    step.next
        .iter()
        .chain(step.branch.iter().map(|b| &b.next))
        .chain(step.branch.iter().filter_map(|b| b.then.as_ref()))
}

fn check_step(path: &Path, flow: &Flow, step: &Step, languages: &[String]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let here = step.id.span().start;
    let name = step.id.get_ref();
    if step.ask.is_some() && step.say.is_empty() {
        problems.push(at(
            path,
            flow,
            here,
            format!("step '{name}' asks a question but has no text"),
            "add the question, e.g. say.en = \"How are you feeling today?\"",
        ));
    }
    if step.for_each.is_some() && step.ask.is_none() {
        problems.push(at(
            path,
            flow,
            here,
            format!("step '{name}' repeats for each item but asks nothing"),
            "add an `ask`, or remove `for_each`",
        ));
    }
    if !step.say.is_empty() {
        for lang in languages {
            if !step.say.contains_key(lang) {
                problems.push(at(
                    path,
                    flow,
                    here,
                    format!("step '{name}' has no text in language '{lang}'"),
                    format!("add say.{lang} = \"...\""),
                ));
            }
        }
    }
    let mut allowed: Vec<&str> = FLOW_VARS.to_vec();
    match step.for_each {
        Some(ForEach::Goals | ForEach::SuggestedGoals) => allowed.push("goal"),
        Some(ForEach::Consent | ForEach::ConsentLater) => allowed.extend(["family", "category"]),
        Some(ForEach::Plan) => allowed.push("plan"),
        None => {}
    }
    if step.for_each == Some(ForEach::Plan) {
        let ids: Vec<&str> = match &step.ask {
            Some(Ask::Choice { options }) => options.iter().map(|o| o.id.as_str()).collect(),
            _ => Vec::new(),
        };
        if !(ids.contains(&"agree") && ids.contains(&"not_agree")) {
            problems.push(at(path, flow, here, format!("step '{name}' shows the care plan, so its answer must be a choice that includes agree and not_agree"),
                "use ask = { kind = \"choice\", options = [{ id = \"agree\", ... }, { id = \"not_agree\", ... }] }"));
        }
    }
    if step.for_each == Some(ForEach::SuggestedGoals) && !matches!(step.ask, Some(Ask::Text { .. }))
    {
        problems.push(at(path, flow, here, format!("step '{name}' asks about staff's goal suggestions, so its answer must be text (yes, no, or the goal in the resident's words)"),
            "use ask = { kind = \"text\" }"));
    }
    if matches!(
        step.for_each,
        Some(ForEach::Consent | ForEach::ConsentLater)
    ) {
        let ids: Vec<&str> = match &step.ask {
            Some(Ask::Choice { options }) => options.iter().map(|o| o.id.as_str()).collect(),
            _ => Vec::new(),
        };
        if ids != ["yes", "no", "later"] {
            problems.push(at(path, flow, here, format!("step '{name}' asks for consent, so its answer must be a choice of yes, no and later"),
                "use ask = { kind = \"choice\", options = [{ id = \"yes\", ... }, { id = \"no\", ... }, { id = \"later\", ... }] }"));
        }
    }
    for text in step.say.values() {
        problems.extend(check_template(
            path,
            &flow.source,
            text.span().start,
            text.get_ref(),
            &allowed,
        ));
        let extra: usize = choice_labels_len(step);
        if text.get_ref().chars().count() + extra > MAX_MESSAGE_CHARS {
            problems.push(at(path, flow, text.span().start,
                format!("step '{name}' says more than {MAX_MESSAGE_CHARS} characters (with its options), too long for one chat message"),
                "shorten the text or split it over two steps"));
        }
    }
    problems.extend(check_ask(path, flow, step, languages));
    problems
}

fn choice_labels_len(step: &Step) -> usize {
    match &step.ask {
        Some(Ask::Choice { options }) => options
            .iter()
            .map(|o| {
                o.label
                    .values()
                    .map(|l| l.chars().count() + 6)
                    .max()
                    .unwrap_or(0)
            })
            .sum(),
        _ => 0,
    }
}

fn check_ask(path: &Path, flow: &Flow, step: &Step, languages: &[String]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let here = step.id.span().start;
    let name = step.id.get_ref();
    let whens: Vec<&str> = step
        .branch
        .iter()
        .filter_map(|b| b.when.as_deref())
        .collect();
    match &step.ask {
        Some(Ask::Choice { options }) => {
            if options.is_empty() {
                problems.push(at(
                    path,
                    flow,
                    here,
                    format!("step '{name}' offers a choice with no options"),
                    "add at least one option",
                ));
            }
            for o in options {
                for lang in languages {
                    if !o.label.contains_key(lang) {
                        problems.push(at(
                            path,
                            flow,
                            here,
                            format!(
                                "option '{}' of step '{name}' has no label in '{lang}'",
                                o.id
                            ),
                            format!("add label.{lang} to the option"),
                        ));
                    }
                }
            }
            for w in whens {
                if !options.iter().any(|o| o.id == w) {
                    problems.push(at(
                        path,
                        flow,
                        here,
                        format!("step '{name}' branches on '{w}', which is not one of its options"),
                        "use an option id in `when`",
                    ));
                }
            }
        }
        Some(Ask::YesNo) => {
            for w in whens.into_iter().filter(|w| *w != "yes" && *w != "no") {
                problems.push(at(path, flow, here, format!("step '{name}' branches on '{w}', but a yes/no answer is only \"yes\" or \"no\""),
                    "use when = \"yes\" or when = \"no\""));
            }
        }
        Some(Ask::Scale { min, max, words }) => {
            if min >= max {
                problems.push(at(
                    path,
                    flow,
                    here,
                    format!("step '{name}' has a scale from {min} to {max}"),
                    "make `min` smaller than `max`",
                ));
            }
            for (w, v) in words.iter().filter(|(_, v)| *v < min || *v > max) {
                problems.push(at(
                    path,
                    flow,
                    here,
                    format!("the word '{w}' in step '{name}' means {v}, outside the scale"),
                    format!("use a value from {min} to {max}"),
                ));
            }
        }
        Some(_) | None => {
            if !whens.is_empty() {
                problems.push(at(path, flow, here, format!("step '{name}' branches on `when`, but its answer is not yes/no or a choice"),
                    "use at_most / at_least for numbers, or remove the branch"));
            }
        }
    }
    problems
}

/// Unreachable steps, and loops that never stop to ask anything (they would spin forever).
fn check_reachable(path: &Path, flow: &Flow) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut reached = HashSet::new();
    let mut todo = vec![flow.start()];
    while let Some(id) = todo.pop() {
        if !reached.insert(id) {
            continue;
        }
        if let Some(step) = flow.step(id) {
            todo.extend(targets(step).map(|t| t.get_ref().as_str()));
        }
    }
    for step in &flow.doc.steps {
        if !reached.contains(step.id.get_ref().as_str()) {
            problems.push(at(
                path,
                flow,
                step.id.span().start,
                format!("step '{}' can never be reached", step.id.get_ref()),
                "point a `next` at it from another step, or delete it",
            ));
        }
    }
    for step in &flow.doc.steps {
        if step.ask.is_none() && silent_loop_from(flow, step) {
            problems.push(at(path, flow, step.id.span().start,
                format!("step '{}' is in a loop with no question in it, so the conversation would never stop", step.id.get_ref()),
                "add a step with `ask` to the loop, or end it"));
            break;
        }
    }
    problems
}

fn silent_loop_from(flow: &Flow, start: &Step) -> bool {
    let mut seen = HashSet::new();
    let mut todo: Vec<&str> = targets(start).map(|t| t.get_ref().as_str()).collect();
    while let Some(id) = todo.pop() {
        if id == start.id.get_ref() {
            return true;
        }
        if !seen.insert(id) {
            continue;
        }
        if let Some(step) = flow.step(id).filter(|s| s.ask.is_none()) {
            todo.extend(targets(step).map(|t| t.get_ref().as_str()));
        }
    }
    false
}

fn check_system(
    (path, source, system): (&Path, &str, &SystemDoc),
    languages: &[String],
    flows: &HashMap<&str, &Path>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (key, vars) in REQUIRED_TEXTS {
        let Some(texts) = system.text.get(*key) else {
            problems.push(Problem::file(
                path,
                format!("has no text '{key}'"),
                format!("add a [text.{key}] table with en = \"...\""),
            ));
            continue;
        };
        let allowed: Vec<&str> = COMMON_VARS.iter().chain(vars.iter()).copied().collect();
        // A family or staff variant of the text (`fallback_family`) may use the same
        // variables, and must exist in every language the plain one must.
        let variants = AUDIENCES.iter().filter_map(|a| {
            let name = format!("{key}_{a}");
            system.text.get(&name).map(|t| (name, t))
        });
        for (name, texts) in std::iter::once((key.to_string(), texts)).chain(variants) {
            for lang in languages.iter().filter(|l| !texts.contains_key(*l)) {
                problems.push(Problem::file(
                    path,
                    format!("text '{name}' has no '{lang}' version"),
                    format!("add {lang} = \"...\" under [text.{name}]"),
                ));
            }
            for text in texts.values() {
                problems.extend(check_template(
                    path,
                    source,
                    text.span().start,
                    text.get_ref(),
                    &allowed,
                ));
            }
        }
    }
    for intent in &system.intent {
        match (&intent.kind, &intent.flow) {
            (IntentKind::Flow, Some(flow)) if !flows.contains_key(flow.get_ref().as_str()) => {
                problems.push(Problem::at(
                    path,
                    source,
                    flow.span().start,
                    format!(
                        "an intent starts flow '{}', which no file defines",
                        flow.get_ref()
                    ),
                    "use the id of a flow in this folder",
                ));
            }
            (IntentKind::Flow, None) => problems.push(Problem::file(
                path,
                "an intent with do = \"flow\" names no flow",
                "add flow = \"<flow id>\"",
            )),
            (kind, Some(flow)) if *kind != IntentKind::Flow => problems.push(Problem::at(
                path,
                source,
                flow.span().start,
                "only do = \"flow\" intents take a `flow`",
                "remove the `flow` line",
            )),
            _ => {}
        }
        if intent.kind == IntentKind::Request {
            problems.extend(check_request(path, source, system, intent));
        }
        if intent.phrases.iter().any(|p| p.trim().is_empty()) || intent.phrases.is_empty() {
            problems.push(Problem::file(
                path,
                "an intent has an empty phrase list or an empty phrase",
                "give every intent at least one non-empty phrase",
            ));
        }
    }
    problems
}

/// A request intent names its kind (`id`), which has a text naming it for the resident, and
/// replies with a text that exists and may say how many days the home has to answer.
fn check_request(
    path: &Path,
    source: &str,
    system: &SystemDoc,
    intent: &super::system::Intent,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let name = intent.name();
    if intent.id.is_none() {
        problems.push(Problem::file(
            path,
            "a request intent has no id",
            "add id = \"...\": the kind of request, such as \"complaint\"",
        ));
    }
    let what = crate::engine::requests::what_key(&name);
    if !system.text.contains_key(&what) {
        problems.push(Problem::file(
            path,
            format!("request '{name}' has no text naming it for the resident"),
            format!("add [text.{what}] with en = \"your ...\" (\"your complaint\")"),
        ));
    }
    let reply = intent.reply.as_deref().unwrap_or("request_passed");
    match system.text.get(reply) {
        None => problems.push(Problem::file(
            path,
            format!("request '{name}' replies with text '{reply}', which is not defined"),
            format!("add a [text.{reply}] table with en = \"...\", or name an existing text"),
        )),
        Some(texts) => {
            let allowed: Vec<&str> = COMMON_VARS.iter().copied().chain(["days"]).collect();
            for text in texts.values() {
                problems.extend(check_template(
                    path,
                    source,
                    text.span().start,
                    text.get_ref(),
                    &allowed,
                ));
            }
        }
    }
    problems
}

/// Each concern rule is one kind or the other, with its text in order.
pub fn check_concerns(
    path: &Path,
    source: &str,
    doc: &crate::flow::concerns::ConcernsDoc,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let categories: Vec<&str> = doc
        .category
        .iter()
        .map(|c| c.id.get_ref().as_str())
        .collect();
    for c in &doc.category {
        let here = c.id.span().start;
        for to in &c.alert {
            if to != "keyworker" && to != "manager" {
                problems.push(Problem::at(
                    path,
                    source,
                    here,
                    format!(
                        "category '{}' alerts '{to}', which is not someone Carebot can reach",
                        c.id.get_ref()
                    ),
                    "write alert = [\"keyworker\"], [\"manager\"] or both",
                ));
            }
        }
        if !c.tell_resident.contains_key(crate::flow::DEFAULT_LANGUAGE) {
            problems.push(Problem::at(
                path,
                source,
                here,
                format!(
                    "category '{}' has no English `tell_resident`",
                    c.id.get_ref()
                ),
                "add tell_resident.en = \"...\": what the resident is told when it fires",
            ));
        }
        for text in c.tell_resident.values() {
            problems.extend(check_template(
                path,
                source,
                here,
                text,
                &["person", "home", "keyworker", "contacts"],
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for rule in &doc.rule {
        let here = rule.id.span().start;
        if !seen.insert(rule.id.get_ref().clone()) {
            problems.push(Problem::at(
                path,
                source,
                here,
                format!("rule '{}' is named twice", rule.id.get_ref()),
                "give each rule its own id",
            ));
        }
        let streak = rule.answer.is_some()
            && rule.at_most.is_some()
            && rule.days_in_a_row.is_some_and(|d| d >= 1);
        let partial =
            rule.answer.is_some() || rule.at_most.is_some() || rule.days_in_a_row.is_some();
        let texty = !rule.words.is_empty() || !rule.patterns.is_empty();
        let valid = if texty { !partial } else { streak };
        if !valid {
            problems.push(Problem::at(path, source, here, format!("rule '{}' must have either `patterns` (or `words`), or all of `answer`, `at_most` and `days_in_a_row`", rule.id.get_ref()),
                "give the rule a list of patterns, or the answer to watch with its limit and number of days"));
        }
        match &rule.category {
            Some(c) if !categories.is_empty() && !categories.contains(&c.get_ref().as_str()) => {
                problems.push(Problem::at(
                    path,
                    source,
                    c.span().start,
                    format!(
                        "rule '{}' names category '{}', which is not defined",
                        rule.id.get_ref(),
                        c.get_ref()
                    ),
                    format!("use one of: {}", categories.join(", ")),
                ));
            }
            None if texty && !categories.is_empty() => {
                problems.push(Problem::at(
                    path,
                    source,
                    here,
                    format!("rule '{}' has no category", rule.id.get_ref()),
                    format!("add category = \"...\", one of: {}", categories.join(", ")),
                ));
            }
            _ => {}
        }
        for p in rule.patterns.iter().chain(&rule.unless) {
            if let Err(why) = crate::understand::concerns::check_one(p.get_ref()) {
                let why = regex_reason(&why);
                problems.push(Problem::at(path, source, p.span().start, format!("pattern '{}' in rule '{}' is not a valid regular expression: {why}", p.get_ref(), rule.id.get_ref()),
                    "check that brackets ( ) and [ ] pair up, and write a literal ( ? * + as \\( \\? \\* \\+"));
            }
        }
        for text in rule.tell_resident.values() {
            problems.extend(check_template(
                path,
                source,
                here,
                text,
                &["person", "home", "keyworker", "contacts"],
            ));
        }
    }
    for e in &doc.exclude {
        for p in &e.patterns {
            if let Err(why) = crate::understand::concerns::check_one(p.get_ref()) {
                let why = regex_reason(&why);
                problems.push(Problem::at(
                    path,
                    source,
                    p.span().start,
                    format!(
                        "the everyday-saying pattern '{}' is not a valid regular expression: {why}",
                        p.get_ref()
                    ),
                    "check that brackets ( ) and [ ] pair up",
                ));
            }
        }
    }
    if let Some(l) = &doc.learned {
        for c in [&l.urgent, &l.risk] {
            if !categories.contains(&c.get_ref().as_str()) {
                problems.push(Problem::at(
                    path,
                    source,
                    c.span().start,
                    format!(
                        "[learned] names category '{}', which is not defined",
                        c.get_ref()
                    ),
                    format!("use one of: {}", categories.join(", ")),
                ));
            }
        }
        for (name, v) in [("alert_at", l.alert_at), ("urgent_at", l.urgent_at)] {
            if !(0.0..=1.0).contains(&v) {
                problems.push(Problem::at(
                    path,
                    source,
                    l.urgent.span().start,
                    format!("[learned] {name} is {v}, but it is a probability"),
                    format!("write {name} as a number from 0 to 1, e.g. 0.9"),
                ));
            }
        }
    }
    problems
}

/// The regex crate's reason, without its drawing of where the error is.
pub(crate) fn regex_reason(why: &str) -> String {
    why.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .unwrap_or(why)
        .trim_start_matches("error: ")
        .to_string()
}

/// Template syntax, and variables outside `allowed` (a typo would silently print nothing).
fn check_template(
    path: &Path,
    source: &str,
    offset: usize,
    text: &str,
    allowed: &[&str],
) -> Vec<Problem> {
    let env = minijinja::Environment::new();
    match env.template_from_str(text) {
        Err(e) => vec![Problem::at(
            path,
            source,
            offset,
            format!(
                "the text has a template error: {}",
                e.detail().unwrap_or("invalid template")
            ),
            "check the {{ }} and {% %} markers are balanced",
        )],
        Ok(t) => {
            let mut unknown: Vec<String> = t
                .undeclared_variables(false)
                .into_iter()
                .filter(|v| !allowed.contains(&v.as_str()))
                .collect();
            unknown.sort();
            unknown
                .into_iter()
                .map(|v| {
                    Problem::at(
                        path,
                        source,
                        offset,
                        format!("the text uses '{{{{ {v} }}}}', which Carebot does not know"),
                        format!("use one of: {}", allowed.join(", ")),
                    )
                })
                .collect()
        }
    }
}

fn at(
    path: &Path,
    flow: &Flow,
    offset: usize,
    message: impl Into<String>,
    fix: impl Into<String>,
) -> Problem {
    Problem::at(path, &flow.source, offset, message, fix)
}
