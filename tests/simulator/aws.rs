//! The AWS client against the simulator: requests signed by `aws-sigv4` pass the
//! simulator's own SigV4 check, every built-in AWS job is served, timelines advance, every
//! fault kind reaches the client as AWS would produce it, and STS keys need their token.

use std::time::Duration;

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::auth::{
    TemporaryKey, DEFAULT_AWS_ACCESS_KEY_ID, DEFAULT_AWS_SECRET_ACCESS_KEY,
};
use clouddb_job_operator::simulator::faults::parse_flag;
use clouddb_job_operator::simulator::{Scenario, SimConfig, Simulator};

use super::*;

fn aws(sim: &Simulator, api: &str, job_id: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Aws,
        Some(api),
        job_id,
        Some("us-east-1"),
        None,
        None,
        Some(&sim.url()),
    )
    .unwrap()
}

fn keys() -> Credentials {
    Credentials::Aws {
        access_key_id: DEFAULT_AWS_ACCESS_KEY_ID.into(),
        secret_access_key: SecretString::new(DEFAULT_AWS_SECRET_ACCESS_KEY),
        session_token: None,
    }
}

fn provider() -> AwsProvider {
    AwsProvider::new(client(Duration::from_secs(5)))
}

#[tokio::test]
async fn every_built_in_aws_job_is_served_to_the_client() {
    let sim = builtin().await;
    let jobs: Vec<_> = Scenario::builtins()
        .unwrap()
        .iter()
        .flat_map(|s| s.resolved_jobs())
        .filter(|j| j.provider == ProviderKind::Aws)
        .collect();
    assert!(jobs.len() >= 5);
    for job in &jobs {
        let o = provider()
            .observe(&aws(&sim, job.api(), &job.job_id), &keys())
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", job.api(), job.job_id));
        assert!(!o.is_not_found_yet(), "{}: {o:?}", job.job_id);
        assert_ne!(o.reason.as_deref(), Some("UnknownStatus"), "{o:?}");
    }
    // Unknown IDs answer as RDS does, and the client waits for them.
    for api in ProviderKind::Aws.apis() {
        let o = provider()
            .observe(&aws(&sim, api, "no-such-job-anywhere"), &keys())
            .await
            .unwrap();
        assert!(o.is_not_found_yet(), "{api}: {o:?}");
    }
    let counters = sim.counters();
    assert!(counters.by_provider.get("aws").copied().unwrap_or(0) >= 10);
}

const TIMELINE: &str = r#"
jobs:
  - provider: aws
    api: export-task
    jobId: orders-export-fast
    clock: first-request
    timeline:
      - {after: 0s, status: INITIAL}
      - {after: 2s, status: RUNNING, progress: 50}
      - {after: 4s, status: SUCCEED}
  - provider: aws
    api: blue-green-switchover
    jobId: bgd-fastswitch0000001
    clock: first-request
    instanceId: orders-db
    timeline:
      - {after: 0s, status: WAITING}
      - {after: 2s, status: RUNNING, progress: 0}
      - {after: 4s, status: SUCCEED}
"#;

#[tokio::test]
async fn timelines_advance_for_the_client() {
    let sim = start(SimConfig {
        scenarios: vec![Scenario::from_yaml(TIMELINE).unwrap()],
        speed: 8.0,
        ..SimConfig::empty()
    })
    .await;
    for (api, id) in [
        ("export-task", "orders-export-fast"),
        ("blue-green-switchover", "bgd-fastswitch0000001"),
    ] {
        let target = aws(&sim, api, id);
        let mut phases = Vec::new();
        for _ in 0..60 {
            let o = provider().observe(&target, &keys()).await.unwrap();
            let phase = o.phase.unwrap();
            if phases.last() != Some(&phase) {
                phases.push(phase);
            }
            if phase == JobPhase::Succeeded {
                assert_eq!(o.progress, Some(100));
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            phases,
            [JobPhase::Pending, JobPhase::Running, JobPhase::Succeeded],
            "{api}"
        );
    }
}

#[tokio::test]
async fn every_fault_kind_reaches_the_client_as_aws_would_send_it() {
    let faults = [
        "503@1",
        "throttle@2",
        "malformed@3",
        "truncated@4",
        "unknown@5",
        "reset@6",
        "status=500@7",
    ];
    let sim = start(SimConfig {
        scenarios: vec![Scenario::from_yaml(TIMELINE).unwrap()],
        faults: faults.iter().map(|f| parse_flag(f).unwrap()).collect(),
        ..SimConfig::empty()
    })
    .await;
    let target = aws(&sim, "export-task", "orders-export-fast");
    let p = provider();
    let e = p.observe(&target, &keys()).await.unwrap_err();
    assert_eq!(
        (e.class, e.code.as_str()),
        (ErrorClass::Transient, "HTTP 503")
    );
    assert!(e.request_id.is_some(), "x-amzn-RequestId on a fault");
    let e = p.observe(&target, &keys()).await.unwrap_err();
    assert_eq!(
        (e.class, e.code.as_str()),
        (ErrorClass::Throttled, "Throttling")
    );
    assert_eq!(e.message, "Rate exceeded");
    for _ in 0..2 {
        let e = p.observe(&target, &keys()).await.unwrap_err();
        assert_eq!(
            (e.class, e.code.as_str()),
            (ErrorClass::Transient, "MalformedResponse")
        );
    }
    let hidden = p.observe(&target, &keys()).await.unwrap();
    assert!(hidden.is_not_found_yet());
    let e = p.observe(&target, &keys()).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient);
    let e = p.observe(&target, &keys()).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient);
    let fine = p.observe(&target, &keys()).await.unwrap();
    assert_eq!(fine.phase, Some(JobPhase::Pending));
    assert!(!fine.is_not_found_yet());
}

#[tokio::test]
async fn sts_keys_need_their_token_and_wrong_keys_are_refused() {
    let mut config = SimConfig::builtin().unwrap();
    config.credentials.aws_temporary = vec![TemporaryKey {
        id: "ASIASIMULATOR0000001".into(),
        secret: "SimulatorTemporarySecret/000000000000000".into(),
        token: "SimulatorSessionToken/000+=".into(),
    }];
    let sim = start(config).await;
    let target = aws(&sim, "db-snapshot", "orders-before-upgrade");
    let sts = |token: Option<&str>| Credentials::Aws {
        access_key_id: "ASIASIMULATOR0000001".into(),
        secret_access_key: SecretString::new("SimulatorTemporarySecret/000000000000000"),
        session_token: token.map(SecretString::new),
    };
    let o = provider()
        .observe(&target, &sts(Some("SimulatorSessionToken/000+=")))
        .await
        .unwrap();
    assert!(o.phase.is_some() && !o.is_not_found_yet());
    for token in [None, Some("SimulatorSessionToken/999+=")] {
        let e = provider().observe(&target, &sts(token)).await.unwrap_err();
        assert_eq!(e.code, "InvalidClientTokenId", "{token:?}");
        assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
        assert!(!e.describe().contains("SimulatorSessionToken"));
    }
    let wrong = Credentials::Aws {
        access_key_id: DEFAULT_AWS_ACCESS_KEY_ID.into(),
        secret_access_key: SecretString::new("not-the-simulator-secret"),
        session_token: None,
    };
    let e = provider().observe(&target, &wrong).await.unwrap_err();
    assert_eq!(e.code, "SignatureDoesNotMatch");
    assert!(e.rejects_credentials());
}
