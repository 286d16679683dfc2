//! Operations: the metrics exposition passes `promtool check metrics`, and Events mark
//! phase changes but not unchanged polls (the reconciler against the in-process fake API
//! server with a scripted provider).

use crate::support;
use std::io::Write;
use std::sync::Arc;

use clouddb_job_operator::api::JobPhase;
use clouddb_job_operator::controller::memory::JobMemory;
use clouddb_job_operator::controller::metrics::{prometheus_text, CallLabels, Metrics};
use support::operator::{observation, setup};

#[tokio::test]
async fn events_mark_phase_changes_not_unchanged_polls() {
    let s = setup(vec![
        observation(JobPhase::Running, 10),
        observation(JobPhase::Running, 10),
        observation(JobPhase::Running, 10),
        observation(JobPhase::Succeeded, 100),
    ])
    .await;
    let job = s.poll().await;
    assert_eq!(job.status.unwrap().phase, Some(JobPhase::Running));
    assert_eq!(
        s.events_written(),
        0,
        "a first status seen running publishes none: the status says it"
    );
    s.poll().await;
    s.poll().await;
    assert_eq!(s.events_written(), 0, "unchanged polls publish nothing");
    let job = s.poll().await;
    assert_eq!(job.status.unwrap().phase, Some(JobPhase::Succeeded));
    assert_eq!(
        s.events_written(),
        1,
        "Running -> Succeeded publishes one event"
    );
    assert_eq!(
        s.server.stats().noop_writes,
        0,
        "unchanged polls write nothing"
    );
}

#[test]
fn metrics_exposition_passes_promtool() {
    let Ok(promtool) = which("promtool") else {
        panic!(
            "promtool not found: run scripts/install-tools.sh (installs the Debian package \
             `prometheus`, which provides promtool)"
        );
    };
    let m = Metrics::new();
    m.provider_calls
        .get_or_create(&CallLabels {
            provider: "tencent",
            api: "DescribeTasks",
            outcome: "ok",
        })
        .inc();
    m.status_writes.inc();
    m.rate_limited.inc();
    m.reconcile_duration.observe(0.01);
    m.leader.set(1);
    m.job_finished(JobPhase::Failed, Some("JobFailed"));
    let memory = Arc::new(JobMemory::default());
    memory.record("u", Some(1), 1, None, Some(JobPhase::Running));
    memory.record("s", Some(1), 1, None, Some(JobPhase::Pending));
    memory.set_stall_reason("s", Some("SecretNotFound".into()));
    let text = prometheus_text(&m.render(Some(&memory)));
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- exposition ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}

/// The operability metrics follow the reconciles: the time of the last successful one, a
/// job's terminal phase counted once, and a stall counted by reason while it lasts.
#[tokio::test]
async fn reconciles_keep_the_operability_metrics() {
    use k8s_openapi::api::core::v1::Secret;
    use kube::api::{Api, DeleteParams, PostParams};

    let s = setup(vec![
        observation(JobPhase::Running, 10),
        observation(JobPhase::Running, 10),
        observation(JobPhase::Failed, 10),
    ])
    .await;
    let render = || s.ctx.metrics.render(Some(&s.ctx.memory));
    let started = *s.clock.lock().unwrap();
    s.poll().await;
    assert!(
        render().contains(&format!(
            "clouddb_job_operator_last_reconcile_success_timestamp_seconds {}",
            started.as_second()
        )),
        "{}",
        render()
    );

    // The Secret goes away: the job stalls on SecretNotFound, and recovers when it is back.
    let secrets: Api<Secret> = Api::namespaced(s.api.clone().into_client(), "default");
    let secret = secrets.get("creds").await.unwrap();
    secrets
        .delete("creds", &DeleteParams::default())
        .await
        .unwrap();
    let job = s.poll().await;
    assert_eq!(
        job.status.unwrap().reason.as_deref(),
        Some("SecretNotFound")
    );
    assert!(
        render().contains(r#"clouddb_job_operator_jobs_stalled{reason="SecretNotFound"} 1"#),
        "{}",
        render()
    );
    let mut fresh = secret.clone();
    fresh.metadata.resource_version = None;
    fresh.metadata.uid = None;
    secrets
        .create(&PostParams::default(), &fresh)
        .await
        .unwrap();
    s.poll().await;
    assert!(
        !render().contains("clouddb_job_operator_jobs_stalled{"),
        "{}",
        render()
    );

    let job = s.poll().await;
    assert_eq!(job.status.unwrap().phase, Some(JobPhase::Failed));
    let failed = r#"clouddb_job_operator_jobs_finished_total{phase="Failed",reason="JobFailed"} 1"#;
    assert!(render().contains(failed), "{}", render());
    // A terminal job is never counted again.
    s.poll().await;
    assert!(render().contains(failed), "{}", render());
    assert!(
        render().contains(r#"clouddb_job_operator_jobs{phase="Running"} 0"#),
        "a finished job is no longer tracked: {}",
        render()
    );
}
