//! The official SDKs' service models as oracles of request parameters (issue 29, part 2):
//! every API in `ProviderApi::ALL` and the six workload-identity exchanges are called
//! through the real clients against a local capture server, and each captured request is
//! handed to `tests/sdk_oracle/verify_requests.py` (pinned venv of `scripts/sdk-venv.sh`),
//! which checks method, path, every parameter's name (exact casing), type and the required
//! ones against the SDK's own model of that operation, and where the SDK can, has it build
//! the same call and compares the parameters it would send:
//!
//! - AWS RDS and STS: botocore's service-2 shapes (query protocol), `ParamValidator` and the
//!   query serializer; the batched describes' identifier filters too
//!   (`Filters.Filter.1.Values.Value.N`, rebuilt into the model's list and structure
//!   shapes), each filter's name one the model documents for the operation;
//! - Tencent Cloud API 3.0 (cdb 2017-03-20, sts 2018-08-13): the SDK's request model
//!   classes and its client's request building. The Python SDK does not mark required
//!   parameters, so only the job's own parameter is required there;
//! - Tencent CDB API 2.0 (`tencent-legacy`): no SDK models it. Only the common parameters
//!   (names and casing as the SDK's own HmacSHA1/HmacSHA256 request path writes them, the
//!   signature method, integer timestamp and nonce) are checked; `jobId` is the documented
//!   name, unchecked by any model;
//! - Huawei Cloud RDS and TaurusDB: the SDK's request classes and `_http_info` (method, URL
//!   template, path, query and header parameters); `taurusdb-legacy`'s `/mysql/v3` path is
//!   no longer modeled, its query parameters are checked against TaurusDB's;
//! - Alibaba Cloud RDS, PolarDB and STS: the Tea SDK clients build the RPC request (action,
//!   version, style, parameters) from the same values, and the request models' fields;
//! - Google Cloud SQL, STS and IAM Credentials: the bundled discovery documents (method,
//!   path template, parameters, request schema, required) and google-auth's STS client;
//! - Azure: no SDK models the `azureAsyncOperation` status resource (the flexible-server SDKs
//!   model `operationResults` only): azure-mgmt-core's resource ID parser and ARM's
//!   `api-version` convention are checked; the token request against MSAL's own.
//!
//! Differences allowed, and why: Alibaba Cloud STS parameters in the form body where the Tea
//! SDK puts them in the query (RPC style reads both; the token stays out of URLs) and
//! `Format=JSON` where it writes `json`; googleapiclient's `alt=json` (the document's
//! default); MSAL's `client_info` opt-in and telemetry (not parameters of the grant).
//!
//! The venv must exist: the test fails, never skips, when it cannot be created.

use std::sync::Arc;

use serde_json::{json, Value};

use clouddb_job_operator::api::{ProviderApi, ProviderKind};
use clouddb_job_operator::providers::alibaba::AlibabaProvider;
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::azure::AzureProvider;
use clouddb_job_operator::providers::clock::system_clock;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::gcp::GcpProvider;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::huawei::HuaweiProvider;
use clouddb_job_operator::providers::identity::{self, FederatedIdentity, StsEndpoints};
use clouddb_job_operator::providers::tencent::TencentProvider;
use clouddb_job_operator::providers::tencent_legacy::TencentLegacyProvider;
use clouddb_job_operator::providers::{Credentials, JobTarget, Provider};

use super::sdk_capture::{run_oracle, sdk_python, start, start_with, Captured};

const KEY_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE/+=";
const TOKEN: &str = "session-token/with+special=chars";
const PROJECT: &str = "0483b6b16e954cb88930a360d2c4e663";
const SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000001";
const INSTANCE: &str = "cdb-instance-1";
const SA_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZWFkZXIifQ.c2ln";
/// Characters every encoding treats differently, for the APIs that take string IDs.
const ODD_JOB_ID: &str = "job:1 2/3~x*y+z=é";

