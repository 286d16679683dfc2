//! What the handlers take and give: the request as they see it, the reply, the request's
//! target and outcome, the shared state handle and the server clock. A file of its own: every
//! provider's handler uses these, and `handlers/mod.rs` dispatches to the handlers.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::state::SimState;
use clouddb_api::ProviderKind;

/// The shared state handle.
pub(crate) type Shared = Arc<Mutex<SimState>>;

/// Locks the state; a poisoned lock (a panic elsewhere) still yields the data.
pub(crate) fn lock(state: &Shared) -> MutexGuard<'_, SimState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the server sends back.
#[derive(Debug)]
pub(crate) enum Reply {
    Http {
        status: u16,
        body: Vec<u8>,
        content_type: &'static str,
        headers: Vec<(&'static str, String)>,
    },
    /// Drop the connection without a response.
    Reset,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, body: &Value) -> Self {
        Reply::Http {
            status,
            body: body.to_string().into_bytes(),
            content_type: "application/json",
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        if let Reply::Http { headers, .. } = &mut self {
            headers.push((name, value));
        }
        self
    }

    /// The status code, `None` for a reset.
    pub fn status(&self) -> Option<u16> {
        match self {
            Reply::Http { status, .. } => Some(*status),
            Reply::Reset => None,
        }
    }
}

/// A request as the handlers see it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Incoming<'a> {
    pub method: &'a http::Method,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
    /// The Host header as sent (with the port).
    pub host: &'a str,
    pub body: &'a [u8],
}

impl Incoming<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decoded query pairs.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

/// Which provider a request is for, what it is about, and the jobs it concerns.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub provider: ProviderKind,
    pub api: String,
    pub job_id: Option<String>,
    pub targets: Vec<usize>,
}

/// The outcome of one provider request, for the recorder.
#[derive(Debug)]
pub(crate) struct Handled {
    pub reply: Reply,
    pub provider: Option<ProviderKind>,
    pub api: String,
    pub job_id: Option<String>,
    pub fault: Option<String>,
}

/// Server time in Unix seconds, for signature windows (shifted by the configured skew).
pub(crate) fn unix_now(skew_secs: i64) -> i64 {
    jiff::Timestamp::now().as_second().saturating_add(skew_secs)
}
