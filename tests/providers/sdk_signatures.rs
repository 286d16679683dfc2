//! The official SDKs as oracles of request signing (issue 29, part 1): every signed API of
//! every provider is called through the real client against a local capture server, and
//! each captured request (method, URL, headers, body, as received) is handed to
//! `tests/sdk_oracle/verify_signatures.py`, which recomputes its signature with the cloud's
//! own SDK signer (botocore's `SigV4Auth`, `tencentcloud-sdk-python-common`'s TC3 and
//! HmacSHA256 code paths, `huaweicloudsdkcore`'s `Signer`, `alibabacloud_tea_openapi`'s
//! ACS3 `get_authorization`) in the pinned venv of `scripts/sdk-venv.sh`, and fails on
//! any difference.
//!
//! The STS exchanges behind workload identity are unsigned (the token is the credential):
//! `sts_exchanges_are_unsigned_like_the_sdks` captures the four that the SDKs could sign
//! (AWS, Alibaba Cloud, Tencent Cloud, Huawei Cloud) and has the oracle check that each SDK
//! sends that operation unsigned too, and that the request carries no signature.
//!
//! The venv is created by `scripts/test.sh` before `cargo test`; this test runs the same
//! script (a no-op when the venv matches `scripts/sdk-requirements.txt`) and fails, never
//! skips, when it cannot: the script needs PyPI the first time.

use std::path::Path;
use std::sync::Arc;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::providers::alibaba::AlibabaProvider;
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::huawei::HuaweiProvider;
use clouddb_job_operator::providers::identity::{self, FederatedIdentity};
use clouddb_job_operator::providers::tencent::TencentProvider;
use clouddb_job_operator::providers::tencent_legacy::TencentLegacyProvider;
use clouddb_job_operator::providers::{Credentials, JobTarget, Provider};

use super::sdk_capture::{self, sdk_python, start, Captured};

const KEY_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE/+=";
const TOKEN: &str = "session-token/with+special=chars";
const PROJECT: &str = "0483b6b16e954cb88930a360d2c4e663";

/// A job ID with characters every canonical encoding treats differently (space, `*`, `~`,
/// `/`, `:`, `+`, `=`, non-ASCII), for the APIs that take string IDs.
const ODD_JOB_ID: &str = "job:1 2/3~x*y+z=é";

/// One signed request family: which SDK signer verifies it.
#[derive(Clone, Copy, Debug)]
enum Family {
    Tc3,
    TencentV2,
    HuaweiAkSk,
    Acs3,
    SigV4Rds,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Tc3 => "tencent-tc3",
            Family::TencentV2 => "tencent-v2",
            Family::HuaweiAkSk => "huawei-sdk-hmac-sha256",
            Family::Acs3 => "alibaba-acs3",
            Family::SigV4Rds => "aws-sigv4",
        }
    }

    fn kind(self) -> ProviderKind {
        match self {
            Family::Tc3 => ProviderKind::Tencent,
            Family::TencentV2 => ProviderKind::TencentLegacy,
            Family::HuaweiAkSk => ProviderKind::Huawei,
            Family::Acs3 => ProviderKind::Alibaba,
            Family::SigV4Rds => ProviderKind::Aws,
        }
    }

    fn region(self) -> &'static str {
        match self {
            Family::Tc3 => "ap-guangzhou",
            Family::TencentV2 => "gz",
            Family::HuaweiAkSk => "cn-north-4",
            Family::Acs3 => "cn-hangzhou",
            Family::SigV4Rds => "eu-central-1",
        }
    }

    fn provider(self, http: HttpClient) -> Arc<dyn Provider> {
        match self {
            Family::Tc3 => Arc::new(TencentProvider::new(http)),
            Family::TencentV2 => Arc::new(TencentLegacyProvider::new(http)),
            Family::HuaweiAkSk => Arc::new(HuaweiProvider::new(http)),
            Family::Acs3 => Arc::new(AlibabaProvider::new(http)),
            Family::SigV4Rds => Arc::new(AwsProvider::new(http)),
        }
    }

    /// The credentials, with or without a session token (Huawei AK/SK has none).
    fn credentials(self, token: bool) -> Option<Credentials> {
        let token = token.then(|| SecretString::new(TOKEN));
        Some(match self {
            Family::Tc3 | Family::TencentV2 => Credentials::Tencent {
                secret_id: KEY_ID.into(),
                secret_key: SecretString::new(SECRET),
                token,
            },
            Family::HuaweiAkSk if token.is_some() => return None,
            Family::HuaweiAkSk => Credentials::HuaweiAkSk {
                ak: KEY_ID.into(),
                sk: SecretString::new(SECRET),
            },
            Family::Acs3 => Credentials::Alibaba {
                access_key_id: KEY_ID.into(),
                access_key_secret: SecretString::new(SECRET),
                security_token: token,
            },
            Family::SigV4Rds => Credentials::Aws {
                access_key_id: KEY_ID.into(),
                secret_access_key: SecretString::new(SECRET),
                session_token: token,
            },
        })
    }
}

const FAMILIES: [Family; 5] = [
    Family::Tc3,
    Family::TencentV2,
    Family::HuaweiAkSk,
    Family::Acs3,
    Family::SigV4Rds,
];

/// One captured request with what the oracle needs to re-sign it, as a JSON line.
fn oracle_line(family: Family, label: &str, token: bool, base: &str, req: &Captured) -> String {
    req.oracle_line(
        base,
        serde_json::json!({
        "family": family.name(),
        "label": label,
        "region": family.region(),
        "key_id": KEY_ID,
        "secret": SECRET,
        "token": token.then_some(TOKEN),
        }),
    )
}

