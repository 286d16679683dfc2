//! A local stand-in for Tencent's API gateway: it recomputes the TC3 signature from the
//! received method, Host, body and timestamp with the simulator's independent verifier
//! (`simulator::verify::tc3`, not the client's `sign.rs`), rejects timestamps more than
//! 5 minutes off (`AuthFailure.SignatureExpire`), serves `DescribeTasks` pages and
//! `DescribeAsyncRequestInfo` answers, and injects faults on request.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use clouddb_simulator::verify::tc3::{parse_authorization, signature, utc_date, Request};

pub(super) const ID: &str = "AKIDsimulatorID";
pub(super) const KEY: &str = "simulator-secret-key-value";
pub(super) const TOKEN: &str = "session-token-value";
pub(super) const NOW: i64 = 1_700_000_000;

#[derive(Clone, Debug)]
pub(super) enum Fault {
    /// Answer with this HTTP status and raw body.
    Raw(u16, &'static str),
    /// Answer with an API error envelope.
    Api(&'static str),
    /// A buggy gateway that echoes the Authorization header in its message.
    EchoAuth,
}

#[derive(Clone, Debug)]
pub(super) struct Seen {
    pub(super) path: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Value,
}

#[derive(Default)]
pub(super) struct Sim {
    pub(super) tasks: Vec<Value>,
    pub(super) async_requests: HashMap<String, Value>,
    pub(super) expect_token: Option<String>,
    pub(super) faults: Mutex<VecDeque<Fault>>,
    pub(super) seen: Mutex<Vec<Seen>>,
}

fn api_error(code: &str, message: &str) -> Response {
    let body =
        json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "sim-err"}});
    (StatusCode::OK, axum::Json(body)).into_response()
}

pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Verifies the request like the gateway, then answers the action.
async fn gateway(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(timestamp) = header(&headers, "x-tc-timestamp").parse::<i64>() else {
        return api_error("MissingParameter", "X-TC-Timestamp");
    };
    if (timestamp - NOW).abs() > 300 {
        return api_error("AuthFailure.SignatureExpire", "Signature expired.");
    }
    let Some(auth) = parse_authorization(header(&headers, "authorization")) else {
        return api_error("AuthFailure.SignatureFailure", "bad Authorization header");
    };
    if auth.secret_id != ID {
        return api_error("AuthFailure.SecretIdNotFound", "unknown SecretId");
    }
    let signed = [
        ("content-type", header(&headers, "content-type")),
        ("host", header(&headers, "host")),
    ];
    let request = Request {
        method: method.as_str(),
        query: uri.query().unwrap_or(""),
        headers: &signed,
        payload: &body,
        service: &auth.service,
        timestamp,
    };
    if auth.service != "cdb"
        || auth.signed_headers != ["content-type", "host"]
        || Some(auth.date.as_str()) != utc_date(timestamp).as_deref()
        || Some(auth.signature.as_str()) != signature(KEY, &request).as_deref()
    {
        return api_error("AuthFailure.SignatureFailure", "signature mismatch");
    }
    if header(&headers, "x-tc-version") != "2017-03-20" {
        return api_error("NoSuchVersion", "version");
    }
    if header(&headers, "x-tc-region").is_empty() {
        return api_error("MissingParameter", "X-TC-Region");
    }
    if let Some(token) = &sim.expect_token {
        if header(&headers, "x-tc-token") != token {
            return api_error("AuthFailure.TokenFailure", "bad token");
        }
    }
    let Ok(params) = serde_json::from_slice::<Value>(&body) else {
        return api_error("InvalidParameter", "body is not JSON");
    };
    sim.seen.lock().unwrap().push(Seen {
        path: uri.path().to_string(),
        headers: headers.clone(),
        body: params.clone(),
    });
    let fault = sim.faults.lock().unwrap().pop_front();
    match fault {
        Some(Fault::Raw(status, raw)) => {
            return (StatusCode::from_u16(status).unwrap(), raw).into_response()
        }
        Some(Fault::Api(code)) => return api_error(code, "injected"),
        Some(Fault::EchoAuth) => {
            return api_error(
                "InternalError",
                &format!("failed: {}", header(&headers, "authorization")),
            )
        }
        None => {}
    }
    match header(&headers, "x-tc-action") {
        "DescribeTasks" => {
            let instance = params["InstanceId"].as_str();
            let matching: Vec<&Value> = sim
                .tasks
                .iter()
                .filter(|t| instance.is_none_or(|i| t["InstanceIds"][0] == i))
                .collect();
            let offset = params["Offset"].as_u64().unwrap_or(0) as usize;
            let limit = params["Limit"].as_u64().unwrap_or(20).min(100) as usize;
            let items: Vec<&Value> = matching.iter().skip(offset).take(limit).copied().collect();
            let body = json!({"Response": {"TotalCount": matching.len(), "Items": items, "RequestId": "sim-ok"}});
            axum::Json(body).into_response()
        }
        "DescribeAsyncRequestInfo" => {
            let id = params["AsyncRequestId"].as_str().unwrap_or("");
            match sim.async_requests.get(id) {
                Some(answer) => axum::Json(json!({"Response": answer})).into_response(),
                None => api_error("InvalidParameter.InvalidAsyncRequestId", "unknown id"),
            }
        }
        _ => api_error("InvalidAction", "unknown action"),
    }
}

/// 250 tasks on `cdb-1` (JobId 1000..1249, newest first) and 5 on `cdb-2`.
pub(super) fn tasks() -> Vec<Value> {
    let mut tasks: Vec<Value> = (0..250)
        .rev()
        .map(|i| {
            json!({"JobId": 1000 + i, "TaskStatus": "RUNNING", "TaskType": "UPGRADE MASTER",
                   "Progress": i % 100, "InstanceIds": ["cdb-1"], "Code": 0, "Message": "",
                   "StartTime": "2024-01-01 10:00:00", "EndTime": "0000-00-00 00:00:00"})
        })
        .collect();
    tasks
        .extend((0..5).map(
            |i| json!({"JobId": 5000 + i, "TaskStatus": "SUCCEED", "InstanceIds": ["cdb-2"]}),
        ));
    tasks
}

pub(super) async fn start(sim: Sim) -> (Arc<Sim>, String) {
    let sim = Arc::new(sim);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(gateway)
        .with_state(sim.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (sim, format!("http://{addr}"))
}
