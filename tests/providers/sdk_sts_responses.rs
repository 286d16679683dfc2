//! The official SDKs as oracles of the STS token-exchange answers (issue 29, part 3, the
//! exchanges the SDKs model): `tests/sdk_oracle/build_responses.py sts` (module
//! `responses_sts.py`) builds each answer from the SDK's own response model and says what the
//! SDK's deserializer read from it. Each answer goes through the operator's pure decoder, as
//! after the HTTP exchange (`identity::{aws,alibaba,tencent,huawei}::parse_success`; Tencent
//! through the API 3.0 envelope's `parse_response` first, as `exchange` does), and what the
//! operator read must equal what the SDK read: access key ID, secret, session token and the
//! expiry as an instant.
//!
//! Exchanges: AWS `AssumeRoleWithWebIdentity`, Alibaba `AssumeRoleWithOIDC`, Tencent
//! `AssumeRoleWithWebIdentity`, Huawei IAM `CreateTokenWithIdToken` (the token is the
//! `X-Subject-Token` header; no key ID nor secret). Google and Azure answers are compared
//! with their auth libraries end to end in `sdk_token_exchanges`.
//!
//! Variants: `full`, `required` (the model's required members plus the credentials) and
//! `bare` (only what the model requires: no credentials, so the SDK reads none; the
//! operator must refuse it as a transient `MalformedResponse`, never panic), and Tencent
//! `expiration-only` (the text `Expiration` without `ExpiredTime`).
//!
//! Secrets never appear in a failure message: the secret and the session token are shown
//! as their length and a SHA-256 prefix. The test fails, never skips, without the venv.

use std::process::Command;

use jiff::Timestamp;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use clouddb_job_operator::providers::http::HttpResponse;
use clouddb_job_operator::providers::identity::{alibaba, aws, huawei, tencent};
use clouddb_job_operator::providers::tencent::errors::parse_response;
use clouddb_job_operator::providers::{Credentials, ErrorClass, ProviderError};

use crate::sdk_capture::{root, sdk_python};

#[derive(Clone, Deserialize)]
struct Case {
    provider: String,
    exchange: String,
    variant: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    content_type: String,
    /// What the SDK read; `None` when it read no credentials.
    expected: Option<Read>,
}

/// Credentials as read by either side. No `Debug`: it would print the secrets.
#[derive(Clone, Deserialize)]
struct Read {
    access_key_id: Option<String>,
    secret: Option<String>,
    session_token: Option<String>,
    expires_at: String,
}

impl Case {
    fn label(&self) -> String {
        format!("{} {} [{}]", self.provider, self.exchange, self.variant)
    }
}

