//! Issue 25, tenant isolation, tried as a hostile second team would on the real control
//! plane: one cluster-wide operator (the chart's default install), team A tracking its jobs
//! in its namespace, team B holding only A's public identifiers (an access key ID, a GCP
//! key's `client_email` and `private_key_id`, an Azure tenant and client ID, a ServiceAccount
//! of the same name in its own namespace) with made-up secrets, tracking A's very jobs on the
//! same endpoint, region and instance. B must learn nothing: every job of B stalls on the
//! provider's refusal, and no status it ever had, no Event and no log line about it carries
//! anything of A's jobs. The same holds inside one namespace for a stale key next to a good
//! one.
//!
//! Before the fix, Tencent `DescribeTasks` batched by SecretId and B's job showed A's
//! progress, job type, times and a `Running` Event.

use std::path::Path;
use std::time::Duration;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::auth::{
    DEFAULT_AWS_ACCESS_KEY_ID, DEFAULT_AZURE_CLIENT_ID, DEFAULT_AZURE_TENANT_ID,
    DEFAULT_TENCENT_SECRET_ID,
};
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::sts::{SimRole, WorkloadIdentityConfig};
use clouddb_job_operator::simulator::JobSpec;
use kube::Api;
use serde_json::{json, Value};

use super::cluster::{self, ControlPlane, TestNamespace};
use super::harness::{tail, Harness, Options, Scratch};
use super::history::History;
use super::identity::{cluster_oidc, identity_job, role};
use super::manifests::{manifest_for, sim_job, JobManifest};
use super::secrets::{gcp_untrusted_creds, pairs};

const READER: &str = "reader";
/// What A's jobs report while they run: a marker B must never see.
const A_PROGRESS: u8 = 37;

/// A's jobs: running at 37 % for ten minutes.
fn team_a_jobs() -> Vec<JobSpec> {
    let steps = [
        (0, Phase::Running, Some(A_PROGRESS)),
        (600, Phase::Succeed, None),
    ];
    vec![
        sim_job(ProviderKind::Tencent, "DescribeTasks", "88123", &steps),
        sim_job(ProviderKind::Gcp, "cloudsql", "tenant-a-operation", &steps),
        sim_job(
            ProviderKind::Azure,
            "postgresql-flexible",
            "aaaaaaaa-0000-4000-8000-0000000000a1",
            &steps,
        ),
        sim_job(ProviderKind::Aws, "export-task", "tenant-a-export", &steps),
        sim_job(
            ProviderKind::Aws,
            "db-snapshot",
            "tenant-a-snapshot",
            &steps,
        ),
    ]
}

/// A's manifests (the simulator's credentials; the AWS snapshot through workload identity).
fn team_a_manifests(jobs: &[JobSpec], url: &str) -> Vec<JobManifest> {
    jobs.iter()
        .map(|job| match job.api() {
            "db-snapshot" => identity_job(
                job,
                "a-aws-identity",
                url,
                json!({"serviceAccountName": READER, "roleArn": role("team-a-reader")}),
            ),
            api => manifest_for(job, &format!("a-{}", api.to_lowercase()), url),
        })
        .collect()
}

/// B's manifests: the same jobs, endpoint, region and instance as A's, with A's public
/// identifiers and secrets of B's own making.
fn team_b_manifests(jobs: &[JobSpec], url: &str) -> Vec<JobManifest> {
    jobs.iter()
        .map(|job| {
            let name = format!("b-{}", job.api().to_lowercase());
            let mut m = manifest_for(job, &name, url);
            m.secret = Some(match job.provider {
                ProviderKind::Tencent => pairs(&[
                    ("secretId", DEFAULT_TENCENT_SECRET_ID),
                    ("secretKey", "team-b-made-up-secret-key-000000"),
                ]),
                ProviderKind::Gcp => gcp_untrusted_creds(url),
                ProviderKind::Azure => pairs(&[
                    ("tenantId", DEFAULT_AZURE_TENANT_ID),
                    ("clientId", DEFAULT_AZURE_CLIENT_ID),
                    ("clientSecret", "team-b-made-up-client-secret"),
                    ("authorityHost", url),
                ]),
                ProviderKind::Aws if job.api() == "db-snapshot" => {
                    // Workload identity: B's own ServiceAccount of the same name, A's role.
                    return identity_job(
                        job,
                        "b-aws-identity",
                        url,
                        json!({"serviceAccountName": READER, "roleArn": role("team-a-reader")}),
                    );
                }
                _ => pairs(&[
                    ("accessKeyId", DEFAULT_AWS_ACCESS_KEY_ID),
                    ("secretAccessKey", "team-b/made-up/secret-access-key000000"),
                ]),
            });
            m
        })
        .collect()
}

