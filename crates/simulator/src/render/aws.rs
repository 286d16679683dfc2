//! AWS RDS Query API responses (XML in namespace `http://rds.amazonaws.com/doc/2014-10-31/`)
//! for `DescribeExportTasks`, `DescribeDBSnapshots`, `DescribeDBClusterSnapshots` and
//! `DescribeBlueGreenDeployments`, and the `<ErrorResponse>` envelope. Element names,
//! order and list spellings follow the RDS service model (`<ExportTasks><ExportTask>`,
//! `<DBSnapshots><DBSnapshot>`, `<BlueGreenDeployments><member>`, ...).

use jiff::Timestamp;
use quick_xml::escape::escape;

use super::RenderJob;
use crate::scenario::Phase;

/// The XML namespace of every RDS response.
pub const NAMESPACE: &str = "http://rds.amazonaws.com/doc/2014-10-31/";
/// The account the rendered ARNs belong to (the documents' example account).
pub const ACCOUNT: &str = "123456789012";
/// The region the rendered ARNs name.
pub const REGION: &str = "us-east-1";

/// The steps RDS reports while it builds a green environment (the documents' example).
pub const BLUE_GREEN_TASKS: [&str; 4] = [
    "CREATING_READ_REPLICA_OF_SOURCE",
    "DB_ENGINE_VERSION_UPGRADE",
    "CONFIGURE_BACKUPS",
    "CREATING_TOPOLOGY_OF_SOURCE",
];

/// AWS time: ISO 8601 in UTC with milliseconds, `2020-03-02T18:57:56.896Z`.
pub fn aws_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `<Name>text</Name>`, the text escaped.
fn el(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

/// The status an API reports for a scenario phase.
///
/// * `export-task`: `STARTING`, `IN_PROGRESS`, `COMPLETE`, `FAILED`, `CANCELED`.
/// * `db-snapshot`, `cluster-snapshot`: `creating`, `available`, `failed`, `deleting`
///   (killed: deleted while being made), `deleted`.
/// * `blue-green`: `PROVISIONING` until `AVAILABLE`; a failure is `INVALID_CONFIGURATION`.
/// * `blue-green-switchover`: `PROVISIONING` (initial), `AVAILABLE` (waiting: ready, not
///   switched yet), `SWITCHOVER_IN_PROGRESS`, `SWITCHOVER_COMPLETED`, `SWITCHOVER_FAILED`.
///
/// Killed or removed deployments are `DELETING`.
pub fn status(api: &str, phase: Phase) -> &'static str {
    match api {
        "db-snapshot" | "cluster-snapshot" => match phase {
            Phase::Initial | Phase::Waiting | Phase::Running | Phase::Paused => "creating",
            Phase::Succeed => "available",
            Phase::Failed => "failed",
            Phase::Killed => "deleting",
            Phase::Removed => "deleted",
        },
        "blue-green" => match phase {
            Phase::Initial | Phase::Waiting | Phase::Running | Phase::Paused => "PROVISIONING",
            Phase::Succeed => "AVAILABLE",
            Phase::Failed => "INVALID_CONFIGURATION",
            Phase::Killed | Phase::Removed => "DELETING",
        },
        "blue-green-switchover" => match phase {
            Phase::Initial => "PROVISIONING",
            Phase::Waiting => "AVAILABLE",
            Phase::Running | Phase::Paused => "SWITCHOVER_IN_PROGRESS",
            Phase::Succeed => "SWITCHOVER_COMPLETED",
            Phase::Failed => "SWITCHOVER_FAILED",
            Phase::Killed | Phase::Removed => "DELETING",
        },
        _ => match phase {
            Phase::Initial | Phase::Waiting => "STARTING",
            Phase::Running | Phase::Paused => "IN_PROGRESS",
            Phase::Succeed => "COMPLETE",
            Phase::Failed => "FAILED",
            Phase::Killed | Phase::Removed => "CANCELED",
        },
    }
}

