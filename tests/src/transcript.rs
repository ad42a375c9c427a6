//! Transcript tests: conversations a care professional can read, run through the real engine,
//! a real store and the outbox.
//!
//! ```text
//! # Comments start with '#'.
//! @clock 2026-11-23T09:00:00Z   set the clock
//! @advance 30m                  move it on (s, m, h, d)
//! @start ava checkin            the scheduler starts a flow for ava
//! @link-code sam K7QM-3XPA      staff issue a link code for sam
//! @review ava 2026-12-01        ava's next care-plan review is due then
//! @suggest-goal ava kim walk to the shop   kim suggests a goal to ava (`carebot goal-add --by kim`)
//! @plan ava kim Title: text | Title: text   kim writes ava a new care-plan version (`carebot plan-set`)
//! @digest off                   keyworkers' morning digest is off (`[staff] digest = false`)
//! @tick                         the scheduler runs once
//! @ticks 15m 6h                 the scheduler runs every 15 minutes for 6 hours
//! > ava: check in               ava says something
//! < ava: Hello Ava. How are…    the bot says this to ava (exactly)
//!   …and this line too          a line starting with two spaces continues the message above
//!                               (a line of just two spaces: a blank line in that message)
//! < kim: Please check on…       messages to anyone, in the order they were delivered
//! = ava.mood: 4                 ava's latest stored answer for `mood` (JSON, else text)
//! ```
//!
//! After each `>` or `@start`, every message delivered must be listed, in order, and nothing
//! else: a message the transcript does not expect is a failure.

use crate::app::{spawn_app, Backend, TestApp};
use chrono::{DateTime, Duration, Utc};
use std::collections::VecDeque;
use std::path::Path;

#[derive(Debug)]
enum Item {
    Say {
        who: String,
        text: String,
    },
    Start {
        who: String,
        flow: String,
    },
    Clock(DateTime<Utc>),
    Advance(Duration),
    Expect {
        to: String,
        text: String,
    },
    Stored {
        who: String,
        key: String,
        value: String,
    },
    LinkCode {
        who: String,
        code: String,
    },
    Ticks {
        every: Duration,
        count: i64,
    },
    /// `@suggest-goal ava kim walk to the shop`: staff suggest a goal (`carebot goal-add`).
    SuggestGoal {
        who: String,
        by: String,
        text: String,
    },
    Review {
        who: String,
        due: String,
    },
    /// `@plan ava kim What matters to me: Sam | My health: my knee`: a new care-plan version.
    Plan {
        who: String,
        by: String,
        sections: Vec<carebot_engine::domain::PlanSection>,
    },
    DigestOff,
}

