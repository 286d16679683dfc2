//! Request handling for the provider APIs: route the request, pick a fault, apply
//! the network-level faults, verify the signature, render the response, apply the
//! body-level faults. Each provider module supplies targeting, throttling and the answer.

mod alibaba;
mod aws;
mod azure;
mod gcp;
mod huawei;
mod tencent;
mod tencent_legacy;

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use super::faults::{FaultKind, FaultRule};
use super::recorder::RecordedRequest;
use super::state::{Clock, SimState};
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

/// Handles one provider request end to end.
pub(crate) async fn handle(state: &Shared, req: Incoming<'_>) -> Handled {
    let now = Clock::now();
    // The STS of workload identity: no job, no fault rules.
    let sts = if req.path == huawei::OIDC_TOKEN_PATH {
        Some((ProviderKind::Huawei, "OidcIdToken"))
    } else if req.path != "/" {
        None
    } else if aws::speaks_sts(&req) {
        Some((ProviderKind::Aws, "AssumeRoleWithWebIdentity"))
    } else if alibaba::speaks_sts(&req) {
        Some((ProviderKind::Alibaba, "AssumeRoleWithOIDC"))
    } else if tencent::speaks_sts(&req) {
        Some((ProviderKind::Tencent, "AssumeRoleWithWebIdentity (Tencent)"))
    } else {
        None
    };
    if let Some((provider, action)) = sts {
        let mut st = lock(state);
        let reply = match provider {
            ProviderKind::Alibaba => alibaba::assume_role_with_oidc(&mut st, &req),
            ProviderKind::Huawei => huawei::oidc_token(&mut st, &req),
            ProviderKind::Tencent => tencent::assume_role_with_web_identity(&mut st, &req),
            _ => aws::assume_role_with_web_identity(&mut st, &req),
        };
        return Handled {
            reply,
            provider: Some(provider),
            api: action.into(),
            job_id: None,
            fault: None,
        };
    }
    if req.path == gcp::TOKEN_PATH {
        return gcp::token(state, &req);
    }
    if gcp::speaks_federation(&req) {
        return Handled {
            reply: gcp::federation(&mut lock(state), &req),
            provider: Some(ProviderKind::Gcp),
            api: gcp::FEDERATION_API.into(),
            job_id: None,
            fault: None,
        };
    }
    let target = {
        let st = lock(state);
        // Three RPC-style APIs share `/`: Alibaba names its action in `x-acs-action`,
        // Tencent in `X-TC-Action`, AWS in the form body's `Action`. Azure's token endpoint
        // and ARM have paths of their own.
        if req.path == "/" && alibaba::speaks(&req) {
            Some(alibaba::target(&st, &req))
        } else if req.path == "/" && aws::speaks(&req) {
            Some(aws::target(&st, &req))
        } else if req.path == "/" {
            Some(tencent::target(&st, &req))
        } else if gcp::speaks(&req) {
            Some(gcp::target(&st, &req))
        } else if req.path == "/v2/index.php" {
            Some(tencent_legacy::target(&st, &req))
        } else if azure::speaks_token(&req) || azure::speaks_arm(&req) {
            Some(azure::target(&st, &req))
        } else {
            huawei::target(&st, &req)
        }
    };
    let Some(target) = target else {
        let body = serde_json::json!({"error": "no such simulated API", "path": req.path});
        return Handled {
            reply: Reply::json(404, &body),
            provider: None,
            api: req.path.to_string(),
            job_id: None,
            fault: None,
        };
    };
    let decided = lock(state).decide_fault(
        Some(target.provider),
        &target.targets,
        target.job_id.as_deref(),
        now,
    );
    let fault_label = decided.as_ref().map(|(rule, _)| rule.label());
    // A client that gives up on a slow answer drops this future mid-way; the request is
    // still recorded (without a status, as nothing was sent).
    let mut unanswered = RecordIfDropped {
        state,
        request: Some(RecordedRequest {
            seq: 0,
            at: jiff::Timestamp::now(),
            provider: Some(target.provider),
            api: target.api.clone(),
            job_id: target.job_id.clone(),
            status: None,
            fault: fault_label.clone(),
        }),
    };
    let reply = respond(state, &req, &target, decided.as_ref()).await;
    unanswered.request = None;
    Handled {
        reply,
        provider: Some(target.provider),
        api: target.api,
        job_id: target.job_id,
        fault: fault_label,
    }
}

/// Records its request when dropped before being disarmed (`request = None`).
struct RecordIfDropped<'a> {
    state: &'a Shared,
    request: Option<RecordedRequest>,
}

