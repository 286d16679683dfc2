//! Huawei Cloud RDS and TaurusDB (GaussDB(for MySQL)) task center:
//! `GET /v3/{project_id}/jobs?id=` (RDS, TaurusDB) and `GET /mysql/v3/{project_id}/jobs?id=`
//! (TaurusDB, historical), authenticated with AK/SK `SDK-HMAC-SHA256` or an IAM token.
//!
//! - [`sign`]: request signing (pure, tested against the published vector).
//! - [`model`]: lenient response types.
//! - [`mapping`]: response → [`JobObservation`](crate::JobObservation).
//! - [`errors`]: error-body parsing and classification.
//! - [`endpoints`]: default hosts per API and region, request paths.
//! - [`client`]: [`HuaweiProvider`], the [`Provider`](crate::Provider).
//! - [`list`]: discovery of an RDS instance's tasks (`ListTasks`; TaurusDB has no list call
//!   by instance), the [`JobLister`](crate::discovery::JobLister) impl of [`HuaweiProvider`].
//!
//! A job the task center does not list yet (HTTP 404, a "job does not exist" error, or a
//! body without `job`) is always reported as `Pending` / `NotFoundYet`: Huawei lists jobs
//! only seconds after creation, and the controller, which knows the resource's age, decides
//! when waiting has lasted too long.

pub mod client;
pub mod endpoints;
pub mod errors;
pub mod list;
pub mod mapping;
pub mod model;
pub mod regions;
pub mod sign;

pub use client::HuaweiProvider;
pub use endpoints::default_endpoint;