/// The step message, or `default`.
fn message_or(j: &RenderJob<'_>, default: &str) -> String {
    if j.state.message.trim().is_empty() {
        default.to_string()
    } else {
        j.state.message.clone()
    }
}

fn instance(j: &RenderJob<'_>) -> String {
    j.job
        .instance_id
        .clone()
        .unwrap_or_else(|| "database-1".into())
}

/// One `<ExportTask>`.
pub fn export_task(j: &RenderJob<'_>) -> String {
    let d = &j.job.detail;
    let status = status("export-task", j.state.phase);
    let source = d
        .source_arn
        .clone()
        .unwrap_or_else(|| format!("arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{}", instance(j)));
    let progress = if status == "COMPLETE" {
        100
    } else {
        j.state.progress
    };
    let mut x = String::from("<ExportTask>");
    x += &el("ExportTaskIdentifier", &j.job.job_id);
    x += &el("SourceArn", &source);
    x += &el("SnapshotTime", &aws_time(j.start));
    if status != "STARTING" {
        x += &el("TaskStartTime", &aws_time(j.start));
    }
    if let Some(end) = j.end {
        x += &el("TaskEndTime", &aws_time(end));
    }
    x += &el(
        "S3Bucket",
        d.s3_bucket.as_deref().unwrap_or("clouddb-exports"),
    );
    x += "<S3Prefix></S3Prefix>";
    x += &el(
        "IamRoleArn",
        &format!("arn:aws:iam::{ACCOUNT}:role/service-role/ExportRole"),
    );
    x += &el(
        "KmsKeyId",
        &format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/abcd0000-7fca-4128-82f2-aabbccddeeff"),
    );
    x += &el("Status", status);
    x += &el("PercentProgress", &progress.to_string());
    x += &el(
        "TotalExtractedDataInGB",
        &(u32::from(progress) / 10).to_string(),
    );
    match status {
        "FAILED" => x += &el("FailureCause", &message_or(j, "The export task failed.")),
        "CANCELED" => {
            x += &el(
                "FailureCause",
                &message_or(j, "The export task was canceled by the user."),
            )
        }
        _ => {}
    }
    if let Some(w) = &d.warning_message {
        x += &el("WarningMessage", w);
    }
    x += &el("SourceType", "SNAPSHOT");
    x += "</ExportTask>";
    x
}

/// One `<DBSnapshot>` (`cluster` false) or `<DBClusterSnapshot>`.
pub fn snapshot(j: &RenderJob<'_>, cluster: bool) -> String {
    let d = &j.job.detail;
    let api = if cluster {
        "cluster-snapshot"
    } else {
        "db-snapshot"
    };
    let status = status(api, j.state.phase);
    let progress = if status == "available" {
        100
    } else {
        j.state.progress
    };
    let snapshot_type = d.snapshot_type.as_deref().unwrap_or("manual");
    let mut x = String::new();
    if cluster {
        x += "<DBClusterSnapshot>";
        x += &format!(
            "<AvailabilityZones>{}{}</AvailabilityZones>",
            el("AvailabilityZone", "us-east-1a"),
            el("AvailabilityZone", "us-east-1b")
        );
        x += &el("DBClusterSnapshotIdentifier", &j.job.job_id);
        x += &el("DBClusterIdentifier", &instance(j));
        x += &el("SnapshotCreateTime", &aws_time(j.start));
        x += &el("Engine", d.engine.as_deref().unwrap_or("aurora-mysql"));
        x += "<AllocatedStorage>0</AllocatedStorage>";
        x += &el("Status", status);
        x += "<Port>0</Port>";
        x += &el("SnapshotType", snapshot_type);
        x += &el("PercentProgress", &progress.to_string());
        x += "<StorageEncrypted>true</StorageEncrypted>";
        x += &el(
            "DBClusterSnapshotArn",
            &format!(
                "arn:aws:rds:{REGION}:{ACCOUNT}:cluster-snapshot:{}",
                j.job.job_id
            ),
        );
        x += "</DBClusterSnapshot>";
    } else {
        x += "<DBSnapshot>";
        x += &el("DBSnapshotIdentifier", &j.job.job_id);
        x += &el("DBInstanceIdentifier", &instance(j));
        x += &el("SnapshotCreateTime", &aws_time(j.start));
        x += &el("Engine", d.engine.as_deref().unwrap_or("mysql"));
        x += "<AllocatedStorage>20</AllocatedStorage>";
        x += &el("Status", status);
        x += "<Port>3306</Port>";
        x += &el("AvailabilityZone", "us-east-1a");
        x += &el("SnapshotType", snapshot_type);
        x += &el("PercentProgress", &progress.to_string());
        x += "<Encrypted>false</Encrypted>";
        x += &el(
            "DBSnapshotArn",
            &format!("arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{}", j.job.job_id),
        );
        x += "</DBSnapshot>";
    }
    x
}

