//! Each check behind `carebot dialogs check`, on a small broken copy of a flow: the problem
//! must name the file and line and say what to fix.

use carebot_engine::flow::{load_dir, Problem};
use std::path::Path;

/// Copies the shipped dialogs' files and the example files the learned model reads into `to`.
fn copy_shipped(to: &Path) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dialogs");
    copy_files(&shipped, to);
    std::fs::create_dir(to.join("examples")).expect("examples folder");
    copy_files(&shipped.join("examples"), &to.join("examples"));
}

fn copy_files(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("dialogs") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
}

/// Writes the shipped system.toml plus `flow` as `test.toml`, loads the folder, returns the
/// problems.
fn problems_with(flow: &str) -> Vec<Problem> {
    let dir = tempfile::tempdir().expect("temp");
    copy_shipped(dir.path());
    std::fs::write(dir.path().join("test.toml"), flow).expect("write");
    match load_dir(dir.path()) {
        Ok(_) => Vec::new(),
        Err(p) => p,
    }
}

fn only(problems: Vec<Problem>) -> Problem {
    assert_eq!(problems.len(), 1, "{problems:#?}");
    problems.into_iter().next().expect("one")
}

const HEADER: &str = "[flow]\nid = \"test\"\ntitle = \"test\"\nstart = \"a\"\n\n";

#[test]
fn a_valid_flow_has_no_problems() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nsay.en = \"Hi {{{{ person.first_name }}}}\"\nask = {{ kind = \"yes_no\" }}\nnext = \"b\"\n\n[[step]]\nid = \"b\"\nsay.en = \"Bye\"\n");
    assert!(problems_with(&flow).is_empty());
}

#[test]
fn a_dangling_next_is_named_at_its_line() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nsay.en = \"Hi\"\nnext = \"nowhere\"\n");
    let p = only(problems_with(&flow));
    assert_eq!(p.line, 9);
    assert!(p.message.contains("'nowhere', which does not exist"), "{p}");
    assert!(p.file.ends_with("test.toml"));
}

#[test]
fn an_unreachable_step_is_found() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nsay.en = \"Hi\"\n\n[[step]]\nid = \"lonely\"\nsay.en = \"Nobody comes here\"\n");
    let p = only(problems_with(&flow));
    assert_eq!(p.line, 11);
    assert!(p.message.contains("'lonely' can never be reached"), "{p}");
}

#[test]
fn a_loop_without_a_question_is_found() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nsay.en = \"Hi\"\nnext = \"b\"\n\n[[step]]\nid = \"b\"\nsay.en = \"Again\"\nnext = \"a\"\n");
    let p = only(problems_with(&flow));
    assert!(p.message.contains("loop with no question"), "{p}");
}

#[test]
fn missing_text_in_a_language_is_found() {
    // system.toml defines English and Welsh texts here, so every step needs both.
    let dir = tempfile::tempdir().expect("temp");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dialogs/system.toml");
    let system = std::fs::read_to_string(shipped).expect("system").replace(
        "[text.fallback]\n",
        "[text.fallback]\ncy = \"Dydw i ddim yn siŵr.\"\n",
    );
    std::fs::write(dir.path().join("system.toml"), system).expect("write");
    std::fs::write(
        dir.path().join("test.toml"),
        format!("{HEADER}[[step]]\nid = \"a\"\nsay.en = \"Hi\"\n"),
    )
    .expect("write");
    let problems = load_dir(dir.path()).expect_err("must fail");
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("step 'a' has no text in language 'cy'") && p.line == 7),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p
            .message
            .contains("text 'not_understood' has no 'cy' version")),
        "{problems:#?}"
    );
}

#[test]
fn an_unknown_template_variable_is_found() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nsay.en = \"Hi {{{{ persn.name }}}}\"\n");
    let p = only(problems_with(&flow));
    assert_eq!(p.line, 8);
    assert!(p.message.contains("persn"), "{p}");
    assert!(p.fix.contains("person"), "{p}");
}

#[test]
fn a_template_syntax_error_is_found() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nsay.en = \"Hi {{{{ person.name \"\n");
    let p = only(problems_with(&flow));
    assert!(p.message.contains("template error"), "{p}");
}

#[test]
fn a_message_too_long_for_a_platform_is_found() {
    let long = "word ".repeat(450);
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nsay.en = \"{long}\"\n");
    let p = only(problems_with(&flow));
    assert!(p.message.contains("more than 2000 characters"), "{p}");
}

#[test]
fn a_branch_on_an_answer_that_cannot_happen_is_found() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nsay.en = \"Hi\"\nask = {{ kind = \"yes_no\" }}\nbranch = [{{ when = \"maybe\", next = \"a\" }}]\n");
    let p = only(problems_with(&flow));
    assert!(p.message.contains("'maybe'"), "{p}");
}

#[test]
fn a_toml_syntax_error_names_its_line() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\nsay.en = \"Hi\"\n");
    let p = only(problems_with(&flow));
    assert_eq!(p.line, 7, "the unterminated string");
}

#[test]
fn an_unknown_field_is_named() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nsya.en = \"Hi\"\n");
    let p = only(problems_with(&flow));
    assert_eq!(p.line, 8);
    assert!(p.message.contains("unknown field `sya`"), "{p}");
}

#[test]
fn an_intent_naming_a_missing_flow_is_found() {
    let dir = tempfile::tempdir().expect("temp");
    copy_shipped(dir.path());
    std::fs::remove_file(dir.path().join("rights.toml")).expect("remove");
    let p = only(load_dir(dir.path()).expect_err("must fail"));
    assert!(
        p.message
            .contains("starts flow 'rights', which no file defines"),
        "{p}"
    );
    assert!(p.file.ends_with("system.toml") && p.line > 0);
}

