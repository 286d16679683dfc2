//! Google Cloud SQL against the simulator: the operator's client exchanges the simulator's
//! service-account key for a token at the simulator's `/token` (verified by the simulator's
//! own RS256 check), reads operations along their timelines, gets every fault kind as
//! Google's answer, and shares, refreshes and replaces its tokens as it should.

use std::time::Duration;

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::credentials::GcpServiceAccountKey;
use clouddb_job_operator::providers::gcp::GcpProvider;
use clouddb_job_operator::providers::{Credentials, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::auth::{
    default_gcp_key_json, SimCredentials, DEFAULT_GCP_PRIVATE_KEY,
};
use clouddb_job_operator::simulator::faults::parse_flag;
use clouddb_job_operator::simulator::{Scenario, SimConfig, Simulator};

use super::*;

const SCENARIO: &str = r#"
jobs:
  - provider: gcp
    jobId: op-import-0001
    projectId: sim-project
    instanceId: orders-db
    clock: first-request
    name: IMPORT
    timeline:
      - {after: 0s, status: PENDING}
      - {after: 5s, status: RUNNING}
      - {after: 30s, status: SUCCEED}
  - provider: gcp
    jobId: op-export-0002
    projectId: sim-project
    instanceId: orders-db
    clock: first-request
    name: EXPORT
    detail: {errorCode: ERROR_RDBMS, user: dba@sim-project.iam.gserviceaccount.com}
    timeline:
      - {after: 0s, status: RUNNING}
      - {after: 10s, status: FAILED, message: "bucket not writable"}
  - provider: gcp
    jobId: op-long-0003
    instanceId: billing-db
    name: MAJOR_VERSION_UPGRADE
    timeline:
      - {after: 0s, status: RUNNING}
      - {after: 1h, status: SUCCEED}
"#;

fn config() -> SimConfig {
    SimConfig {
        scenarios: vec![Scenario::from_yaml(SCENARIO).unwrap()],
        ..SimConfig::empty()
    }
}

fn key(sim: &Simulator) -> Credentials {
    Credentials::Gcp(GcpServiceAccountKey::from_json(&default_gcp_key_json(&sim.url())).unwrap())
}

fn target(sim: &Simulator, project: &str, job: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Gcp,
        Some("cloudsql"),
        job,
        None,
        None,
        Some(project),
        Some(&sim.url()),
    )
    .unwrap()
}

fn provider() -> GcpProvider {
    GcpProvider::new(client(Duration::from_secs(5)))
}

fn status_count(sim: &Simulator, status: &str) -> u64 {
    sim.counters().by_status.get(status).copied().unwrap_or(0)
}