/// The `Tasks[]` statuses: the completed share follows the step's progress while the green
/// environment is provisioned (the task after the completed ones is the one in progress,
/// or the failed one), and every task is done once it is ready.
pub fn task_statuses(deployment_status: &str, progress: u8) -> [&'static str; 4] {
    let n = BLUE_GREEN_TASKS.len();
    let done = (usize::from(progress.min(100)) * n / 100).min(n);
    let current = match deployment_status {
        "PROVISIONING" => "IN_PROGRESS",
        "INVALID_CONFIGURATION" => "FAILED",
        _ => return ["COMPLETED"; 4],
    };
    let mut out = ["PENDING"; 4];
    for (i, slot) in out.iter_mut().enumerate() {
        if i < done {
            *slot = "COMPLETED";
        } else if i == done {
            *slot = current;
        }
    }
    out
}

/// One `<member>` of `<BlueGreenDeployments>`. A completed switchover renames the blue
/// databases `-old1` and gives the green ones the original names, as RDS does.
pub fn blue_green(j: &RenderJob<'_>) -> String {
    let d = &j.job.detail;
    let api = j.job.api();
    let status = status(api, j.state.phase);
    let name = instance(j);
    let arn = |db: &str| format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:{db}");
    let switched = status == "SWITCHOVER_COMPLETED";
    let databases: Vec<String> = std::iter::once(name.clone())
        .chain(d.instance_ids.iter().cloned())
        .collect();
    let pair = |db: &str, i: usize| -> (String, String) {
        let green = format!("{db}-green-{}", green_suffix(&j.job.job_id, i));
        if switched {
            (arn(&format!("{db}-old1")), arn(db))
        } else {
            (arn(db), arn(&green))
        }
    };
    let (default_source, default_target) = pair(&name, 0);
    let source = d.source_arn.clone().unwrap_or(default_source);
    let target = d.target_arn.clone().unwrap_or(default_target);
    let n = databases.len();
    let switched_members = usize::from(j.state.progress.min(100)) * n / 100;
    let member_status = |i: usize| match status {
        "SWITCHOVER_IN_PROGRESS" if i < switched_members => "SWITCHOVER_COMPLETED",
        "INVALID_CONFIGURATION" => "PROVISIONING",
        "DELETING" => "AVAILABLE",
        other => other,
    };
    let members: String = databases
        .iter()
        .enumerate()
        .map(|(i, db)| {
            let (s, t) = pair(db, i);
            format!(
                "<member>{}{}{}</member>",
                el("SourceMember", &s),
                el("TargetMember", &t),
                el("Status", member_status(i))
            )
        })
        .collect();
    // A switchover job's green environment was ready before the job started.
    let task_progress = if api == "blue-green-switchover" && status != "PROVISIONING" {
        100
    } else {
        j.state.progress
    };
    let tasks: String = BLUE_GREEN_TASKS
        .iter()
        .zip(task_statuses(status, task_progress))
        .map(|(name, s)| format!("<member>{}{}</member>", el("Name", name), el("Status", s)))
        .collect();
    let details = match status {
        "INVALID_CONFIGURATION" => Some(message_or(
            j,
            "The source database is not configured for logical replication.",
        )),
        "SWITCHOVER_FAILED" => Some(message_or(
            j,
            "Switchover timed out; the changes were rolled back.",
        )),
        _ => Some(j.state.message.clone()).filter(|m| !m.trim().is_empty()),
    };
    let mut x = String::from("<member>");
    x += &el("BlueGreenDeploymentIdentifier", &j.job.job_id);
    x += &el(
        "BlueGreenDeploymentName",
        j.job.name.as_deref().unwrap_or("clouddb-blue-green"),
    );
    x += &el("Source", &source);
    x += &el("Target", &target);
    x += &format!("<SwitchoverDetails>{members}</SwitchoverDetails>");
    x += &format!("<Tasks>{tasks}</Tasks>");
    x += &el("Status", status);
    if let Some(details) = details {
        x += &el("StatusDetails", &details);
    }
    x += &el("CreateTime", &aws_time(j.start));
    if let (Some(end), "DELETING") = (j.end, status) {
        x += &el("DeleteTime", &aws_time(end));
    }
    x += "<TagList/>";
    x += "</member>";
    x
}

