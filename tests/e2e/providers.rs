//! Issue 6, tests 1 and 2: every provider API tracked to its end through kubectl and the
//! operator binary; status writes happen only when what the provider says changes.

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::JobSpec;
use serde_json::{json, Value};

use super::harness::{Harness, Options};
use super::history::condition;
use super::manifests::{
    alibaba_creds, aws_creds, azure_creds, gcp_creds, huawei_aksk, huawei_token, manifest_for,
    sim_job, tencent_creds, JobManifest, PROJECT,
};

/// One job per provider API (and the built-in failure scenarios), with what must be seen.
/// Also run by the operator's pod on the test node (`node::`).
pub(super) struct Case {
    pub manifest: JobManifest,
    /// `Complete` or `Failed`.
    pub condition: &'static str,
    /// `None`: the API does not say (DescribeAsyncRequestInfo).
    pub job_type: Option<&'static str>,
    /// The provider's own status value for the final state.
    pub provider_status: &'static str,
}

pub(super) fn cases(endpoint: &str) -> Vec<Case> {
    let m = |example, name, id: &str, creds| JobManifest::new(example, name, id, endpoint, creds);
    vec![
        Case {
            manifest: m(
                "tencent-describetasks.yaml",
                "tc-init",
                "15964",
                tencent_creds(),
            ),
            condition: "Complete",
            job_type: Some("initialize"),
            provider_status: "SUCCEED",
        },
        Case {
            manifest: m(
                "tencent-describetasks.yaml",
                "tc-sql",
                "51788",
                tencent_creds(),
            )
            .with_spec(json!({"instanceId": "cdb-atjl8gns"})),
            condition: "Failed",
            job_type: Some("sql"),
            provider_status: "FAILED",
        },
        Case {
            manifest: m(
                "tencent-describeasyncrequestinfo.yaml",
                "tc-async",
                "9e8f2c3a-5d7b-4f61-9c2e-1a2b3c4d5e6f",
                tencent_creds(),
            )
            .with_spec(json!({"instanceId": "cdb-gt70m8aa"})),
            condition: "Complete",
            job_type: None,
            provider_status: "SUCCESS",
        },
        Case {
            manifest: m(
                "tencent-legacy-getcdbtaskinfo.yaml",
                "v2-task",
                "560",
                tencent_creds(),
            ),
            condition: "Complete",
            job_type: Some("create"),
            provider_status: "0",
        },
        Case {
            manifest: m(
                "tencent-legacy-getcdbupgradejobinfo.yaml",
                "v2-upgrade",
                "47258",
                tencent_creds(),
            ),
            condition: "Complete",
            job_type: Some("upgrade"),
            provider_status: "2",
        },
        Case {
            manifest: m(
                "tencent-legacy-getcdbrollbackjobtask.yaml",
                "v2-rollback",
                "12782",
                tencent_creds(),
            ),
            condition: "Complete",
            job_type: Some("rollback"),
            provider_status: "2",
        },
        Case {
            manifest: m(
                "huawei-rds-iam-token.yaml",
                "hw-rds-token",
                "7a1d4c6e-2b3f-4a5e-9c8d-1e2f3a4b5c6d",
                huawei_token(),
            )
            .with_spec(json!({"projectId": PROJECT})),
            condition: "Complete",
            job_type: Some("restart"),
            provider_status: "Completed",
        },
        Case {
            manifest: m(
                "huawei-rds.yaml",
                "hw-rds-fail",
                "3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8b0c1e",
                huawei_aksk(),
            )
            .with_spec(json!({"projectId": PROJECT})),
            condition: "Failed",
            job_type: Some("upgrade"),
            provider_status: "Failed",
        },
        Case {
            manifest: m(
                "huawei-taurusdb.yaml",
                "hw-taurus",
                "5b7d9f1a-3c5e-4a7b-9d1f-3a5c7e9b1d3f",
                huawei_aksk(),
            )
            .with_spec(
                json!({"projectId": PROJECT, "instanceId": "a48e43ff268f4c0e879652d65e63d0fbin07"}),
            ),
            condition: "Complete",
            job_type: Some("restart"),
            provider_status: "Completed",
        },
        Case {
            manifest: m(
                "huawei-taurusdb-legacy.yaml",
                "hw-taurus-legacy",
                "31b8ae23-c687-4d80-b7b4-42a66c9bb886",
                huawei_aksk(),
            )
            .with_spec(json!({"projectId": PROJECT})),
            condition: "Complete",
            job_type: Some("restart"),
            provider_status: "Completed",
        },
        Case {
            manifest: m(
                "alibaba-rds.yaml",
                "ali-rds",
                "t-83br18hloy3faf0s1",
                alibaba_creds(),
            )
            .with_spec(json!({"instanceId": "rm-uf62br2491p5l0s1"})),
            condition: "Complete",
            job_type: Some("upgrade"),
            provider_status: "Succeed",
        },
        Case {
            manifest: m(
                "alibaba-rds.yaml",
                "ali-rds-fail",
                "t-0mq1yyhm3ffl2bx1",
                alibaba_creds(),
            )
            .with_spec(json!({"instanceId": "rm-uf62br2491p5l0s1"})),
            condition: "Failed",
            job_type: Some("parameter"),
            provider_status: "Failed",
        },
        Case {
            manifest: m(
                "alibaba-polardb.yaml",
                "ali-polardb",
                "t-0mqfirqcdv8rn5a2",
                alibaba_creds(),
            )
            .with_spec(json!({"instanceId": "pc-bp1s826a1up0a2"})),
            condition: "Complete",
            job_type: Some("upgrade"),
            provider_status: "Succeed",
        },
        Case {
            manifest: m(
                "alibaba-polardb.yaml",
                "ali-polardb-cancel",
                "t-0mqgj3x5vbc3k9a3",
                alibaba_creds(),
            )
            .with_spec(json!({"instanceId": "pc-bp1s826a1up0a2"})),
            condition: "Failed",
            job_type: Some("restart"),
            provider_status: "Canceled",
        },
        Case {
            manifest: m(
                "aws-export-task.yaml",
                "aws-export",
                "orders-export-2026-11-29",
                aws_creds(),
            ),
            condition: "Complete",
            job_type: Some("export"),
            provider_status: "COMPLETE",
        },
        Case {
            manifest: m(
                "aws-export-task.yaml",
                "aws-export-fail",
                "orders-export-2026-11-28",
                aws_creds(),
            ),
            condition: "Failed",
            job_type: Some("export"),
            provider_status: "FAILED",
        },
        Case {
            manifest: m(
                "aws-db-snapshot.yaml",
                "aws-snapshot",
                "orders-before-upgrade",
                aws_creds(),
            ),
            condition: "Complete",
            job_type: Some("backup"),
            provider_status: "available",
        },
        Case {
            manifest: m(
                "aws-cluster-snapshot.yaml",
                "aws-cluster-snapshot",
                "orders-cluster-before-upgrade",
                aws_creds(),
            ),
            condition: "Complete",
            job_type: Some("backup"),
            provider_status: "available",
        },
        Case {
            manifest: m(
                "aws-blue-green.yaml",
                "aws-bg",
                "bgd-3kq8z7wn1vcx5p2r",
                aws_creds(),
            ),
            condition: "Complete",
            job_type: Some("blue-green"),
            provider_status: "AVAILABLE",
        },
        Case {
            manifest: m(
                "aws-blue-green.yaml",
                "aws-bg-invalid",
                "bgd-7wx1c5rt9mfz3qk8",
                aws_creds(),
            ),
            condition: "Failed",
            job_type: Some("blue-green"),
            provider_status: "INVALID_CONFIGURATION",
        },
        Case {
            manifest: m(
                "aws-blue-green-switchover.yaml",
                "aws-switchover",
                "bgd-9fz2m4tq7hxw1lcb",
                aws_creds(),
            ),
            condition: "Complete",
            job_type: Some("switchover"),
            provider_status: "SWITCHOVER_COMPLETED",
        },
        // Azure: the async operation bodies carry no operation type.
        Case {
            manifest: m(
                "azure-postgresql-flexible.yaml",
                "az-pg",
                "0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11",
                azure_creds(endpoint),
            ),
            condition: "Complete",
            job_type: None,
            provider_status: "Succeeded",
        },
        Case {
            manifest: m(
                "azure-postgresql-flexible.yaml",
                "az-pg-fail",
                "6f1c2d3e-8b7a-4c5d-9e0f-1a2b3c4d5e6f",
                azure_creds(endpoint),
            ),
            condition: "Failed",
            job_type: None,
            provider_status: "Failed",
        },
        Case {
            manifest: m(
                "azure-mysql-flexible.yaml",
                "az-mysql",
                "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a99",
                azure_creds(endpoint),
            ),
            condition: "Complete",
            job_type: None,
            provider_status: "Succeeded",
        },
        Case {
            manifest: m(
                "azure-mysql-flexible.yaml",
                "az-mysql-cancel",
                "7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
                azure_creds(endpoint),
            ),
            condition: "Failed",
            job_type: None,
            provider_status: "Canceled",
        },
        Case {
            manifest: m(
                "gcp-cloudsql.yaml",
                "gcp-import",
                GCP_IMPORT,
                gcp_creds(endpoint),
            )
            .with_spec(json!({"projectId": GCP_PROJECT, "instanceId": "orders-db"})),
            condition: "Complete",
            job_type: Some("import"),
            provider_status: "DONE",
        },
        Case {
            manifest: m(
                "gcp-cloudsql.yaml",
                "gcp-export-fail",
                "a1c2e3f4-0000-4a4a-8b8b-123456789abc",
                gcp_creds(endpoint),
            )
            .with_spec(json!({"projectId": GCP_PROJECT, "instanceId": "orders-db"})),
            condition: "Failed",
            job_type: Some("export"),
            provider_status: "DONE",
        },
    ]
}