/// Log text without the terminal colours of the default format.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ ... final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn kubectl_apply(kubeconfig: &Path, dir: &Path, name: &str, yaml: &str) {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, yaml).unwrap();
    cluster::kubectl_sync_ok(
        kubeconfig,
        &["apply", "--validate=false", "-f", path.to_str().unwrap()],
    );
}

/// Every field of a status that could only have come from a provider's answer about the job.
const LEARNED: &[&str] = &[
    "progress",
    "providerStatus",
    "jobType",
    "providerJobType",
    "startTime",
    "endTime",
    "estimatedCompletionTime",
    "instanceIds",
    "upgrade",
    "rollback",
    "parameters",
    "import",
    "huawei",
    "alibaba",
    "aws",
    "azure",
    "gcp",
];

/// What a status of B's learned from A's job (empty: nothing).
fn learned(status: &Value) -> Vec<String> {
    let mut found: Vec<String> = LEARNED
        .iter()
        .filter(|f| match &status[**f] {
            Value::Null => false,
            Value::Array(a) => !a.is_empty(),
            _ => true,
        })
        .map(|f| f.to_string())
        .collect();
    if !matches!(status["phase"].as_str(), None | Some("Pending")) {
        found.push(format!("phase {}", status["phase"]));
    }
    let message = status["message"].as_str().unwrap_or_default();
    if message.contains(&format!("Running {A_PROGRESS}")) {
        found.push(format!("message {message:?}"));
    }
    found
}

