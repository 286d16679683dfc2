//! Pure condition bookkeeping: one entry per type, `lastTransitionTime` kept while the
//! condition's status does not change.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::api::{ConditionStatus, ConditionType};

/// The desired state of one condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredCondition {
    pub type_: ConditionType,
    pub status: ConditionStatus,
    pub reason: String,
    pub message: String,
}

impl DesiredCondition {
    pub fn new(
        type_: ConditionType,
        status: ConditionStatus,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        DesiredCondition {
            type_,
            status,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// Builds the condition list from the desired set, keeping each condition's
/// `lastTransitionTime` from `previous` when its status is unchanged. Conditions of types
/// this controller does not own are kept as they are.
pub fn merge_conditions(
    previous: &[Condition],
    desired: &[DesiredCondition],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut out: Vec<Condition> = desired
        .iter()
        .map(|d| {
            let prev = previous.iter().find(|c| c.type_ == d.type_.as_str());
            let last_transition_time = match prev {
                Some(p) if p.status == d.status.as_str() => p.last_transition_time.clone(),
                _ => Time(now),
            };
            Condition {
                type_: d.type_.as_str().to_string(),
                status: d.status.as_str().to_string(),
                reason: sanitize_reason(&d.reason),
                message: d.message.clone(),
                observed_generation: generation,
                last_transition_time,
            }
        })
        .collect();
    for p in previous {
        if !desired.iter().any(|d| d.type_.as_str() == p.type_) {
            out.push(p.clone());
        }
    }
    out
}

/// Finds a condition by type.
pub fn find(conditions: &[Condition], type_: ConditionType) -> Option<&Condition> {
    conditions.iter().find(|c| c.type_ == type_.as_str())
}

/// True when the condition exists with status `True`.
pub fn is_true(conditions: &[Condition], type_: ConditionType) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

/// Condition reasons must match `^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$` (max 1024).
pub fn sanitize_reason(reason: &str) -> String {
    let cleaned: String = reason
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(1024)
        .collect();
    match cleaned.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => cleaned,
        Some(_) => format!("R{}", &cleaned[..cleaned.len().min(1023)]),
        None => "Unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn ready(status: ConditionStatus, reason: &str) -> DesiredCondition {
        DesiredCondition::new(ConditionType::Ready, status, reason, "m")
    }

    #[test]
    fn keeps_transition_time_while_status_is_unchanged() {
        let t0 = ts("2026-01-01T00:00:00Z");
        let t1 = ts("2026-01-01T00:05:00Z");
        let first = merge_conditions(
            &[],
            &[ready(ConditionStatus::False, "Running")],
            Some(1),
            t0,
        );
        assert_eq!(first[0].last_transition_time, Time(t0));
        let same = merge_conditions(
            &first,
            &[ready(ConditionStatus::False, "Pending")],
            Some(2),
            t1,
        );
        assert_eq!(
            same[0].last_transition_time,
            Time(t0),
            "status unchanged: time kept"
        );
        assert_eq!(same[0].reason, "Pending");
        assert_eq!(same[0].observed_generation, Some(2));
        let flipped = merge_conditions(
            &same,
            &[ready(ConditionStatus::True, "Succeeded")],
            Some(2),
            t1,
        );
        assert_eq!(flipped[0].last_transition_time, Time(t1));
    }

    #[test]
    fn foreign_conditions_are_kept() {
        let foreign = Condition {
            type_: "SomethingElse".into(),
            status: "True".into(),
            reason: "X".into(),
            message: String::new(),
            observed_generation: None,
            last_transition_time: Time(ts("2026-01-01T00:00:00Z")),
        };
        let out = merge_conditions(
            std::slice::from_ref(&foreign),
            &[ready(ConditionStatus::False, "Running")],
            None,
            ts("2026-01-02T00:00:00Z"),
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[1], foreign);
        assert!(!is_true(&out, ConditionType::Ready));
    }

    #[test]
    fn reasons_are_made_valid() {
        assert_eq!(
            sanitize_reason("AuthFailure.SignatureExpire"),
            "AuthFailureSignatureExpire"
        );
        assert_eq!(sanitize_reason("4100"), "R4100");
        assert_eq!(sanitize_reason(""), "Unknown");
        assert_eq!(sanitize_reason("TrackingTimeout"), "TrackingTimeout");
    }
}
