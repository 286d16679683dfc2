//! Terminal and blocked jobs: a terminal status is never changed again, whatever the
//! provider says later; only its `observedGeneration` catches up.

use std::sync::Arc;

use clouddb_job_operator::api::JobPhase;
use clouddb_job_operator::controller::reconcile;
use clouddb_job_operator::providers::JobObservation;
use kube::runtime::controller::Action;
use serde_json::{json, Value};

use super::*;

#[tokio::test]
async fn a_terminal_job_is_left_alone() {
    for done in [
        json!({"observedGeneration": 1, "phase": "Succeeded", "progress": 100}),
        json!({"observedGeneration": 1, "phase": "Failed", "reason": "JobFailed", "progress": 60}),
        json!({"observedGeneration": 1, "phase": "Failed", "reason": "TrackingTimeout"}),
    ] {
        let mut h = harness(false);
        h.provider.script("15967", vec![Ok(running(40))]);
        let verifier = h.serve(vec![]);
        let action = reconcile(Arc::new(job(Some(done.clone()))), h.ctx.clone())
            .await
            .unwrap();
        verifier.finish().await;
        assert_eq!(action, Action::await_change(), "{done}");
        assert_eq!(h.provider.calls(), 0, "{done}");
    }
}

/// Reconciles the job once per time in `at`, each from the status last written, with the
/// provider answering a later poll with progress and then success; expects exactly one
/// write (the first reconcile's), a Failed status with `reason`, and each reconcile to
/// wait for a change. Returns that status and the provider calls made.
async fn failed_once(
    first: Vec<Result<JobObservation, clouddb_job_operator::providers::ProviderError>>,
    at: &[&str],
    reason: &str,
) -> (Value, usize) {
    let mut h = harness(false);
    let polls_first = first.len();
    let mut script = first;
    let succeeded = JobObservation {
        phase: Some(JobPhase::Succeeded),
        provider_status: Some("SUCCEED".into()),
        progress: Some(100),
        ..running(100)
    };
    script.extend([Ok(running(70)), Ok(succeeded)]);
    h.provider.script("15967", script);
    let mut expected: Vec<Expect> = (0..polls_first)
        .map(|_| Expect::Read(200, secret()))
        .collect();
    expected.push(Expect::Write(200));
    let verifier = h.serve(expected);
    // As after a restart: no schedule to wait for.
    let (written, actions) =
        reconcile_series(&h.ctx, &h.clock, verifier, at, 1, restarted(&h.ctx)).await;
    for (i, (action, time)) in actions.iter().zip(at).enumerate() {
        assert_eq!(*action, Action::await_change(), "reconcile {i} at {time}");
    }
    let status = written[0]["status"].clone();
    assert_eq!(status["phase"], "Failed");
    assert_eq!(status["reason"], reason);
    (status, h.provider.calls())
}

#[tokio::test]
async fn a_failed_job_stays_failed_whatever_the_provider_says_later() {
    let failed = JobObservation {
        phase: Some(JobPhase::Failed),
        provider_status: Some("FAILED".into()),
        message: Some("upgrade failed".into()),
        ..running(60)
    };
    let at = [
        "2026-11-25T10:00:00Z",
        "2026-11-25T10:05:00Z",
        "2026-11-25T10:30:00Z",
    ];
    let (_, calls) = failed_once(vec![Ok(failed)], &at, "JobFailed").await;
    assert_eq!(calls, 1, "never polled again");
}

#[tokio::test]
async fn a_timed_out_job_stays_failed_whatever_the_provider_says_later() {
    // Created 09:00 with a 2 h timeout: at 11:00:01 it fails without a poll, and stays so.
    let at = [
        "2026-11-25T11:00:01Z",
        "2026-11-25T11:05:00Z",
        "2026-11-25T12:00:00Z",
    ];
    let (status, calls) = failed_once(vec![], &at, "TrackingTimeout").await;
    assert_eq!(condition(&status, "Failed")["reason"], "TrackingTimeout");
    assert_eq!(calls, 0, "never polled");
}

