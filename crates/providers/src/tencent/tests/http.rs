//! The client against the local gateway (`gateway.rs`): signing, paging, headers, the
//! session token, path prefixes, clock skew, and error classification end to end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde_json::json;

use super::gateway::{header, start, tasks, Fault, Sim, ID, KEY, NOW, TOKEN};
use crate::credentials::SecretString;
use crate::http::{HttpClient, HttpOptions};
use crate::tencent::{TasksQuery, TencentProvider};
use crate::{Credentials, ErrorClass, ErrorReason, JobTarget, Provider};
use clouddb_api::{JobPhase, ProviderKind};

fn provider(clock_offset_secs: i64) -> TencentProvider {
    let http = HttpClient::new(&HttpOptions::default()).unwrap();
    TencentProvider::new(http).with_clock(Arc::new(move || {
        Timestamp::from_second(NOW + clock_offset_secs).unwrap()
    }))
}

fn creds(key: &str, token: Option<&str>) -> Credentials {
    Credentials::Tencent {
        secret_id: ID.into(),
        secret_key: SecretString::new(key),
        token: token.map(SecretString::new),
    }
}

fn target(api: &str, job: &str, instance: Option<&str>, endpoint: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Tencent,
        Some(api),
        job,
        Some("ap-guangzhou"),
        instance,
        None,
        Some(endpoint),
    )
    .unwrap()
}

#[tokio::test]
async fn signs_pages_and_finds_the_task_on_the_third_page() {
    let (sim, url) = start(Sim {
        tasks: tasks(),
        ..Default::default()
    })
    .await;
    let obs = provider(0)
        .observe(
            &target("DescribeTasks", "1030", Some("cdb-1"), &url),
            &creds(KEY, None),
        )
        .await
        .unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Running));
    assert_eq!(obs.progress, Some(30));
    assert_eq!(obs.job_type.as_deref(), Some("upgrade"));
    assert_eq!(
        obs.start_time,
        Some("2024-01-01T02:00:00Z".parse().unwrap())
    );
    let seen = sim.seen.lock().unwrap().clone();
    let offsets: Vec<u64> = seen
        .iter()
        .map(|s| s.body["Offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, vec![0, 100, 200]);
    let port = url.rsplit(':').next().unwrap();
    for s in &seen {
        assert_eq!(s.path, "/");
        assert_eq!(s.body["Limit"], 100);
        assert_eq!(s.body["InstanceId"], "cdb-1");
        assert_eq!(header(&s.headers, "host"), format!("127.0.0.1:{port}"));
        assert_eq!(
            header(&s.headers, "content-type"),
            "application/json; charset=utf-8"
        );
        assert_eq!(header(&s.headers, "x-tc-action"), "DescribeTasks");
        assert_eq!(header(&s.headers, "x-tc-region"), "ap-guangzhou");
        assert_eq!(header(&s.headers, "x-tc-timestamp"), NOW.to_string());
        assert!(s.headers.get("x-tc-token").is_none());
    }
}

#[tokio::test]
async fn a_task_missing_from_every_page_is_not_found_yet() {
    let (sim, url) = start(Sim {
        tasks: tasks(),
        ..Default::default()
    })
    .await;
    let obs = provider(0)
        .observe(
            &target("DescribeTasks", "5003", Some("cdb-1"), &url),
            &creds(KEY, None),
        )
        .await
        .unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Pending));
    assert_eq!(obs.reason.as_deref(), Some("NotFoundYet"));
    assert_eq!(sim.seen.lock().unwrap().len(), 3);
    // Without an instance filter the whole region is listed.
    let obs = provider(0)
        .observe(
            &target("DescribeTasks", "5003", None, &url),
            &creds(KEY, None),
        )
        .await
        .unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Succeeded));
    assert!(sim.seen.lock().unwrap()[3].body.get("InstanceId").is_none());
}

