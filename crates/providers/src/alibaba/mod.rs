//! Alibaba Cloud RDS and PolarDB task center: `DescribeHistoryTasks` (RDS 2014-08-15,
//! PolarDB 2017-08-01), filtered by `TaskId`, signed with `ACS3-HMAC-SHA256` (V3).
//!
//! - [`sign`]: request signing (pure, tested against the published vector).
//! - [`model`]: lenient response types (PolarDB's `TotalCount` is a string).
//! - [`mapping`]: task → [`JobObservation`](crate::JobObservation).
//! - [`errors`]: error-body parsing and classification.
//! - [`endpoints`]: default hosts per API and region, versions, request URLs.
//! - [`client`]: [`AlibabaProvider`], the [`Provider`](crate::Provider).
//! - [`list`]: discovery of an instance's tasks (the
//!   [`JobLister`](crate::discovery::JobLister) impl of [`AlibabaProvider`]).
//!
//! Endpoints: RDS uses `rds.aliyuncs.com` in the regions the official SDK's endpoint map
//! sends there (the main Chinese regions, `cn-hongkong`, `ap-southeast-1`, `us-west-1`,
//! `us-east-1`, finance and government regions) and `rds.<region>.aliyuncs.com` elsewhere;
//! PolarDB likewise `polardb.aliyuncs.com` or `polardb.<region>.aliyuncs.com` by its own
//! SDK map (which sends e.g. `cn-shenzhen`, `cn-hongkong` and `ap-southeast-1` to regional
//! hosts). `spec.endpoint` replaces scheme, host and port (a path prefix is kept).
//!
//! The query asks for the task with `ToStartTime` one hour ahead of the local clock (the
//! API sets no upper bound; the margin covers a server clock ahead of ours) and
//! `FromStartTime` 30 days back, the most the API looks back. A task the API does not list
//! (yet) is `Pending` / `NotFoundYet`; the message says that tasks older than 30 days cannot
//! be found, and the controller, which knows the resource's age, decides when to give up.
//!
//! Status: `Scheduled`, `Waiting` → Pending; `Running`, `Cancelling` → Running; `Succeed` →
//! Succeeded; `Failed` → Failed (`JobFailed`); `Canceled` → Failed (`Canceled`); anything
//! else → Pending/Running with reason `UnknownStatus`, never a terminal phase.

pub mod client;
pub mod endpoints;
pub mod errors;
pub mod list;
pub mod mapping;
pub mod model;
pub mod regions;
pub mod sign;

pub use client::AlibabaProvider;
pub use endpoints::default_endpoint;
