//! Maintenance a provider announces ahead for an instance (AWS
//! `DescribePendingMaintenanceActions`), so discovery's `upcoming` can be exercised. Dates
//! are offsets from when the simulator starts (or is reset), like job timelines.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use clouddb_api::ProviderKind;

/// One announced maintenance action on one instance.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaintenanceSpec {
    pub provider: ProviderKind,
    pub instance_id: String,
    /// The provider's name for it (AWS: `system-update`, `db-upgrade`, ...).
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it is applied (AWS `CurrentApplyDate`), from start.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_duration"
    )]
    pub apply_after: Option<Duration>,
    /// When it is forced (AWS `ForcedApplyDate`), from start.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_duration"
    )]
    pub forced_after: Option<Duration>,
}

/// Serde for optional Go-style durations (`10s`, `72h`).
mod optional_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use clouddb_providers::duration::{format_duration, parse_duration};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => parse_duration(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_yaml_form() {
        let m: MaintenanceSpec = serde_norway::from_str(
            "{provider: aws, instanceId: db-1, action: db-upgrade, applyAfter: 72h}",
        )
        .unwrap();
        assert_eq!(m.apply_after, Some(Duration::from_secs(72 * 3600)));
        assert_eq!((m.forced_after, m.description), (None, None));
        assert!(serde_norway::from_str::<MaintenanceSpec>("{provider: aws}").is_err());
    }
}