/// Every STS answer the SDKs built.
fn sdk_cases() -> Vec<Case> {
    let out = Command::new(sdk_python())
        .arg(root().join("tests/sdk_oracle/build_responses.py"))
        .arg("sts")
        .output()
        .expect("the venv's python runs");
    assert!(
        out.status.success(),
        "build_responses.py sts failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A parse error names the line number only: the lines hold the made-up secrets.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .enumerate()
        .map(|(n, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {n}: {e}")))
        .collect()
}

/// The answer as the HTTP client hands it over: status, content type, the case's headers.
fn http_answer(case: &Case) -> HttpResponse {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        case.content_type.parse().unwrap(),
    );
    for (name, value) in &case.headers {
        let name = http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).unwrap();
        headers.insert(name, value.parse().unwrap());
    }
    HttpResponse {
        status: case.status,
        headers,
        body: case.body.clone().into_bytes(),
    }
}

/// What the operator read: its decoder's credentials and expiry, flattened like `Read`.
fn decode(case: &Case) -> Result<(Read, Timestamp), ProviderError> {
    let body = case.body.as_bytes();
    let got = match case.provider.as_str() {
        "aws" => aws::parse_success(body)?,
        "alibaba" => alibaba::parse_success(body)?,
        "tencent" => tencent::parse_success(&parse_response(case.status, body, None)?)?,
        "huawei" => huawei::parse_success(&http_answer(case))?,
        other => panic!("no decoder for provider {other:?}"),
    };
    let expose = |s: &clouddb_job_operator::providers::secret::SecretString| s.expose().to_string();
    let (access_key_id, secret, session_token) = match &got.value {
        Credentials::Aws {
            access_key_id,
            secret_access_key,
            session_token,
        } => (
            Some(access_key_id.clone()),
            Some(expose(secret_access_key)),
            session_token.as_ref().map(expose),
        ),
        Credentials::Alibaba {
            access_key_id,
            access_key_secret,
            security_token,
        } => (
            Some(access_key_id.clone()),
            Some(expose(access_key_secret)),
            security_token.as_ref().map(expose),
        ),
        Credentials::Tencent {
            secret_id,
            secret_key,
            token,
        } => (
            Some(secret_id.clone()),
            Some(expose(secret_key)),
            token.as_ref().map(expose),
        ),
        Credentials::HuaweiToken { token } => (None, None, Some(expose(token))),
        _ => panic!("{}: credentials of another kind", case.label()),
    };
    let read = Read {
        access_key_id,
        secret,
        session_token,
        expires_at: got.expires_at.to_string(),
    };
    Ok((read, got.expires_at))
}

/// A secret as it may be printed: its length and the start of its SHA-256.
fn fingerprint(secret: &Option<String>) -> String {
    match secret {
        Some(s) => {
            let digest = Sha256::digest(s.as_bytes());
            format!("{} chars, sha256 {}..", s.len(), hex::encode(&digest[..6]))
        }
        None => "none".into(),
    }
}

/// Every difference between what the operator read and what the SDK read; never a secret.
fn compare(want: &Read, got: &Read, got_expiry: Timestamp) -> Vec<String> {
    let mut bad = Vec::new();
    if got.access_key_id != want.access_key_id {
        bad.push(format!(
            "access key id: operator read {:?}, SDK read {:?}",
            got.access_key_id, want.access_key_id
        ));
    }
    for (what, got, want) in [
        ("secret", &got.secret, &want.secret),
        ("session token", &got.session_token, &want.session_token),
    ] {
        if got != want {
            bad.push(format!(
                "{what}: operator read {}, SDK read {}",
                fingerprint(got),
                fingerprint(want)
            ));
        }
    }
    let want_expiry: Timestamp = want
        .expires_at
        .parse()
        .unwrap_or_else(|e| panic!("SDK expiry {:?}: {e}", want.expires_at));
    if got_expiry != want_expiry {
        bad.push(format!(
            "expiry: operator read {got_expiry}, SDK read {want_expiry}"
        ));
    }
    bad
}

/// The failures of one case: a difference, a decode error, or (`bare`) no refusal.
fn check(case: &Case) -> Vec<String> {
    match (&case.expected, decode(case)) {
        (Some(want), Ok((got, expiry))) => compare(want, &got, expiry),
        (Some(_), Err(e)) => vec![format!("decode error: {}", e.describe())],
        (None, Ok(_)) => vec!["the SDK read no credentials, the operator read some".into()],
        (None, Err(e)) if e.class == ErrorClass::Transient && e.code == "MalformedResponse" => {
            vec![]
        }
        (None, Err(e)) => vec![format!(
            "no credentials: want a transient MalformedResponse, got {:?} {}",
            e.class,
            e.describe()
        )],
    }
}

#[test]
fn sts_exchanges_read_what_the_official_sdks_read() {
    let cases = sdk_cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let bad = check(case);
            (!bad.is_empty()).then(|| format!("{}:\n    {}", case.label(), bad.join("\n    ")))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} SDK-built STS answers read differently by the operator:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_sts_exchange_is_covered_in_every_variant() {
    let cases = sdk_cases();
    for provider in ["aws", "alibaba", "tencent", "huawei"] {
        for variant in ["full", "required", "bare"] {
            let case = cases
                .iter()
                .find(|c| c.provider == provider && c.variant == variant)
                .unwrap_or_else(|| panic!("{provider}: no {variant} answer"));
            assert_eq!(
                case.expected.is_some(),
                variant != "bare",
                "{}: the SDK read credentials only where the answer has them",
                case.label()
            );
        }
    }
    assert!(cases
        .iter()
        .any(|c| c.provider == "tencent" && c.variant == "expiration-only"));
}

#[test]
fn the_sts_comparison_catches_changes_and_never_prints_a_secret() {
    // The oracle can fail: each full answer, with the SDK's secret, token and expiry
    // changed, differs three times, and no message holds either side's secret.
    let cases = sdk_cases();
    let full: Vec<&Case> = cases.iter().filter(|c| c.variant == "full").collect();
    assert_eq!(full.len(), 4, "one full answer per exchange");
    for case in full {
        let (got, expiry) = decode(case).unwrap_or_else(|e| panic!("{}: {e:?}", case.label()));
        let mut want = case.expected.clone().unwrap();
        let secrets = [want.secret.clone(), want.session_token.clone()];
        want.secret = want.secret.map(|s| s + "x");
        want.session_token = want.session_token.map(|s| s.replace('A', "B"));
        want.expires_at = (expiry + jiff::SignedDuration::from_secs(1)).to_string();
        let bad = compare(&want, &got, expiry);
        let wanted = if case.provider == "huawei" { 2 } else { 3 };
        assert_eq!(bad.len(), wanted, "{}: {bad:?}", case.label());
        let text = bad.join("\n");
        for secret in secrets
            .iter()
            .flatten()
            .chain([&want.secret, &want.session_token].into_iter().flatten())
        {
            assert!(
                !text.contains(secret.as_str()),
                "{}: a secret is printed",
                case.label()
            );
        }
    }
}