/// The project of the simulator's built-in Cloud SQL operations.
const GCP_PROJECT: &str = "simulator-project";
/// The built-in quick Cloud SQL import.
const GCP_IMPORT: &str = "6b9f4b5e-2a1d-4c7e-9f0a-1d2c3b4a5f60";

fn time_field(status: &Value, field: &str) -> jiff::Timestamp {
    status[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {status}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_api_is_tracked_to_its_end() {
    let h = Harness::start("providers", Options::default()).await;
    let cases = cases(&h.sim.url());
    for case in &cases {
        h.apply(&case.manifest.name, &case.manifest.yaml()).await;
    }
    for case in &cases {
        h.wait_for(&case.manifest.name, case.condition, 40).await;
    }
    for case in &cases {
        let name = &case.manifest.name;
        let failed = case.condition == "Failed";
        h.assert_sane(name, failed).await;
        let status = h.status(name);
        let generation = h.object(name)["metadata"]["generation"].as_i64();
        assert!(generation.is_some(), "{name}: no generation");
        assert_eq!(
            status["phase"],
            if failed { "Failed" } else { "Succeeded" },
            "{name}: {status}"
        );
        if !failed {
            assert_eq!(status["progress"], 100, "{name}: {status}");
        }
        assert_eq!(
            status["jobType"].as_str(),
            case.job_type,
            "{name}: {status}"
        );
        assert_eq!(
            status["providerStatus"], case.provider_status,
            "{name}: {status}"
        );
        // DescribeAsyncRequestInfo and GetCdbTaskInfo answer no start or end times, nor do
        // snapshots and blue/green deployments while they are not deleted.
        if !matches!(
            name.as_str(),
            "tc-async"
                | "v2-task"
                | "aws-snapshot"
                | "aws-cluster-snapshot"
                | "aws-bg"
                | "aws-bg-invalid"
                | "aws-switchover"
        ) {
            let (start, end) = (
                time_field(&status, "startTime"),
                time_field(&status, "endTime"),
            );
            assert!(start <= end, "{name}: start after end: {status}");
        }
        assert_eq!(status["observedGeneration"].as_i64(), generation, "{name}");
        let expect = |t: &str, s: &str| {
            let c = condition(&status, t).unwrap_or_else(|| panic!("{name}: no {t}: {status}"));
            assert_eq!(c["status"], s, "{name}: condition {t}: {status}");
            assert_eq!(c["observedGeneration"].as_i64(), generation, "{name}: {t}");
        };
        let (yes, no) = ("True", "False");
        expect("Ready", if failed { no } else { yes });
        expect("Complete", if failed { no } else { yes });
        expect("Failed", if failed { yes } else { no });
        expect("Stalled", if failed { yes } else { no });
        expect("Reconciling", no);
    }

    // Kind-specific detail, read the way users do: kubectl jsonpath.
    assert_eq!(
        h.jsonpath("v2-upgrade", "{.status.upgrade.before.memoryMB}/{.status.upgrade.before.volumeGB}->{.status.upgrade.after.volumeGB}").await,
        "1000/35->40"
    );
    assert_eq!(
        h.jsonpath("v2-rollback", "{.status.rollback.instances[0].databases[0].name}->{.status.rollback.instances[0].databases[0].newName}").await,
        "test->test_bak"
    );
    let sql = h.status("tc-sql");
    assert!(
        sql["message"]
            .as_str()
            .unwrap_or("")
            .contains("connection refused"),
        "{sql}"
    );
    assert!(h.status("hw-rds-fail")["message"]
        .as_str()
        .unwrap_or("")
        .contains("insufficient resources"));
    // The token job authenticated with X-Auth-Token: the simulator served it without
    // authentication errors.
    let token_job = "7a1d4c6e-2b3f-4a5e-9c8d-1e2f3a4b5c6d";
    assert!(h.sim_requests(token_job) >= 2);
    assert!(h
        .sim
        .requests()
        .iter()
        .filter(|r| r.job_id.as_deref() == Some(token_job))
        .all(|r| r.status == Some(200)));
    // Alibaba: the provider's own detail and its countdown-free final state.
    assert_eq!(
        h.jsonpath("ali-rds", "{.status.alibaba.currentStepName}|{.status.alibaba.reasonCode}|{.status.instanceIds[0]}").await,
        "finish_task|user_api|rm-uf62br2491p5l0s1"
    );
    assert_eq!(h.status("ali-polardb-cancel")["reason"], "Canceled");
    // AWS: what the export wrote to, why one failed, the blue/green steps.
    assert_eq!(
        h.jsonpath("aws-export", "{.status.aws.s3Bucket}").await,
        "orders-exports"
    );
    assert!(!h.status("aws-export-fail")["message"]
        .as_str()
        .unwrap_or("")
        .is_empty());
    let tasks = h
        .jsonpath("aws-bg", "{range .status.aws.tasks[*]}{.status} {end}")
        .await;
    assert!(
        !tasks.is_empty() && tasks.split_whitespace().all(|t| t == "COMPLETED"),
        "{tasks}"
    );
    // Azure: the operation, its resource provider, why one failed, one canceled; and one
    // token for all four jobs (they share the credential).
    assert_eq!(
        h.jsonpath(
            "az-pg",
            "{.status.azure.resourceProvider}|{.status.azure.operationName}"
        )
        .await,
        "Microsoft.DBforPostgreSQL|0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11"
    );
    assert_eq!(
        h.jsonpath("az-mysql", "{.status.azure.resourceProvider}")
            .await,
        "Microsoft.DBforMySQL"
    );
    assert_eq!(
        h.jsonpath("az-pg-fail", "{.status.azure.errorCode}|{.status.reason}")
            .await,
        "ServerStorageFull|JobFailed"
    );
    assert!(h.status("az-pg-fail")["message"]
        .as_str()
        .unwrap_or("")
        .contains("ran out of storage"));
    assert_eq!(h.status("az-mysql-cancel")["reason"], "Canceled");
    assert_eq!(
        h.sim.azure_tokens_issued(),
        1,
        "one token for every Azure job"
    );
    // Google Cloud SQL: the operation's detail, the failure's codes and messages, and one
    // access token for both jobs (their Secrets hold the same key).
    assert_eq!(
        h.jsonpath("gcp-import", "{.status.gcp.operationType}|{.status.gcp.targetProject}|{.status.gcp.user}|{.status.instanceIds[0]}").await,
        "IMPORT|simulator-project|clouddb-simulator@simulator-project.iam.gserviceaccount.com|orders-db"
    );
    assert_eq!(
        h.jsonpath(
            "gcp-export-fail",
            "{.status.gcp.errorCodes[0]}|{.status.reason}"
        )
        .await,
        "ERROR_RDBMS|JobFailed"
    );
    assert!(h.status("gcp-export-fail")["message"]
        .as_str()
        .unwrap_or("")
        .starts_with("ERROR_RDBMS: The service account does not have"));
    assert_eq!(h.sim.gcp_token_requests(), 1);
    let names: Vec<&str> = cases.iter().map(|c| c.manifest.name.as_str()).collect();
    h.assert_no_noop_writes(&names).await;
}

/// Cloud SQL reports no progress: while an operation runs, `kubectl get` shows an empty
/// Progress cell (the field is unset, not a made-up 0), then 100 when done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_progress_column_while_running() {
    let h = Harness::start("gcp-progress", Options::default()).await;
    let endpoint = h.sim.url();
    let long = JobManifest::new(
        "gcp-cloudsql.yaml",
        "gcp-upgrade",
        "0f3e9d2c-7b6a-4e5f-8a9b-c0d1e2f3a4b5",
        &endpoint,
        gcp_creds(&endpoint),
    )
    .with_spec(json!({"projectId": GCP_PROJECT, "instanceId": "billing-db"}));
    h.apply(&long.name, &long.yaml()).await;
    h.eventually("gcp-upgrade running", 30, |h| {
        h.status("gcp-upgrade")["phase"] == "Running"
    })
    .await;
    let table = h.kubectl_ok(&["get", "cdbjob/gcp-upgrade"]).await;
    // The cell under PROGRESS, by the header's character offsets (an empty cell leaves no
    // token to split on).
    let column = |table: &str| -> String {
        let mut lines = table.lines();
        let header = lines.next().unwrap_or_default();
        let row = lines.next().unwrap_or_default();
        let start = header.find("PROGRESS").expect("a PROGRESS column");
        let end = header[start..]
            .find("AGE")
            .map_or(header.len(), |i| start + i);
        row.get(start..end.min(row.len()))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    // kubectl leaves the cell empty for an absent integer: no made-up 0, nothing to misread.
    assert_eq!(column(&table), "", "{table}");
    assert!(h.status("gcp-upgrade").get("progress").is_none());
    assert_eq!(
        h.jsonpath("gcp-upgrade", "{.status.jobType}|{.status.providerStatus}")
            .await,
        "upgrade|RUNNING"
    );
    h.wait_for("gcp-upgrade", "Complete", 60).await;
    let table = h.kubectl_ok(&["get", "cdbjob/gcp-upgrade"]).await;
    assert_eq!(column(&table), "100", "{table}");
}

/// A job whose every state lasts several polls.
fn stepwise_job() -> JobSpec {
    sim_job(
        ProviderKind::Huawei,
        "rds",
        "0a0a0a0a-1111-4222-8333-444444444444",
        &[
            (0, Phase::Running, Some(10)),
            (4, Phase::Running, Some(40)),
            (8, Phase::Running, Some(80)),
            (12, Phase::Succeed, None),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_written_once_per_observed_change() {
    let speed = 2.0;
    let job = stepwise_job();
    let h = Harness::start(
        "writes",
        Options {
            speed,
            builtins: false,
            jobs: vec![job.clone()],
            ..Options::default()
        },
    )
    .await;
    let manifest = manifest_for(&job, "stepwise", &h.sim.url());
    h.apply("stepwise", &manifest.yaml()).await;
    h.wait_for("stepwise", "Complete", 30).await;

    // The distinct states the simulator reported (it records them as it answers), so the
    // expected write count depends on what was served, not on when the polls happened.
    let distinct = h.sim.served_states(&job.job_id).len();
    let requests: Vec<_> = h
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.job_id.as_deref() == Some(job.job_id.as_str()))
        .collect();
    assert!(requests.iter().all(|r| r.status == Some(200)));
    assert_eq!(distinct, 4, "every step of the timeline was seen once");
    assert!(
        requests.len() > distinct,
        "the job was polled more often than it changed ({} polls, {distinct} states)",
        requests.len()
    );
    // The terminal write is the last one: after it the job is never written again, so the
    // count is final once Complete is visible.
    let writes = h.status_writes_at_least("stepwise", distinct).await;
    assert_eq!(
        writes,
        distinct,
        "{writes} status writes for {distinct} distinct provider states over {} polls",
        requests.len()
    );
    h.assert_no_noop_writes(&["stepwise"]).await;
    assert_eq!(
        h.assert_sane("stepwise", false).await.len(),
        writes,
        "every write is a distinct status"
    );
    let status = h.status("stepwise");
    assert_eq!(
        status["pollCount"].as_u64(),
        Some(requests.len() as u64),
        "{status}"
    );
}
