//! The fake API server's watches through kube-rs: no-op writes stay silent, resume,
//! bookmarks, selectors, 410 Gone, expiry and kube-runtime's watcher.

use crate::support;
use std::time::Duration;

use clouddb_job_operator::api::CloudDbJob;
use clouddb_testkit::apiserver::FakeApiServerConfig;
use futures::{StreamExt, TryStreamExt};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::ResourceExt;
use serde_json::json;

use support::*;

#[tokio::test]
async fn noop_writes_do_not_bump_or_notify() {
    let (server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &job("a", "1"))
        .await
        .unwrap();
    let status = Patch::Merge(json!({"status": {"phase": "Running", "progress": 10}}));
    let first = api
        .patch_status("a", &PatchParams::default(), &status)
        .await
        .unwrap();
    let rv_before = server.resource_version();

    let mut stream = api
        .watch(
            &WatchParams::default().timeout(10),
            &first.resource_version().unwrap(),
        )
        .await
        .unwrap()
        .boxed();
    let again = api
        .patch_status("a", &PatchParams::default(), &status)
        .await
        .unwrap();
    assert_eq!(rv(&again), rv(&first));
    let ssa = Patch::Apply(
        json!({"apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbJob", "status": {"phase": "Running", "progress": 10}}),
    );
    let applied = api
        .patch_status("a", &PatchParams::apply("test"), &ssa)
        .await
        .unwrap();
    assert_eq!(rv(&applied), rv(&first));
    assert_eq!(server.resource_version(), rv_before);
    assert_eq!(server.stats().noop_writes, 2);

    let real = Patch::Merge(json!({"status": {"progress": 20}}));
    api.patch_status("a", &PatchParams::default(), &real)
        .await
        .unwrap();
    match next_event(&mut stream).await {
        WatchEvent::Modified(job) => assert_eq!(
            status_of(&job)["progress"],
            20,
            "the no-op writes produced no event"
        ),
        other => panic!("expected MODIFIED, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_resumes_from_a_version_and_sends_bookmarks() {
    let config = FakeApiServerConfig {
        bookmark_interval: Duration::from_millis(100),
        ..Default::default()
    };
    let (server, client) = start(config).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let a = api
        .create(&PostParams::default(), &job("a", "1"))
        .await
        .unwrap();
    api.create(&PostParams::default(), &job("b", "2"))
        .await
        .unwrap();
    api.delete("a", &DeleteParams::default()).await.unwrap();

    let mut stream = api
        .watch(&WatchParams::default(), &a.resource_version().unwrap())
        .await
        .unwrap()
        .boxed();
    match next_event(&mut stream).await {
        WatchEvent::Added(job) => assert_eq!(job.name_any(), "b"),
        other => panic!("expected ADDED b, got {other:?}"),
    }
    match next_event(&mut stream).await {
        WatchEvent::Deleted(job) => assert_eq!(job.name_any(), "a"),
        other => panic!("expected DELETED a, got {other:?}"),
    }
    // Unrelated writes move the global version; the bookmark carries it.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(api.clone().into_client(), "default");
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}}))
                .unwrap(),
        )
        .await
        .unwrap();
    let latest = server.resource_version();
    loop {
        match next_event(&mut stream).await {
            WatchEvent::Bookmark(b)
                if b.metadata.resource_version.parse::<u64>().unwrap() == latest =>
            {
                break
            }
            WatchEvent::Bookmark(_) => continue,
            other => panic!("expected BOOKMARK, got {other:?}"),
        }
    }
    assert_eq!(secrets.get("s").await.unwrap().data.unwrap()["k"].0, b"v");

    // Label selectors apply to watches too: a label change out of the selector is a DELETED.
    let mut selected = api
        .watch(
            &WatchParams::default()
                .labels("app=test")
                .disable_bookmarks(),
            "0",
        )
        .await
        .unwrap()
        .boxed();
    assert!(matches!(
        next_event(&mut selected).await,
        WatchEvent::Added(_)
    ));
    api.patch(
        "b",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "other"}}})),
    )
    .await
    .unwrap();
    match next_event(&mut selected).await {
        WatchEvent::Deleted(job) => assert_eq!(job.name_any(), "b"),
        other => panic!("expected DELETED b, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_from_a_compacted_version_is_gone() {
    let config = FakeApiServerConfig {
        retained_events: 2,
        ..Default::default()
    };
    let (server, client) = start(config).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let first = api
        .create(&PostParams::default(), &job("a", "1"))
        .await
        .unwrap();
    for name in ["b", "c", "d"] {
        api.create(&PostParams::default(), &job(name, "1"))
            .await
            .unwrap();
    }
    let mut stream = api
        .watch(&WatchParams::default(), &first.resource_version().unwrap())
        .await
        .unwrap()
        .boxed();
    match next_event(&mut stream).await {
        WatchEvent::Error(status) => assert_eq!(status.code, 410),
        other => panic!("expected ERROR 410, got {other:?}"),
    }
    assert_eq!(server.stats().gone, 1);

    // A recent version still resumes; expire_watches closes it and makes it too old.
    let list_rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut open = api
        .watch(&WatchParams::default().disable_bookmarks(), &list_rv)
        .await
        .unwrap()
        .boxed();
    server.expire_watches();
    let ended = tokio::time::timeout(Duration::from_secs(5), open.next())
        .await
        .unwrap();
    assert!(ended.is_none(), "the watch is closed");
    let mut resumed = api
        .watch(&WatchParams::default(), &list_rv)
        .await
        .unwrap()
        .boxed();
    assert!(matches!(next_event(&mut resumed).await, WatchEvent::Error(s) if s.code == 410));
    let fresh_rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut fresh = api
        .watch(&WatchParams::default().disable_bookmarks(), &fresh_rv)
        .await
        .unwrap()
        .boxed();
    api.delete("d", &DeleteParams::default()).await.unwrap();
    assert!(matches!(
        next_event(&mut fresh).await,
        WatchEvent::Deleted(_)
    ));
}

#[tokio::test]
async fn kube_runtime_watcher_sees_events() {
    let (_server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &job("before", "1"))
        .await
        .unwrap();
    let mut events =
        kube::runtime::watcher(api.clone(), kube::runtime::watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    let creator = {
        let api = api.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            api.create(&PostParams::default(), &job("after", "2"))
                .await
                .unwrap();
        })
    };
    while !seen.contains(&"after".to_string()) {
        let event = tokio::time::timeout(Duration::from_secs(5), events.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match event {
            kube::runtime::watcher::Event::InitApply(job)
            | kube::runtime::watcher::Event::Apply(job) => seen.push(job.name_any()),
            _ => {}
        }
    }
    creator.await.unwrap();
    assert_eq!(seen, ["before", "after"]);
}
