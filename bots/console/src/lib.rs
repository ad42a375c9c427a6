//! The console channel: chat with Carebot in a terminal, or script a conversation through a
//! pipe (one message per line in, the bot's replies out).
//!
//! The console is a local channel for trying Carebot and for staff at the home's own
//! computer, so whoever runs `carebot chat --as NAME` speaks as that person.

mod channel;

pub use channel::{visible, ConsoleChannel};

use anyhow::{Context, Result};
use carebot_runtime::{dispatch_due, resume_deliveries, Carebot, Inbound, RetryPolicy};
use carebot_store::people::Identity;
use std::io::IsTerminal;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The platform name of the console in identities and the outbox.
pub const PLATFORM: &str = "console";

/// What a person sees if their message could not be saved (the details go to the log).
const NOT_SAVED: &str = "Sorry, something went wrong on our side and your message was not saved. Please try again, or tell a member of staff.";

/// Chats as `handle` until `quit` or the end of input.
pub async fn chat(bot: &Carebot, handle: &str) -> Result<()> {
    let person = bot
        .store
        .person_by_handle(handle)
        .await?
        .with_context(|| format!("there is nobody called '{handle}' here; check the handle (the demo home has ava, ben, kim, maria and sam)"))?;
    let me = Identity {
        platform: PLATFORM.into(),
        address: person.handle.clone(),
    };
    let now = bot.clock.now().timestamp_millis();
    bot.store.bind_identity(&me, person.id, now).await?;
    let interactive = std::io::stdin().is_terminal();
    let channel = ConsoleChannel::stdout(&person.handle, interactive);
    let policy = RetryPolicy::default();
    if interactive {
        println!("You are chatting with Carebot as {} ({}). Type \"help\" for what you can say, \"quit\" to leave.\n", visible(&person.name), person.role);
        let state = bot.store.conversation(person.id).await?;
        if state.active.is_some() {
            if let Some(last) = bot.store.last_delivered(PLATFORM, &me.address).await? {
                println!("(Carrying on where you left off. The last thing I said was:)");
                channel.show(&last);
            }
        }
    }
    // What a stopped run was sending goes first, then anything queued while they were away
    // (an alert for a keyworker, say).
    resume_deliveries(bot, &channel).await?;
    dispatch_due(bot, &channel, &policy).await?;
    let mut lines = BufReader::new(tokio::io::stdin());
    let mut buf = Vec::new();
    // However long a line is, only this much of it is kept (the engine reads at most
    // `max_message_chars` characters of it anyway, at up to 4 bytes each).
    let keep = bot.settings.max_message_chars.saturating_mul(4).max(1024);
    let mut count: u64 = 0;
    // In a terminal the scheduler runs alongside the chat, so scheduled check-ins, nudges and
    // reminders arrive as they fall due. A piped script stays deterministic: no ticks.
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(30));
    loop {
        if interactive && buf.is_empty() {
            channel.prompt();
        }
        tokio::select! {
            read = read_line_bounded(&mut lines, &mut buf, keep) => {
                if read? == 0 {
                    break;
                }
            }
            _ = ticker.tick(), if interactive => {
                if let Err(e) = bot.tick().await {
                    tracing::error!(error = %e, "the scheduler could not run");
                }
                dispatch_due(bot, &channel, &policy).await?;
                continue;
            }
        }
        // Not UTF-8? Keep what can be read rather than refuse the whole message.
        let text = String::from_utf8_lossy(&buf)
            .trim_end_matches(['\n', '\r'])
            .to_string();
        buf.clear();
        if matches!(text.trim().to_lowercase().as_str(), "quit" | "exit") {
            break;
        }
        // Enter pressed on its own in a terminal: just ask again.
        if interactive && text.is_empty() {
            continue;
        }
        count += 1;
        let inbound = Inbound {
            pressed: None,
            platform: PLATFORM.into(),
            sender: me.address.clone(),
            event_id: event_id(count),
            text,
        };
        match bot.handle(&inbound).await {
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "a console message could not be handled");
                channel.say(NOT_SAVED);
            }
        }
        dispatch_due(bot, &channel, &policy).await?;
    }
    bot.store.close().await;
    Ok(())
}

/// Reads one line into `buf`, keeping at most `keep` bytes of it and dropping the rest as it
/// arrives, so a huge line costs no more memory than a long one. Returns the bytes read in
/// all (0 at the end of input).
async fn read_line_bounded<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    keep: usize,
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(total);
        }
        let (line, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..=i], true),
            None => (chunk, false),
        };
        let room = keep.saturating_sub(buf.len());
        buf.extend_from_slice(&line[..line.len().min(room)]);
        let used = line.len();
        reader.consume(used);
        total += used;
        if done {
            return Ok(total);
        }
    }
}

/// Unique across runs: wall-clock nanoseconds and a per-run counter.
fn event_id(count: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("console-{nanos}-{count}")
}