#[tokio::test]
async fn a_terminal_job_only_catches_up_its_observed_generation() {
    let mut h = harness(false);
    let done = json!({"observedGeneration": 0, "phase": "Failed", "reason": "Aborted",
        "conditions": [{"type": "Failed", "status": "True", "reason": "Aborted", "message": "", "observedGeneration": 0, "lastTransitionTime": "2026-11-25T09:30:00Z"}]});
    let (action, patch) = h
        .reconcile_once(job(Some(done)), vec![Expect::Write(200)])
        .await;
    assert_eq!(action, Action::await_change());
    assert_eq!(patch["status"]["observedGeneration"], 1);
    assert_eq!(patch["status"]["phase"], "Failed");
    assert_eq!(patch["status"]["conditions"][0]["observedGeneration"], 1);
    assert_eq!(
        patch["status"]["conditions"][0]["lastTransitionTime"],
        "2026-11-25T09:30:00Z"
    );
    assert_eq!(h.provider.calls(), 0);
}

#[tokio::test]
async fn the_timeout_fails_the_job_without_polling() {
    let mut h = harness(false);
    set(&h.clock, "2026-11-25T11:00:01Z"); // created 09:00, timeout 2h
    let (action, patch) = h.reconcile_once(job(None), vec![Expect::Write(200)]).await;
    assert_eq!(patch["status"]["phase"], "Failed");
    assert_eq!(patch["status"]["reason"], "TrackingTimeout");
    assert_eq!(action, Action::await_change());
    assert_eq!(h.provider.calls(), 0);
}

#[tokio::test]
async fn a_suspended_job_is_requeued_to_its_timeout_and_fails_there_without_a_poll() {
    // Created 09:00, timeout 2h, suspended: said so at 10:00 and looked at again at the
    // deadline (11:00), where it fails exactly as an unsuspended job does.
    let mut h = harness(false);
    h.provider.script("15967", vec![Ok(running(40))]);
    let mut verifier = h.serve(vec![Expect::Write(200), Expect::Write(200)]);
    let suspended = |status: Option<Value>| {
        let mut j = job(status);
        j.spec.suspend = Some(true);
        Arc::new(j)
    };
    let reconcile_at = |at: &str, status: Option<Value>| {
        set(&h.clock, at);
        reconcile(suspended(status), h.ctx.clone())
    };
    let first = reconcile_at("2026-11-25T10:00:00Z", None).await.unwrap();
    assert_eq!(first, Action::requeue(Duration::from_secs(3600)));
    let paused = verifier.next().await["status"].clone();
    assert_eq!(paused["reason"], "Suspended");
    let before = reconcile_at("2026-11-25T10:59:59Z", Some(paused.clone()))
        .await
        .unwrap();
    assert_eq!(before, Action::requeue(Duration::from_secs(1)));
    let at_deadline = reconcile_at("2026-11-25T11:00:00Z", Some(paused))
        .await
        .unwrap();
    assert_eq!(at_deadline, Action::await_change());
    let failed = verifier.next().await["status"].clone();
    verifier.finish().await;
    assert_eq!(failed["phase"], "Failed");
    assert_eq!(failed["reason"], "TrackingTimeout");
    assert_eq!(condition(&failed, "Failed")["status"], "True");
    assert_eq!(condition(&failed, "Failed")["reason"], "TrackingTimeout");
    assert_eq!(condition(&failed, "Reconciling")["status"], "False");
    assert!(
        failed["message"].as_str().unwrap_or("").contains("2h"),
        "{failed}"
    );
    assert_eq!(h.provider.calls(), 0, "a suspended job was polled");
}

#[tokio::test]
async fn an_endpoint_outside_the_allow_list_is_refused() {
    let mut h = harness(false);
    let mut j = job(None);
    j.spec.endpoint = Some("https://collector.example.net".into());
    let (action, patch) = h.reconcile_once(j, vec![Expect::Write(200)]).await;
    assert_eq!(patch["status"]["reason"], "EndpointNotAllowed");
    assert_eq!(
        action,
        Action::await_change(),
        "only a spec change can fix it"
    );
    assert_eq!(h.provider.calls(), 0);
}

