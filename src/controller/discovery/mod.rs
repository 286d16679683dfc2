//! CloudDbInstance discovery decisions (issue 30), without I/O: given an instance, what its
//! provider listed (or the error it answered) and the CloudDbJobs carrying the instance's
//! label, which CloudDbJobs to create and what the instance's status becomes.
//!
//! Kept pure so that every rule (never create twice, never re-create a deleted job, never
//! touch a job it did not create, Idle, error classification) is a plain unit test; the
//! controller only lists, creates and patches what this returns.

mod decide;
mod naming;
mod status;

#[cfg(test)]
mod tests;

pub use decide::{decide, Decision, Outcome};
pub use naming::{instance_label_value, job_name};
pub use status::{window_start, Reason};
