//! Azure Resource Manager answers for the flexible servers' async operations: the
//! Azure-AsyncOperation status body, ARM's error envelope and Microsoft Entra ID's token
//! answers and refusals.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::RenderJob;
use crate::scenario::Phase;

/// `spec.api` names and their resource provider namespaces and api-versions.
pub const APIS: [(&str, &str, &str); 2] = [
    (
        "postgresql-flexible",
        "Microsoft.DBforPostgreSQL",
        "2024-08-01",
    ),
    ("mysql-flexible", "Microsoft.DBforMySQL", "2023-12-30"),
];

/// ARM time: RFC 3339 UTC with seven fractional digits, as ARM writes them.
pub fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%7fZ").to_string()
}

/// The operation `status`. ARM has no pending or paused value: an operation is in progress
/// until it ends; a killed or removed job was canceled.
pub fn status(phase: Phase) -> &'static str {
    match phase {
        Phase::Initial | Phase::Waiting | Phase::Paused | Phase::Running => "InProgress",
        Phase::Succeed => "Succeeded",
        Phase::Failed => "Failed",
        Phase::Killed | Phase::Removed => "Canceled",
    }
}

/// The status body. `path` is the operation's ARM path (`/subscriptions/.../{id}`).
pub fn operation(j: &RenderJob<'_>, path: &str) -> Value {
    let status = status(j.state.phase);
    let mut body = json!({
        "id": path,
        "name": j.job.job_id,
        "status": status,
        "startTime": time(j.start),
    });
    match status {
        "Succeeded" => body["percentComplete"] = json!(100.0),
        "InProgress" => body["percentComplete"] = json!(f64::from(j.state.progress)),
        _ => {}
    }
    if let Some(end) = j.end {
        body["endTime"] = json!(time(end));
    }
    let code = j.job.detail.error_code.clone();
    let message = (!j.state.message.is_empty()).then(|| j.state.message.clone());
    match status {
        "Failed" => {
            body["error"] = json!({
                "code": code.unwrap_or_else(|| "InternalServerError".into()),
                "message": message.unwrap_or_else(|| "An unexpected error occured while processing the request.".into()),
            });
        }
        "Canceled" => {
            body["error"] = json!({
                "code": code.unwrap_or_else(|| "OperationCancelled".into()),
                "message": message.unwrap_or_else(|| "The operation was cancelled.".into()),
            });
        }
        _ => {}
    }
    body
}

/// ARM's error envelope.
pub fn arm_error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

/// A token answer (`expires_in` as a number, as the v2.0 endpoint sends it).
pub fn token(access_token: &str, lifetime_secs: u64) -> Value {
    json!({
        "token_type": "Bearer",
        "expires_in": lifetime_secs,
        "ext_expires_in": lifetime_secs,
        "access_token": access_token,
    })
}

/// A token endpoint refusal with Entra's extras.
pub fn token_error(
    error: &str,
    aadsts: u32,
    description: &str,
    trace_id: &str,
    correlation_id: &str,
    now: Timestamp,
) -> Value {
    let timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ").to_string();
    json!({
        "error": error,
        "error_description": format!(
            "AADSTS{aadsts}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}"
        ),
        "error_codes": [aadsts],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::scenario::Scenario;
    use crate::timeline::state_at;
    use clouddb_api::{JobPhase, ProviderApi, ProviderKind};
    use clouddb_providers::azure::mapping::{decode_operation, map_operation};

    /// Every built-in Azure job at `at` seconds, read back by the client's mapping.
    fn rendered(at: u64) -> Vec<(String, Value, clouddb_providers::JobObservation)> {
        let start = Timestamp::from_second(1_714_550_400).unwrap();
        Scenario::builtins()
            .unwrap()
            .iter()
            .flat_map(|s| s.resolved_jobs())
            .filter(|j| j.provider == ProviderKind::Azure)
            .filter_map(|job| {
                let state = state_at(&job.timeline, Duration::from_secs(at))?;
                let end = state.ended.map(|e| {
                    start
                        .checked_add(jiff::SignedDuration::from_secs(e.as_secs() as i64))
                        .unwrap()
                });
                let rj = RenderJob {
                    job: &job,
                    state: &state,
                    start,
                    end,
                };
                let body = operation(&rj, "/subscriptions/s/x");
                let api = ProviderApi::parse(ProviderKind::Azure, job.api()).unwrap();
                let obs =
                    map_operation(&decode_operation(body.to_string().as_bytes()).unwrap(), api);
                Some((job.job_id.clone(), body, obs))
            })
            .collect()
    }

    #[test]
    fn built_in_jobs_read_back_as_their_timelines_say() {
        let early = rendered(0);
        assert!(early.len() >= 4, "built-ins cover both APIs");
        for (id, body, obs) in &early {
            assert_eq!(body["status"], "InProgress", "{id}");
            assert_eq!(obs.phase, Some(JobPhase::Running), "{id}");
            assert_eq!(body["name"], id.as_str());
        }
        let late = rendered(24 * 3600);
        let phases: Vec<_> = late.iter().map(|(_, _, o)| o.phase.unwrap()).collect();
        assert!(phases.contains(&JobPhase::Succeeded));
        assert!(phases.contains(&JobPhase::Failed));
        for (id, body, obs) in &late {
            assert!(body["endTime"].is_string(), "{id}");
            assert!(obs.end_time.is_some() && obs.start_time.is_some(), "{id}");
            if obs.phase == Some(JobPhase::Failed) {
                let code = body["error"]["code"].as_str().unwrap();
                assert!(obs.message.as_deref().unwrap().contains(code), "{id}");
                assert_eq!(
                    obs.detail.azure.as_ref().unwrap().error_code.as_deref(),
                    Some(code)
                );
            }
        }
    }

    #[test]
    fn times_have_arm_s_seven_digits() {
        let t = Timestamp::from_second(1_714_550_400).unwrap();
        assert_eq!(time(t), "2024-05-01T08:00:00.0000000Z");
        assert_eq!(
            clouddb_providers::azure::mapping::parse_time(&time(t)),
            Some(t)
        );
    }
}
