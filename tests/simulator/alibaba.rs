//! Alibaba Cloud against the simulator: requests signed by the operator's own client are
//! answered with the job and follow its timeline; every fault kind and every gateway check
//! comes back as the provider's own answer, classified by the client.

use std::sync::Arc;
use std::time::Duration;

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::alibaba::client::{new_nonce, AlibabaProvider};
use clouddb_job_operator::providers::alibaba::sign;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::auth::{
    KeyPair, SimCredentials, TemporaryKey, DEFAULT_ALIBABA_ACCESS_KEY_ID,
    DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
};
use clouddb_job_operator::simulator::faults::parse_flag;
use clouddb_job_operator::simulator::{Scenario, SimConfig, Simulator};
use serde_json::Value;

use super::*;

const SCENARIO: &str = r#"
jobs:
  - provider: alibaba
    api: rds
    jobId: t-simrds0000000001
    instanceId: rm-sim0000000001
    clock: first-request
    name: MinorVersionUpgrade
    timeline:
      - {after: 0s, status: INITIAL}
      - {after: 5s, status: RUNNING, progress: 40, message: upgrade_minor_version}
      - {after: 30s, status: SUCCEED}
  - provider: alibaba
    api: polardb
    jobId: t-simpolar00000001
    instanceId: pc-sim0000000001
    type: reboot
    timeline:
      - {after: 0s, status: RUNNING, progress: 10}
"#;

fn config() -> SimConfig {
    SimConfig {
        scenarios: vec![Scenario::from_yaml(SCENARIO).unwrap()],
        ..SimConfig::empty()
    }
}

fn creds(id: &str, secret: &str, token: Option<&str>) -> Credentials {
    Credentials::Alibaba {
        access_key_id: id.into(),
        access_key_secret: SecretString::new(secret),
        security_token: token.map(SecretString::new),
    }
}

fn good() -> Credentials {
    creds(
        DEFAULT_ALIBABA_ACCESS_KEY_ID,
        DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
        None,
    )
}

fn target(sim: &Simulator, api: &str, job: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Alibaba,
        Some(api),
        job,
        Some("cn-hangzhou"),
        None,
        None,
        Some(&sim.url()),
    )
    .unwrap()
}

fn provider() -> AlibabaProvider {
    AlibabaProvider::new(client(Duration::from_secs(5)))
}