#[tokio::test]
async fn the_client_follows_operations_to_the_end() {
    let sim = start(SimConfig {
        speed: 25.0,
        ..config()
    })
    .await;
    let p = provider();
    let creds = key(&sim);
    for (job, last_phase) in [
        ("op-import-0001", JobPhase::Succeeded),
        ("op-export-0002", JobPhase::Failed),
    ] {
        let t = target(&sim, "sim-project", job);
        let mut seen = vec![p.observe(&t, &creds).await.unwrap()];
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !seen.last().unwrap().phase_or_pending().is_terminal() {
            assert!(std::time::Instant::now() < deadline, "{seen:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            seen.push(p.observe(&t, &creds).await.unwrap());
        }
        // No progress until done, over at least one poll before the end (the jobs start
        // their timelines at the first request, so the first poll sees them running).
        assert!(
            seen.len() >= 2,
            "no poll saw {job} before its end: {seen:?}"
        );
        assert!(
            seen[..seen.len() - 1].iter().all(|o| o.progress.is_none()),
            "{seen:?}"
        );
        let last = seen.last().unwrap();
        assert_eq!(last.phase, Some(last_phase), "{last:?}");
        assert_eq!(last.instance_ids, vec!["orders-db"]);
        assert!(last.end_time.is_some());
        let detail = last.detail.gcp.clone().unwrap();
        assert_eq!(detail.target_project.as_deref(), Some("sim-project"));
        if last_phase == JobPhase::Failed {
            assert_eq!(
                last.message.as_deref(),
                Some("ERROR_RDBMS: bucket not writable")
            );
            assert_eq!(detail.error_codes, vec!["ERROR_RDBMS"]);
            assert_eq!(
                detail.user.as_deref(),
                Some("dba@sim-project.iam.gserviceaccount.com")
            );
            assert_eq!(last.job_type.as_deref(), Some("export"));
        } else {
            assert_eq!(last.progress, Some(100));
            assert!(seen.iter().any(|o| o.phase == Some(JobPhase::Pending)));
            assert!(seen.iter().any(|o| o.phase == Some(JobPhase::Running)));
        }
    }
    // One token for both jobs and all their polls.
    assert_eq!(sim.gcp_token_requests(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn another_project_or_an_unknown_operation_is_the_not_found_grace() {
    let sim = start(config()).await;
    let p = provider();
    for t in [
        target(&sim, "other-project", "op-import-0001"),
        target(&sim, "sim-project", "op-missing"),
    ] {
        let obs = p.observe(&t, &key(&sim)).await.unwrap();
        assert!(obs.is_not_found_yet(), "{obs:?}");
    }
    // A job without a project is seen from any.
    let obs = p
        .observe(&target(&sim, "any-project", "op-long-0003"), &key(&sim))
        .await
        .unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Running));
    assert_eq!(obs.job_type.as_deref(), Some("upgrade"));
    sim.shutdown().await;
}

#[tokio::test]
async fn every_fault_kind() {
    let sim = start(SimConfig {
        faults: EVERY_FAULT.iter().map(|f| parse_flag(f).unwrap()).collect(),
        ..config()
    })
    .await;
    let p = GcpProvider::new(client(Duration::from_secs(1)));
    let t = target(&sim, "x", "op-long-0003");
    let creds = key(&sim);
    let mut outcomes = Vec::new();
    for _ in 0..8 {
        outcomes.push(p.observe(&t, &creds).await);
    }
    assert_every_fault(&outcomes, "RESOURCE_EXHAUSTED");
    assert_eq!(
        outcomes[4].clone().unwrap_err().retry_after,
        Some(Duration::from_secs(1))
    );
    // Faults are never a reason to fetch another token.
    assert_eq!(sim.gcp_token_requests(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn many_jobs_with_one_key_fetch_one_token() {
    let sim = start(config()).await;
    let p = provider();
    let creds = key(&sim);
    let polls: Vec<_> = (0..30)
        .map(|i| {
            let job = ["op-import-0001", "op-export-0002", "op-long-0003"][i % 3];
            let (p, t, c) = (p.clone(), target(&sim, "sim-project", job), creds.clone());
            tokio::spawn(async move { p.observe(&t, &c).await })
        })
        .collect();
    for poll in polls {
        poll.await.unwrap().unwrap();
    }
    assert_eq!(sim.gcp_token_requests(), 1);
    assert_eq!(sim.gcp_tokens_issued(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_token_close_to_expiry_is_refreshed_before_it_expires() {
    // 400 s tokens: the cache replaces them at half their lifetime, 200 s. Its clock is
    // one the test moves (within the 300 s the token endpoint allows a JWT's `iat` to
    // be ahead), so no real lifetime is slept through.
    let sim = start(SimConfig {
        gcp_token_lifetime_secs: 400,
        ..config()
    })
    .await;
    let ahead = std::sync::Arc::new(std::sync::Mutex::new(jiff::SignedDuration::ZERO));
    let read = ahead.clone();
    // Frozen but for the test's moves: however slow the machine, the token is 195 s or
    // 201 s old when it is judged.
    let start = jiff::Timestamp::now();
    let p = GcpProvider::with_clock(
        client(Duration::from_secs(5)),
        std::sync::Arc::new(move || start + *read.lock().unwrap()),
    );
    let creds = key(&sim);
    let t = target(&sim, "x", "op-long-0003");
    p.observe(&t, &creds).await.unwrap();
    p.observe(&t, &creds).await.unwrap();
    assert_eq!(sim.gcp_token_requests(), 1);
    *ahead.lock().unwrap() = jiff::SignedDuration::from_secs(195);
    p.observe(&t, &creds).await.unwrap();
    assert_eq!(sim.gcp_token_requests(), 1);
    *ahead.lock().unwrap() = jiff::SignedDuration::from_secs(201);
    p.observe(&t, &creds).await.unwrap();
    // A second token, fetched while the first was still valid: no request was refused.
    assert_eq!(sim.gcp_token_requests(), 2);
    assert_eq!(status_count(&sim, "401"), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_revoked_token_is_replaced_silently() {
    let sim = start(config()).await;
    let p = provider();
    let creds = key(&sim);
    let t = target(&sim, "x", "op-long-0003");
    p.observe(&t, &creds).await.unwrap();
    assert_eq!(sim.revoke_gcp_tokens(), 1);
    let obs = p.observe(&t, &creds).await.unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Running));
    assert_eq!(sim.gcp_token_requests(), 2);
    // The one refused call, then the retry with the new token.
    assert_eq!(status_count(&sim, "401"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn revocation_through_the_control_api() {
    let sim = start(config()).await;
    let p = provider();
    let creds = key(&sim);
    let t = target(&sim, "x", "op-long-0003");
    p.observe(&t, &creds).await.unwrap();
    let r = client(Duration::from_secs(5))
        .send(
            client(Duration::from_secs(5))
                .reqwest()
                .post(format!("{}/_sim/gcp/revoke-tokens", sim.url())),
        )
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["revoked"], 1);
    p.observe(&t, &creds).await.unwrap();
    assert_eq!(sim.gcp_token_requests(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_service_account_stalls_without_leaking_its_key() {
    let sim = start(config()).await;
    let p = provider();
    let creds = key(&sim);
    let t = target(&sim, "x", "op-long-0003");
    p.observe(&t, &creds).await.unwrap();
    // The account is deleted and its tokens revoked.
    sim.set_credentials(SimCredentials {
        gcp: Vec::new(),
        ..SimCredentials::default()
    });
    sim.revoke_gcp_tokens();
    let e = p.observe(&t, &creds).await.unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
    assert!(e.is_permanent());
    assert_eq!(e.code, "invalid_grant");
    assert!(e.message.contains("account not found"), "{}", e.message);
    let text = format!("{e:?} {e}");
    for line in DEFAULT_GCP_PRIVATE_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
    {
        assert!(!text.contains(line));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_skewed_clock_is_refused_with_a_hint() {
    let sim = start(SimConfig {
        clock_skew_secs: 2 * 3600,
        ..config()
    })
    .await;
    let e = provider()
        .observe(&target(&sim, "x", "op-long-0003"), &key(&sim))
        .await
        .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
    assert!(e.message.contains("short-lived"), "{}", e.message);
    assert!(e.message.contains("local clock"), "{}", e.message);
    sim.shutdown().await;
}

#[tokio::test]
async fn requests_without_a_valid_token_get_googles_401() {
    let sim = start(config()).await;
    let http = client(Duration::from_secs(5));
    let url = format!("{}/v1/projects/x/operations/op-long-0003", sim.url());
    for auth in [None, Some("Bearer ya29.forged")] {
        let mut req = http.reqwest().get(&url);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = http.send(req).await.unwrap();
        assert_eq!(r.status, 401);
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
        assert_eq!(body["error"]["code"], 401);
    }
    sim.shutdown().await;
}