fn region(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Tencent => "ap-guangzhou",
        ProviderKind::TencentLegacy => "gz",
        ProviderKind::Huawei => "cn-north-4",
        ProviderKind::Alibaba => "cn-hangzhou",
        ProviderKind::Aws => "eu-central-1",
        ProviderKind::Gcp => "us-central1",
        ProviderKind::Azure => "westeurope",
    }
}

fn provider(kind: ProviderKind, http: HttpClient) -> Arc<dyn Provider> {
    match kind {
        ProviderKind::Tencent => Arc::new(TencentProvider::new(http)),
        ProviderKind::TencentLegacy => Arc::new(TencentLegacyProvider::new(http)),
        ProviderKind::Huawei => Arc::new(HuaweiProvider::new(http)),
        ProviderKind::Alibaba => Arc::new(AlibabaProvider::new(http)),
        ProviderKind::Aws => Arc::new(AwsProvider::new(http)),
        ProviderKind::Gcp => Arc::new(GcpProvider::new(http)),
        ProviderKind::Azure => Arc::new(AzureProvider::new(http)),
    }
}

/// Long-term and temporary credentials where the provider has both (the session token is a
/// parameter of Tencent API 2.0); a bearer token for Google and Azure, whose key and secret
/// exchanges are the identity exchanges' business.
fn credentials(kind: ProviderKind) -> Vec<Credentials> {
    let token = || Some(SecretString::new(TOKEN));
    match kind {
        ProviderKind::Tencent | ProviderKind::TencentLegacy => [None, token()]
            .into_iter()
            .map(|token| Credentials::Tencent {
                secret_id: KEY_ID.into(),
                secret_key: SecretString::new(SECRET),
                token,
            })
            .collect(),
        ProviderKind::Huawei => vec![
            Credentials::HuaweiAkSk {
                ak: KEY_ID.into(),
                sk: SecretString::new(SECRET),
            },
            Credentials::HuaweiToken {
                token: SecretString::new(TOKEN),
            },
        ],
        ProviderKind::Alibaba => vec![Credentials::Alibaba {
            access_key_id: KEY_ID.into(),
            access_key_secret: SecretString::new(SECRET),
            security_token: token(),
        }],
        ProviderKind::Aws => vec![Credentials::Aws {
            access_key_id: KEY_ID.into(),
            secret_access_key: SecretString::new(SECRET),
            session_token: token(),
        }],
        ProviderKind::Gcp | ProviderKind::Azure => {
            vec![Credentials::Bearer(SecretString::new("ya29.access-token"))]
        }
    }
}

/// The target of `api` for `job_id` on `base`, with or without an instance filter; `None`
/// where the API refuses the ID (integer task IDs) or takes no instance.
fn target(api: ProviderApi, job_id: &str, instance: bool, base: &str) -> Option<JobTarget> {
    let kind = api.provider();
    let takes_instance = matches!(kind, ProviderKind::Tencent | ProviderKind::Alibaba);
    if instance && !takes_instance {
        return None;
    }
    let project = match kind {
        ProviderKind::Huawei => Some(PROJECT),
        ProviderKind::Gcp => Some("orders-prod"),
        _ => None,
    };
    let target = JobTarget::new(
        kind,
        Some(api.as_str()),
        job_id,
        Some(region(kind)),
        instance.then_some(INSTANCE),
        project,
        Some(base),
    )
    .ok()?;
    match kind {
        ProviderKind::Azure => target.with_subscription_id(Some(SUBSCRIPTION)).ok(),
        _ => Some(target),
    }
}

