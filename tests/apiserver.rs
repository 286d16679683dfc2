//! The fake API server driven through kube-rs: CRUD, watches (resume, bookmarks, 410),
//! status isolation, generation, no-op writes, conflicts, finalizers and kube-runtime's
//! watcher.

use std::time::Duration;

use clouddb_job_operator::api::CloudDbJob;
use clouddb_job_operator::testkit::apiserver::{FakeApiServer, FakeApiServerConfig};
use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, ResourceExt};
use serde_json::{json, Value};

async fn start(config: FakeApiServerConfig) -> (FakeApiServer, Client) {
    let server = FakeApiServer::start_with("127.0.0.1:0".parse().unwrap(), config).await.unwrap();
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig_yaml()).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.unwrap();
    let client = Client::try_from(config).unwrap();
    (server, client)
}

fn job(name: &str, job_id: &str) -> CloudDbJob {
    serde_json::from_value(json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbJob",
        "metadata": {"name": name, "labels": {"app": "test"}},
        "spec": {"provider": "tencent", "jobId": job_id, "region": "ap-guangzhou", "credentialsSecretRef": {"name": "creds"}}
    }))
    .unwrap()
}

fn rv(job: &CloudDbJob) -> u64 {
    job.resource_version().unwrap().parse().unwrap()
}

fn status_of(job: &CloudDbJob) -> Value {
    serde_json::to_value(job).unwrap()["status"].clone()
}

