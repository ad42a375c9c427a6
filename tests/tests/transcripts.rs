//! Runs every conversation in `tests/transcripts/` through the real engine and store.

use carebot_tests::transcript;

#[tokio::test]
async fn every_transcript_matches_what_carebot_says() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("transcripts");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("transcripts folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "expected the shipped transcripts in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for file in &files {
        if let Err(e) = transcript::run(file).await {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} transcripts failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
