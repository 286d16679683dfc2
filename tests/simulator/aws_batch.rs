//! The identifier filters of the AWS job describes with several values, as batched polls
//! send them: every API answers the jobs named (case-insensitively), pages them by
//! `MaxRecords`/`Marker`, answers an empty list (not a fault) for IDs it does not know, and
//! refuses what RDS refuses (more than 100 values, a filter name the action does not take).

use std::time::Duration;

use clouddb_job_operator::api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_job_operator::providers::aws::batch::{filter_params, page_items, Keyed};
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::{Credentials, ErrorReason};
use clouddb_job_operator::simulator::auth::{
    DEFAULT_AWS_ACCESS_KEY_ID, DEFAULT_AWS_SECRET_ACCESS_KEY,
};
use clouddb_job_operator::simulator::{JobSpec, SimConfig, Simulator};

use super::*;

fn keys() -> Credentials {
    Credentials::Aws {
        access_key_id: DEFAULT_AWS_ACCESS_KEY_ID.into(),
        secret_access_key: SecretString::new(DEFAULT_AWS_SECRET_ACCESS_KEY),
        session_token: None,
    }
}

fn job(api: &str, id: &str, status: &str) -> JobSpec {
    serde_json::from_value(serde_json::json!({
        "provider": "aws",
        "api": api,
        "jobId": id,
        "instanceId": "orders-db",
        "timeline": [{"after": "0s", "status": status, "progress": 40}],
    }))
    .unwrap()
}

const APIS: [(ProviderApi, &str); 4] = [
    (ProviderApi::DbSnapshot, "db-snapshot"),
    (ProviderApi::ClusterSnapshot, "cluster-snapshot"),
    (ProviderApi::ExportTask, "export-task"),
    (ProviderApi::BlueGreen, "blue-green"),
];

async fn simulator(per_api: usize) -> Simulator {
    let sim = start(SimConfig::empty()).await;
    for (_, api) in APIS {
        for n in 0..per_api {
            sim.add_job(job(api, &format!("{api}-{n:03}"), "RUNNING"))
                .unwrap();
        }
    }
    sim
}

/// One filtered describe: the form body with `MaxRecords` and `Marker` as given.
async fn describe(
    sim: &Simulator,
    api: ProviderApi,
    ids: &[String],
    max_records: u32,
    marker: Option<&str>,
) -> Result<(Vec<Keyed>, Option<String>), clouddb_job_operator::providers::ProviderError> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in filter_params(api, ids) {
        form.append_pair(&k, &v);
    }
    form.append_pair("MaxRecords", &max_records.to_string());
    if let Some(m) = marker {
        form.append_pair("Marker", m);
    }
    let endpoint = url::Url::parse(&sim.url()).unwrap();
    let body = AwsProvider::new(client(Duration::from_secs(5)))
        .call_form(Some("us-east-1"), Some(&endpoint), form.finish(), &keys())
        .await?;
    page_items(api, &body)
}

#[tokio::test]
async fn every_identifier_filter_takes_several_values_and_pages_them() {
    let sim = simulator(45).await;
    for (api, name) in APIS {
        // 45 jobs named (one in upper case) and one unknown ID: three pages of 20.
        let mut ids: Vec<String> = (0..45).map(|n| format!("{name}-{n:03}")).collect();
        ids[0] = ids[0].to_ascii_uppercase();
        ids.push(format!("{name}-unknown"));
        let mut seen = Vec::new();
        let mut marker: Option<String> = None;
        let mut pages = 0;
        loop {
            let (items, next) = describe(&sim, api, &ids, 20, marker.as_deref())
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            pages += 1;
            seen.extend(items);
            match next {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        assert_eq!(pages, 3, "{name}");
        assert_eq!(
            seen.len(),
            45,
            "{name}: every job named, the unknown one not"
        );
        assert!(seen.iter().all(|(_, o)| o.phase == Some(JobPhase::Running)));
        assert!(seen.iter().any(|(id, _)| id == &format!("{name}-000")));
    }
    // A snapshot not named is not listed.
    let (only, _) = describe(
        &sim,
        ProviderApi::DbSnapshot,
        &["db-snapshot-007".into()],
        100,
        None,
    )
    .await
    .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].0, "db-snapshot-007");
}

#[tokio::test]
async fn unknown_identifiers_in_a_filter_are_an_empty_list_not_a_fault() {
    let sim = simulator(1).await;
    for (api, name) in APIS {
        let (items, marker) = describe(&sim, api, &["no-such-job".into()], 100, None)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(items.is_empty() && marker.is_none(), "{name}");
    }
}

#[tokio::test]
async fn more_than_a_hundred_values_or_a_foreign_filter_are_refused_as_rds_refuses_them() {
    let sim = simulator(0).await;
    let ids: Vec<String> = (0..101).map(|n| format!("snap-{n}")).collect();
    let e = describe(&sim, ProviderApi::DbSnapshot, &ids, 100, None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "InvalidParameterCombination", "{e:?}");
    assert_eq!(e.reason, ErrorReason::InvalidRequest, "{e:?}");
    // A hundred is fine.
    describe(&sim, ProviderApi::DbSnapshot, &ids[..100], 100, None)
        .await
        .unwrap();
    // `db-snapshot-id` is not a filter of DescribeDBClusterSnapshots.
    let endpoint = url::Url::parse(&sim.url()).unwrap();
    let form = "Action=DescribeDBClusterSnapshots&Version=2014-10-31&Filters.Filter.1.Name=db-snapshot-id&Filters.Filter.1.Values.Value.1=a";
    let e = AwsProvider::new(client(Duration::from_secs(5)))
        .call_form(Some("us-east-1"), Some(&endpoint), form.into(), &keys())
        .await
        .unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue", "{e:?}");
    assert!(e.message.contains("Unrecognized filter name"), "{e:?}");
    let _ = ProviderKind::Aws;
}
