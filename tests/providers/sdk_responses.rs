//! The official SDKs as oracles of response decoding (issue 29, part 3): for every provider
//! API with an official SDK, `tests/sdk_oracle/build_responses.py` builds response bodies
//! from the SDK's own response model (every member filled; only the required ones; and one
//! per documented status value) and says what the SDK's deserializer reads from each. Each
//! body goes through the client's pure response path (`interpret` / `parse_response` and the
//! mapping, as after an HTTP 200) and what the operator read must equal what the SDK read:
//! status, progress, start and end times (as instants), the job's identity, instance IDs and
//! the per-API detail the SDK exposes.
//!
//! Tencent CDB API 2.0 (`tencent-legacy`) has no SDK and is not covered. Huawei
//! `taurusdb-legacy` has no operation in the current SDK and is checked against the TaurusDB
//! `ShowGaussMySqlJobInfo` model (the same job document).
//!
//! A field the operator needs but the model does not require (the status, for every API but
//! Azure's) may be absent from a valid answer. The decision: that is never a decode error
//! nor a panic, and never a terminal phase; the job stays non-terminal (reason
//! `UnknownStatus`, or plain `Pending` where the API documents a null status for a request
//! not yet started, Tencent `DescribeAsyncRequestInfo`) with a message saying the provider
//! reported no status, so the controller's tracking timeout, not a guess, ends it. The
//! `required` variant checks exactly that; a body that is not the model's shape at all
//! stays what it was, a transient `MalformedResponse` error.
//!
//! The test fails, never skips, when the venv of `scripts/sdk-venv.sh` cannot be created.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};

use clouddb_job_operator::api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_job_operator::providers::http::HttpResponse;
use clouddb_job_operator::providers::{alibaba, aws, azure, gcp, huawei, tencent};
use clouddb_job_operator::providers::{JobObservation, JobTarget};

/// Documented status values the operator deliberately reads as unknown (never terminal).
const DELIBERATELY_UNKNOWN: &[(&str, &str)] = &[
    // "The state of the operation is unknown": not a state a job can be in.
    ("cloudsql", "SQL_OPERATION_STATUS_UNSPECIFIED"),
];

const UNKNOWN_STATUS: &str = "UnknownStatus";

#[derive(Clone, Debug, Deserialize)]
struct Case {
    provider: String,
    api: String,
    variant: String,
    job_id: String,
    body: String,
    content_type: String,
    expected: Expected,
}

#[derive(Clone, Debug, Deserialize)]
struct Expected {
    status: Option<String>,
    progress: Option<Value>,
    start: Option<String>,
    end: Option<String>,
    job_id: String,
    instance_ids: Vec<String>,
    detail: Map<String, Value>,
}

impl Case {
    fn label(&self) -> String {
        format!("{} {} [{}]", self.provider, self.api, self.variant)
    }

