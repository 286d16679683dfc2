//! Issue 9: Secrets deleted or missing keys (Stalled, then recovered), credential rotation
//! mid-job, and the secret leak check over logs, API objects and metrics.

use std::time::{Duration, Instant};

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::HttpOptions;
use clouddb_job_operator::providers::{Credentials, ErrorClass, JobTarget};
use clouddb_job_operator::simulator::auth::{AzureApp, KeyPair, TemporaryKey};
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::{FaultKind, FaultRule, SimCredentials};
use serde_json::Value;

use super::harness::{Harness, Options};
use super::history::condition;
use super::manifests::{manifest_for, sim_job, PROJECT};
use clouddb_job_operator::simulator::auth::{default_gcp_key_json, DEFAULT_GCP_PRIVATE_KEY};

/// A private key the simulator does not trust (a test fixture, never used elsewhere).
const UNTRUSTED_GCP_KEY: &str = include_str!("../fixtures/gcp/untrusted-test-key.pem");

/// The simulator's key file at `url` with the untrusted private key: the token endpoint
/// refuses its signature (`invalid_grant`).
pub(super) fn gcp_untrusted_creds(url: &str) -> Vec<(String, String)> {
    let mut key: Value = serde_json::from_str(&default_gcp_key_json(url)).unwrap();
    key["private_key"] = Value::String(UNTRUSTED_GCP_KEY.into());
    vec![("credentials.json".into(), key.to_string())]
}

