//! Property tests of the AWS RDS parsers on XML: arbitrary XML-like trees in every response
//! shape, and structure-aware mutations of running documents (texts replaced, elements
//! dropped, duplicated, nested or added, everything but the status), must never panic, keep
//! progress within 0-100 and never turn a running job terminal. Arbitrary bytes and JSON
//! reach the AWS parsers through `parsers.rs`.

use crate::fuzzkit::{self, check_not_terminal, check_observation, config, hostile_string};
use clouddb_job_operator::api::ProviderApi;
use clouddb_job_operator::providers::aws::{client, errors, mapping};
use clouddb_job_operator::providers::{JobObservation, ProviderError};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

pub const AWS_APIS: [ProviderApi; 5] = [
    ProviderApi::ExportTask,
    ProviderApi::DbSnapshot,
    ProviderApi::ClusterSnapshot,
    ProviderApi::BlueGreen,
    ProviderApi::BlueGreenSwitchover,
];

fn check_error(e: &ProviderError) -> Result<(), TestCaseError> {
    prop_assert!(!e.code.is_empty(), "an error always has a code: {e:?}");
    let _ = e.describe();
    Ok(())
}

/// Every AWS entry point on one response; the observation `api` gives for job `job-1`.
pub fn aws(
    api: ProviderApi,
    status: u16,
    body: &[u8],
) -> Result<Option<JobObservation>, TestCaseError> {
    let _ = errors::parse_error_envelope(body);
    let _ = errors::classify(status, body, None, None);
    if let Ok(obs) = mapping::observation_from_body(api, body, "job-1") {
        check_observation(&obs)?;
    }
    let resp = fuzzkit::response(status, body.to_vec(), &[("x-amzn-requestid", "r".into())]);
    match client::interpret(api, &resp, "job-1") {
        Ok(obs) => {
            check_observation(&obs)?;
            Ok(Some(obs))
        }
        Err(e) => {
            check_error(&e)?;
            Ok(None)
        }
    }
}

