//! Condition types and values, named as kstatus, Flux, Argo CD and `kubectl wait` expect.

/// The condition types the controller maintains on every CloudDbJob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionType {
    /// True only when the job succeeded.
    Ready,
    /// True while the controller is still tracking the job.
    Reconciling,
    /// True when the job succeeded (terminal).
    Complete,
    /// True when the job failed, was aborted or deleted, or tracking timed out (terminal).
    Failed,
    /// True on terminal failure, or while a configuration error needs a human.
    Stalled,
}

impl ConditionType {
    /// All types, in the order they are written to status.
    pub const ALL: [ConditionType; 5] = [
        ConditionType::Ready,
        ConditionType::Reconciling,
        ConditionType::Complete,
        ConditionType::Failed,
        ConditionType::Stalled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConditionType::Ready => "Ready",
            ConditionType::Reconciling => "Reconciling",
            ConditionType::Complete => "Complete",
            ConditionType::Failed => "Failed",
            ConditionType::Stalled => "Stalled",
        }
    }
}

/// A condition's `status` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl ConditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }

    pub fn from_bool(value: bool) -> Self {
        if value {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        }
    }
}
