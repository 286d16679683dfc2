//! Azure against the simulator: the operator's own client fetches its token from the
//! simulated Microsoft Entra ID and reads async operations from the simulated ARM; timelines,
//! every fault kind (on ARM and on the token endpoint), the token cache (one token for many
//! jobs, refresh before expiry, silent refresh of a revoked token) and the services' checks.

use std::sync::Arc;
use std::time::Duration;

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::azure::AzureProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::auth::{
    DEFAULT_AZURE_CLIENT_ID, DEFAULT_AZURE_CLIENT_SECRET, DEFAULT_AZURE_SUBSCRIPTION_ID,
    DEFAULT_AZURE_TENANT_ID,
};
use clouddb_job_operator::simulator::faults::parse_flag;
use clouddb_job_operator::simulator::{Scenario, SimConfig, Simulator};

use super::*;

pub const PG_JOB: &str = "11111111-2222-4333-8444-555555555555";
const MYSQL_JOB: &str = "66666666-7777-4888-9999-aaaaaaaaaaaa";

const SCENARIO: &str = r#"
jobs:
  - provider: azure
    api: postgresql-flexible
    jobId: 11111111-2222-4333-8444-555555555555
    clock: first-request
    timeline:
      - {after: 0s, status: RUNNING, progress: 0}
      - {after: 5s, status: RUNNING, progress: 40}
      - {after: 30s, status: SUCCEED}
  - provider: azure
    api: mysql-flexible
    jobId: 66666666-7777-4888-9999-aaaaaaaaaaaa
    detail: {errorCode: ServerStorageFull}
    timeline:
      - {after: 0s, status: RUNNING, progress: 10}
      - {after: 1h, status: FAILED, message: out of storage}
"#;

pub fn config() -> SimConfig {
    SimConfig {
        scenarios: vec![Scenario::from_yaml(SCENARIO).unwrap()],
        ..SimConfig::empty()
    }
}

fn creds(sim: &Simulator, secret: &str) -> Credentials {
    Credentials::Azure {
        tenant_id: DEFAULT_AZURE_TENANT_ID.into(),
        client_id: DEFAULT_AZURE_CLIENT_ID.into(),
        client_secret: SecretString::new(secret),
        authority_host: Some(sim.url()),
    }
}

fn good(sim: &Simulator) -> Credentials {
    creds(sim, DEFAULT_AZURE_CLIENT_SECRET)
}

fn target(sim: &Simulator, api: &str, job: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Azure,
        Some(api),
        job,
        Some("westeurope"),
        None,
        None,
        Some(&sim.url()),
    )
    .and_then(|t| t.with_subscription_id(Some(DEFAULT_AZURE_SUBSCRIPTION_ID)))
    .unwrap()
}

fn provider() -> AzureProvider {
    AzureProvider::new(client(Duration::from_secs(5)))
}

fn tokens_served(sim: &Simulator) -> u64 {
    sim.counters()
        .by_api
        .get("entra-token")
        .copied()
        .unwrap_or(0)
}

fn unauthorized(sim: &Simulator) -> u64 {
    sim.counters().by_status.get("401").copied().unwrap_or(0)
}

