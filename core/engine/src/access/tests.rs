//! The access table, every cell, as a care professional would read it. `A` allow, `C` only
//! what the resident shares (consent), `B` only with a lawful basis, `-` deny.

use super::*;

/// Columns: profile, goals, answers, consent, alerts, requests, reviews, audit, export/erase,
/// messages; each read then write.
const TABLE: &str = "
unlinked  any        -- -- -- -- -- -- -- -- -- --
resident  themself   AA AA AA AA AA AA A- -- -- AA
resident  family     -- -- -- -- -- -- -- -- -- --
resident  keyworker  -- -- -- -- -- -- -- -- -- --
resident  manager    -- -- -- -- -- -- -- -- -- --
resident  oncall     -- -- -- -- -- -- -- -- -- --
resident  unrelated  -- -- -- -- -- -- -- -- -- --
family    themself   AA -- -- -- -- -- -- -- -- --
family    family     C- C- C- -- -- -- -- -- -- -A
family    keyworker  -- -- -- -- -- -- -- -- -- --
family    manager    -- -- -- -- -- -- -- -- -- --
family    oncall     -- -- -- -- -- -- -- -- -- --
family    unrelated  -- -- -- -- -- -- -- -- -- --
keyworker themself   AA -- -- -- -- -- -- -- -- --
keyworker family     -- -- -- -- -- -- -- -- -- --
keyworker keyworker  AA AA A- AB AA AA AA -- -- --
keyworker manager    -- -- -- -- -- -- -- -- -- --
keyworker oncall     -- -- -- -- A- A- -- -- -- --
keyworker unrelated  -- -- -- -- -- -- -- -- -- --
manager   themself   AA -- -- -- -- -- -- -- -- --
manager   family     -- -- -- -- -- -- -- -- -- --
manager   keyworker  -- -- -- -- -- -- -- -- -- --
manager   manager    AA AA A- AB AA AA AA A- AA --
manager   oncall     -- -- -- -- A- A- -- -- -- --
manager   unrelated  -- -- -- -- -- -- -- -- -- --
admin     themself   AA -- -- -- -- -- -- -- -- --
admin     family     -- -- -- -- -- -- -- -- -- --
admin     keyworker  -- -- -- -- -- -- -- -- -- --
admin     manager    -- -- -- -- -- -- -- -- -- --
admin     oncall     -- -- -- -- -- -- -- -- -- --
admin     unrelated  AA AA -- -- -- -- -- A- AA --
";

fn relation(name: &str) -> Relation {
    match name {
        "themself" => Relation::Themself,
        "family" => Relation::Family,
        "keyworker" => Relation::Keyworker,
        "manager" => Relation::Manager,
        "oncall" => Relation::OnCall,
        "unrelated" => Relation::Unrelated,
        other => panic!("unknown relation {other}"),
    }
}

fn decision(c: char) -> Decision {
    match c {
        'A' => Decision::Allow,
        'C' => Decision::IfConsented,
        'B' => Decision::WithBasis,
        '-' => Decision::Deny,
        other => panic!("unknown cell {other}"),
    }
}

#[test]
fn every_cell_of_the_access_table_holds() {
    let mut checked = 0;
    let mut rows_seen = std::collections::HashSet::new();
    for line in TABLE.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let (who, rel) = (words.next().expect("role"), words.next().expect("relation"));
        let cells: Vec<char> = words.flat_map(|w| w.chars()).collect();
        assert_eq!(cells.len(), RESOURCES.len() * 2, "row {line}");
        let (actors, relations): (Vec<Actor>, Vec<Relation>) = if who == "unlinked" {
            (vec![Actor::Unlinked], RELATIONS.to_vec())
        } else {
            let role: Role = who.parse().expect("role");
            rows_seen.insert((role, relation(rel)));
            (vec![Actor::Person(role)], vec![relation(rel)])
        };
        for actor in &actors {
            for rel in &relations {
                for (i, resource) in RESOURCES.iter().enumerate() {
                    for (j, action) in [Action::Read, Action::Write].into_iter().enumerate() {
                        let want = decision(cells[i * 2 + j]);
                        let got = allowed(*actor, action, *resource, *rel);
                        assert_eq!(got, want, "{actor:?} as {rel:?}: {action:?} {resource:?}");
                        checked += 1;
                    }
                }
            }
        }
    }
    // Every role paired with every relation, plus the unlinked account against each.
    assert_eq!(rows_seen.len(), ROLES.len() * RELATIONS.len());
    assert_eq!(
        checked,
        (ROLES.len() + 1) * RELATIONS.len() * RESOURCES.len() * 2
    );
}

#[test]
fn nobody_writes_the_audit_log_by_hand() {
    for role in ROLES {
        for rel in RELATIONS {
            assert_eq!(
                allowed(Actor::Person(role), Action::Write, Resource::Audit, rel),
                Decision::Deny
            );
        }
    }
}

#[test]
fn a_relation_that_does_not_fit_the_role_grants_nothing() {
    // A former keyworker now recorded as family keeps a stale keyworker relation row.
    for resource in RESOURCES {
        assert_eq!(
            allowed(
                Actor::Person(Role::Family),
                Action::Read,
                resource,
                Relation::Keyworker
            ),
            Decision::Deny
        );
    }
}