/// `events.k8s.io` Events of the namespace, as (job name, reason, note).
fn events(kubeconfig: &Path) -> Vec<(String, String, String)> {
    let list: Value = serde_json::from_str(&cluster::kubectl_sync_ok(
        kubeconfig,
        &["get", "events.events.k8s.io", "-o", "json"],
    ))
    .unwrap();
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (s(&e["regarding"]["name"]), s(&e["reason"]), s(&e["note"]))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_a_tenant_with_another_tenants_public_identifiers_learns_nothing() {
    let dir = Scratch::new("tenants-cp");
    let cp = ControlPlane::start(&dir.0.join("cp"), "");
    let jobs = team_a_jobs();
    let mut h = Harness::start_without_operator(
        "tenant-a",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: jobs.clone(),
            cluster: Some(cp.cluster.clone()),
            cluster_wide: true,
            chart_sets: vec![format!("workloadIdentity.serviceAccountNames={{{READER}}}")],
            ..Options::default()
        },
    )
    .await;
    let b_dir = dir.0.join("tenant-b");
    std::fs::create_dir_all(&b_dir).unwrap();
    let b = TestNamespace::create(h.cluster(), "tenant-b", &b_dir);
    // A's role trusts A's ServiceAccount only; both namespaces have one of that name.
    let (issuer, jwks) = cluster_oidc(&h);
    h.sim.set_workload_identity(WorkloadIdentityConfig {
        issuer,
        jwks,
        roles: vec![SimRole {
            arn: role("team-a-reader"),
            subjects: vec![format!("system:serviceaccount:{}:{READER}", h.ns)],
            oidc_provider: None,
            audience: None,
        }],
        credential_lifetime_secs: 0,
    });
    h.kubectl_ok(&["create", "serviceaccount", READER]).await;
    cluster::kubectl_sync_ok(&b.kubeconfig, &["create", "serviceaccount", READER]);
    let url = h.sim.url();
    h.add_operator_args(&["--sts-endpoint", &format!("aws={url}")]);

    // Team A's jobs, running.
    let a_manifests = team_a_manifests(&jobs, &url);
    for m in &a_manifests {
        h.apply(&m.name, &m.yaml()).await;
    }
    h.start_operator().await;
    for m in &a_manifests {
        let name = m.name.clone();
        h.eventually(&format!("{name} running"), 60, |h| {
            h.status(&name)["phase"] == "Running"
        })
        .await;
    }

    // Team B tracks the same jobs, while A's keep being polled.
    let b_history = History::start(Api::namespaced(h.client.clone(), &b.name));
    let b_manifests = team_b_manifests(&jobs, &url);
    for m in &b_manifests {
        kubectl_apply(&b.kubeconfig, &b_dir, &m.name, &m.yaml());
    }
    // Inside A's namespace: a Secret with A's SecretId and a stale key, next to the good one.
    let mut stale = manifest_for(&jobs[0], "a-stale-key", &url);
    stale.secret = Some(pairs(&[
        ("secretId", DEFAULT_TENCENT_SECRET_ID),
        ("secretKey", "a-rotated-away-stale-secret-key-0"),
    ]));
    h.apply(&stale.name, &stale.yaml()).await;

    let b_status = |name: &str| -> Value {
        let out = cluster::kubectl_sync_ok(
            &b.kubeconfig,
            &["get", &format!("cdbjob/{name}"), "-o", "json"],
        );
        serde_json::from_str::<Value>(&out).unwrap()["status"].clone()
    };
    for m in &b_manifests {
        let name = m.name.clone();
        h.eventually(&format!("{}/{name} stalled", b.name), 60, |_| {
            super::history::condition(&b_status(&name), "Stalled")
                .is_some_and(|c| c["status"] == "True")
        })
        .await;
    }
    h.wait_for("a-stale-key", "Stalled", 60).await;
    // A few more of A's polls (1 s apart), any of which could have been shared.
    tokio::time::sleep(Duration::from_secs(5)).await;

    // A's jobs were never disturbed.
    for m in &a_manifests {
        let status = h.status(&m.name);
        assert_eq!(status["phase"], "Running", "{}: {status}", m.name);
        // Cloud SQL reports no progress until done.
        if !m.name.contains("cloudsql") {
            assert_eq!(status["progress"], A_PROGRESS, "{}: {status}", m.name);
        }
    }
    // B's jobs: the provider's refusal, and nothing else, ever.
    for m in &b_manifests {
        let status = b_status(&m.name);
        let reason = status["reason"].as_str().unwrap_or_default();
        assert!(
            matches!(reason, "AuthenticationFailed" | "AccessDenied"),
            "{}/{}: {status}",
            b.name,
            m.name
        );
        let snapshots = b_history.of(&m.name);
        assert!(!snapshots.is_empty(), "no status of {} recorded", m.name);
        for snapshot in snapshots {
            let leaked = learned(&snapshot.status);
            assert!(
                leaked.is_empty(),
                "{}/{} learned {leaked:?} of team A's job: {}",
                b.name,
                m.name,
                snapshot.status
            );
        }
    }
    let stale_snapshots = h.history.of("a-stale-key");
    assert!(!stale_snapshots.is_empty());
    for snapshot in stale_snapshots {
        let leaked = learned(&snapshot.status);
        assert!(
            leaked.is_empty(),
            "a stale key learned {leaked:?}: {}",
            snapshot.status
        );
    }
    assert_eq!(h.status("a-stale-key")["reason"], "AuthenticationFailed");

    // No Event of B's (nor of the stale key's) says the job runs.
    let b_events = events(&b.kubeconfig);
    assert!(!b_events.is_empty(), "B's jobs published no Event at all");
    let a_events = events(&h.kubeconfig);
    for (job, reason, note) in b_events
        .iter()
        .chain(a_events.iter().filter(|(job, _, _)| job == "a-stale-key"))
    {
        assert!(
            !matches!(reason.as_str(), "Running" | "Progressing" | "Succeeded")
                && !note.contains(&format!("Running {A_PROGRESS}")),
            "{job}: Event {reason}: {note}"
        );
    }
    // Nor does any log line about B's jobs, at any level. The markers are what lines about
    // a running job carry (the reconcile's phase; an Event's reason or note); the lines
    // about A's job are checked to carry the first, so the probe can fail.
    let logs = strip_ansi(&h.operator_logs());
    let markers = [
        "phase=Running".to_string(),
        "reason=\"Running\"".to_string(),
        format!("Running {A_PROGRESS}"),
    ];
    assert!(
        logs.lines()
            .any(|l| l.contains("name=\"a-describetasks\"") && l.contains(&markers[0])),
        "no line about A's job carries {}: the probe is blind\n{}",
        markers[0],
        tail(&logs, 40)
    );
    let b_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(&b.name) || l.contains("a-stale-key"))
        .collect();
    assert!(!b_lines.is_empty(), "no line about B's jobs at all");
    for line in b_lines {
        assert!(
            markers.iter().all(|m| !line.contains(m.as_str())),
            "a log line about B's job carries A's data: {line}"
        );
    }
    // What B can read of its own jobs, all at once: no progress anywhere.
    let progress = cluster::kubectl_sync_ok(
        &b.kubeconfig,
        &[
            "get",
            "cdbjob",
            "-o",
            "jsonpath={.items[*].status.progress}",
        ],
    );
    assert!(progress.trim().is_empty(), "{progress}");
}