#[tokio::test]
async fn the_client_follows_a_job_to_the_end() {
    let sim = start(SimConfig {
        speed: 25.0,
        ..config()
    })
    .await;
    let p = provider();
    let t = target(&sim, "postgresql-flexible", PG_JOB);
    let mut seen = vec![p.observe(&t, &good(&sim)).await.unwrap()];
    assert_eq!(seen[0].phase, Some(JobPhase::Running), "{:?}", seen[0]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !seen.last().unwrap().phase_or_pending().is_terminal() {
        assert!(std::time::Instant::now() < deadline, "{seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen.push(p.observe(&t, &good(&sim)).await.unwrap());
    }
    assert!(seen.iter().any(|o| o.progress == Some(40)), "{seen:?}");
    let last = seen.last().unwrap();
    assert_eq!(
        (last.phase, last.progress),
        (Some(JobPhase::Succeeded), Some(100))
    );
    assert!(last.start_time.is_some() && last.end_time.is_some());
    let azure = last.detail.azure.clone().unwrap();
    assert_eq!(azure.operation_name.as_deref(), Some(PG_JOB));
    assert_eq!(
        azure.resource_provider.as_deref(),
        Some("Microsoft.DBforPostgreSQL")
    );
    assert!(azure.operation_id.unwrap().starts_with(&format!(
        "/subscriptions/{DEFAULT_AZURE_SUBSCRIPTION_ID}/providers/"
    )));
    // MySQL by its namespace; the PostgreSQL namespace does not see it.
    let mysql = p
        .observe(&target(&sim, "mysql-flexible", MYSQL_JOB), &good(&sim))
        .await
        .unwrap();
    assert_eq!(
        (mysql.phase, mysql.progress),
        (Some(JobPhase::Running), Some(10))
    );
    let wrong_api = p
        .observe(&target(&sim, "postgresql-flexible", MYSQL_JOB), &good(&sim))
        .await
        .unwrap();
    assert!(wrong_api.is_not_found_yet(), "{wrong_api:?}");
    assert_eq!(tokens_served(&sim), 1, "every poll above shared one token");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_operation_reports_its_error() {
    let sim = start(SimConfig {
        speed: 3600.0,
        ..config()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let o = provider()
        .observe(&target(&sim, "mysql-flexible", MYSQL_JOB), &good(&sim))
        .await
        .unwrap();
    assert_eq!(
        (o.phase, o.reason.as_deref()),
        (Some(JobPhase::Failed), Some("JobFailed"))
    );
    assert_eq!(
        o.message.as_deref(),
        Some("ServerStorageFull: out of storage")
    );
    assert_eq!(
        o.detail.azure.unwrap().error_code.as_deref(),
        Some("ServerStorageFull")
    );
    sim.shutdown().await;
}

/// Request 1 is the token (cached afterwards), so requests 2.. are status reads.
#[tokio::test]
async fn every_fault_kind_on_the_status_resource() {
    let faults = [
        "503@2",
        "reset@3",
        "malformed@4",
        "truncated@5",
        "throttle=7@6",
        "unknown@7",
        "slow=3s@8",
    ];
    let sim = start(SimConfig {
        faults: faults.iter().map(|f| parse_flag(f).unwrap()).collect(),
        ..config()
    })
    .await;
    let p = AzureProvider::new(client(Duration::from_secs(1)));
    let t = target(&sim, "mysql-flexible", MYSQL_JOB);
    let mut outcomes = Vec::new();
    for _ in 0..8 {
        outcomes.push(p.observe(&t, &good(&sim)).await);
    }
    let err = |i: usize| outcomes[i].clone().unwrap_err();
    assert_eq!(
        (err(0).class, err(0).code.as_str()),
        (ErrorClass::Transient, "HTTP 503")
    );
    assert!(err(0).request_id.is_some(), "x-ms-request-id on a bare 503");
    assert_eq!(err(1).class, ErrorClass::Transient);
    for i in [2, 3] {
        assert_eq!(
            (err(i).class, err(i).code.as_str()),
            (ErrorClass::Transient, "MalformedResponse")
        );
    }
    assert_eq!(
        (err(4).class, err(4).code.as_str(), err(4).retry_after),
        (
            ErrorClass::Throttled,
            "TooManyRequests",
            Some(Duration::from_secs(7))
        )
    );
    assert!(outcomes[5].as_ref().unwrap().is_not_found_yet());
    assert_eq!(
        (err(6).class, err(6).code.as_str()),
        (ErrorClass::Transient, "Timeout")
    );
    assert_eq!(outcomes[7].as_ref().unwrap().phase, Some(JobPhase::Running));
    assert_eq!(tokens_served(&sim), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_on_the_token_endpoint_are_retried_never_fatal() {
    let faults = ["503@1", "throttle=5@2", "reset@3", "malformed@4"];
    let sim = start(SimConfig {
        faults: faults.iter().map(|f| parse_flag(f).unwrap()).collect(),
        ..config()
    })
    .await;
    let p = provider();
    let t = target(&sim, "postgresql-flexible", PG_JOB);
    let mut errors = Vec::new();
    for _ in 0..4 {
        errors.push(p.observe(&t, &good(&sim)).await.unwrap_err());
    }
    assert_eq!(errors[0].class, ErrorClass::Transient);
    assert_eq!(
        (errors[1].class, errors[1].retry_after),
        (ErrorClass::Throttled, Some(Duration::from_secs(5)))
    );
    assert_eq!(errors[2].class, ErrorClass::Transient);
    assert_eq!(
        (errors[3].class, errors[3].code.as_str()),
        (ErrorClass::Transient, "MalformedTokenResponse")
    );
    assert!(errors.iter().all(|e| !e.is_permanent()), "{errors:?}");
    assert_eq!(
        p.observe(&t, &good(&sim)).await.unwrap().phase,
        Some(JobPhase::Running)
    );
    assert_eq!(tokens_served(&sim), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn many_jobs_with_one_credential_share_one_token() {
    let mut scenario = Scenario::from_yaml(SCENARIO).unwrap();
    let template = scenario.jobs[0].clone();
    for i in 0..40 {
        let mut job = template.clone();
        job.job_id = format!("11111111-2222-4333-8444-{i:012}");
        scenario.jobs.push(job);
    }
    let sim = start(SimConfig {
        scenarios: vec![scenario],
        ..SimConfig::empty()
    })
    .await;
    let p = Arc::new(provider());
    let polls: Vec<_> = (0..40)
        .map(|i| {
            let (p, t, c) = (
                p.clone(),
                target(
                    &sim,
                    "postgresql-flexible",
                    &format!("11111111-2222-4333-8444-{i:012}"),
                ),
                good(&sim),
            );
            tokio::spawn(async move { p.observe(&t, &c).await })
        })
        .collect();
    for poll in polls {
        assert_eq!(poll.await.unwrap().unwrap().phase, Some(JobPhase::Running));
    }
    assert_eq!(tokens_served(&sim), 1);
    assert_eq!(sim.azure_tokens_issued(), 1);
    assert_eq!(p.tokens().fetches(), 1);
    // Another credential (a different secret) is another cache entry: the simulator
    // refuses it, and the cached token is untouched.
    let wrong = p
        .observe(
            &target(&sim, "postgresql-flexible", PG_JOB),
            &creds(&sim, "wrong"),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.reason, ErrorReason::AuthenticationFailed);
    p.observe(&target(&sim, "postgresql-flexible", PG_JOB), &good(&sim))
        .await
        .unwrap();
    assert_eq!(sim.azure_tokens_issued(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_short_lived_token_is_refreshed_before_it_expires() {
    let sim = start(SimConfig {
        azure_token_lifetime: Duration::from_secs(2),
        ..config()
    })
    .await;
    let p = provider();
    let t = target(&sim, "postgresql-flexible", PG_JOB);
    for _ in 0..6 {
        p.observe(&t, &good(&sim)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Refreshed at half its 2 s life: about every second, never sent after expiry.
    let issued = sim.azure_tokens_issued();
    assert!((2..=4).contains(&issued), "{issued} tokens");
    assert_eq!(unauthorized(&sim), 0, "no request carried an expired token");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once_silently() {
    let sim = start(config()).await;
    let p = provider();
    let t = target(&sim, "postgresql-flexible", PG_JOB);
    p.observe(&t, &good(&sim)).await.unwrap();
    // Through the control API, as an e2e test of the binary would.
    let http = client(Duration::from_secs(5));
    let revoked = http
        .send(
            http.reqwest()
                .post(format!("{}/_sim/azure/revoke-tokens", sim.url())),
        )
        .await
        .unwrap();
    assert_eq!(json(&revoked)["revoked"], 1);
    let o = p.observe(&t, &good(&sim)).await.unwrap();
    assert_eq!(o.phase, Some(JobPhase::Running));
    assert_eq!(unauthorized(&sim), 1, "the revoked token was refused once");
    assert_eq!(sim.azure_tokens_issued(), 2);
    p.observe(&t, &good(&sim)).await.unwrap();
    assert_eq!(sim.azure_tokens_issued(), 2, "the new token is cached");
    sim.shutdown().await;
}

#[tokio::test]
async fn refused_clients_stall_without_their_secret() {
    let sim = start(config()).await;
    let p = provider();
    let t = target(&sim, "postgresql-flexible", PG_JOB);
    let wrong = "Wrong~Client.Secret+/=";
    let e = p.observe(&t, &creds(&sim, wrong)).await.unwrap_err();
    assert_eq!(
        (e.class, e.reason),
        (ErrorClass::Permanent, ErrorReason::AuthenticationFailed)
    );
    assert_eq!(e.code, "invalid_client");
    assert!(e.message.contains("AADSTS7000215"), "{}", e.message);
    assert!(!format!("{e:?} {}", e.describe()).contains(wrong));
    let other = Credentials::Azure {
        tenant_id: DEFAULT_AZURE_TENANT_ID.into(),
        client_id: "00000000-0000-0000-0000-00000000beef".into(),
        client_secret: SecretString::new(DEFAULT_AZURE_CLIENT_SECRET),
        authority_host: Some(sim.url()),
    };
    let e = p.observe(&t, &other).await.unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.reason),
        ("unauthorized_client", ErrorReason::AuthenticationFailed)
    );
    assert!(e.message.contains("AADSTS700016"), "{}", e.message);
    assert_eq!(sim.azure_tokens_issued(), 0);
    assert!(
        sim.counters().by_api.keys().all(|api| api == "entra-token"),
        "no ARM call"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn builtin_jobs_are_served_for_both_apis() {
    let sim = builtin().await;
    let p = provider();
    for (api, job) in [
        (
            "postgresql-flexible",
            "0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11",
        ),
        (
            "postgresql-flexible",
            "6f1c2d3e-8b7a-4c5d-9e0f-1a2b3c4d5e6f",
        ),
        ("mysql-flexible", "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a99"),
        ("mysql-flexible", "7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d"),
    ] {
        let o = p
            .observe(&target(&sim, api, job), &good(&sim))
            .await
            .unwrap();
        assert_eq!(o.phase, Some(JobPhase::Running), "{api} {job}: {o:?}");
    }
    assert_eq!(tokens_served(&sim), 1);
    sim.shutdown().await;
}
