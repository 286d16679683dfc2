//! AWS RDS through the Query API (version 2014-10-31, XML responses, SigV4 with service
//! `rds`): snapshot exports to S3 (`DescribeExportTasks`), DB and DB cluster snapshots
//! (`DescribeDBSnapshots`, `DescribeDBClusterSnapshots`) and blue/green deployments
//! (`DescribeBlueGreenDeployments`, tracked to "green ready" or to "switched over").
//!
//! - [`sign`]: SigV4 through the official `aws-sigv4` crate (tested on the AWS suite).
//! - [`model`]: lenient XML response types.
//! - [`mapping`]: response → [`JobObservation`](crate::JobObservation).
//! - [`errors`]: `ErrorResponse` parsing and classification.
//! - [`client`]: [`AwsProvider`], the [`Provider`](crate::Provider).
//! - [`batch`]: many jobs of one API in one paged describe call per chunk of identifiers.
//! - [`list`]: discovery of an instance's snapshots, blue/green deployments and pending
//!   maintenance (the [`JobLister`](crate::discovery::JobLister) impl of [`AwsProvider`]).
//!
//! A job RDS does not list (an empty export list, or a `*NotFound` fault) is reported as
//! `Pending` / `NotFoundYet`; the controller, which knows the resource's age, decides when
//! waiting has lasted too long.

pub mod batch;
pub mod client;
pub mod errors;
pub mod list;
pub mod list_model;
pub mod mapping;
pub mod model;
pub mod partition;
mod partitions;
pub mod sign;

pub use client::{default_endpoint, AwsProvider};