/// Calls every API with every credential kind, job ID and instance filter it takes, and
/// returns the captured requests as oracle lines.
async fn capture_apis() -> Vec<String> {
    let http = HttpClient::new(&HttpOptions::default()).unwrap();
    let mut lines = Vec::new();
    for api in ProviderApi::ALL {
        let kind = api.provider();
        let client = provider(kind, http.clone());
        for (n, credentials) in credentials(kind).iter().enumerate() {
            for job_id in ["1234567", ODD_JOB_ID] {
                for instance in [false, true] {
                    let (server, base) = start().await;
                    let Some(target) = target(api, job_id, instance, &base) else {
                        continue;
                    };
                    // The capture server answers 400: the outcome is an error by design.
                    let _ = client.observe(&target, credentials).await;
                    let seen = server.requests();
                    assert!(!seen.is_empty(), "{kind} {api} {job_id:?} sent no request");
                    let label = format!(
                        "{kind} {api} job={job_id:?} credentials#{n}{}",
                        if instance { " +instance" } else { "" }
                    );
                    let inputs = json!({
                        "job_id": job_id,
                        "region": region(kind),
                        "instance_id": instance.then_some(INSTANCE),
                        "project_id": target.project_id,
                        "subscription_id": target.subscription_id,
                    });
                    for req in &seen {
                        lines.push(req.oracle_line(
                            &base,
                            json!({"check": "api", "provider": kind.as_str(),
                                   "api": api.as_str(), "label": label, "inputs": inputs}),
                        ));
                    }
                }
            }
        }
    }
    lines
}

fn identity_for(kind: ProviderKind, impersonate: bool) -> FederatedIdentity {
    let (role, oidc) = match kind {
        ProviderKind::Aws => ("arn:aws:iam::123456789012:role/reader", "unused"),
        ProviderKind::Alibaba => (
            "acs:ram::1234567890123456:role/db-reader",
            "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1",
        ),
        ProviderKind::Tencent => (
            "qcs::cam::uin/100000000001:roleName/db-reader",
            "cls-k8s-oidc",
        ),
        ProviderKind::Gcp => (
            "unused",
            "projects/123456789012/locations/global/workloadIdentityPools/k8s/providers/cluster-1",
        ),
        _ => ("unused", "k8s-cluster-idp"),
    };
    FederatedIdentity {
        provider: kind,
        namespace: "team-a".into(),
        service_account: "reader".into(),
        role_arn: Some(role.into()),
        oidc_provider: Some(oidc.into()),
        audience: identity::default_audience(kind)
            .unwrap_or("huawei-iam")
            .into(),
        region: Some(region(kind).into()),
        project_id: Some(PROJECT.into()),
        tenant_id: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
        client_id: Some("00000000-0000-0000-0000-00000000c11e".into()),
        google_service_account: impersonate
            .then(|| "reader@orders-prod.iam.gserviceaccount.com".into()),
    }
}

