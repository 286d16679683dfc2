//! Google's error envelope as a reply, shared by the Cloud SQL operation handler
//! (`gcp.rs`) and its list calls (`gcp_list.rs`), which `gcp.rs` dispatches to.

use super::Reply;
use crate::render::gcp as render;

/// Google's error body (see `render::gcp::error`) with HTTP `code`.
pub(crate) fn google_error(code: u16, status: &str, reason: &str, message: &str) -> Reply {
    Reply::json(code, &render::error(code, status, reason, message))
}
