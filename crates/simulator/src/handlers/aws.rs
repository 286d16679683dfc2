//! AWS RDS Query API (SigV4, XML).
//! PLACEHOLDER: the handler is being written; it answers 501 until then.

use super::{Incoming, Reply, Target};
use crate::state::{Clock, SimState};
use clouddb_api::ProviderKind;

/// Whether a request to `/` is for this API.
pub(crate) fn speaks(req: &Incoming<'_>) -> bool {
    req.header("x-tc-action").is_none()
        && req.method == http::Method::POST
        && req.body.starts_with(b"Action=")
}

pub(crate) fn target(_st: &SimState, _req: &Incoming<'_>) -> Target {
    Target {
        provider: ProviderKind::Aws,
        api: String::new(),
        job_id: None,
        targets: Vec::new(),
    }
}

pub(crate) fn throttled(_st: &mut SimState) -> Reply {
    Reply::json(429, &serde_json::json!({}))
}

pub(crate) fn answer(
    _st: &mut SimState,
    _req: &Incoming<'_>,
    _target: &Target,
    _hidden: &[usize],
    _now: Clock,
) -> Reply {
    Reply::json(501, &serde_json::json!({"error": "not implemented"}))
}