#[tokio::test]
async fn the_page_cap_stops_the_search() {
    let (sim, url) = start(Sim {
        tasks: tasks(),
        ..Default::default()
    })
    .await;
    let obs = provider(0)
        .with_max_pages(2)
        .observe(
            &target("DescribeTasks", "1001", None, &url),
            &creds(KEY, None),
        )
        .await
        .unwrap();
    assert_eq!(obs.reason.as_deref(), Some("NotFoundYet"));
    assert!(obs.message.unwrap().contains("first 200 tasks"));
    assert_eq!(sim.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn batching_reads_a_whole_page() {
    let (_sim, url) = start(Sim {
        tasks: tasks(),
        ..Default::default()
    })
    .await;
    let mut query =
        TasksQuery::for_target(&target("DescribeTasks", "1", Some("cdb-2"), &url)).unwrap();
    query.start_time_begin = Some("2024-01-01 00:00:00".into());
    let page = provider(0)
        .describe_tasks_page(&query, &creds(KEY, None))
        .await
        .unwrap();
    assert_eq!(page.total_count, Some(5));
    assert_eq!(page.items.len(), 5);
    assert_eq!(page.request_id.as_deref(), Some("sim-ok"));
}

#[tokio::test]
async fn session_token_and_path_prefix() {
    let (sim, url) = start(Sim {
        tasks: tasks(),
        expect_token: Some(TOKEN.into()),
        ..Default::default()
    })
    .await;
    let prefixed = format!("{url}/tencent-proxy");
    let t = target("DescribeTasks", "1249", Some("cdb-1"), &prefixed);
    let obs = provider(0)
        .observe(&t, &creds(KEY, Some(TOKEN)))
        .await
        .unwrap();
    assert_eq!(obs.progress, Some(49));
    assert_eq!(sim.seen.lock().unwrap()[0].path, "/tencent-proxy");
    let err = provider(0)
        .observe(&t, &creds(KEY, None))
        .await
        .unwrap_err();
    assert_eq!(err.code, "AuthFailure.TokenFailure");
}

#[tokio::test]
async fn a_stale_clock_is_signature_expire() {
    let (_sim, url) = start(Sim {
        tasks: tasks(),
        ..Default::default()
    })
    .await;
    let t = target("DescribeTasks", "1000", Some("cdb-1"), &url);
    assert!(provider(-299).observe(&t, &creds(KEY, None)).await.is_ok());
    let err = provider(-301)
        .observe(&t, &creds(KEY, None))
        .await
        .unwrap_err();
    assert_eq!(err.code, "AuthFailure.SignatureExpire");
    assert_eq!(
        (err.class, err.reason),
        (ErrorClass::Permanent, ErrorReason::AuthenticationFailed)
    );
    assert!(err.message.contains("clock may be skewed"));
    assert_eq!(err.request_id.as_deref(), Some("sim-err"));
}

#[tokio::test]
async fn a_wrong_key_is_an_authentication_failure_without_secrets() {
    let (_sim, url) = start(Sim {
        tasks: tasks(),
        ..Default::default()
    })
    .await;
    let t = target("DescribeTasks", "1000", Some("cdb-1"), &url);
    let err = provider(0)
        .observe(&t, &creds("wrong-key-value", None))
        .await
        .unwrap_err();
    assert_eq!(err.code, "AuthFailure.SignatureFailure");
    assert_eq!(err.reason, "AuthenticationFailed");
    let shown = format!("{err:?} {}", err.describe());
    assert!(!shown.contains("wrong-key-value"), "{shown}");
}

#[tokio::test]
async fn server_errors_throttling_and_broken_bodies() {
    let faults = [
        Fault::Raw(503, "<html>Service Unavailable</html>"),
        Fault::Api("RequestLimitExceeded"),
        Fault::Raw(200, r#"{"Response":{"TotalCount":3,"Ite"#),
        Fault::Api("InternalError.DesError"),
        Fault::Api("UnauthorizedOperation"),
    ];
    let (_sim, url) = start(Sim {
        tasks: tasks(),
        faults: Mutex::new(faults.into_iter().collect()),
        ..Default::default()
    })
    .await;
    let t = target("DescribeTasks", "1000", Some("cdb-1"), &url);
    let p = provider(0);
    let c = creds(KEY, None);
    let expected = [
        (ErrorClass::Transient, "HTTP 503"),
        (ErrorClass::Throttled, "RequestLimitExceeded"),
        (ErrorClass::Transient, "MalformedResponse"),
        (ErrorClass::Transient, "InternalError.DesError"),
        (ErrorClass::Permanent, "UnauthorizedOperation"),
    ];
    for (class, code) in expected {
        let err = p.observe(&t, &c).await.unwrap_err();
        assert_eq!((err.class, err.code.as_str()), (class, code));
    }
    assert_eq!(
        p.observe(&t, &c).await.unwrap().phase,
        Some(JobPhase::Running)
    );
}

#[tokio::test]
async fn an_echoed_authorization_header_is_scrubbed() {
    let (_sim, url) = start(Sim {
        tasks: tasks(),
        faults: Mutex::new([Fault::EchoAuth].into_iter().collect()),
        ..Default::default()
    })
    .await;
    let t = target("DescribeTasks", "1000", Some("cdb-1"), &url);
    let err = provider(0)
        .observe(&t, &creds(KEY, None))
        .await
        .unwrap_err();
    assert!(err.message.contains("[REDACTED]"), "{}", err.message);
    assert!(!err.message.contains("Signature="), "{}", err.message);
}

#[tokio::test]
async fn async_requests_found_and_not_yet_registered() {
    let mut async_requests = HashMap::new();
    async_requests.insert(
        "f96e4f3c-8fc96c86-2ec79ac8-cb63a7a7".to_string(),
        json!({"Info": "删除库表成功", "Status": "SUCCESS", "RequestId": "r1"}),
    );
    async_requests.insert(
        "paused-1".to_string(),
        json!({"Info": null, "Status": "PAUSED"}),
    );
    let (sim, url) = start(Sim {
        async_requests,
        ..Default::default()
    })
    .await;
    let p = provider(0);
    let c = creds(KEY, None);
    let done = p
        .observe(
            &target(
                "DescribeAsyncRequestInfo",
                "f96e4f3c-8fc96c86-2ec79ac8-cb63a7a7",
                None,
                &url,
            ),
            &c,
        )
        .await
        .unwrap();
    assert_eq!(
        (done.phase, done.message.as_deref()),
        (Some(JobPhase::Succeeded), Some("删除库表成功"))
    );
    let paused = p
        .observe(
            &target("DescribeAsyncRequestInfo", "paused-1", None, &url),
            &c,
        )
        .await
        .unwrap();
    assert_eq!(
        (paused.phase, paused.reason.as_deref()),
        (Some(JobPhase::Running), Some("Paused"))
    );
    let unknown = p
        .observe(&target("DescribeAsyncRequestInfo", "nope", None, &url), &c)
        .await
        .unwrap();
    assert_eq!(unknown.reason.as_deref(), Some("NotFoundYet"));
    assert!(unknown
        .message
        .unwrap()
        .contains("InvalidParameter.InvalidAsyncRequestId"));
    let seen = sim.seen.lock().unwrap();
    assert_eq!(
        seen[0].body,
        json!({"AsyncRequestId": "f96e4f3c-8fc96c86-2ec79ac8-cb63a7a7"})
    );
    assert_eq!(
        header(&seen[0].headers, "x-tc-action"),
        "DescribeAsyncRequestInfo"
    );
}

#[tokio::test]
async fn connection_refused_and_wrong_credentials_kind() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let t = target("DescribeTasks", "1", None, &url);
    let err = provider(0)
        .observe(&t, &creds(KEY, None))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Transient);
    let huawei = Credentials::HuaweiToken {
        token: SecretString::new("t"),
    };
    let err = provider(0).observe(&t, &huawei).await.unwrap_err();
    assert_eq!(
        (err.class, err.reason),
        (ErrorClass::Permanent, ErrorReason::InvalidRequest)
    );
}

#[test]
fn default_endpoints() {
    use crate::tencent::default_endpoint;
    assert_eq!(
        default_endpoint("ap-guangzhou").as_str(),
        "https://cdb.tencentcloudapi.com/"
    );
    assert_eq!(
        default_endpoint("ap-shanghai-fsi").as_str(),
        "https://cdb.ap-shanghai-fsi.tencentcloudapi.com/"
    );
    assert_eq!(
        default_endpoint("evil.com/x-fsi").as_str(),
        "https://cdb.tencentcloudapi.com/"
    );
}
