//! Google Cloud SQL Admin API v1: `GET /v1/projects/{projectId}/operations/{jobId}` on
//! `https://sqladmin.googleapis.com` (`spec.endpoint` replaces scheme, host and port; a path
//! prefix is kept), with an OAuth2 access token from the service-account key.
//!
//! - [`token`]: the JWT-bearer exchange of the key for an access token (RS256 with `ring`).
//! - [`model`]: lenient `Operation`, Google error and token types.
//! - [`mapping`]: operation → [`JobObservation`](crate::JobObservation).
//! - [`errors`]: error classification (API and token endpoint).
//! - [`client`]: [`GcpProvider`], the [`Provider`](crate::Provider), owning the shared
//!   [`TokenCache`](crate::token_cache::TokenCache).
//! - [`list`]: discovery of an instance's operations (`operations.list`, the
//!   [`JobLister`](crate::discovery::JobLister) impl of [`GcpProvider`]).
//!
//! Status: `PENDING` → Pending; `RUNNING` → Running; `DONE` without `error` → Succeeded
//! (progress 100); `DONE` with `error` → Failed (`JobFailed`, the codes and messages in
//! `message`); `SQL_OPERATION_STATUS_UNSPECIFIED` or anything else → never terminal
//! (`UnknownStatus`). There is no progress field: progress stays unset until done. A 404 is
//! the not-found grace (an operation just created may 404 for a moment).

pub mod client;
pub mod errors;
pub mod key;
pub mod list;
pub mod mapping;
pub mod model;
pub mod token;

pub use client::{GcpProvider, DEFAULT_ENDPOINT};
