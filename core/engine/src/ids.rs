//! Typed ids. Each is a thin wrapper over the database's `BIGINT` key; mixing them up is a
//! compile error rather than a privacy incident.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A person: resident, family member, keyworker, manager or admin.
    PersonId
);
id_type!(
    /// A goal from a resident's care plan.
    GoalId
);
id_type!(
    /// A care home (or supported-living service, or home-care branch).
    HomeId
);
id_type!(
    /// A row in the durable outbox.
    OutboxId
);
id_type!(
    /// An alert raised to staff.
    AlertId
);