/// Every AWS API on one response.
pub fn all_aws(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    for api in AWS_APIS {
        aws(api, status, body)?;
    }
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The action, list and item element names of an API's response.
fn shape(api: ProviderApi) -> (&'static str, &'static str, &'static str) {
    match api {
        ProviderApi::DbSnapshot => ("DescribeDBSnapshots", "DBSnapshots", "DBSnapshot"),
        ProviderApi::ClusterSnapshot => (
            "DescribeDBClusterSnapshots",
            "DBClusterSnapshots",
            "DBClusterSnapshot",
        ),
        ProviderApi::BlueGreen | ProviderApi::BlueGreenSwitchover => (
            "DescribeBlueGreenDeployments",
            "BlueGreenDeployments",
            "member",
        ),
        _ => ("DescribeExportTasks", "ExportTasks", "ExportTask"),
    }
}

/// A whole response whose list holds one item with `inner` as content.
fn document(api: ProviderApi, inner: &str) -> String {
    let (action, list, item) = shape(api);
    format!(
        "<{action}Response xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><{action}Result><{list}><{item}>{inner}</{item}></{list}></{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"
    )
}

/// The fields of a running item of `api`, as (element, raw XML content).
fn running(api: ProviderApi) -> Vec<(String, String)> {
    let f = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    match api {
        ProviderApi::DbSnapshot => f(&[
            ("DBSnapshotIdentifier", "job-1"),
            ("DBInstanceIdentifier", "orders-db"),
            ("SnapshotCreateTime", "2026-11-29T10:00:00.000Z"),
            ("Engine", "mysql"),
            ("Status", "creating"),
            ("SnapshotType", "manual"),
            ("PercentProgress", "40"),
        ]),
        ProviderApi::ClusterSnapshot => f(&[
            ("DBClusterSnapshotIdentifier", "job-1"),
            ("DBClusterIdentifier", "orders-aurora"),
            ("SnapshotCreateTime", "2026-11-29T10:00:00.000Z"),
            ("Engine", "aurora-mysql"),
            ("Status", "creating"),
            ("PercentProgress", "40"),
        ]),
        ProviderApi::BlueGreen | ProviderApi::BlueGreenSwitchover => {
            let status = if api == ProviderApi::BlueGreen {
                "PROVISIONING"
            } else {
                "SWITCHOVER_IN_PROGRESS"
            };
            f(&[
                ("BlueGreenDeploymentIdentifier", "job-1"),
                ("Source", "arn:aws:rds:us-east-1:123456789012:db:orders-db"),
                ("Target", "arn:aws:rds:us-east-1:123456789012:db:orders-db-green-abcdef"),
                ("SwitchoverDetails", "<member><Status>SWITCHOVER_IN_PROGRESS</Status></member><member><Status>SWITCHOVER_COMPLETED</Status></member>"),
                ("Tasks", "<member><Name>CREATING_READ_REPLICA_OF_SOURCE</Name><Status>COMPLETED</Status></member><member><Name>DB_ENGINE_VERSION_UPGRADE</Name><Status>IN_PROGRESS</Status></member>"),
                ("Status", status),
                ("StatusDetails", "Creating read replica"),
                ("CreateTime", "2026-11-29T10:00:00Z"),
            ])
        }
        _ => f(&[
            ("ExportTaskIdentifier", "job-1"),
            (
                "SourceArn",
                "arn:aws:rds:us-east-1:123456789012:snapshot:orders",
            ),
            ("TaskStartTime", "2026-11-29T10:00:00.000Z"),
            ("S3Bucket", "orders-exports"),
            ("Status", "IN_PROGRESS"),
            ("PercentProgress", "40"),
            ("WarningMessage", "table x skipped"),
        ]),
    }
}

/// One edit of an item's fields.
#[derive(Clone, Debug)]
enum Edit {
    /// New text for a field (escaped: the document stays well formed).
    Text(String),
    Drop,
    Duplicate,
    /// The field's content wrapped in a child element.
    Nest(String),
    /// An unknown element before the field.
    Unknown(String, String),
}

fn edit() -> BoxedStrategy<Edit> {
    let name = "[A-Za-z][A-Za-z0-9]{0,12}";
    prop_oneof![
        4 => hostile_string().prop_map(Edit::Text),
        2 => Just(Edit::Drop),
        1 => Just(Edit::Duplicate),
        1 => name.prop_map(Edit::Nest),
        2 => (name, hostile_string()).prop_map(|(n, t)| Edit::Unknown(n, t)),
    ]
    .boxed()
}

/// The item's content after the edits; the `Status` field is never touched.
fn edited(fields: &[(String, String)], edits: &[(usize, Edit)]) -> String {
    let mut fields: Vec<(String, String)> = fields.to_vec();
    for (at, edit) in edits {
        let editable: Vec<usize> = (0..fields.len())
            .filter(|i| fields[*i].0 != "Status")
            .collect();
        if editable.is_empty() {
            break;
        }
        let i = editable[at % editable.len()];
        match edit {
            Edit::Text(t) => fields[i].1 = escape(t),
            Edit::Drop => {
                fields.remove(i);
            }
            Edit::Duplicate => fields.insert(i, fields[i].clone()),
            Edit::Nest(n) => fields[i].1 = format!("<{n}>{}</{n}>", fields[i].1),
            Edit::Unknown(n, t) => fields.insert(i, (n.clone(), escape(t))),
        }
    }
    fields
        .iter()
        .map(|(k, v)| format!("<{k}>{v}</{k}>"))
        .collect()
}

/// An XML-like tree: known and random element names, hostile (sometimes raw) text.
fn xml_tree() -> BoxedStrategy<String> {
    let names = prop::sample::select(vec![
        "ExportTask",
        "ExportTasks",
        "DBSnapshot",
        "DBSnapshots",
        "DBClusterSnapshot",
        "member",
        "Status",
        "PercentProgress",
        "Tasks",
        "SwitchoverDetails",
        "Name",
        "ExportTaskIdentifier",
        "DBSnapshotIdentifier",
        "BlueGreenDeploymentIdentifier",
        "CreateTime",
        "Error",
        "Code",
        "Message",
        "RequestId",
        "x",
    ]);
    let leaf = prop_oneof![
        3 => hostile_string().prop_map(|t| escape(&t)),
        1 => hostile_string(),
        1 => Just("job-1".to_string()),
        1 => prop::sample::select(vec!["COMPLETE", "available", "AVAILABLE", "SWITCHOVER_COMPLETED", "FAILED", "100", "-5", "1e9"]).prop_map(String::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        (names.clone(), prop::collection::vec(inner, 0..6))
            .prop_map(|(n, kids)| format!("<{n}>{}</{n}>", kids.concat()))
    })
    .boxed()
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

#[test]
fn arbitrary_xml_in_every_shape_never_panics() {
    let status = prop::sample::select(vec![200u16, 400, 403, 404, 500, 503]);
    run(256, (status, xml_tree()), |(status, tree)| {
        for api in AWS_APIS {
            aws(api, status, tree.as_bytes())?;
            aws(api, status, document(api, &tree).as_bytes())?;
            let error = format!("<ErrorResponse>{tree}</ErrorResponse>");
            aws(api, status, error.as_bytes())?;
        }
        Ok(())
    });
}

#[test]
fn running_documents_never_turn_terminal() {
    let edits = prop::collection::vec((any::<usize>(), edit()), 1..=6);
    let api = prop::sample::select(AWS_APIS.to_vec());
    run(512, (api, edits), |(api, edits)| {
        let doc = document(api, &edited(&running(api), &edits));
        if let Some(obs) = aws(api, 200, doc.as_bytes())? {
            check_not_terminal(&obs)?;
        }
        Ok(())
    });
}

#[test]
fn the_unedited_running_documents_are_running() {
    for api in AWS_APIS {
        let doc = document(api, &edited(&running(api), &[]));
        let obs = mapping::observation_from_body(api, doc.as_bytes(), "job-1").unwrap();
        assert_eq!(
            obs.phase,
            Some(clouddb_job_operator::api::JobPhase::Running),
            "{api}: {doc}"
        );
    }
}
