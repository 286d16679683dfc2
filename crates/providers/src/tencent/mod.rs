//! Tencent Cloud API 3.0 provider (`cdb.tencentcloudapi.com`, version 2017-03-20):
//! `DescribeTasks` (task ID) and `DescribeAsyncRequestInfo` (async request ID).
//!
//! - [`sign`]: TC3-HMAC-SHA256 signing, tested against the published vectors.
//! - [`model`]: lenient response types (both `DescribeTasks` item shapes, the error envelope).
//! - [`mapping`]: pure response → [`JobObservation`](crate::JobObservation).
//! - [`errors`]: envelope parsing and error classification.
//! - [`client`]: the signed HTTP client and the [`Provider`](crate::Provider) impl.
//! - [`list`]: discovery of an instance's tasks (the [`JobLister`](crate::discovery::JobLister)
//!   impl of [`TencentProvider`]).

pub mod client;
pub mod errors;
pub mod list;
pub mod mapping;
pub mod model;
pub mod sign;

#[cfg(test)]
mod tests;

pub use client::{default_endpoint, TasksQuery, TencentProvider};
pub use mapping::{find_task, map_async_request_info, map_task_item, observe_in_page};
pub use model::{AsyncRequestInfo, DescribeTasksPage, TaskItem};