/// Secret data from string pairs.
pub(super) fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_secret_and_missing_keys_stall_then_recover() {
    let steps = [
        (0, Phase::Running, Some(10)),
        (10, Phase::Running, Some(50)),
        (20, Phase::Succeed, None),
    ];
    let deleted = sim_job(ProviderKind::Tencent, "DescribeTasks", "720001", &steps);
    let missing = sim_job(
        ProviderKind::TencentLegacy,
        "GetCdbTaskInfo",
        "720002",
        &steps,
    );
    let h = Harness::start(
        "secret-stall",
        Options {
            speed: 2.0,
            builtins: false,
            jobs: vec![deleted.clone(), missing.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    let del = manifest_for(&deleted, "deleted", &url);
    let mut miss = manifest_for(&missing, "missing", &url);
    let full_creds = miss.secret.clone().unwrap();
    miss.secret = Some(
        full_creds
            .iter()
            .filter(|(k, _)| k != "secretKey")
            .cloned()
            .collect(),
    );
    h.apply("deleted", &del.yaml()).await;
    h.apply("missing", &miss.yaml()).await;

    h.eventually("the first job running", 15, |h| {
        h.status("deleted")["phase"] == "Running"
    })
    .await;
    h.kubectl_ok(&["delete", &format!("secret/{}", del.secret_name())])
        .await;
    h.wait_for("deleted", "Stalled", 15).await;
    h.wait_for("missing", "Stalled", 15).await;
    let expect_stalled = |name: &str, reason: &str| {
        let status = h.status(name);
        assert_eq!(status["reason"], reason, "{status}");
        assert_ne!(status["phase"], "Failed", "{status}");
        let stalled = condition(&status, "Stalled").unwrap();
        assert_eq!(stalled["reason"], reason, "{status}");
        assert!(
            !status
                .to_string()
                .contains(super::manifests::tencent_creds()[1].1.as_str()),
            "{status}"
        );
    };
    expect_stalled("deleted", "SecretNotFound");
    expect_stalled("missing", "SecretKeyMissing");
    assert_eq!(h.status("deleted")["progress"], 10);
    // Fix both; the controller retries stalled jobs 15-30 s later.
    h.apply(
        "deleted-secret",
        &del.secret_yaml(del.secret.as_ref().unwrap()),
    )
    .await;
    h.apply("missing-secret", &miss.secret_yaml(&full_creds))
        .await;
    h.wait_for("deleted", "Complete", 50).await;
    h.wait_for("missing", "Complete", 50).await;
    for name in ["deleted", "missing"] {
        let list = h.assert_sane(name, false).await;
        assert!(
            list.iter()
                .any(|s| s.condition("Stalled").as_deref() == Some("True")),
            "{name} was never stalled"
        );
        assert_eq!(h.status(name)["progress"], 100);
    }
    let events = h
        .kubectl_ok(&["get", "events.events.k8s.io", "-o", "json"])
        .await;
    assert!(events.contains("SecretNotFound"), "{events}");
    assert!(events.contains("Recovered"), "{events}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_secret_cache_rotated_credentials_are_used_from_the_next_poll() {
    let rejected = rotate("rotation", &["--secret-cache-ttl=0s"]).await;
    assert_eq!(
        rejected, 0,
        "every poll after the rotation read the new key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_credential_rejected_after_rotation_is_re_read_at_once() {
    // The default 5 s Secret cache may serve the old key once; the provider's rejection
    // makes the operator re-read the Secret and poll again in the same reconcile.
    let rejected = rotate("rotation-cached", &[]).await;
    assert!(rejected <= 1, "{rejected} rejected polls");
}

/// Rotates a Huawei AK/SK mid-job (the old key is then revoked) and checks the job
/// completes without ever stalling. Returns how many of the operator's polls after the
/// rotation the provider rejected.
async fn rotate(name: &str, operator_args: &[&str]) -> usize {
    let (old_sk, new_sk) = (
        "OldRotationSecretKey0000000000000000000a",
        "NewRotationSecretKey0000000000000000000b",
    );
    let ak = "ROTATIONAK0000000000";
    let key = |secret: &str| KeyPair {
        id: ak.into(),
        secret: secret.into(),
    };
    let both = SimCredentials {
        huawei: vec![key(old_sk), key(new_sk)],
        ..SimCredentials::default()
    };
    let job = sim_job(
        ProviderKind::Huawei,
        "rds",
        "cccccccc-0000-4000-8000-000000000001",
        &[
            (0, Phase::Running, Some(10)),
            (8, Phase::Running, Some(60)),
            (16, Phase::Succeed, None),
        ],
    );
    let h = Harness::start(
        name,
        Options {
            speed: 2.0,
            builtins: false,
            jobs: vec![job.clone()],
            credentials: both.clone(),
            operator_args: operator_args.iter().map(|a| a.to_string()).collect(),
            ..Options::default()
        },
    )
    .await;
    let mut manifest = manifest_for(&job, "rotating", &h.sim.url());
    manifest.secret = Some(pairs(&[("ak", ak), ("sk", old_sk)]));
    h.apply("rotating", &manifest.yaml()).await;
    h.eventually("two polls with the old key", 15, |h| {
        h.sim_requests(&job.job_id) >= 2
    })
    .await;
    h.apply(
        "rotated-secret",
        &manifest.secret_yaml(&pairs(&[("ak", ak), ("sk", new_sk)])),
    )
    .await;
    // Any poll that read the old Secret has landed by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rotated_at = h.sim.request_count();
    h.sim.set_credentials(SimCredentials {
        huawei: vec![key(new_sk)],
        ..SimCredentials::default()
    });
    // The old key is really rejected now.
    let provider = clouddb_job_operator::cli::providers::standard(&HttpOptions::default()).unwrap();
    let target = JobTarget::new(
        ProviderKind::Huawei,
        Some("rds"),
        &job.job_id,
        Some("cn-north-4"),
        None,
        Some(PROJECT),
        Some(&h.sim.url()),
    )
    .unwrap();
    let old = Credentials::HuaweiAkSk {
        ak: ak.into(),
        sk: SecretString::new(old_sk),
    };
    let err = provider.observe(&target, &old).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent, "{err:?}");

    let started = Instant::now();
    h.wait_for("rotating", "Complete", 20).await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "no stall on the way"
    );
    let after: Vec<_> = h
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.seq > rotated_at && r.job_id.as_deref() == Some(job.job_id.as_str()))
        .collect();
    assert!(after.len() >= 2, "polled after the rotation: {after:?}");
    let list = h.assert_sane("rotating", false).await;
    assert!(list
        .iter()
        .all(|s| s.condition("Stalled").as_deref() != Some("True")));
    // Less our own rejected probe.
    let rejected = after.iter().filter(|r| r.status == Some(401)).count();
    assert!(rejected >= 1, "the probe was rejected: {after:?}");
    rejected - 1
}

/// Collects every text the operator produced or wrote: logs, API objects, metrics.
async fn everything(h: &Harness) -> String {
    let mut all = h.operator_logs();
    for kind in [
        "cdbjob",
        "events",
        "events.events.k8s.io",
        "configmaps",
        "leases",
    ] {
        all.push_str(&h.kubectl_ok(&["get", kind, "-A", "-o", "json"]).await);
    }
    all.push_str(&h.metrics().await);
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leak_into_logs_objects_or_metrics() {
    const TC_ID: &str = "AKIDe2eLeakProbeSecretId000000000000";
    const TC_KEY: &str = "e2eLeakProbeTencentSecretKey0001";
    const WRONG_KEY: &str = "e2eLeakProbeWrongTencentKey00002";
    const HW_AK: &str = "E2ELEAKPROBEAK000001";
    const HW_SK: &str = "e2eLeakProbeHuaweiSecretAccessKey0000003";
    const HW_TOKEN: &str = "e2e-leak-probe-iam-token-0000004";
    const AL_ID: &str = "LTAIe2eLeakProbe00000005";
    const AL_SECRET: &str = "e2eLeakProbeAlibabaSecret00005";
    const AL_TOKEN: &str = "e2eLeakProbeAlibabaStsToken000000000006";
    const AWS_ID: &str = "ASIAE2ELEAKPROBE0007";
    const AWS_SECRET: &str = "e2eLeakProbeAwsSecretAccessKey/000000007";
    const AWS_TOKEN: &str = "e2eLeakProbeAwsSessionToken+00000000000008";
    const AWS_WRONG: &str = "e2eLeakProbeAwsWrongSecretKey/0000000009";
    const AZ_TENANT: &str = "e2e1ea70-0000-4000-8000-00000000000a";
    const AZ_CLIENT: &str = "e2e1ea70-0000-4000-8000-00000000000b";
    const AZ_SECRET: &str = "e2eLeakProbe~AzureClientSecret.000000010";
    const AZ_WRONG: &str = "e2eLeakProbe~AzureWrongSecret.0000000011";
    let creds = SimCredentials {
        tencent: vec![KeyPair {
            id: TC_ID.into(),
            secret: TC_KEY.into(),
        }],
        huawei: vec![KeyPair {
            id: HW_AK.into(),
            secret: HW_SK.into(),
        }],
        huawei_tokens: vec![HW_TOKEN.into()],
        alibaba: Vec::new(),
        alibaba_temporary: vec![TemporaryKey {
            id: AL_ID.into(),
            secret: AL_SECRET.into(),
            token: AL_TOKEN.into(),
        }],
        aws: Vec::new(),
        aws_temporary: vec![TemporaryKey {
            id: AWS_ID.into(),
            secret: AWS_SECRET.into(),
            token: AWS_TOKEN.into(),
        }],
        azure: vec![AzureApp {
            tenant_id: AZ_TENANT.into(),
            client_id: AZ_CLIENT.into(),
            client_secret: AZ_SECRET.into(),
        }],
        // The simulator's own service account: its key file is the leak probe's secret.
        gcp: SimCredentials::default().gcp,
    };
    let steps = [(0, Phase::Running, Some(10)), (4, Phase::Succeed, None)];
    let mut malformed = sim_job(ProviderKind::Tencent, "DescribeTasks", "730005", &steps);
    malformed.faults.push(FaultRule {
        first_requests: Some(1),
        ..FaultRule::always(FaultKind::Malformed)
    });
    let hw = |n: u32| format!("ee000000-0000-4000-8000-00000000000{n}");
    let jobs = [
        (
            "leak-tc",
            sim_job(ProviderKind::Tencent, "DescribeTasks", "730001", &steps),
            pairs(&[("secretId", TC_ID), ("secretKey", TC_KEY)]),
        ),
        (
            "leak-v2",
            sim_job(
                ProviderKind::TencentLegacy,
                "GetCdbTaskInfo",
                "730002",
                &steps,
            ),
            pairs(&[("secretId", TC_ID), ("secretKey", TC_KEY)]),
        ),
        (
            "leak-hw",
            sim_job(ProviderKind::Huawei, "rds", &hw(3), &steps),
            pairs(&[("ak", HW_AK), ("sk", HW_SK)]),
        ),
        (
            "leak-token",
            sim_job(ProviderKind::Huawei, "taurusdb", &hw(4), &steps),
            pairs(&[("token", HW_TOKEN)]),
        ),
        (
            "leak-wrong",
            sim_job(ProviderKind::Tencent, "DescribeTasks", "730004", &steps),
            pairs(&[("secretId", TC_ID), ("secretKey", WRONG_KEY)]),
        ),
        (
            "leak-malformed",
            malformed,
            pairs(&[("secretId", TC_ID), ("secretKey", TC_KEY)]),
        ),
        (
            "leak-ali",
            sim_job(ProviderKind::Alibaba, "rds", "t-e2eleak00000007", &steps),
            pairs(&[
                ("accessKeyId", AL_ID),
                ("accessKeySecret", AL_SECRET),
                ("securityToken", AL_TOKEN),
            ]),
        ),
        (
            "leak-aws",
            sim_job(ProviderKind::Aws, "export-task", "e2e-leak-export", &steps),
            pairs(&[
                ("accessKeyId", AWS_ID),
                ("secretAccessKey", AWS_SECRET),
                ("sessionToken", AWS_TOKEN),
            ]),
        ),
        (
            "leak-aws-wrong",
            sim_job(
                ProviderKind::Aws,
                "db-snapshot",
                "e2e-leak-snapshot",
                &steps,
            ),
            pairs(&[
                ("accessKeyId", AWS_ID),
                ("secretAccessKey", AWS_WRONG),
                ("sessionToken", AWS_TOKEN),
            ]),
        ),
        (
            "leak-azure",
            sim_job(
                ProviderKind::Azure,
                "postgresql-flexible",
                "e2e1ea70-0000-4000-8000-0000000000c1",
                &steps,
            ),
            Vec::new(),
        ),
        (
            "leak-azure-wrong",
            sim_job(
                ProviderKind::Azure,
                "mysql-flexible",
                "e2e1ea70-0000-4000-8000-0000000000c2",
                &steps,
            ),
            Vec::new(),
        ),
        (
            "leak-gcp",
            sim_job(ProviderKind::Gcp, "cloudsql", "e2e-leak-operation", &steps),
            Vec::new(),
        ),
        (
            "leak-gcp-wrong",
            sim_job(
                ProviderKind::Gcp,
                "cloudsql",
                "e2e-leak-operation-2",
                &steps,
            ),
            Vec::new(),
        ),
    ];
    // Azure Secrets name the token endpoint, which is the simulator.
    let azure_secret = |secret: &str| {
        pairs(&[
            ("tenantId", AZ_TENANT),
            ("clientId", AZ_CLIENT),
            ("clientSecret", secret),
        ])
    };
    let mut h = Harness::start_without_operator(
        "leak",
        Options {
            speed: 2.0,
            builtins: false,
            jobs: jobs.iter().map(|(_, j, _)| j.clone()).collect(),
            credentials: creds,
            rust_log: "trace".into(),
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    for (name, job, secret) in &jobs[..3] {
        let mut m = manifest_for(job, name, &url);
        m.secret = Some(secret.clone());
        h.apply(name, &m.yaml()).await;
    }
    h.start_operator().await;
    for (name, _, _) in &jobs[..3] {
        h.wait_for(name, "Complete", 20).await;
    }
    // Second run: JSON logs, the other jobs (token auth, a rejected key, broken JSON).
    h.kill_operator();
    h.start_operator_with(&["--log-format", "json"]).await;
    for (name, job, secret) in &jobs[3..] {
        let mut m = manifest_for(job, name, &url);
        match *name {
            // The default key (accepted), or it with a private key the simulator does not know.
            "leak-gcp" => {}
            "leak-gcp-wrong" => m.secret = Some(gcp_untrusted_creds(&url)),
            _ => {
                let mut secret = match *name {
                    "leak-azure" => azure_secret(AZ_SECRET),
                    "leak-azure-wrong" => azure_secret(AZ_WRONG),
                    _ => secret.clone(),
                };
                if job.provider == ProviderKind::Azure {
                    secret.push(("authorityHost".into(), url.clone()));
                }
                m.secret = Some(secret);
            }
        }
        h.apply(name, &m.yaml()).await;
    }
    h.wait_for("leak-token", "Complete", 20).await;
    h.wait_for("leak-malformed", "Complete", 20).await;
    h.wait_for("leak-wrong", "Stalled", 20).await;
    assert_eq!(h.status("leak-wrong")["reason"], "AuthenticationFailed");
    h.wait_for("leak-ali", "Complete", 20).await;
    h.wait_for("leak-aws", "Complete", 20).await;
    h.wait_for("leak-aws-wrong", "Stalled", 20).await;
    assert_eq!(h.status("leak-aws-wrong")["reason"], "AuthenticationFailed");
    h.wait_for("leak-azure", "Complete", 20).await;
    h.wait_for("leak-azure-wrong", "Stalled", 20).await;
    assert_eq!(
        h.status("leak-azure-wrong")["reason"],
        "AuthenticationFailed"
    );
    h.wait_for("leak-gcp", "Complete", 20).await;
    h.wait_for("leak-gcp-wrong", "Stalled", 20).await;
    assert_eq!(h.status("leak-gcp-wrong")["reason"], "AuthenticationFailed");

    let all = everything(&h).await;
    let logs = h.operator_logs();
    assert!(logs.contains("\"level\""), "the second run logged JSON");
    // The logs cover the rejected credential (its job is named in them), so the search
    // below would see a key that leaked with it.
    for (what, a, b) in [
        (
            "a reconcile of job 730004",
            "\"job_id\":\"730004\"",
            "reconciled",
        ),
        (
            "its rejection",
            "\"name\":\"leak-wrong\"",
            "AuthenticationFailed",
        ),
    ] {
        assert!(
            logs.lines().any(|l| l.contains(a) && l.contains(b)),
            "no log line about {what}:\n{}",
            super::harness::tail(&logs, 40)
        );
    }
    use base64::Engine as _;
    for secret in [
        TC_KEY, WRONG_KEY, HW_SK, HW_TOKEN, AL_SECRET, AL_TOKEN, AWS_SECRET, AWS_TOKEN, AWS_WRONG,
        AZ_SECRET, AZ_WRONG,
    ] {
        assert!(!all.contains(secret), "secret {secret} leaked");
        for encoded in [
            base64::engine::general_purpose::STANDARD.encode(secret),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        ] {
            assert!(!all.contains(&encoded), "secret {secret} leaked as base64");
        }
    }
    // The simulator's Azure access tokens all start `simaz.`: none may appear anywhere.
    assert!(
        h.sim.azure_tokens_issued() > 0,
        "the Azure job fetched a token"
    );
    assert!(!all.contains("simaz."), "an Azure access token leaked");
    // Google: no line of either private key, no access token the simulator issued, no
    // signed assertion (every RS256 JWT header starts `eyJhbGciOiJSUzI1Ni`).
    for pem in [DEFAULT_GCP_PRIVATE_KEY, UNTRUSTED_GCP_KEY] {
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!all.contains(line), "a private key line leaked: {line}");
        }
    }
    assert!(!all.contains("ya29.sim-"), "an access token leaked");
    assert!(
        !all.contains("eyJhbGciOiJSUzI1Ni"),
        "a JWT assertion leaked"
    );
    assert!(h.sim.gcp_tokens_issued() >= 1, "the gcp job authenticated");
    // Key IDs are not secret, but status, events and metrics have no use for them.
    let mut objects = String::new();
    for name in jobs.iter().map(|(n, _, _)| *n) {
        objects.push_str(&h.status(name).to_string());
    }
    objects.push_str(
        &h.kubectl_ok(&["get", "events.events.k8s.io", "-A", "-o", "json"])
            .await,
    );
    objects.push_str(&h.metrics().await);
    for id in [TC_ID, HW_AK, AL_ID, AWS_ID] {
        assert!(!objects.contains(id), "{id} in status, events or metrics");
    }
    let statuses: Vec<Value> = jobs.iter().map(|(n, _, _)| h.status(n)).collect();
    assert!(statuses.iter().all(|s| !s.is_null()));
}
