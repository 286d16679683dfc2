//! The CloudDbInstance controller (issue 30): lists each instance's jobs at its
//! `pollInterval`, creates one CloudDbJob per discovered job and writes the instance's
//! status. Every decision is in `controller::discovery` (pure); this module only resolves
//! credentials, calls the lister and the API server, and schedules the next round.
//!
//! Tenant isolation: one listing per instance per round, with that instance's own
//! credentials; nothing is batched or shared between instances, so two namespaces naming
//! the same database with different credentials never share a call or a credential.

mod listers;
mod reconcile;
mod runner;

pub use listers::{FederatedLister, RateLimitedLister};
pub use reconcile::{instance_error_policy, reconcile_instance, InstanceContext};
pub use runner::{instances_served, run_instance_controller, CRD_RECHECK};