fn api_code(err: kube::Error) -> u16 {
    match err {
        kube::Error::Api(status) => status.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn next_event(stream: &mut (impl futures::Stream<Item = kube::Result<WatchEvent<CloudDbJob>>> + Unpin)) -> WatchEvent<CloudDbJob> {
    tokio::time::timeout(Duration::from_secs(5), stream.next()).await.expect("watch event in time").expect("stream open").unwrap()
}

#[tokio::test]
async fn create_get_list_and_already_exists() {
    let (server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let created = api.create(&PostParams::default(), &job("a", "1")).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(api_code(api.create(&PostParams::default(), &job("a", "1")).await.unwrap_err()), 409);
    api.create(&PostParams::default(), &job("b", "2")).await.unwrap();

    let got = api.get("a").await.unwrap();
    assert_eq!(got.spec.job_id, "1");
    assert_eq!(api_code(api.get("missing").await.unwrap_err()), 404);

    let list = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.iter().map(|j| j.name_any()).collect::<Vec<_>>(), ["a", "b"]);
    let list_rv: u64 = list.metadata.resource_version.unwrap().parse().unwrap();
    assert!(list_rv >= rv(&list.items[1]));
    let by_name = api.list(&ListParams::default().fields("metadata.name=b")).await.unwrap();
    assert_eq!(by_name.items.len(), 1);
    assert_eq!(api.list(&ListParams::default().labels("app=other")).await.unwrap().items.len(), 0);
    assert_eq!(api.list(&ListParams::default().labels("app=test")).await.unwrap().items.len(), 2);
    let elsewhere: Api<CloudDbJob> = Api::namespaced(api.clone().into_client(), "other");
    assert!(elsewhere.list(&ListParams::default()).await.unwrap().items.is_empty());

    let mut generated = job("", "3");
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    let generated = api.create(&PostParams::default(), &generated).await.unwrap();
    assert!(generated.name_any().starts_with("gen-") && generated.name_any().len() == 9, "{}", generated.name_any());

    let stats = server.stats();
    assert_eq!(stats.count("create", "clouddbjobs"), 4);
    assert_eq!(stats.count("list", "clouddbjobs"), 5);
    assert_eq!(stats.count("get", "clouddbjobs"), 2);
}

#[tokio::test]
async fn stale_update_conflicts_and_injected_conflicts() {
    let (server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let original = api.create(&PostParams::default(), &job("a", "1")).await.unwrap();
    let mut first = original.clone();
    first.metadata.labels = Some([("x".to_string(), "1".to_string())].into());
    let updated = api.replace("a", &PostParams::default(), &first).await.unwrap();
    assert!(rv(&updated) > rv(&original));
    let mut stale = original.clone();
    stale.metadata.labels = Some([("x".to_string(), "2".to_string())].into());
    assert_eq!(api_code(api.replace("a", &PostParams::default(), &stale).await.unwrap_err()), 409);
    assert_eq!(server.stats().conflicts, 1);

    server.inject_conflicts_for("clouddbjobs", 2);
    let patch = Patch::Merge(json!({"metadata": {"labels": {"y": "1"}}}));
    assert_eq!(api_code(api.patch("a", &PatchParams::default(), &patch).await.unwrap_err()), 409);
    assert_eq!(api_code(api.patch_status("a", &PatchParams::default(), &patch).await.unwrap_err()), 409);
    api.patch("a", &PatchParams::default(), &patch).await.unwrap();
    server.inject_conflicts(1);
    assert_eq!(api_code(api.delete("a", &DeleteParams::default()).await.unwrap_err()), 409);
    assert_eq!(server.stats().conflicts, 4);
}

#[tokio::test]
async fn status_and_spec_are_isolated_and_generation_follows_spec() {
    let (server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let created = api.create(&PostParams::default(), &job("a", "1")).await.unwrap();

    // Server-side apply of status (with a spec change in the body) changes only status.
    let apply = Patch::Apply(json!({
        "apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbJob", "metadata": {"name": "a"},
        "spec": {"provider": "huawei", "jobId": "999", "credentialsSecretRef": {"name": "creds"}},
        "status": {"phase": "Running", "progress": 40}
    }));
    let after_status = api.patch_status("a", &PatchParams::apply("test").force(), &apply).await.unwrap();
    assert_eq!(after_status.spec.job_id, "1");
    assert_eq!(status_of(&after_status)["progress"], 40);
    assert_eq!(after_status.metadata.generation, Some(1), "status writes never bump generation");
    assert!(rv(&after_status) > rv(&created));

    // A main-resource patch ignores status.
    let main = Patch::Merge(json!({"status": {"phase": "Failed"}, "metadata": {"labels": {"l": "1"}}}));
    let after_main = api.patch("a", &PatchParams::default(), &main).await.unwrap();
    assert_eq!(status_of(&after_main)["phase"], "Running");
    assert_eq!(after_main.metadata.generation, Some(1), "metadata changes do not bump generation");

    // A spec change bumps generation.
    let spec = Patch::Merge(json!({"spec": {"region": "ap-shanghai"}}));
    let after_spec = api.patch("a", &PatchParams::default(), &spec).await.unwrap();
    assert_eq!(after_spec.metadata.generation, Some(2));
    assert_eq!(status_of(&after_spec)["progress"], 40);

    // JSON patch and PUT on /status.
    let json_patch: json_patch::Patch = serde_json::from_value(json!([{"op": "replace", "path": "/status/progress", "value": 70}])).unwrap();
    let patched = api.patch_status("a", &PatchParams::default(), &Patch::<()>::Json(json_patch)).await.unwrap();
    assert_eq!(status_of(&patched)["progress"], 70);
    let mut replaced = patched.clone();
    replaced.spec.job_id = "777".into();
    replaced.status.as_mut().unwrap().progress = Some(80);
    let replaced = api.replace_status("a", &PostParams::default(), &replaced).await.unwrap();
    assert_eq!(replaced.spec.job_id, "1");
    assert_eq!(status_of(&replaced)["progress"], 80);
    assert_eq!(replaced.metadata.generation, Some(2));

    let stats = server.stats();
    assert_eq!(stats.status_writes, 3);
    assert_eq!(stats.count("patch", "clouddbjobs/status"), 2);
    assert_eq!(stats.count("update", "clouddbjobs/status"), 1);
    assert_eq!(stats.writes, 6);
}

#[tokio::test]
async fn noop_writes_do_not_bump_or_notify() {
    let (server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &job("a", "1")).await.unwrap();
    let status = Patch::Merge(json!({"status": {"phase": "Running", "progress": 10}}));
    let first = api.patch_status("a", &PatchParams::default(), &status).await.unwrap();
    let rv_before = server.resource_version();

    let mut stream = api.watch(&WatchParams::default().timeout(10), &first.resource_version().unwrap()).await.unwrap().boxed();
    let again = api.patch_status("a", &PatchParams::default(), &status).await.unwrap();
    assert_eq!(rv(&again), rv(&first));
    let ssa = Patch::Apply(json!({"apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbJob", "status": {"phase": "Running", "progress": 10}}));
    let applied = api.patch_status("a", &PatchParams::apply("test"), &ssa).await.unwrap();
    assert_eq!(rv(&applied), rv(&first));
    assert_eq!(server.resource_version(), rv_before);
    assert_eq!(server.stats().noop_writes, 2);

    let real = Patch::Merge(json!({"status": {"progress": 20}}));
    api.patch_status("a", &PatchParams::default(), &real).await.unwrap();
    match next_event(&mut stream).await {
        WatchEvent::Modified(job) => assert_eq!(status_of(&job)["progress"], 20, "the no-op writes produced no event"),
        other => panic!("expected MODIFIED, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_resumes_from_a_version_and_sends_bookmarks() {
    let config = FakeApiServerConfig { bookmark_interval: Duration::from_millis(100), ..Default::default() };
    let (server, client) = start(config).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let a = api.create(&PostParams::default(), &job("a", "1")).await.unwrap();
    api.create(&PostParams::default(), &job("b", "2")).await.unwrap();
    api.delete("a", &DeleteParams::default()).await.unwrap();

    let mut stream = api.watch(&WatchParams::default(), &a.resource_version().unwrap()).await.unwrap().boxed();
    match next_event(&mut stream).await {
        WatchEvent::Added(job) => assert_eq!(job.name_any(), "b"),
        other => panic!("expected ADDED b, got {other:?}"),
    }
    match next_event(&mut stream).await {
        WatchEvent::Deleted(job) => assert_eq!(job.name_any(), "a"),
        other => panic!("expected DELETED a, got {other:?}"),
    }
    // Unrelated writes move the global version; the bookmark carries it.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(api.clone().into_client(), "default");
    secrets.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}})).unwrap()).await.unwrap();
    let latest = server.resource_version();
    loop {
        match next_event(&mut stream).await {
            WatchEvent::Bookmark(b) if b.metadata.resource_version.parse::<u64>().unwrap() == latest => break,
            WatchEvent::Bookmark(_) => continue,
            other => panic!("expected BOOKMARK, got {other:?}"),
        }
    }
    assert_eq!(secrets.get("s").await.unwrap().data.unwrap()["k"].0, b"v");

    // Label selectors apply to watches too: a label change out of the selector is a DELETED.
    let mut selected = api.watch(&WatchParams::default().labels("app=test").disable_bookmarks(), "0").await.unwrap().boxed();
    assert!(matches!(next_event(&mut selected).await, WatchEvent::Added(_)));
    api.patch("b", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"app": "other"}}}))).await.unwrap();
    match next_event(&mut selected).await {
        WatchEvent::Deleted(job) => assert_eq!(job.name_any(), "b"),
        other => panic!("expected DELETED b, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_from_a_compacted_version_is_gone() {
    let config = FakeApiServerConfig { retained_events: 2, ..Default::default() };
    let (server, client) = start(config).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let first = api.create(&PostParams::default(), &job("a", "1")).await.unwrap();
    for name in ["b", "c", "d"] {
        api.create(&PostParams::default(), &job(name, "1")).await.unwrap();
    }
    let mut stream = api.watch(&WatchParams::default(), &first.resource_version().unwrap()).await.unwrap().boxed();
    match next_event(&mut stream).await {
        WatchEvent::Error(status) => assert_eq!(status.code, 410),
        other => panic!("expected ERROR 410, got {other:?}"),
    }
    assert_eq!(server.stats().gone, 1);

    // A recent version still resumes; expire_watches closes it and makes it too old.
    let list_rv = api.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    let mut open = api.watch(&WatchParams::default().disable_bookmarks(), &list_rv).await.unwrap().boxed();
    server.expire_watches();
    let ended = tokio::time::timeout(Duration::from_secs(5), open.next()).await.unwrap();
    assert!(ended.is_none(), "the watch is closed");
    let mut resumed = api.watch(&WatchParams::default(), &list_rv).await.unwrap().boxed();
    assert!(matches!(next_event(&mut resumed).await, WatchEvent::Error(s) if s.code == 410));
    let fresh_rv = api.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    let mut fresh = api.watch(&WatchParams::default().disable_bookmarks(), &fresh_rv).await.unwrap().boxed();
    api.delete("d", &DeleteParams::default()).await.unwrap();
    assert!(matches!(next_event(&mut fresh).await, WatchEvent::Deleted(_)));
}

#[tokio::test]
async fn finalizers_delay_deletion() {
    let (_server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let mut with_finalizer = job("a", "1");
    with_finalizer.metadata.finalizers = Some(vec!["clouddb.io/cleanup".into()]);
    let created = api.create(&PostParams::default(), &with_finalizer).await.unwrap();
    let mut stream = api.watch(&WatchParams::default().disable_bookmarks(), &created.resource_version().unwrap()).await.unwrap().boxed();

    api.delete("a", &DeleteParams::default()).await.unwrap();
    let terminating = api.get("a").await.unwrap();
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert!(matches!(next_event(&mut stream).await, WatchEvent::Modified(_)));

    let remove = Patch::Merge(json!({"metadata": {"finalizers": null}}));
    api.patch("a", &PatchParams::default(), &remove).await.unwrap();
    assert_eq!(api_code(api.get("a").await.unwrap_err()), 404);
    assert!(matches!(next_event(&mut stream).await, WatchEvent::Deleted(_)));
}

#[tokio::test]
async fn kube_runtime_watcher_sees_events() {
    let (_server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &job("before", "1")).await.unwrap();
    let mut events = kube::runtime::watcher(api.clone(), kube::runtime::watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    let creator = {
        let api = api.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            api.create(&PostParams::default(), &job("after", "2")).await.unwrap();
        })
    };
    while !seen.contains(&"after".to_string()) {
        let event = tokio::time::timeout(Duration::from_secs(5), events.try_next()).await.unwrap().unwrap().unwrap();
        match event {
            kube::runtime::watcher::Event::InitApply(job) | kube::runtime::watcher::Event::Apply(job) => seen.push(job.name_any()),
            _ => {}
        }
    }
    creator.await.unwrap();
    assert_eq!(seen, ["before", "after"]);
}