/// A stable six-letter suffix for a green database, like RDS's `-green-rkfbpe`.
fn green_suffix(job_id: &str, i: usize) -> String {
    let mut h: u64 = 1469598103934665603;
    for b in job_id.bytes().chain(std::iter::once(i as u8)) {
        h = (h ^ u64::from(b)).wrapping_mul(1099511628211);
    }
    (0..6)
        .map(|k| char::from(b'a' + ((h >> (k * 5)) % 26) as u8))
        .collect()
}

/// The whole response: `<{Action}Response><{Action}Result>{result}</..><ResponseMetadata>`.
pub fn response(action: &str, result: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NAMESPACE}\">\n  <{action}Result>\n    {result}\n  </{action}Result>\n  <ResponseMetadata>\n    {}\n  </ResponseMetadata>\n</{action}Response>\n",
        el("RequestId", request_id)
    )
}

/// The list element of a describe result, with its items (`<ExportTasks/>` when empty).
pub fn list(action: &str, items: &[String]) -> String {
    let outer = match action {
        "DescribeDBSnapshots" => "DBSnapshots",
        "DescribeDBClusterSnapshots" => "DBClusterSnapshots",
        "DescribeBlueGreenDeployments" => "BlueGreenDeployments",
        _ => "ExportTasks",
    };
    if items.is_empty() {
        format!("<{outer}/>")
    } else {
        format!("<{outer}>{}</{outer}>", items.concat())
    }
}

/// The STS `AssumeRoleWithWebIdentity` answer (STS's own namespace), `expires` in Unix
/// seconds; `subject` is `<role>:<token subject>`.
pub fn assume_role_with_web_identity(
    key: &crate::auth::TemporaryKey,
    expires: i64,
    role: &str,
    subject: &str,
    request_id: &str,
) -> String {
    let expiration = Timestamp::from_second(expires)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let sub = subject.rsplit_once(':').map_or(subject, |(_, s)| s);
    let role_name = role.rsplit('/').next().unwrap_or(role);
    format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <AssumeRoleWithWebIdentityResult>\n    {}\n    {}\n    <AssumedRoleUser>{}{}</AssumedRoleUser>\n    <Credentials>{}{}{}{}</Credentials>\n  </AssumeRoleWithWebIdentityResult>\n  <ResponseMetadata>{}</ResponseMetadata>\n</AssumeRoleWithWebIdentityResponse>\n",
        el("SubjectFromWebIdentityToken", sub),
        el("Audience", "sts.amazonaws.com"),
        el("Arn", &format!("arn:aws:sts::123456789012:assumed-role/{role_name}/clouddb")),
        el("AssumedRoleId", "AROASIMULATOR00000000:clouddb"),
        el("SessionToken", &key.token),
        el("SecretAccessKey", &key.secret),
        el("Expiration", &expiration),
        el("AccessKeyId", &key.id),
        el("RequestId", request_id)
    )
}