    fn api(&self) -> ProviderApi {
        let kind: ProviderKind = self.provider.parse().unwrap();
        ProviderApi::parse(kind, &self.api)
            .unwrap_or_else(|| panic!("{}: no such API", self.label()))
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pinned venv's Python (created or checked by `scripts/sdk-venv.sh`); fails with the
/// script's output when it cannot be created (no network the first time).
fn sdk_python() -> PathBuf {
    let out = Command::new("bash")
        .arg(root().join("scripts/sdk-venv.sh"))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "the official SDKs' venv could not be created (scripts/sdk-venv.sh needs PyPI the \
         first time; run it by hand, or scripts/test.sh, with network access):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let python = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(python.is_file(), "scripts/sdk-venv.sh printed {python:?}");
    python
}

/// Every response the SDKs built.
fn sdk_cases() -> Vec<Case> {
    let out = Command::new(sdk_python())
        .arg(root().join("tests/sdk_oracle/build_responses.py"))
        .output()
        .expect("the venv's python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "build_responses.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn http_200(case: &Case) -> HttpResponse {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        case.content_type.parse().unwrap(),
    );
    HttpResponse {
        status: 200,
        headers,
        body: case.body.clone().into_bytes(),
    }
}

fn target(case: &Case) -> JobTarget {
    let kind: ProviderKind = case.provider.parse().unwrap();
    let target = JobTarget::new(
        kind,
        Some(&case.api),
        &case.job_id,
        Some("westeurope"),
        None,
        Some("my-project"),
        None,
    )
    .unwrap();
    match kind {
        ProviderKind::Azure => target
            .with_subscription_id(Some("00000000-0000-0000-0000-000000000000"))
            .unwrap(),
        _ => target,
    }
}

/// The client's pure path from an HTTP 200 answer to the observation of `case.job_id`.
fn decode(case: &Case) -> Result<JobObservation, String> {
    let response = http_200(case);
    let job = case.job_id.as_str();
    let api = case.api();
    match api {
        ProviderApi::DescribeTasks | ProviderApi::DescribeAsyncRequestInfo => {
            let value = tencent::errors::parse_response(200, case.body.as_bytes(), None)
                .map_err(|e| e.describe())?;
            if api == ProviderApi::DescribeTasks {
                let page: tencent::DescribeTasksPage =
                    serde_json::from_value(value).map_err(|e| e.to_string())?;
                tencent::observe_in_page(&page, job).ok_or_else(|| "job not listed".into())
            } else {
                let info: tencent::AsyncRequestInfo =
                    serde_json::from_value(value).map_err(|e| e.to_string())?;
                Ok(tencent::map_async_request_info(&info))
            }
        }
        ProviderApi::Rds | ProviderApi::TaurusDb | ProviderApi::TaurusDbLegacy => {
            huawei::client::interpret(&response, job).map_err(|e| e.describe())
        }
        ProviderApi::AlibabaRds | ProviderApi::PolarDb => {
            match alibaba::client::interpret(&response, job).map_err(|e| e.describe())? {
                alibaba::client::PageOutcome::Found(obs) => Ok(*obs),
                other => Err(format!("job not listed: {other:?}")),
            }
        }
        ProviderApi::CloudSql => {
            gcp::client::interpret(&response, &target(case)).map_err(|e| e.describe())
        }
        ProviderApi::PostgresqlFlexible | ProviderApi::MysqlFlexible => {
            azure::client::interpret(&response, &target(case)).map_err(|e| format!("{e:?}"))
        }
        _ => aws::client::interpret(api, &response, job).map_err(|e| e.describe()),
    }
}

/// A progress as the SDK read it (a number, or text such as `"60%"`), floored to 0-100.
fn percent(value: &Value) -> Option<u8> {
    let f = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok()?,
        _ => return None,
    };
    Some(f.clamp(0.0, 100.0).floor() as u8)
}

fn instant(text: &Option<String>) -> Option<Timestamp> {
    text.as_deref()
        .map(|t| t.parse().unwrap_or_else(|e| panic!("{t}: {e}")))
}

/// Every difference between what the operator read and what the SDK read.
fn compare(case: &Case, obs: &JobObservation) -> Vec<String> {
    let want = &case.expected;
    let mut bad = Vec::new();
    let mut check = |what: &str, ok: bool, got: String, expected: String| {
        if !ok {
            bad.push(format!("{what}: operator read {got}, SDK read {expected}"));
        }
    };
    let succeeded = obs.phase == Some(JobPhase::Succeeded);
    check(
        "job",
        !obs.is_not_found_yet() && want.job_id == case.job_id,
        format!("{:?}", obs.reason),
        format!("job {} listed", want.job_id),
    );
    check(
        "status",
        obs.provider_status.as_deref() == want.status.as_deref().map(str::trim),
        format!("{:?}", obs.provider_status),
        format!("{:?}", want.status),
    );
    // Blue/green progress is derived from Tasks/SwitchoverDetails (compared below); a done
    // job is 100 by rule, whatever the provider's last progress was.
    if !matches!(
        case.api(),
        ProviderApi::BlueGreen | ProviderApi::BlueGreenSwitchover
    ) {
        let expected = match &want.progress {
            _ if succeeded => Some(100),
            Some(p) => percent(p),
            None => None,
        };
        check(
            "progress",
            obs.progress == expected,
            format!("{:?}", obs.progress),
            format!("{:?} ({:?})", expected, want.progress),
        );
    }
    check(
        "start time",
        obs.start_time == instant(&want.start),
        format!("{:?}", obs.start_time),
        format!("{:?}", want.start),
    );
    check(
        "end time",
        obs.end_time == instant(&want.end),
        format!("{:?}", obs.end_time),
        format!("{:?}", want.end),
    );
    check(
        "instance IDs",
        obs.instance_ids == want.instance_ids,
        format!("{:?}", obs.instance_ids),
        format!("{:?}", want.instance_ids),
    );
    let aws = obs.detail.aws.clone().unwrap_or_default();
    let azure = obs.detail.azure.clone().unwrap_or_default();
    for (key, value) in &want.detail {
        let text = value.as_str().map(String::from);
        let (ok, got) = match key.as_str() {
            "task_type" => (
                obs.provider_job_type == text,
                format!("{:?}", obs.provider_job_type),
            ),
            "remaining_seconds" => (
                obs.remaining.map(|d| d.as_secs())
                    == value
                        .as_u64()
                        .filter(|_| !obs.phase_or_pending().is_terminal()),
                format!("{:?}", obs.remaining),
            ),
            "info" => (obs.message == text, format!("{:?}", obs.message)),
            "source_arn" => (aws.source_arn == text, format!("{:?}", aws.source_arn)),
            "target_arn" => (aws.target_arn == text, format!("{:?}", aws.target_arn)),
            "s3_bucket" => (aws.s3_bucket == text, format!("{:?}", aws.s3_bucket)),
            "snapshot_type" => (
                aws.snapshot_type == text,
                format!("{:?}", aws.snapshot_type),
            ),
            "engine" => (aws.engine == text, format!("{:?}", aws.engine)),
            "tasks" => {
                let got: Vec<Value> = aws
                    .tasks
                    .iter()
                    .map(|t| serde_json::json!([t.name, t.status]))
                    .collect();
                (Value::Array(got.clone()) == *value, format!("{got:?}"))
            }
            "operation_name" => (
                azure.operation_name == text,
                format!("{:?}", azure.operation_name),
            ),
            "error_code" => (azure.error_code == text, format!("{:?}", azure.error_code)),
            "sdk_finished" => (
                Some(obs.phase_or_pending().is_terminal()) == value.as_bool(),
                format!("{:?}", obs.phase),
            ),
            "sdk_failed" => (
                Some(obs.phase == Some(JobPhase::Failed)) == value.as_bool(),
                format!("{:?}", obs.phase),
            ),
            other => (false, format!("no check for detail {other:?}")),
        };
        check(key, ok, got, value.to_string());
    }
    // A documented status must be one the operator knows; an absent one is never terminal.
    let unknown = obs.reason.as_deref() == Some(UNKNOWN_STATUS);
    match &want.status {
        Some(status) => {
            let deliberate = DELIBERATELY_UNKNOWN.contains(&(case.api.as_str(), status.as_str()));
            check(
                "known status",
                unknown == deliberate,
                format!("reason {:?}, message {:?}", obs.reason, obs.message),
                format!("documented status {status:?}"),
            );
        }
        None => check(
            "absent status",
            !obs.phase_or_pending().is_terminal()
                && obs
                    .message
                    .as_deref()
                    .is_some_and(|m| m.contains("no") && m.contains("status")),
            format!("{:?} {:?} {:?}", obs.phase, obs.reason, obs.message),
            "no status: non-terminal, with a message saying so".into(),
        ),
    }
    bad
}

#[test]
fn clients_read_what_the_official_sdks_read() {
    let cases = sdk_cases();
    let mut failures = Vec::new();
    for case in &cases {
        match decode(case) {
            Ok(obs) => {
                let bad = compare(case, &obs);
                if !bad.is_empty() {
                    failures.push(format!("{}:\n    {}", case.label(), bad.join("\n    ")));
                }
            }
            Err(e) => failures.push(format!("{}: decode error: {e}", case.label())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} SDK-built responses read differently by the operator:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_api_with_an_sdk_is_covered_in_both_variants() {
    let cases = sdk_cases();
    let no_sdk = [
        ProviderApi::GetCdbTaskInfo,
        ProviderApi::GetCdbUpgradeJobInfo,
        ProviderApi::GetCdbRollbackJobTask,
    ];
    for api in ProviderApi::ALL.into_iter().filter(|a| !no_sdk.contains(a)) {
        let variants: BTreeSet<&str> = cases
            .iter()
            .filter(|c| c.api() == api)
            .map(|c| c.variant.as_str())
            .collect();
        for wanted in ["full", "required"] {
            assert!(variants.contains(wanted), "{api:?}: no {wanted} response");
        }
        assert!(
            variants.iter().filter(|v| v.starts_with("status:")).count() >= 3,
            "{api:?}: documented statuses not swept: {variants:?}"
        );
    }
}

#[test]
fn the_comparison_catches_a_value_the_sdk_did_not_read() {
    // The oracle can fail: each full response, with one expected value changed, differs.
    let cases = sdk_cases();
    let full: Vec<&Case> = cases.iter().filter(|c| c.variant == "full").collect();
    assert!(full.len() >= 15, "only {} full responses", full.len());
    for case in full {
        let obs = decode(case).unwrap_or_else(|e| panic!("{}: {e}", case.label()));
        let mut tampered = case.clone();
        tampered.expected.status = Some("NOT_A_STATUS".into());
        tampered.expected.start = Some("2001-02-03T04:05:06Z".into());
        let bad = compare(&tampered, &obs);
        assert!(
            bad.iter().any(|b| b.starts_with("status:"))
                && bad.iter().any(|b| b.starts_with("start time:")),
            "{}: a changed status and start time went unnoticed: {bad:?}",
            case.label()
        );
    }
}