#[tokio::test]
async fn the_client_follows_a_job_to_the_end() {
    let sim = start(SimConfig {
        speed: 25.0,
        ..config()
    })
    .await;
    let p = provider();
    let t = target(&sim, "rds", "t-simrds0000000001");
    let first = p.observe(&t, &good()).await.unwrap();
    assert_eq!(first.phase, Some(JobPhase::Pending), "{first:?}");
    assert_eq!(first.provider_status.as_deref(), Some("Scheduled"));
    let mut seen = vec![first];
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !seen.last().unwrap().phase_or_pending().is_terminal() {
        assert!(std::time::Instant::now() < deadline, "{seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen.push(p.observe(&t, &good()).await.unwrap());
    }
    let running = seen
        .iter()
        .find(|o| o.phase == Some(JobPhase::Running))
        .expect("a running state was served");
    assert_eq!(running.progress, Some(40));
    assert!(
        running
            .remaining
            .is_some_and(|r| r <= Duration::from_secs(2)),
        "{running:?}"
    );
    let last = seen.last().unwrap();
    assert_eq!(last.phase, Some(JobPhase::Succeeded));
    assert_eq!(
        last.provider_job_type.as_deref(),
        Some("MinorVersionUpgrade")
    );
    assert_eq!(last.instance_ids, vec!["rm-sim0000000001"]);
    assert!(last.start_time.is_some() && last.end_time.is_some());
    // PolarDB by its version header, through the same `/`; an RDS query does not see it.
    let polar = p
        .observe(&target(&sim, "polardb", "t-simpolar00000001"), &good())
        .await
        .unwrap();
    assert_eq!(
        (polar.phase, polar.progress),
        (Some(JobPhase::Running), Some(10))
    );
    let wrong_api = p
        .observe(&target(&sim, "rds", "t-simpolar00000001"), &good())
        .await
        .unwrap();
    assert!(wrong_api.is_not_found_yet());
    assert!(sim.counters().by_job["t-simrds0000000001"] >= 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn every_fault_kind() {
    let sim = start(SimConfig {
        faults: EVERY_FAULT.iter().map(|f| parse_flag(f).unwrap()).collect(),
        ..config()
    })
    .await;
    let p = AlibabaProvider::new(client(Duration::from_secs(1)));
    let t = target(&sim, "polardb", "t-simpolar00000001");
    let mut outcomes = Vec::new();
    for _ in 0..8 {
        outcomes.push(p.observe(&t, &good()).await);
    }
    assert_every_fault(&outcomes, "Throttling.User");
    assert!(outcomes[4].clone().unwrap_err().request_id.is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn credentials_tokens_and_clocks() {
    let mut credentials = SimCredentials::default();
    credentials.alibaba.push(KeyPair {
        id: "LTAIsecond".into(),
        secret: "second-secret".into(),
    });
    credentials.alibaba_temporary.push(TemporaryKey {
        id: "STS.NUexample".into(),
        secret: "sts-secret".into(),
        token: "sts-token-value".into(),
    });
    let sim = start(SimConfig {
        credentials,
        ..config()
    })
    .await;
    let p = provider();
    let t = target(&sim, "polardb", "t-simpolar00000001");
    let observe = |c: Credentials| {
        let (p, t) = (p.clone(), t.clone());
        async move { p.observe(&t, &c).await }
    };
    assert!(observe(creds("LTAIsecond", "second-secret", None))
        .await
        .is_ok());
    assert!(observe(creds(
        "STS.NUexample",
        "sts-secret",
        Some("sts-token-value")
    ))
    .await
    .is_ok());
    for (c, code, reason) in [
        (
            creds("LTAInobody", "x", None),
            "InvalidAccessKeyId.NotFound",
            ErrorReason::AuthenticationFailed,
        ),
        (
            creds("LTAIsecond", "wrong", None),
            "SignatureDoesNotMatch",
            ErrorReason::AuthenticationFailed,
        ),
        (
            creds("STS.NUexample", "sts-secret", None),
            "MissingSecurityToken",
            ErrorReason::AuthenticationFailed,
        ),
        (
            creds("STS.NUexample", "sts-secret", Some("other")),
            "InvalidSecurityToken.MismatchWithAccessKey",
            ErrorReason::AuthenticationFailed,
        ),
    ] {
        let e = observe(c).await.unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.reason, e.class),
            (code, reason, ErrorClass::Permanent)
        );
        assert!(e.request_id.is_some(), "{e:?}");
    }
    sim.shutdown().await;

    let skewed = start(SimConfig {
        clock_skew_secs: 20 * 60,
        ..config()
    })
    .await;
    let e = provider()
        .observe(&target(&skewed, "polardb", "t-simpolar00000001"), &good())
        .await
        .unwrap_err();
    assert_eq!(e.code, "IllegalTimestamp");
    assert!(e.message.contains("clock may be skewed"), "{}", e.message);
    skewed.shutdown().await;
}

/// A request signed with the client's signer but with any action, version and query.
fn raw(
    sim: &Simulator,
    action: &str,
    version: &str,
    query: &[(&str, &str)],
    nonce: &str,
) -> reqwest::RequestBuilder {
    let query: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let date = jiff::Timestamp::now()
        .strftime(sign::DATE_FORMAT)
        .to_string();
    let empty = sign::sha256_hex(b"");
    let headers: Vec<(String, String)> = [
        ("host", sim.addr().to_string()),
        ("x-acs-action", action.to_string()),
        ("x-acs-version", version.to_string()),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce.to_string()),
        ("x-acs-content-sha256", empty),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let auth = sign::authorization(
        DEFAULT_ALIBABA_ACCESS_KEY_ID,
        DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
        &sign::SignableRequest {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            body: b"",
        },
    );
    let http = client(Duration::from_secs(5));
    let mut builder =
        http.reqwest()
            .post(format!("{}/?{}", sim.url(), sign::canonical_query(&query)));
    for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.header("authorization", auth)
}

async fn send(sim: &Simulator, req: reqwest::RequestBuilder) -> (u16, Value) {
    let _ = sim;
    let http = client(Duration::from_secs(5));
    let resp = http.send(req).await.unwrap();
    (resp.status, json(&resp))
}

#[tokio::test]
async fn actions_versions_parameters_and_replays() {
    let sim = start(config()).await;
    let now = jiff::Timestamp::now();
    let fmt = |t: jiff::Timestamp| t.strftime(sign::DATE_FORMAT).to_string();
    let from = fmt(now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 60))
        .unwrap());
    let to = fmt(now
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap());
    let window = [
        ("RegionId", "cn-hangzhou"),
        ("FromStartTime", from.as_str()),
        ("ToStartTime", to.as_str()),
    ];
    let q = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        window
            .iter()
            .copied()
            .chain(extra.iter().copied())
            .collect()
    };
    let (status, body) = send(
        &sim,
        raw(
            &sim,
            "DescribeHistoryTasks",
            "2017-08-01",
            &q(&[]),
            &new_nonce(),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["TotalCount"], "1",
        "PolarDB counts in a string: {body}"
    );
    assert_eq!(body["Items"][0]["TaskId"], "t-simpolar00000001");
    let (_, rds) = send(
        &sim,
        raw(
            &sim,
            "DescribeHistoryTasks",
            "2014-08-15",
            &q(&[("InstanceId", "rm-sim0000000001")]),
            &new_nonce(),
        ),
    )
    .await;
    assert_eq!(rds["TotalCount"], 1, "{rds}");
    let (_, none) = send(
        &sim,
        raw(
            &sim,
            "DescribeHistoryTasks",
            "2014-08-15",
            &q(&[("Status", "Failed")]),
            &new_nonce(),
        ),
    )
    .await;
    assert_eq!(none["TotalCount"], 0, "{none}");
    // Older than the 30-day floor the window is moved up to: nothing is listed.
    let early = [
        ("RegionId", "cn-hangzhou"),
        ("FromStartTime", "2019-01-01T00:00:00Z"),
        ("ToStartTime", "2020-01-01T00:00:00Z"),
    ];
    let (_, before) = send(
        &sim,
        raw(
            &sim,
            "DescribeHistoryTasks",
            "2017-08-01",
            &early,
            &new_nonce(),
        ),
    )
    .await;
    assert_eq!(
        before["Items"].as_array().map(Vec::len),
        Some(0),
        "{before}"
    );
    for (action, version, query, status, code) in [
        (
            "DescribeTasks",
            "2014-08-15",
            q(&[]),
            404,
            "InvalidAction.NotFound",
        ),
        (
            "DescribeHistoryTasks",
            "2020-01-01",
            q(&[]),
            400,
            "InvalidVersion",
        ),
        (
            "DescribeHistoryTasks",
            "2014-08-15",
            vec![("RegionId", "cn-hangzhou")],
            400,
            "MissingFromStartTime",
        ),
        (
            "DescribeHistoryTasks",
            "2014-08-15",
            q(&[("PageSize", "5")]),
            400,
            "InvalidParameter",
        ),
        (
            "DescribeHistoryTasks",
            "2014-08-15",
            vec![
                ("RegionId", "r"),
                ("FromStartTime", "yesterday"),
                ("ToStartTime", "today"),
            ],
            400,
            "InvalidParameter",
        ),
    ] {
        let (s, body) = send(&sim, raw(&sim, action, version, &query, &new_nonce())).await;
        assert_eq!((s, body["Code"].as_str()), (status, Some(code)), "{body}");
        for f in ["RequestId", "HostId", "Message", "Recommend"] {
            assert!(body[f].is_string(), "{f}: {body}");
        }
    }
    let (s, _) = send(
        &sim,
        raw(
            &sim,
            "DescribeHistoryTasks",
            "2017-08-01",
            &q(&[]),
            "same-nonce",
        ),
    )
    .await;
    assert_eq!(s, 200);
    let (s, replay) = send(
        &sim,
        raw(
            &sim,
            "DescribeHistoryTasks",
            "2017-08-01",
            &q(&[]),
            "same-nonce",
        ),
    )
    .await;
    assert_eq!(
        (s, replay["Code"].as_str()),
        (400, Some("SignatureNonceUsed"))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn builtin_jobs_are_served_for_both_apis() {
    let sim = builtin().await;
    let p = Arc::new(provider());
    for (api, job) in [
        ("rds", "t-83br18hloy3faf0s1"),
        ("rds", "t-0mq1yyhm3ffl2bx1"),
        ("polardb", "t-0mqfirqcdv8rn5a2"),
        ("polardb", "t-0mqgj3x5vbc3k9a3"),
    ] {
        let obs = p.observe(&target(&sim, api, job), &good()).await.unwrap();
        assert!(!obs.is_not_found_yet(), "{api} {job}: {obs:?}");
    }
    sim.shutdown().await;
}