impl Drop for RecordIfDropped<'_> {
    fn drop(&mut self) {
        if let Some(mut request) = self.request.take() {
            request.at = jiff::Timestamp::now();
            lock(self.state).recorder.record(request);
        }
    }
}

async fn respond(
    state: &Shared,
    req: &Incoming<'_>,
    target: &Target,
    decided: Option<&(FaultRule, Option<usize>)>,
) -> Reply {
    let mut hidden = None;
    if let Some((rule, job)) = decided {
        match rule.fault {
            FaultKind::Reset => return Reply::Reset,
            FaultKind::Status => {
                let status = rule.http_status();
                let mut st = lock(state);
                let reply = Reply::Http {
                    status,
                    body: format!("simulated HTTP {status}\n").into_bytes(),
                    content_type: "text/plain; charset=utf-8",
                    headers: Vec::new(),
                };
                return match target.provider {
                    ProviderKind::Huawei => reply.with_header("x-request-id", st.request_id()),
                    ProviderKind::Aws => reply.with_header("x-amzn-RequestId", st.request_id()),
                    ProviderKind::Azure => reply.with_header("x-ms-request-id", st.request_id()),
                    _ => reply,
                };
            }
            FaultKind::Throttle => {
                let mut st = lock(state);
                return match target.provider {
                    ProviderKind::Tencent => tencent::throttled(&mut st),
                    ProviderKind::TencentLegacy => tencent_legacy::throttled(),
                    ProviderKind::Huawei => huawei::throttled(&mut st, rule.retry_after),
                    ProviderKind::Alibaba => alibaba::throttled(&mut st),
                    ProviderKind::Aws => aws::throttled(&mut st),
                    ProviderKind::Azure => {
                        azure::throttled(&mut st, target, rule.retry_after, Clock::now())
                    }
                    ProviderKind::Gcp => gcp::throttled(rule.retry_after),
                };
            }
            FaultKind::Slow | FaultKind::Timeout => tokio::time::sleep(rule.sleep()).await,
            FaultKind::Unknown => {
                // A global rule hides every job the request concerns.
                hidden = match job {
                    Some(idx) => Some(vec![*idx]),
                    None => Some(target.targets.clone()),
                }
            }
            FaultKind::Malformed | FaultKind::Truncated => {}
        }
    }
    let hidden = hidden.unwrap_or_default();
    // Time moves on while a slow response sleeps: evaluate the job at answer time.
    let now = Clock::now();
    let reply = {
        let mut st = lock(state);
        match target.provider {
            ProviderKind::Tencent => tencent::answer(&mut st, req, target, &hidden, now),
            ProviderKind::TencentLegacy => {
                tencent_legacy::answer(&mut st, req, target, &hidden, now)
            }
            ProviderKind::Huawei => huawei::answer(&mut st, req, target, &hidden, now),
            ProviderKind::Alibaba => alibaba::answer(&mut st, req, target, &hidden, now),
            ProviderKind::Aws => aws::answer(&mut st, req, target, &hidden, now),
            ProviderKind::Azure => azure::answer(&mut st, req, target, &hidden, now),
            ProviderKind::Gcp => gcp::answer(&mut st, req, target, &hidden, now),
        }
    };
    match decided.map(|(rule, _)| rule.fault) {
        Some(FaultKind::Malformed) => corrupt(reply, false),
        Some(FaultKind::Truncated) => corrupt(reply, true),
        _ => reply,
    }
}

/// Breaks a body: cut in half, or with its first `:` (JSON) or `>` (XML, whose first `:`
/// may sit harmlessly in a namespace URL) turned into `=`.
fn corrupt(reply: Reply, truncate: bool) -> Reply {
    match reply {
        Reply::Http {
            status,
            mut body,
            content_type,
            headers,
        } => {
            if truncate {
                body.truncate(body.len() / 2);
            } else if let Some(pos) = body.iter().position(|b| {
                *b == if content_type.contains("xml") {
                    b'>'
                } else {
                    b':'
                }
            }) {
                body[pos] = b'=';
            } else {
                body = b"{not json".to_vec();
            }
            Reply::Http {
                status,
                body,
                content_type,
                headers,
            }
        }
        Reply::Reset => Reply::Reset,
    }
}

/// Server time in Unix seconds, for signature windows (shifted by the configured skew).
pub(crate) fn unix_now(skew_secs: i64) -> i64 {
    jiff::Timestamp::now().as_second().saturating_add(skew_secs)
}