/// Calls every API of every signed provider (plain and odd job IDs, long-term and
/// temporary credentials) and returns the captured requests as oracle lines.
async fn capture_all() -> Vec<String> {
    let http = HttpClient::new(&HttpOptions::default()).unwrap();
    let mut lines = Vec::new();
    for family in FAMILIES {
        let provider = family.provider(http.clone());
        for api in family.kind().apis() {
            for token in [false, true] {
                let Some(credentials) = family.credentials(token) else {
                    continue;
                };
                for job_id in ["1234567", ODD_JOB_ID] {
                    let (server, base) = start().await;
                    let target = JobTarget::new(
                        family.kind(),
                        Some(api),
                        job_id,
                        Some(family.region()),
                        Some("cdb-instance-1"),
                        Some(PROJECT),
                        Some(&base),
                    );
                    // Integer-only APIs refuse the odd ID before any request.
                    let Ok(target) = target else { continue };
                    // The capture server answers 400: the outcome is an error by design.
                    let _ = provider.observe(&target, &credentials).await;
                    let seen = server.requests();
                    assert!(
                        !seen.is_empty(),
                        "{} {api} with job ID {job_id:?} sent no request",
                        family.name()
                    );
                    let label = format!(
                        "{} {api} job={job_id:?}{}",
                        family.kind(),
                        if token { " +token" } else { "" }
                    );
                    let host = base.trim_start_matches("http://");
                    for req in &seen {
                        assert_eq!(req.header("host"), Some(host), "{label}: Host header");
                        lines.push(oracle_line(family, &label, token, &base, req));
                    }
                }
            }
        }
    }
    lines
}

fn run_oracle(python: &Path, lines: &[String]) -> std::process::Output {
    sdk_capture::run_oracle(python, "verify_signatures.py", lines)
}

#[tokio::test]
async fn every_signed_request_verifies_with_the_official_sdk_signer() {
    let python = sdk_python();
    let lines = capture_all().await;
    // 2 + 3 + 3 + 2 + 5 APIs, each with more than one credential or job ID.
    assert!(lines.len() >= 30, "only {} requests captured", lines.len());
    let out = run_oracle(&python, &lines);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the official SDK signers disagree with the requests the clients sent:\n{stdout}\n{stderr}"
    );
    // The oracle says how many it checked, per family: all of them, none skipped.
    assert!(
        stdout.contains(&format!("verified {} requests", lines.len())),
        "{stdout}\n{stderr}"
    );
}

#[tokio::test]
async fn the_oracle_rejects_a_tampered_signature() {
    // The oracle itself can fail: one byte of one signed header changed after signing.
    let python = sdk_python();
    let lines = capture_all().await;
    let tampered: Vec<String> = lines
        .iter()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(headers) = v["headers"].as_array_mut() {
                for h in headers.iter_mut() {
                    if h[0] == "host" {
                        let host = h[1]
                            .as_str()
                            .unwrap_or_default()
                            .replace("127.0.0.1", "localhost");
                        h[1] = serde_json::Value::String(host);
                    }
                }
            }
            if let Some(url) = v["url"].as_str() {
                v["url"] = url.replace("127.0.0.1", "localhost").into();
            }
            v.to_string()
        })
        .collect();
    let out = run_oracle(&python, &tampered);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    for family in FAMILIES {
        assert!(
            stdout.contains(&format!("MISMATCH {}", family.name())),
            "no mismatch reported for {}:\n{stdout}",
            family.name()
        );
    }
}

fn federated(kind: ProviderKind, audience: &str) -> FederatedIdentity {
    FederatedIdentity {
        provider: kind,
        namespace: "team-a".into(),
        service_account: "reader".into(),
        role_arn: Some("acs:ram::123456789012:role/reader".into()),
        oidc_provider: Some("acs:ram::123456789012:oidc-provider/cluster".into()),
        audience: audience.into(),
        region: Some("cn-hangzhou".into()),
        project_id: Some(PROJECT.into()),
        tenant_id: None,
        client_id: None,
        google_service_account: None,
    }
}

#[tokio::test]
async fn sts_exchanges_are_unsigned_like_the_sdks() {
    let python = sdk_python();
    let http = HttpClient::new(&HttpOptions::default()).unwrap();
    let token = SecretString::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZWFkZXIifQ.c2ln");
    let now = jiff::Timestamp::now();
    let mut lines = Vec::new();
    for kind in [
        ProviderKind::Aws,
        ProviderKind::Alibaba,
        ProviderKind::Tencent,
        ProviderKind::Huawei,
    ] {
        let (server, base) = start().await;
        let endpoint = url::Url::parse(&format!("{base}/")).unwrap();
        let id = federated(kind, "sts.example.com");
        // The capture server answers 400: the outcome is an error by design.
        let _ = match kind {
            ProviderKind::Aws => identity::aws::exchange(&http, &endpoint, &id, &token).await,
            ProviderKind::Alibaba => {
                identity::alibaba::exchange(&http, &endpoint, &id, &token, now).await
            }
            ProviderKind::Tencent => {
                identity::tencent::exchange(&http, &endpoint, &id, &token, now).await
            }
            _ => identity::huawei::exchange(&http, &endpoint, &id, &token).await,
        };
        let seen = server.requests();
        assert_eq!(seen.len(), 1, "{kind}: one exchange request");
        let line = seen[0].oracle_line(
            &base,
            serde_json::json!({
            "family": "sts-unsigned",
            "label": format!("{kind} STS exchange"),
            "cloud": kind.to_string(),
            "region": "cn-hangzhou",
            "key_id": "",
            "secret": "",
            "token": null,
            }),
        );
        lines.push(line);
    }
    let out = run_oracle(&python, &lines);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("verified 4 requests"), "{stdout}\n{stderr}");
}
