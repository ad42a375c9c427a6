//! Who may do what with whose records: Carebot's one access table.
//!
//! Every place that reads or writes on someone's behalf (a family member's "any news?", a
//! keyworker's `ack` and `review done NAME`, the morning digest, staff recording consent, an
//! export or erasure) asks [`allowed`] with the actor's role, what they are to the record's
//! owner, the action and the kind of record. The answer depends on nothing else: not a display
//! name (roles bind to a person, and an account binds to a person through the platform's
//! immutable id), not what the person typed.
//!
//! The rules are written as rules, not as a lookup table, so that the exhaustive test below,
//! which spells the table out cell by cell as a care professional would read it, is a real
//! check of the rules rather than a copy of them.
//!
//! Relations only ever link a resident to a person of the matching role (`admin::relate`
//! enforces it), but a person's role could change after a relation was made. So a relation
//! grants nothing unless the actor's role matches it: a former keyworker now recorded as
//! family is not a keyworker to anyone.

use crate::domain::Role;

/// Who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// An account linked to nobody: never linked, or its link was revoked. Told nothing.
    Unlinked,
    /// A person, by their role.
    Person(Role),
}

/// What the actor is to the person whose record it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Relation {
    /// It is their own record.
    Themself,
    /// They are the owner's family (an active relation).
    Family,
    /// They are the owner's assigned keyworker (an active relation).
    Keyworker,
    /// They are the owner's manager (an active relation).
    Manager,
    /// They are the home's on-call member of staff (`[safeguarding] on_call`), who is told of
    /// alerts nobody acknowledged in time, and of nothing else.
    OnCall,
    /// Nothing: another resident, another resident's family, staff not assigned to them.
    Unrelated,
}

/// Reading or changing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Seeing it (or being sent it).
    Read,
    /// Creating, changing or deleting it.
    Write,
}

/// A kind of record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// Name, language, check-in time, update cadence, chat accounts.
    Profile,
    /// Care-plan goals.
    Goals,
    /// A resident's answers to check-ins, in their own words.
    CheckinAnswers,
    /// Consent decisions about what family hear.
    Consent,
    /// Alerts raised to staff (read: be told; write: raise or acknowledge).
    Alerts,
    /// Requests a resident makes (a complaint, an advocate, a review, help with something).
    /// Read: see them and how they stand; write: make one (the resident), or acknowledge and
    /// close one with what was done (their staff).
    Requests,
    /// Care-plan reviews (read: the schedule and what the resident wants to raise; write:
    /// record one).
    Reviews,
    /// The audit log. Only Carebot itself appends to it; nobody writes it by hand.
    Audit,
    /// Read: a full export (subject access request). Write: erasure.
    ExportErase,
    /// Messages between a resident and their family, passed on by Carebot at once. Write:
    /// send one (the resident to their family; a family member to their resident). Nobody
    /// reads another's: each is delivered to whom it was for.
    Messages,
}

/// The answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Yes.
    Allow,
    /// Only what the owner shares with this family member now, per consent category.
    IfConsented,
    /// Only with a lawful basis (an LPA, a deputy, or a best-interests decision), recorded.
    WithBasis,
    /// No.
    Deny,
}

impl Decision {
    /// Whether anything at all may happen (the caller then applies the condition).
    pub fn permits(self) -> bool {
        self != Decision::Deny
    }
}

/// Every role, for exhaustive checks.
pub const ROLES: [Role; 5] = [
    Role::Resident,
    Role::Family,
    Role::Keyworker,
    Role::Manager,
    Role::Admin,
];
/// Every relation.
pub const RELATIONS: [Relation; 6] = [
    Relation::Themself,
    Relation::Family,
    Relation::Keyworker,
    Relation::Manager,
    Relation::OnCall,
    Relation::Unrelated,
];
/// Every resource.
pub const RESOURCES: [Resource; 10] = [
    Resource::Profile,
    Resource::Goals,
    Resource::CheckinAnswers,
    Resource::Consent,
    Resource::Alerts,
    Resource::Requests,
    Resource::Reviews,
    Resource::Audit,
    Resource::ExportErase,
    Resource::Messages,
];

/// May `actor`, being `relation` to a record's owner, do `action` to a `resource` of theirs?
pub fn allowed(actor: Actor, action: Action, resource: Resource, relation: Relation) -> Decision {
    use Action::{Read, Write};
    use Decision::*;
    use Resource::*;
    let Actor::Person(role) = actor else {
        return Deny;
    };
    // The audit log is appended by Carebot as things happen; no person writes it.
    if (action, resource) == (Write, Audit) {
        return Deny;
    }
    match (role, relation) {
        // A resident's own record. Their goals are theirs to set and change (staff only
        // suggest); reviews are recorded by staff (the resident asks for one); the audit log
        // and an export or erasure are asked of staff, who act on it, audited.
        (Role::Resident, Relation::Themself) => match (action, resource) {
            (_, Audit | ExportErase) | (Write, Reviews) => Deny,
            _ => Allow,
        },
        // Staff, family and admins own only their profile (e.g. a family member's cadence).
        (_, Relation::Themself) => match resource {
            Profile => Allow,
            _ => Deny,
        },
        // Family hear only what the resident shares with them; they change nothing.
        (Role::Family, Relation::Family) => match (action, resource) {
            (Read, Profile | Goals | CheckinAnswers) => IfConsented,
            // A message to their resident, which the resident receives and may answer.
            (Write, Messages) => Allow,
            _ => Deny,
        },
        // The resident's own staff. Answers are the resident's words: staff never write them.
        // Consent is the resident's: staff record it only with a lawful basis.
        (Role::Keyworker, Relation::Keyworker) | (Role::Manager, Relation::Manager) => {
            match (action, resource) {
                (Write, CheckinAnswers) => Deny,
                (Write, Consent) => WithBasis,
                // Messages between a resident and their family are theirs.
                (_, Messages) => Deny,
                // Looking into the audit trail and exports or erasure are for the manager.
                (_, Audit | ExportErase) if role == Role::Keyworker => Deny,
                _ => Allow,
            }
        }
        // The on-call member of staff is told of an escalated alert so someone goes; they see
        // no other record through Carebot (they are not the resident's keyworker).
        (Role::Keyworker | Role::Manager, Relation::OnCall) => match (action, resource) {
            (Read, Alerts | Requests) => Allow,
            _ => Deny,
        },
        // An admin (or the operator at the server's command line) sets Carebot up and answers
        // subject access and erasure requests; they read no care records.
        (Role::Admin, Relation::Unrelated) => match (action, resource) {
            (_, Profile | Goals) | (Read, Audit) | (_, ExportErase) => Allow,
            _ => Deny,
        },
        // Everyone else: another resident, another resident's family, staff not assigned to
        // this resident, or a relation that does not fit the actor's role.
        _ => Deny,
    }
}

/// The relation a member of staff has to the residents in their `caring_for` list: the one
/// that matches their role (so the engine can ask [`allowed`] without another query).
pub fn staff_relation(role: Role) -> Relation {
    match role {
        Role::Keyworker => Relation::Keyworker,
        Role::Manager => Relation::Manager,
        _ => Relation::Unrelated,
    }
}

#[cfg(test)]
mod tests;
