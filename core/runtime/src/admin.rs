//! What staff do to set Carebot up, with the rules that go with it. The CLI in `bots/` only
//! parses arguments and calls these.

use carebot_engine::access::{Action, Decision as Access, Resource};
use carebot_engine::domain::Role;
use carebot_engine::ids::PersonId;
use carebot_store::audit::AuditEntry;
use carebot_store::{Result, Store, StoreError};
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

/// Records a consent decision for a resident who cannot make it themselves. Only their own
/// keyworker or manager may, only with a lawful basis: a registered health-and-welfare LPA or a
/// deputy (named), or a best-interests decision (with reasons). A family member's word alone
/// is never consent, and the bot never makes such a decision itself.
#[allow(clippy::too_many_arguments)]
pub async fn record_consent_on_behalf(
    store: &Store,
    dialogs: &carebot_engine::flow::SystemDoc,
    resident: &str,
    family: &str,
    category: &str,
    decision: carebot_engine::domain::Decision,
    basis: carebot_engine::domain::Basis,
    by: &str,
    now_ms: i64,
) -> Result<()> {
    use carebot_engine::domain::Basis;
    let not_found = |m: String| StoreError::NotFound(m);
    let r = store
        .person_by_handle(resident)
        .await?
        .ok_or_else(|| not_found(format!("there is nobody called '{resident}'")))?;
    let f = store
        .person_by_handle(family)
        .await?
        .ok_or_else(|| not_found(format!("there is nobody called '{family}'")))?;
    let staff = store
        .person_by_handle(by)
        .await?
        .ok_or_else(|| not_found(format!("there is nobody called '{by}'")))?;
    let profile = store.profile(r.id).await?;
    if !profile.family.iter().any(|x| x.id == f.id) {
        return Err(not_found(format!(
            "'{family}' is not linked to '{resident}' as family"
        )));
    }
    if !dialogs.category.iter().any(|c| c.id == category) {
        let known: Vec<&str> = dialogs.category.iter().map(|c| c.id.as_str()).collect();
        return Err(not_found(format!(
            "'{category}' is not a consent category; use one of: {}",
            known.join(", ")
        )));
    }
    // The access table: only the resident's own keyworker or manager, and only with a basis.
    let access = store
        .access(Some(staff.id), Action::Write, Resource::Consent, r.id)
        .await?;
    if access != Access::WithBasis {
        return Err(not_found(format!(
            "only {resident}'s own keyworker or manager can record this, and '{by}' is not"
        )));
    }
    match &basis {
        Basis::Resident => return Err(not_found("a decision recorded by staff needs a basis: --lpa NAME, --deputy NAME or --best-interests REASONS".into())),
        Basis::Lpa(d) | Basis::Deputy(d) | Basis::BestInterests(d) if d.trim().is_empty() => {
            return Err(not_found("the basis needs the attorney's or deputy's name, or the reasons for the best-interests decision".into()))
        }
        _ => {}
    }
    let consent = carebot_store::turn::NewConsent {
        family: f.id,
        category: category.to_string(),
        decision,
        wording: "recorded by staff through the admin command line".into(),
        wording_version: "staff".into(),
        channel: "cli".into(),
        basis,
        recorded_by: staff.id,
    };
    store.record_consent_on_behalf(r.id, &consent, now_ms).await
}

/// Checks who asks for a whole record (an export with [`Action::Read`], an erasure with
/// [`Action::Write`]) against the access table: a named person by their role and what they are
/// to `owner`, or, with no name, the operator at the server's command line, who acts as an
/// admin. Returns the actor to write in the audit log.
pub async fn records_requester(
    store: &Store,
    owner: PersonId,
    by: Option<&str>,
    action: Action,
    operator: &str,
) -> Result<String> {
    let Some(by) = by else {
        let access = carebot_engine::access::allowed(
            carebot_engine::access::Actor::Person(Role::Admin),
            action,
            Resource::ExportErase,
            carebot_engine::access::Relation::Unrelated,
        );
        return match access {
            Access::Allow => Ok(operator.to_string()),
            _ => Err(StoreError::NotFound("the operator may not do this".into())),
        };
    };
    let who = person_id(store, by).await?;
    match store
        .access(Some(who), action, Resource::ExportErase, owner)
        .await?
    {
        Access::Allow => Ok(format!("person:{who}")),
        _ => Err(StoreError::NotFound(format!(
            "'{by}' may not {} this person's records: only their manager or an admin can",
            if action == Action::Read {
                "export"
            } else {
                "erase"
            }
        ))),
    }
}

/// Erases everything held about `handle`, if `by` (or, with no name, the operator) may by
/// the access table. See [`carebot_store::erase`] for what is removed and what is kept.
pub async fn erase(
    store: &Store,
    handle: &str,
    by: Option<&str>,
    operator: &str,
    now_ms: i64,
) -> Result<carebot_store::erase::Erasure> {
    let person = person_id(store, handle).await?;
    let actor = records_requester(store, person, by, Action::Write, operator).await?;
    store.erase_person(person, &actor, now_ms).await
}

/// Revokes every chat account of `handle`: each becomes an unknown account at once. Returns
/// how many were active.
pub async fn unlink(store: &Store, handle: &str, actor: &str, now_ms: i64) -> Result<u64> {
    let person = person_id(store, handle).await?;
    store.revoke_links(person, actor, now_ms).await
}

/// Writes a new version of a resident's care plan (`carebot plan-set`) and tells them, in
/// the words of `plan_updated` in `system.toml`, through the outbox. Only for a resident.
/// Returns the version.
pub async fn set_plan(
    store: &Store,
    system: &carebot_engine::flow::SystemDoc,
    resident: PersonId,
    sections: &[carebot_engine::domain::PlanSection],
    written_by: &str,
    now_ms: i64,
) -> Result<i64> {
    if store.role_of(resident).await? != Role::Resident {
        return Err(StoreError::NotFound(
            "that person is not a resident: a care plan is only written for a resident".into(),
        ));
    }
    let template = system.text("plan_updated", "en").to_string();
    let notice = |version: i64| carebot_engine::engine::OutMessage {
        text: carebot_engine::engine::render::render(
            &template,
            &serde_json::Map::from_iter([("version".to_string(), json!(version))]),
        ),
        ..Default::default()
    };
    store
        .set_plan(resident, sections, written_by, notice, now_ms)
        .await
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
