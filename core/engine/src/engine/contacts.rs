//! Who residents can contact, shown on the rights pages (`{{ contacts.advocacy }}`); a home
//! sets them in `[contacts]`.

use serde::Deserialize;

/// `[contacts]`: shown to residents on the rights pages ("how to complain").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Contacts {
    /// Who handles complaints at the home, and how to reach them.
    pub complaints: String,
    /// The local advocacy service.
    pub advocacy: String,
    /// The regulator.
    pub regulator: String,
}

impl Default for Contacts {
    fn default() -> Self {
        Self {
            complaints: "the manager of the home".into(),
            advocacy: "your local advocacy service (any member of staff can give you the number)"
                .into(),
            regulator: "the Care Quality Commission (CQC) on 03000 616161".into(),
        }
    }
}

impl Contacts {
    /// As template variables.
    pub fn into_map(self) -> std::collections::BTreeMap<String, String> {
        [
            ("complaints", self.complaints),
            ("advocacy", self.advocacy),
            ("regulator", self.regulator),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