/// Parses a transcript into (line number, item).
fn parse(source: &str) -> Result<Vec<(usize, Item)>, String> {
    let mut items: Vec<(usize, Item)> = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let n = i + 1;
        // A line of just two spaces is a blank line inside the message above.
        let blank_in_message =
            line == "  " && matches!(items.last(), Some((_, Item::Expect { .. })));
        if (line.trim().is_empty() && !blank_in_message) || line.starts_with('#') {
            continue;
        }
        if let Some(more) = line.strip_prefix("  ") {
            match items.last_mut() {
                Some((_, Item::Expect { text, .. })) => {
                    text.push('\n');
                    text.push_str(more);
                    continue;
                }
                _ => {
                    return Err(format!(
                        "line {n}: a continuation line must follow a '<' line"
                    ))
                }
            }
        }
        let bad = || format!("line {n}: cannot read {line:?}");
        let item = if let Some(rest) = line.strip_prefix("> ") {
            let (who, text) = rest.split_once(": ").ok_or_else(bad)?;
            Item::Say {
                who: who.into(),
                text: text.into(),
            }
        } else if let Some(rest) = line.strip_prefix("< ") {
            let (to, text) = rest.split_once(": ").ok_or_else(bad)?;
            Item::Expect {
                to: to.into(),
                text: text.into(),
            }
        } else if let Some(rest) = line.strip_prefix("= ") {
            let (target, value) = rest.split_once(": ").ok_or_else(bad)?;
            let (who, key) = target.split_once('.').ok_or_else(bad)?;
            Item::Stored {
                who: who.into(),
                key: key.into(),
                value: value.into(),
            }
        } else if let Some(rest) = line.strip_prefix("@clock ") {
            Item::Clock(rest.trim().parse().map_err(|_| bad())?)
        } else if let Some(rest) = line.strip_prefix("@advance ") {
            Item::Advance(duration(rest.trim()).ok_or_else(bad)?)
        } else if let Some(rest) = line.strip_prefix("@link-code ") {
            let (who, code) = rest.trim().split_once(' ').ok_or_else(bad)?;
            Item::LinkCode {
                who: who.into(),
                code: code.into(),
            }
        } else if let Some(rest) = line.strip_prefix("@review ") {
            let (who, due) = rest.trim().split_once(' ').ok_or_else(bad)?;
            Item::Review {
                who: who.into(),
                due: due.into(),
            }
        } else if let Some(rest) = line.strip_prefix("@suggest-goal ") {
            let (who, rest) = rest.trim().split_once(' ').ok_or_else(bad)?;
            let (by, text) = rest.split_once(' ').ok_or_else(bad)?;
            Item::SuggestGoal {
                who: who.into(),
                by: by.into(),
                text: text.into(),
            }
        } else if let Some(rest) = line.strip_prefix("@plan ") {
            let (who, rest) = rest.trim().split_once(' ').ok_or_else(bad)?;
            let (by, rest) = rest.split_once(' ').ok_or_else(bad)?;
            let sections = rest
                .split(" | ")
                .map(|part| {
                    let (title, text) = part.split_once(": ").ok_or_else(bad)?;
                    Ok(carebot_engine::domain::PlanSection {
                        title: title.trim().into(),
                        text: text.trim().into(),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Item::Plan {
                who: who.into(),
                by: by.into(),
                sections,
            }
        } else if line.trim() == "@digest off" {
            Item::DigestOff
        } else if line.trim() == "@tick" {
            Item::Ticks {
                every: Duration::zero(),
                count: 1,
            }
        } else if let Some(rest) = line.strip_prefix("@ticks ") {
            let (every, span) = rest.trim().split_once(' ').ok_or_else(bad)?;
            let (every, span) = (
                duration(every).ok_or_else(bad)?,
                duration(span).ok_or_else(bad)?,
            );
            Item::Ticks {
                every,
                count: span.num_seconds() / every.num_seconds().max(1),
            }
        } else if let Some(rest) = line.strip_prefix("@start ") {
            let (who, flow) = rest.trim().split_once(' ').ok_or_else(bad)?;
            Item::Start {
                who: who.into(),
                flow: flow.into(),
            }
        } else {
            return Err(bad());
        };
        items.push((n, item));
    }
    Ok(items)
}

fn duration(s: &str) -> Option<Duration> {
    let (n, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: i64 = n.parse().ok()?;
    match unit {
        "s" => Some(Duration::seconds(n)),
        "m" => Some(Duration::minutes(n)),
        "h" => Some(Duration::hours(n)),
        "d" => Some(Duration::days(n)),
        _ => None,
    }
}

/// Runs the transcript at `path` on a fresh SQLite database. `Err` describes every mismatch.
pub async fn run(path: &Path) -> Result<(), String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let items = parse(&source).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut app = spawn_app(Backend::Sqlite)
        .await
        .ok_or("sqlite unavailable")?;
    let mut got: VecDeque<(String, String)> = VecDeque::new();
    let mut failures = Vec::new();
    let file = path.display();
    for (line, item) in items {
        match item {
            Item::Say { .. }
            | Item::Start { .. }
            | Item::Clock(_)
            | Item::Advance(_)
            | Item::Stored { .. }
            | Item::LinkCode { .. }
            | Item::Ticks { .. }
            | Item::Review { .. }
            | Item::SuggestGoal { .. }
            | Item::Plan { .. }
            | Item::DigestOff => {
                for (to, text) in got.drain(..) {
                    failures.push(format!("{file}:{line}: an unexpected message was sent before this line:\n< {to}: {}", indent(&text)));
                }
            }
            Item::Expect { .. } => {}
        }
        match item {
            Item::Say { who, text } => got.extend(app.say(&who, &text).await),
            Item::Start { who, flow } => {
                app.bot
                    .start_flow(app.id(&who), &flow)
                    .await
                    .map_err(|e| e.to_string())?;
                got.extend(app.deliver().await);
            }
            Item::Clock(at) => app.clock.set(at),
            Item::Advance(by) => app.clock.advance(by),
            Item::DigestOff => app.bot.schedule.digest = false,
            Item::SuggestGoal { who, by, text } => {
                app.bot
                    .store
                    .suggest_goal(
                        app.id(&who),
                        &text,
                        Some(app.id(&by)),
                        crate::app::NowMs::now_ms(&app.clock),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Item::Plan { who, by, sections } => {
                carebot_runtime::admin::set_plan(
                    &app.bot.store,
                    &app.bot.dialogs.system,
                    app.id(&who),
                    &sections,
                    &format!("staff:{by}"),
                    crate::app::NowMs::now_ms(&app.clock),
                )
                .await
                .map_err(|e| e.to_string())?;
                got.extend(app.deliver().await);
            }
            Item::Review { who, due } => {
                app.bot
                    .store
                    .set_review(app.id(&who), 28, &due)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Item::Ticks { every, count } => {
                for i in 0..count {
                    if i > 0 {
                        app.clock.advance(every);
                    }
                    app.bot.tick().await.map_err(|e| e.to_string())?;
                    got.extend(app.deliver().await);
                }
            }
            Item::LinkCode { who, code } => {
                let week = crate::app::NowMs::now_ms(&app.clock) + 7 * 86_400_000;
                app.bot
                    .store
                    .add_link_code(app.id(&who), &code, week)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Item::Expect { to, text } => match got.pop_front() {
                Some((t, m)) if t == to && m == text => {}
                Some((t, m)) => failures.push(format!(
                    "{file}:{line}: expected\n< {to}: {}\nbut the bot sent\n< {t}: {}",
                    indent(&text),
                    indent(&m)
                )),
                None => failures.push(format!(
                    "{file}:{line}: expected\n< {to}: {}\nbut nothing more was sent",
                    indent(&text)
                )),
            },
            Item::Stored { who, key, value } => {
                let answers = app
                    .bot
                    .store
                    .answers_of(app.id(&who))
                    .await
                    .map_err(|e| e.to_string())?;
                let latest = answers.iter().rev().find(|a| a.key == key);
                let want: serde_json::Value = serde_json::from_str(&value)
                    .unwrap_or(serde_json::Value::String(value.clone()));
                match latest {
                    Some(a) if a.value == want => {}
                    Some(a) => failures.push(format!(
                        "{file}:{line}: {who}.{key} is stored as {} (raw {:?}), not {want}",
                        a.value, a.raw
                    )),
                    None => {
                        failures.push(format!("{file}:{line}: nothing is stored for {who}.{key}"))
                    }
                }
            }
        }
    }
    for (to, text) in got {
        failures.push(format!(
            "{file}: an unexpected message was sent at the end:\n< {to}: {}",
            indent(&text)
        ));
    }
    drop::<TestApp>(app);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n\n"))
    }
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_join_the_message_above() {
        let items = parse("> ava: hi\n< ava: one\n  two\n").expect("parses");
        match &items[1].1 {
            Item::Expect { to, text } => {
                assert_eq!((to.as_str(), text.as_str()), ("ava", "one\ntwo"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_line_it_cannot_read_is_named() {
        let err = parse("> ava hi\n").expect_err("must fail");
        assert!(err.starts_with("line 1"), "{err}");
    }
}
