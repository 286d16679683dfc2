//! Request handling for the provider APIs: route the request, pick a fault, apply
//! the network-level faults, verify the signature, render the response, apply the
//! body-level faults. Each provider module supplies targeting, throttling and the answer.

mod alibaba;
mod aws;
mod aws_list;
mod aws_peer;
mod azure;
mod exchange;
mod gcp;
mod gcp_error;
mod gcp_list;
mod huawei;
mod tencent;
mod tencent_legacy;

use super::faults::{FaultKind, FaultRule};
use super::recorder::RecordedRequest;
use super::state::Clock;
use clouddb_api::ProviderKind;

pub(crate) use exchange::{lock, unix_now, Handled, Incoming, Reply, Shared, Target};

/// Handles one provider request end to end.
pub(crate) async fn handle(state: &Shared, req: Incoming<'_>) -> Handled {
    let now = Clock::now();
    if let Some(handled) = aws_peer::handle(state, &req) {
        return handled;
    }
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