#[test]
fn a_concern_rule_must_be_one_kind_or_the_other() {
    let dir = tempfile::tempdir().expect("temp");
    copy_shipped(dir.path());
    let broken = "[[rule]]\nid = \"half\"\nreason = \"low\"\nanswer = \"mood\"\nat_most = 2\n";
    std::fs::write(dir.path().join("concerns.toml"), broken).expect("write");
    let p = only(load_dir(dir.path()).expect_err("must fail"));
    assert_eq!(p.line, 2);
    assert!(
        p.message
            .contains("rule 'half' must have either `patterns`"),
        "{p}"
    );
}

#[test]
fn a_broken_concern_pattern_is_named_at_its_line_with_what_to_fix() {
    let dir = tempfile::tempdir().expect("temp");
    copy_shipped(dir.path());
    let concerns = dir.path().join("concerns.toml");
    let text = std::fs::read_to_string(&concerns).expect("read");
    let broken = text.replacen("'top myself'", "'top (myself'", 1);
    assert_ne!(text, broken, "the pattern to break is in the shipped file");
    std::fs::write(&concerns, &broken).expect("write");
    let p = only(load_dir(dir.path()).expect_err("must fail"));
    let line = broken
        .lines()
        .position(|l| l.contains("'top (myself'"))
        .expect("line")
        + 1;
    assert!(p.file.ends_with("concerns.toml"), "{p}");
    assert_eq!(p.line, line, "{p}");
    assert!(p.message.contains("not a valid regular expression"), "{p}");
    assert!(p.fix.contains("brackets"), "{p}");
}

#[test]
fn a_rule_naming_an_unknown_category_is_found() {
    let dir = tempfile::tempdir().expect("temp");
    copy_shipped(dir.path());
    let concerns = dir.path().join("concerns.toml");
    let text = std::fs::read_to_string(&concerns).expect("read");
    let broken = text.replacen("category = \"pain\"", "category = \"pian\"", 1);
    std::fs::write(&concerns, &broken).expect("write");
    let p = only(load_dir(dir.path()).expect_err("must fail"));
    assert!(p.message.contains("category 'pian'"), "{p}");
    assert!(p.fix.contains("urgent"), "{p}");
}

#[test]
fn a_learned_model_naming_a_missing_example_file_is_found() {
    let dir = tempfile::tempdir().expect("temp");
    copy_shipped(dir.path());
    std::fs::remove_file(dir.path().join("examples/risk.tsv")).expect("remove");
    let p = only(load_dir(dir.path()).expect_err("must fail"));
    assert!(p.file.ends_with("concerns.toml") && p.line > 0, "{p}");
    assert!(p.message.contains("examples/risk.tsv"), "{p}");
}

#[test]
fn a_learned_model_naming_an_unknown_category_is_found() {
    let dir = tempfile::tempdir().expect("temp");
    copy_shipped(dir.path());
    let path = dir.path().join("concerns.toml");
    let text = std::fs::read_to_string(&path)
        .expect("read")
        .replace("risk = \"concern\"", "risk = \"worry\"");
    std::fs::write(&path, text).expect("write");
    let p = only(load_dir(dir.path()).expect_err("must fail"));
    assert!(p.message.contains("'worry', which is not defined"), "{p}");
    assert!(p.fix.contains("concern"), "{p}");
}

#[test]
fn the_learned_model_adds_alerts_the_rules_miss_and_keeps_theirs() {
    let dir = tempfile::tempdir().expect("temp");
    copy_shipped(dir.path());
    let with = load_dir(dir.path()).expect("shipped dialogs load");
    let path = dir.path().join("concerns.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    let start = text.find("\n[learned]").expect("a [learned] section");
    let end = start + text[start..].find("\nignore = ").expect("ignore line");
    let end = end + 1 + text[end + 1..].find('\n').expect("line end");
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).expect("write");
    let without = load_dir(dir.path()).expect("loads without [learned]");
    let heard = |d: &carebot_engine::flow::Dialogs, s: &str| d.matcher.concerns(&d.matcher.hear(s));
    // Words no rule lists, but like the examples of concerns.
    let paraphrase = "the room keeps going round and round when I stand up";
    assert!(heard(&without, paraphrase).is_empty(), "no rule fires");
    let learned = heard(&with, paraphrase);
    assert_eq!(
        learned[0].rule,
        carebot_engine::understand::LEARNED,
        "{learned:?}"
    );
    assert_eq!(learned[0].category, "concern");
    // A rule's alert stays as it was.
    let fall = "i have fallen and can not get up";
    assert_eq!(heard(&with, fall)[0].rule, heard(&without, fall)[0].rule);
    // A negation stays a negation.
    assert!(heard(&with, "no pain today, i feel well").is_empty());
}

#[test]
fn a_care_plan_step_must_offer_agree_and_not_agree() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nfor_each = \"plan\"\nsay.en = \"Version {{{{ plan.version }}}}. Agree?\"\nask = {{ kind = \"yes_no\" }}\nstore = \"answer\"\n");
    let p = only(problems_with(&flow));
    assert_eq!(p.line, 7);
    assert!(p.message.contains("includes agree and not_agree"), "{p}");
}

#[test]
fn a_plan_action_must_name_the_step_that_shows_the_plan() {
    let flow = format!("{HEADER}[[step]]\nid = \"a\"\nsay.en = \"Agree?\"\nask = {{ kind = \"yes_no\" }}\nstore = \"answer\"\nnext = \"b\"\n\n[[step]]\nid = \"b\"\nsay.en = \"Thanks\"\nactions = [{{ do = \"plan\", answer = \"answer\" }}]\n");
    let p = only(problems_with(&flow));
    assert_eq!(p.line, 14);
    assert!(p.message.contains("no step showing the plan stores"), "{p}");
}