/// The error body: `Sender` faults for 4xx, `Receiver` for 5xx.
pub fn error(status: u16, code: &str, message: &str, request_id: &str) -> String {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    {}\n    {}\n    {}\n  </Error>\n  {}\n</ErrorResponse>\n",
        el("Type", kind),
        el("Code", code),
        el("Message", message),
        el("RequestId", request_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_the_client_parser() {
        let t: Timestamp = "2020-03-02T18:57:56.896Z".parse().unwrap();
        assert_eq!(aws_time(t), "2020-03-02T18:57:56.896Z");
        assert_eq!(
            clouddb_providers::decode::parse_offset_time(&aws_time(t)),
            Some(t)
        );
    }

    #[test]
    fn task_statuses_follow_progress() {
        assert_eq!(
            task_statuses("PROVISIONING", 0),
            ["IN_PROGRESS", "PENDING", "PENDING", "PENDING"]
        );
        assert_eq!(
            task_statuses("PROVISIONING", 60),
            ["COMPLETED", "COMPLETED", "IN_PROGRESS", "PENDING"]
        );
        assert_eq!(
            task_statuses("INVALID_CONFIGURATION", 30),
            ["COMPLETED", "FAILED", "PENDING", "PENDING"]
        );
        assert_eq!(task_statuses("PROVISIONING", 100), ["COMPLETED"; 4]);
        assert_eq!(task_statuses("AVAILABLE", 10), ["COMPLETED"; 4]);
    }

    #[test]
    fn every_phase_has_a_documented_status() {
        use Phase::*;
        let phases = [
            Initial, Waiting, Running, Succeed, Failed, Killed, Removed, Paused,
        ];
        let documented: [(&str, &[&str]); 5] = [
            (
                "export-task",
                &["STARTING", "IN_PROGRESS", "COMPLETE", "FAILED", "CANCELED"],
            ),
            (
                "db-snapshot",
                &["creating", "available", "failed", "deleting", "deleted"],
            ),
            (
                "cluster-snapshot",
                &["creating", "available", "failed", "deleting", "deleted"],
            ),
            (
                "blue-green",
                &[
                    "PROVISIONING",
                    "AVAILABLE",
                    "INVALID_CONFIGURATION",
                    "DELETING",
                ],
            ),
            (
                "blue-green-switchover",
                &[
                    "PROVISIONING",
                    "AVAILABLE",
                    "SWITCHOVER_IN_PROGRESS",
                    "SWITCHOVER_COMPLETED",
                    "SWITCHOVER_FAILED",
                    "DELETING",
                ],
            ),
        ];
        for (api, statuses) in documented {
            for phase in phases {
                assert!(statuses.contains(&status(api, phase)), "{api} {phase:?}");
            }
        }
        assert_eq!(status("blue-green-switchover", Waiting), "AVAILABLE");
        assert_eq!(status("export-task", Killed), "CANCELED");
    }

    #[test]
    fn errors_escape_their_text() {
        let x = error(400, "InvalidParameterValue", "a <b> & c", "r1");
        assert!(x.contains("<Message>a &lt;b&gt; &amp; c</Message>"), "{x}");
        assert!(x.contains("<Type>Sender</Type>"));
        assert!(error(503, "ServiceUnavailable", "x", "r").contains("<Type>Receiver</Type>"));
    }
}

#[cfg(test)]
#[path = "aws_tests.rs"]
mod round_trip;
