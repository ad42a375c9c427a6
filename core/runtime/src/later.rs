//! "Ask me later", asked later.
//!
//! A resident who answered "ask me later" about sharing a category with a family member is
//! asked about it again, once, `[schedule] ask_again_after_days` after (0 never asks): the
//! `consent_later` flow (in `dialogs/`) asks whether now is a good time and then only about
//! those pairs. Declining its opening question is an answer too: the same decisions are not
//! asked about again. Answering "later" again is a new decision, asked about in its turn.
//!
//! It is asked only in the day (10:00 to 18:00, the home's time) and only into a quiet
//! conversation: a flow started while another is under way, or while the resident has said
//! `stop`, would be dropped, and with it the one chance to ask.

use super::Carebot;
use carebot_engine::engine::Input;
use carebot_store::turn::InboundKey;
use carebot_store::Result;
use chrono::{DateTime, Duration, Timelike, Utc};

/// The flow that asks again (a home without it is never asked again).
pub const LATER_FLOW: &str = "consent_later";

/// The local hours in which a resident may be asked again: from 10:00 to before 18:00.
const DAYTIME: std::ops::Range<u32> = 10..18;

impl Carebot {
    /// Starts `consent_later` for each resident whose "ask me later" is due. Returns how many
    /// were asked; a resident whose turn fails is reported in `failed`, and the rest are still
    /// asked.
    pub(crate) async fn ask_later_again(
        &self,
        now: DateTime<Utc>,
        failed: &mut Vec<String>,
    ) -> Result<usize> {
        let days = self.schedule.ask_again_after_days;
        let local = now.with_timezone(&self.settings.timezone);
        if days == 0 || !DAYTIME.contains(&local.hour()) || self.dialogs.flow(LATER_FLOW).is_none()
        {
            return Ok(0);
        }
        let before = (now - Duration::days(i64::from(days))).timestamp_millis();
        let mut asked = 0;
        for (person, newest) in self.store.later_consents_due(before).await? {
            match self.ask_one(person, newest, before, now).await {
                Ok(true) => asked += 1,
                Ok(false) => {}
                Err(e) => failed.push(format!("ask me later: person {person}: {e}")),
            }
        }
        Ok(asked)
    }

    /// Asks `person` again if their conversation is quiet; marks their decisions asked about.
    async fn ask_one(
        &self,
        person: carebot_engine::ids::PersonId,
        newest: i64,
        before: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let conversation = self.store.conversation(person).await?;
        if conversation.paused || conversation.active.is_some() {
            return Ok(false);
        }
        let Some(who) = self.store.preferred_identity(person).await? else {
            return Ok(false);
        };
        // Keyed by the newest decision asked about: if marking fails after the turn, the next
        // tick finds the key used and only marks.
        let key = InboundKey {
            platform: "scheduler".into(),
            event_id: format!("{LATER_FLOW}.{person}.{newest}"),
        };
        let input = Input::Start {
            flow: LATER_FLOW.into(),
        };
        let fresh = self
            .turn(person, &who, Some(&key), input, now, None)
            .await?;
        self.store
            .mark_later_asked(person, before, now.timestamp_millis())
            .await?;
        Ok(fresh)
    }
}
