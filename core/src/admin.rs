//! What staff do to set Carebot up, with the rules that go with it. The CLI in `bots/` only
//! parses arguments and calls these.

use crate::domain::Role;
use crate::ids::PersonId;
use crate::store::audit::AuditEntry;
use crate::store::{Result, Store, StoreError};
use rand::Rng;
use serde_json::json;

/// Letters and digits that cannot be mistaken for each other when read aloud or typed.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A fresh link code like `K7QM-3XPA` (40 bits of randomness).
pub fn new_link_code() -> String {
    let mut rng = rand::rng();
    let chars: String = (0..8)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// Issues a one-time code that links a chat account to `handle`, valid for `days`.
pub async fn issue_link_code(
    store: &Store,
    handle: &str,
    days: i64,
    actor: &str,
    now_ms: i64,
) -> Result<String> {
    let person = store
        .person_by_handle(handle)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("there is nobody called '{handle}'")))?;
    let code = new_link_code();
    store
        .add_link_code(person.id, &code, now_ms + days * 86_400_000)
        .await?;
    let entry = AuditEntry {
        actor: actor.into(),
        action: "link_code.issued".into(),
        subject: Some(person.id),
        detail: json!({ "days": days }),
    };
    store.audit(&entry, now_ms).await?;
    Ok(code)
}

/// Records that `person` is `relation` to `resident`: who may hear what is decided by consent,
/// but who is whose keyworker or family starts here, so it is audited.
pub async fn relate(
    store: &Store,
    resident: &str,
    person: &str,
    relation: Role,
    actor: &str,
    now_ms: i64,
) -> Result<()> {
    let find = |h: &str| {
        let h = h.to_string();
        async move {
            store
                .person_by_handle(&h)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("there is nobody called '{h}'")))
        }
    };
    let (r, p) = (find(resident).await?, find(person).await?);
    if r.role != Role::Resident {
        return Err(StoreError::NotFound(format!(
            "'{resident}' is not a resident"
        )));
    }
    let fits = matches!(
        (relation, p.role),
        (Role::Family, Role::Family)
            | (Role::Keyworker, Role::Keyworker)
            | (Role::Manager, Role::Manager)
    );
    if !fits {
        return Err(StoreError::NotFound(format!(
            "'{person}' is a {}, so cannot be linked as {relation}",
            p.role
        )));
    }
    store.add_relation(r.id, p.id, relation, now_ms).await?;
    let entry = AuditEntry {
        actor: actor.into(),
        action: "relation.added".into(),
        subject: Some(r.id),
        detail: json!({ "person": p.id, "relation": relation }),
    };
    store.audit(&entry, now_ms).await
}

/// The id of the person called `handle`.
pub async fn person_id(store: &Store, handle: &str) -> Result<PersonId> {
    Ok(store
        .person_by_handle(handle)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("there is nobody called '{handle}'")))?
        .id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_codes_are_easy_to_read_and_differ() {
        let a = new_link_code();
        assert_eq!(a.len(), 9);
        assert!(a
            .chars()
            .all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        assert_ne!(a, new_link_code());
    }
}