/// Google's STS answers with a token, so that impersonation follows; the rest is refused.
fn federated_token(req: &Captured) -> (u16, &'static str, String) {
    if req.path_and_query.ends_with("/v1/token") {
        let token = json!({"access_token": "ya29.federated", "token_type": "Bearer",
            "expires_in": 3600, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"});
        return (200, "application/json", token.to_string());
    }
    (400, "text/plain", "captured".into())
}

/// Runs each workload-identity exchange (Google with and without impersonation) through
/// the endpoints the operator builds on an installer override, and returns the captured
/// requests as oracle lines.
async fn capture_exchanges() -> Vec<String> {
    let http = HttpClient::new(&HttpOptions::default()).unwrap();
    let token = SecretString::new(SA_TOKEN);
    let clock = system_clock();
    let now = jiff::Timestamp::now();
    let cases = [
        (ProviderKind::Aws, false),
        (ProviderKind::Alibaba, false),
        (ProviderKind::Tencent, false),
        (ProviderKind::Huawei, false),
        (ProviderKind::Gcp, false),
        (ProviderKind::Gcp, true),
        (ProviderKind::Azure, false),
    ];
    let mut lines = Vec::new();
    for (kind, impersonate) in cases {
        let (server, base) = start_with(federated_token).await;
        let over = StsEndpoints::parse([format!("{kind}={base}").as_str()]).unwrap();
        let id = identity_for(kind, impersonate);
        // The capture server refuses the (last) request: the outcome is an error by design.
        let _ = match kind {
            ProviderKind::Aws => {
                let endpoint = identity::aws::endpoint(&id, &over).unwrap();
                identity::aws::exchange(&http, &endpoint, &id, &token).await
            }
            ProviderKind::Alibaba => {
                let endpoint = identity::alibaba::endpoint(&id, &over).unwrap();
                identity::alibaba::exchange(&http, &endpoint, &id, &token, now).await
            }
            ProviderKind::Tencent => {
                let endpoint = identity::tencent::endpoint(&over).unwrap();
                identity::tencent::exchange(&http, &endpoint, &id, &token, now).await
            }
            ProviderKind::Huawei => {
                let endpoint = identity::huawei::endpoint(&id, &over).unwrap();
                identity::huawei::exchange(&http, &endpoint, &id, &token).await
            }
            ProviderKind::Gcp => identity::gcp::exchange(&http, &over, &id, &token, &clock).await,
            _ => {
                let endpoint = identity::azure::endpoint(&id, &over).unwrap();
                identity::azure::exchange(&http, &endpoint, &id, &token, &clock).await
            }
        };
        let seen = server.requests();
        let expected = if impersonate { 2 } else { 1 };
        assert_eq!(seen.len(), expected, "{kind} exchange: requests sent");
        let inputs = json!({
            "token": SA_TOKEN,
            "role_arn": id.role_arn,
            "oidc_provider": id.oidc_provider,
            "region": id.region,
            "project_id": id.project_id,
            "tenant_id": id.tenant_id,
            "client_id": id.client_id,
            "google_service_account": id.google_service_account,
        });
        for (step, req) in seen.iter().enumerate() {
            let label = format!(
                "{kind} exchange step {}{}",
                step + 1,
                if impersonate { " (impersonating)" } else { "" }
            );
            lines.push(req.oracle_line(
                &base,
                json!({"check": "exchange", "provider": kind.as_str(), "step": step,
                       "label": label, "inputs": inputs}),
            ));
        }
    }
    lines
}

/// The AWS APIs whose polls are batched: one describe names many jobs in the action's
/// identifier filter (`Filters.Filter.1.Values.Value.N`).
const BATCHED_AWS: [ProviderApi; 4] = [
    ProviderApi::DbSnapshot,
    ProviderApi::ClusterSnapshot,
    ProviderApi::ExportTask,
    ProviderApi::BlueGreen,
];

/// Sends one batched describe of three jobs (one of them with characters every encoding
/// treats differently) per batched AWS API, with each credential kind; returns the
/// captured requests as oracle lines (`"batched": true`).
async fn capture_batched() -> Vec<String> {
    let http = HttpClient::new(&HttpOptions::default()).unwrap();
    let client = AwsProvider::new(http);
    let ids: Vec<String> = ["snap-b", "snap-a", ODD_JOB_ID]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut lines = Vec::new();
    for api in BATCHED_AWS {
        for (n, credentials) in credentials(ProviderKind::Aws).iter().enumerate() {
            let (server, base) = start().await;
            let endpoint = url::Url::parse(&base).unwrap();
            let at = (Some(region(ProviderKind::Aws)), Some(&endpoint));
            // The capture server answers 400: the outcome is an error by design.
            let _ = client
                .describe_many(api, at, &ids, credentials, || Ok(()))
                .await;
            let seen = server.requests();
            assert_eq!(seen.len(), 1, "{api}: one call for three IDs");
            let label = format!("aws {api} batched credentials#{n}");
            let inputs = json!({"job_ids": ids, "region": region(ProviderKind::Aws)});
            lines.push(seen[0].oracle_line(
                &base,
                json!({"check": "api", "provider": "aws", "api": api.as_str(),
                       "batched": true, "label": label, "inputs": inputs}),
            ));
        }
    }
    lines
}

#[tokio::test]
async fn batched_aws_describes_match_the_sdk_service_model() {
    let lines = capture_batched().await;
    assert_all_checked(
        &lines,
        "batched describes off botocore's model",
        BATCHED_AWS.map(|api| format!("ok aws {api} ")),
    );
}

/// The oracle passes every line of `lines` (`what` says what a failure means), and its
/// output holds each of `tags`: nothing was skipped.
fn assert_all_checked(lines: &[String], what: &str, tags: impl IntoIterator<Item = String>) {
    let (ok, out) = oracle(lines);
    assert!(ok, "{what}:\n{out}");
    assert!(
        out.contains(&format!("checked {} requests", lines.len())),
        "{out}"
    );
    for tag in tags {
        assert!(out.contains(&tag), "{tag:?} not checked:\n{out}");
    }
}

/// Runs the oracle; returns (success, stdout + stderr).
fn oracle(lines: &[String]) -> (bool, String) {
    let python = sdk_python();
    let out = run_oracle(&python, "verify_requests.py", lines);
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn every_api_request_matches_the_sdk_service_model() {
    let lines = capture_apis().await;
    // Every API was checked, none skipped.
    assert_all_checked(
        &lines,
        "requests off the official SDKs' models",
        ProviderApi::ALL
            .iter()
            .map(|api| format!("ok {} {} ", api.provider(), api.as_str())),
    );
}

#[tokio::test]
async fn every_identity_exchange_matches_the_sdk_service_model() {
    let lines = capture_exchanges().await;
    assert_all_checked(
        &lines,
        "exchanges off the official SDKs' models",
        ["aws", "alibaba", "tencent", "huawei", "gcp", "azure"].map(|k| format!("ok {k} exchange")),
    );
}

/// Swaps the case of the first letter of every parameter name (query, form and JSON body
/// keys), and for a request without parameters, of its path: a mistake of casing the model
/// must catch everywhere.
fn tamper(line: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let swap = |s: &str| -> String {
        let mut chars = s.chars();
        match chars.next() {
            Some(c) if c.is_uppercase() => c.to_lowercase().chain(chars).collect(),
            Some(c) => c.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    };
    let swap_pairs = |query: &str| -> String {
        query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => format!("{}={v}", swap(k)),
                None => swap(pair),
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    let mut v: Value = serde_json::from_str(line).unwrap();
    let url = v["url"].as_str().unwrap_or_default().to_string();
    let body = b64
        .decode(v["body_b64"].as_str().unwrap_or_default())
        .unwrap();
    let new_body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => {
            let swapped: serde_json::Map<String, Value> =
                map.into_iter().map(|(k, v)| (swap(&k), v)).collect();
            Value::Object(swapped).to_string().into_bytes()
        }
        _ if body.contains(&b'=') => swap_pairs(&String::from_utf8_lossy(&body)).into_bytes(),
        _ => body.clone(),
    };
    let new_url = match url.split_once('?') {
        Some((path, query)) => format!("{path}?{}", swap_pairs(query)),
        None if new_body == body => url.replacen("/operations/", "/Operations/", 1),
        None => url.clone(),
    };
    v["url"] = new_url.into();
    v["body_b64"] = b64.encode(&new_body).into();
    v.to_string()
}

#[tokio::test]
async fn the_oracle_rejects_a_parameter_off_the_model() {
    let mut lines = capture_apis().await;
    lines.extend(capture_exchanges().await);
    let tampered: Vec<String> = lines.iter().map(|l| tamper(l)).collect();
    let (ok, out) = oracle(&tampered);
    assert!(!ok, "{out}");
    // Every request, of every API and exchange, is reported.
    let mismatches = out.lines().filter(|l| l.starts_with("MISMATCH ")).count();
    assert_eq!(mismatches, tampered.len(), "{out}");
}
