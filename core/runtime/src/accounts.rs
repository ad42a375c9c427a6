//! What an adapter may ask about a chat account before it hands anything over: whether it
//! is linked to anyone, and whether it may give staff commands in a shared space. The rules
//! live here, so every channel applies the same ones.

use super::Carebot;
use carebot_engine::domain::Role;
use carebot_store::people::Identity;
use carebot_store::Result;

impl Carebot {
    /// Whether `who` is linked to a person. An adapter leaves a chat with an account that is
    /// not (after giving it time to send `link CODE`).
    pub async fn is_linked(&self, who: &Identity) -> Result<bool> {
        Ok(self.store.person_for(who).await?.is_some())
    }

    /// Whether `who` may give staff commands where others can see them (a Discord server
    /// channel): only an account linked to a keyworker or manager. Replies to such commands
    /// still go to the person privately; this only decides whether the words are read.
    pub async fn may_give_staff_commands(&self, who: &Identity) -> Result<bool> {
        let Some(person) = self.store.person_for(who).await? else {
            return Ok(false);
        };
        let profile = self.store.profile(person).await?;
        Ok(matches!(profile.role, Role::Keyworker | Role::Manager))
    }
}
