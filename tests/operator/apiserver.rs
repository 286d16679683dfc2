//! The fake API server driven through kube-rs: CRUD, status isolation, generation,
//! conflicts and finalizers.

use crate::support;
use clouddb_job_operator::api::CloudDbJob;
use clouddb_testkit::apiserver::FakeApiServerConfig;
use futures::StreamExt;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::ResourceExt;
use serde_json::json;

use support::*;

#[tokio::test]
async fn create_get_list_and_already_exists() {
    let (server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let created = api
        .create(&PostParams::default(), &job("a", "1"))
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(
        api_code(
            api.create(&PostParams::default(), &job("a", "1"))
                .await
                .unwrap_err()
        ),
        409
    );
    api.create(&PostParams::default(), &job("b", "2"))
        .await
        .unwrap();

    let got = api.get("a").await.unwrap();
    assert_eq!(got.spec.job_id, "1");
    assert_eq!(api_code(api.get("missing").await.unwrap_err()), 404);

    let list = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(
        list.items.iter().map(|j| j.name_any()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let list_rv: u64 = list.metadata.resource_version.unwrap().parse().unwrap();
    assert!(list_rv >= rv(&list.items[1]));
    let by_name = api
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);
    assert_eq!(
        api.list(&ListParams::default().labels("app=other"))
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    assert_eq!(
        api.list(&ListParams::default().labels("app=test"))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    let elsewhere: Api<CloudDbJob> = Api::namespaced(api.clone().into_client(), "other");
    assert!(elsewhere
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .is_empty());

    let mut generated = job("", "3");
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    let generated = api
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    assert!(
        generated.name_any().starts_with("gen-") && generated.name_any().len() == 9,
        "{}",
        generated.name_any()
    );

    let stats = server.stats();
    assert_eq!(stats.count("create", "clouddbjobs"), 4);
    assert_eq!(stats.count("list", "clouddbjobs"), 5);
    assert_eq!(stats.count("get", "clouddbjobs"), 2);
}

#[tokio::test]
async fn stale_update_conflicts_and_injected_conflicts() {
    let (server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let original = api
        .create(&PostParams::default(), &job("a", "1"))
        .await
        .unwrap();
    let mut first = original.clone();
    first.metadata.labels = Some([("x".to_string(), "1".to_string())].into());
    let updated = api
        .replace("a", &PostParams::default(), &first)
        .await
        .unwrap();
    assert!(rv(&updated) > rv(&original));
    let mut stale = original.clone();
    stale.metadata.labels = Some([("x".to_string(), "2".to_string())].into());
    assert_eq!(
        api_code(
            api.replace("a", &PostParams::default(), &stale)
                .await
                .unwrap_err()
        ),
        409
    );
    assert_eq!(server.stats().conflicts, 1);

    server.inject_conflicts_for("clouddbjobs", 2);
    let patch = Patch::Merge(json!({"metadata": {"labels": {"y": "1"}}}));
    assert_eq!(
        api_code(
            api.patch("a", &PatchParams::default(), &patch)
                .await
                .unwrap_err()
        ),
        409
    );
    assert_eq!(
        api_code(
            api.patch_status("a", &PatchParams::default(), &patch)
                .await
                .unwrap_err()
        ),
        409
    );
    api.patch("a", &PatchParams::default(), &patch)
        .await
        .unwrap();
    server.inject_conflicts(1);
    assert_eq!(
        api_code(api.delete("a", &DeleteParams::default()).await.unwrap_err()),
        409
    );
    assert_eq!(server.stats().conflicts, 4);
}

#[tokio::test]
async fn status_and_spec_are_isolated_and_generation_follows_spec() {
    let (server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let created = api
        .create(&PostParams::default(), &job("a", "1"))
        .await
        .unwrap();

    // Server-side apply of status (with a spec change in the body) changes only status.
    let apply = Patch::Apply(json!({
        "apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbJob", "metadata": {"name": "a"},
        "spec": {"provider": "huawei", "jobId": "999", "credentialsSecretRef": {"name": "creds"}},
        "status": {"phase": "Running", "progress": 40}
    }));
    let after_status = api
        .patch_status("a", &PatchParams::apply("test").force(), &apply)
        .await
        .unwrap();
    assert_eq!(after_status.spec.job_id, "1");
    assert_eq!(status_of(&after_status)["progress"], 40);
    assert_eq!(
        after_status.metadata.generation,
        Some(1),
        "status writes never bump generation"
    );
    assert!(rv(&after_status) > rv(&created));

    // A main-resource patch ignores status.
    let main =
        Patch::Merge(json!({"status": {"phase": "Failed"}, "metadata": {"labels": {"l": "1"}}}));
    let after_main = api
        .patch("a", &PatchParams::default(), &main)
        .await
        .unwrap();
    assert_eq!(status_of(&after_main)["phase"], "Running");
    assert_eq!(
        after_main.metadata.generation,
        Some(1),
        "metadata changes do not bump generation"
    );

    // A spec change bumps generation.
    let spec = Patch::Merge(json!({"spec": {"region": "ap-shanghai"}}));
    let after_spec = api
        .patch("a", &PatchParams::default(), &spec)
        .await
        .unwrap();
    assert_eq!(after_spec.metadata.generation, Some(2));
    assert_eq!(status_of(&after_spec)["progress"], 40);

    // JSON patch and PUT on /status.
    let json_patch: json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/status/progress", "value": 70}]))
            .unwrap();
    let patched = api
        .patch_status("a", &PatchParams::default(), &Patch::<()>::Json(json_patch))
        .await
        .unwrap();
    assert_eq!(status_of(&patched)["progress"], 70);
    let mut replaced = patched.clone();
    replaced.spec.job_id = "777".into();
    replaced.status.as_mut().unwrap().progress = Some(80);
    let replaced = api
        .replace_status("a", &PostParams::default(), &replaced)
        .await
        .unwrap();
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
async fn finalizers_delay_deletion() {
    let (_server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    let mut with_finalizer = job("a", "1");
    with_finalizer.metadata.finalizers = Some(vec!["clouddb.io/cleanup".into()]);
    let created = api
        .create(&PostParams::default(), &with_finalizer)
        .await
        .unwrap();
    let mut stream = api
        .watch(
            &WatchParams::default().disable_bookmarks(),
            &created.resource_version().unwrap(),
        )
        .await
        .unwrap()
        .boxed();

    api.delete("a", &DeleteParams::default()).await.unwrap();
    let terminating = api.get("a").await.unwrap();
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert!(matches!(
        next_event(&mut stream).await,
        WatchEvent::Modified(_)
    ));

    let remove = Patch::Merge(json!({"metadata": {"finalizers": null}}));
    api.patch("a", &PatchParams::default(), &remove)
        .await
        .unwrap();
    assert_eq!(api_code(api.get("a").await.unwrap_err()), 404);
    assert!(matches!(
        next_event(&mut stream).await,
        WatchEvent::Deleted(_)
    ));
}

#[tokio::test]
async fn lists_are_chunked_with_limit_and_continue_like_a_real_server() {
    let (_server, client) = start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client, "default");
    for name in ["a", "b", "c", "d", "e"] {
        api.create(&PostParams::default(), &job(name, "1"))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    let rv = first.metadata.resource_version.clone();
    let mut names: Vec<String> = first.items.iter().map(|j| j.name_any()).collect();
    assert_eq!(names, ["a", "b"]);
    let mut token = first.metadata.continue_;
    // A change between pages shows up, under the first page's resourceVersion (the watch
    // from there replays it).
    api.delete("c", &DeleteParams::default()).await.unwrap();
    let mut pages = 1;
    while let Some(t) = token.filter(|t| !t.is_empty()) {
        let page = api
            .list(&ListParams::default().limit(2).continue_token(&t))
            .await
            .unwrap();
        assert_eq!(page.metadata.resource_version, rv, "one list, one version");
        names.extend(page.items.iter().map(|j| j.name_any()));
        token = page.metadata.continue_;
        pages += 1;
    }
    assert_eq!(names, ["a", "b", "d", "e"]);
    assert_eq!(pages, 2, "the last page has no continue token");

    let bad = api
        .list(&ListParams::default().limit(2).continue_token("not-a-token"))
        .await
        .unwrap_err();
    assert_eq!(api_code(bad), 400);
    let unlimited = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(unlimited.items.len(), 4);
    assert_eq!(unlimited.metadata.continue_, None);
}
