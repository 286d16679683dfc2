//! The `/_sim/*` control API, for end-to-end tests that drive the real binary: read the
//! request log, add jobs and faults, reset. Loopback only and unauthenticated by design;
//! control requests are not recorded, so counts reflect provider traffic only.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::faults::FaultRule;
use super::handlers::{lock, Shared};
use super::render::tencent_time;
use super::scenario::{JobSpec, Scenario};
use super::state::Clock;

type Reply = (StatusCode, Json<Value>);

fn bad(message: String) -> Reply {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message})))
}

/// `GET /_sim/requests`: counters and the recent requests.
pub(crate) async fn requests(State(state): State<Shared>) -> Json<Value> {
    let st = lock(&state);
    Json(json!({
        "counters": st.recorder.counters(),
        "recent": st.recorder.recent(),
    }))
}

/// `GET /_sim/jobs`: every job with its current state.
pub(crate) async fn list_jobs(State(state): State<Shared>) -> Json<Value> {
    let mut st = lock(&state);
    let now = Clock::now();
    let mut out = Vec::new();
    for idx in 0..st.jobs.len() {
        let view = if st.jobs[idx].origin.is_some() {
            st.view(idx, now)
        } else {
            None
        };
        let entry = &st.jobs[idx];
        out.push(json!({
            "provider": entry.spec.provider,
            "api": entry.spec.api(),
            "jobId": entry.spec.job_id,
            "requests": entry.requests,
            "clockStarted": entry.origin.is_some(),
            "state": view.map(|v| json!({
                "phase": v.state.phase,
                "progress": v.state.progress,
                "message": v.state.message,
                "start": tencent_time(v.start),
                "end": v.end.map(tencent_time),
            })),
        }));
    }
    Json(json!({"uptimeSeconds": st.uptime().as_secs(), "jobs": out}))
}

/// A job, a list of jobs, or a whole scenario.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum JobsBody {
    Scenario(Scenario),
    Many(Vec<JobSpec>),
    One(Box<JobSpec>),
}

/// `POST /_sim/jobs`: adds or replaces jobs (JSON: one job, a list, or a scenario, whose
/// announced maintenance is added too).
pub(crate) async fn add_job(State(state): State<Shared>, body: axum::body::Bytes) -> Reply {
    let parsed: JobsBody = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return bad(format!("expected a job, a list of jobs or a scenario: {e}")),
    };
    let (jobs, maintenance) = match parsed {
        JobsBody::Scenario(s) => (s.resolved_jobs(), s.maintenance),
        JobsBody::Many(jobs) => (jobs, Vec::new()),
        JobsBody::One(job) => (vec![*job], Vec::new()),
    };
    if let Some(e) = jobs.iter().find_map(|j| j.validate().err()) {
        return bad(e);
    }
    let mut st = lock(&state);
    let count = jobs.len();
    for job in jobs {
        st.upsert_job(job);
    }
    st.maintenance.extend(maintenance);
    (StatusCode::CREATED, Json(json!({"added": count})))
}

/// `GET /_sim/faults`: the global fault rules.
pub(crate) async fn list_faults(State(state): State<Shared>) -> Json<Value> {
    Json(json!({"faults": lock(&state).faults}))
}

/// One rule or a list, in the YAML/JSON form or the command-line string form.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum FaultsBody {
    Flag(String),
    Flags(Vec<String>),
    One(FaultRule),
    Many(Vec<FaultRule>),
}

/// `POST /_sim/faults`: appends global fault rules.
pub(crate) async fn add_faults(State(state): State<Shared>, body: axum::body::Bytes) -> Reply {
    let parsed: FaultsBody = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return bad(format!("expected a fault rule or a list of them: {e}")),
    };
    let rules: Result<Vec<FaultRule>, String> = match parsed {
        FaultsBody::Flag(f) => super::faults::parse_flag(&f).map(|r| vec![r]),
        FaultsBody::Flags(fs) => fs.iter().map(|f| super::faults::parse_flag(f)).collect(),
        FaultsBody::One(r) => Ok(vec![r]),
        FaultsBody::Many(rs) => Ok(rs),
    };
    let rules = match rules {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    if let Some(e) = rules.iter().find_map(|r| r.validate().err()) {
        return bad(e);
    }
    let mut st = lock(&state);
    let count = rules.len();
    st.faults.extend(rules);
    (StatusCode::CREATED, Json(json!({"added": count})))
}

/// `DELETE /_sim/faults`: removes every global fault rule (configured ones included).
pub(crate) async fn clear_faults(State(state): State<Shared>) -> Json<Value> {
    let mut st = lock(&state);
    let removed = st.faults.len();
    st.faults.clear();
    Json(json!({"removed": removed}))
}

/// `POST /_sim/azure/revoke-tokens`: revokes every Azure access token issued so far, so
/// clients holding one get ARM's 401 `InvalidAuthenticationToken` and must fetch another.
pub(crate) async fn revoke_azure_tokens(State(state): State<Shared>) -> Json<Value> {
    let mut st = lock(&state);
    let revoked = st.azure_tokens.revoke_all();
    Json(json!({"revoked": revoked, "issued": st.azure_tokens.issued()}))
}

/// `POST /_sim/reset`: back to the configured jobs and faults, fresh clocks and log.
/// Revokes every Google access token issued so far.
pub(crate) async fn revoke_gcp_tokens(State(state): State<Shared>) -> Json<Value> {
    let mut st = lock(&state);
    let revoked = st.gcp_tokens.revoke_all();
    Json(json!({"revoked": revoked, "tokenRequests": st.gcp_tokens.requests}))
}

pub(crate) async fn reset(State(state): State<Shared>) -> Json<Value> {
    lock(&state).reset();
    Json(json!({"reset": true}))
}