/// Under each provider domain live hosts that any cloud customer can put a server of their
/// own behind, with the cloud's valid certificate (load balancers, API gateways, function
/// URLs, buckets). A job pointing at one is refused with `EndpointNotAllowed` before anything
/// is read or sent: no Secret read (the API server verifier sees the status write only) and
/// no provider call. The same job at its client's own host passes the same check, so the
/// refusal is the host's.
#[tokio::test]
async fn a_customer_controllable_host_under_a_provider_domain_is_refused() {
    let azure_sub = "00000000-0000-0000-0000-000000000001";
    let cases = [
        // (provider, spec fields, customer-controllable host, the client's own host)
        (
            "aws",
            json!({"region": "us-east-1", "jobId": "export-1"}),
            "https://name-1234567890.us-east-1.elb.amazonaws.com",
            "https://rds.us-east-1.amazonaws.com",
        ),
        (
            "aws",
            json!({"region": "us-east-1", "jobId": "export-1"}),
            "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod",
            "https://rds.us-east-1.amazonaws.com",
        ),
        (
            "aws",
            json!({"region": "us-east-1", "jobId": "export-1"}),
            "https://rds.s3.amazonaws.com",
            "https://rds.us-east-1.amazonaws.com",
        ),
        (
            "aws",
            json!({"region": "cn-north-1", "jobId": "export-1"}),
            "https://abcdef1234.execute-api.cn-north-1.amazonaws.com.cn",
            "https://rds.cn-north-1.amazonaws.com.cn",
        ),
        (
            "alibaba",
            json!({"region": "cn-hangzhou", "jobId": "t-1", "instanceId": "rm-1"}),
            "https://1234567890123456.cn-hangzhou.fc.aliyuncs.com",
            "https://rds.aliyuncs.com",
        ),
        (
            "alibaba",
            json!({"region": "cn-shenzhen", "api": "polardb", "jobId": "t-1"}),
            "https://polardb.oss-cn-shenzhen.aliyuncs.com",
            "https://polardb.cn-shenzhen.aliyuncs.com",
        ),
        (
            "huawei",
            json!({"region": "cn-north-4", "projectId": "p1", "jobId": "j-1"}),
            "https://bucket.obs.cn-north-4.myhuaweicloud.com",
            "https://rds.cn-north-4.myhuaweicloud.com",
        ),
        (
            "huawei",
            json!({"region": "cn-north-4", "api": "taurusdb", "projectId": "p1", "jobId": "j-1"}),
            "https://gaussdb.obs.myhuaweicloud.com",
            "https://gaussdb.cn-north-4.myhuaweicloud.com",
        ),
        (
            "huawei",
            json!({"region": "eu-west-101", "projectId": "p1", "jobId": "j-1"}),
            "https://bucket.obs.eu-west-101.myhuaweicloud.eu",
            "https://rds.eu-west-101.myhuaweicloud.eu",
        ),
        (
            "gcp",
            json!({"projectId": "p1", "jobId": "op-1"}),
            "https://sqladmin.storage.googleapis.com",
            "https://sqladmin.googleapis.com",
        ),
        (
            "tencent",
            json!({"region": "ap-guangzhou", "jobId": "15967"}),
            "https://x.cdb.tencentcloudapi.com",
            "https://cdb.ap-guangzhou.tencentcloudapi.com",
        ),
        (
            "tencent-legacy",
            json!({"region": "ap-guangzhou", "jobId": "15967"}),
            "https://x.cdb.api.qcloud.com",
            "https://cdb.api.qcloud.com",
        ),
        (
            "azure",
            json!({"region": "westeurope", "subscriptionId": azure_sub, "jobId": "op-1"}),
            "https://name.westeurope.cloudapp.azure.com",
            "https://management.azure.com",
        ),
    ];
    for (provider, fields, refused, own) in cases {
        let make = |endpoint: &str| {
            let mut v = serde_json::to_value(job(None)).unwrap();
            let spec = &mut v["spec"];
            spec["provider"] = provider.into();
            spec.as_object_mut().unwrap().remove("region");
            for (k, val) in fields.as_object().unwrap() {
                spec[k] = val.clone();
            }
            spec["endpoint"] = endpoint.into();
            job_from(v)
        };
        let mut h = harness(false);
        let (action, patch) = h
            .reconcile_once(make(refused), vec![Expect::Write(200)])
            .await;
        let status = &patch["status"];
        assert_eq!(
            status["reason"], "EndpointNotAllowed",
            "{refused}: {status}"
        );
        let host = url::Url::parse(refused)
            .unwrap()
            .host_str()
            .unwrap()
            .to_string();
        assert!(
            status["message"].as_str().unwrap().contains(&host),
            "{refused}: {status}"
        );
        assert_eq!(action, Action::await_change(), "{refused}");
        assert_eq!(h.provider.calls(), 0, "{refused}: nothing is sent");
        let now = h.clock.lock().unwrap().to_owned();
        assert!(
            clouddb_job_operator::controller::gates::validate(&make(own), &h.ctx.endpoints, now)
                .is_ok(),
            "{provider} at its own host {own}"
        );
    }
}
