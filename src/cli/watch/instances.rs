//! How `watch` (and `demo`) show a CloudDbInstance: which instance, whether it is idle and
//! ready, its active jobs and the maintenance its provider announced; as a line for people
//! or a document for scripts. Pure: no I/O, so every rendering is a unit test.

use kube::ResourceExt;
use serde::Serialize;

use super::state::Watched;
use crate::api::{default_instance_api, CloudDbInstance, CloudDbInstanceStatus, IDLE_CONDITION};
use crate::cli::output::{columns, short, OutputFormat};

/// Which instance a line or document describes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceIdentity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub provider: String,
    pub api: String,
    pub instance_id: String,
}

impl InstanceIdentity {
    /// The instance a CloudDbInstance names (`api` defaulted per provider, as the
    /// controller does).
    pub fn of_object(instance: &CloudDbInstance) -> Self {
        let spec = &instance.spec;
        InstanceIdentity {
            namespace: instance.namespace(),
            name: Some(instance.name_any()),
            provider: spec.provider.as_str().into(),
            api: spec
                .api
                .clone()
                .unwrap_or_else(|| default_instance_api(spec.provider).as_str().into()),
            instance_id: spec.instance_id.clone(),
        }
    }

    /// `[namespace/]name provider api instance`, in the columns of a job's label so that
    /// instances and jobs line up.
    pub fn label(&self, with_namespace: bool) -> String {
        columns(
            self.namespace.as_deref(),
            self.name.as_deref(),
            with_namespace,
            [&self.provider, &self.api, &self.instance_id],
        )
    }
}

/// What is shown of one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct ShownInstance {
    pub identity: InstanceIdentity,
    pub status: CloudDbInstanceStatus,
}

impl Watched for CloudDbInstance {
    type Shown = ShownInstance;
    fn shown(&self) -> ShownInstance {
        ShownInstance {
            identity: InstanceIdentity::of_object(self),
            status: self.status.clone().unwrap_or_default(),
        }
    }
}

fn condition<'a>(status: &'a CloudDbInstanceStatus, type_: &str) -> Option<&'a str> {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.as_str())
}

/// The instance in one line:
/// `Busy Ready 1 active: 6b9f4b5e-2a1… maintenance Running 40%; maintenance db-upgrade from
/// 2026-12-10T00:00:00Z`, `Idle Ready 0 active`, `Discovering`, or
/// `Stalled [InstanceNotFound]: the provider's message`.
pub fn instance_summary(status: &CloudDbInstanceStatus) -> String {
    let message = status.message.as_deref().filter(|m| !m.is_empty());
    if condition(status, "Stalled") == Some("True") {
        let reason = status.reason.as_deref().unwrap_or("Stalled");
        return match message {
            Some(m) => format!("Stalled [{reason}]: {m}"),
            None => format!("Stalled [{reason}]"),
        };
    }
    let mut line = match condition(status, IDLE_CONDITION) {
        Some("True") => "Idle".to_string(),
        Some("False") => "Busy".to_string(),
        // Not listed yet (or not since an error): nothing is known about the jobs.
        _ => "Discovering".to_string(),
    };
    if condition(status, "Ready") == Some("True") {
        line.push_str(" Ready");
    }
    if status.last_discovery_time.is_some() || !status.active_jobs.is_empty() {
        line.push_str(&format!(" {} active", status.active_jobs.len()));
    }
    let jobs: Vec<String> = status
        .active_jobs
        .iter()
        .map(|j| {
            let mut job = short(&j.job_id);
            if let Some(t) = &j.job_type {
                job.push_str(&format!(" {t}"));
            }
            job.push_str(&format!(" {}", j.phase));
            if let Some(p) = j.progress {
                job.push_str(&format!(" {p}%"));
            }
            job
        })
        .collect();
    if !jobs.is_empty() {
        line.push_str(&format!(": {}", jobs.join(", ")));
    }
    for m in &status.upcoming_maintenance {
        line.push_str(&format!("; maintenance {}", m.action));
        if let Some(at) = &m.not_before {
            line.push_str(&format!(" from {}", at.0));
        }
        if let Some(at) = &m.forced_after {
            line.push_str(&format!(" (forced after {})", at.0));
        }
    }
    if condition(status, "Reconciling") == Some("True")
        && status.consecutive_errors.is_some_and(|n| n > 0)
    {
        let errors = status.consecutive_errors.unwrap_or(1);
        let plural = if errors == 1 { "" } else { "s" };
        let reason = status.reason.as_deref().unwrap_or("ProviderError");
        line.push_str(&format!(" ({reason}, retrying: {errors} error{plural})"));
        if let Some(m) = message {
            line.push_str(&format!(": {m}"));
        }
    }
    line
}

/// One document of `--output json|yaml` for an instance: `instance`, then the status
/// fields at the top level, as a job's document has `job` and its status.
#[derive(Serialize)]
struct Document<'a> {
    instance: &'a InstanceIdentity,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
    #[serde(flatten)]
    status: &'a CloudDbInstanceStatus,
}

/// An instance's document (`deleted`: the object is gone, the status is its last one); for
/// text, its summary line.
pub fn render_instance(shown: &ShownInstance, deleted: bool, format: OutputFormat) -> String {
    let doc = Document {
        instance: &shown.identity,
        deleted,
        status: &shown.status,
    };
    match format {
        OutputFormat::Json => {
            serde_json::to_string(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")) + "\n"
        }
        OutputFormat::Yaml => format!(
            "---\n{}",
            serde_norway::to_string(&doc).unwrap_or_else(|e| format!("error: {e}\n"))
        ),
        OutputFormat::Text if deleted => "deleted\n".into(),
        OutputFormat::Text => instance_summary(&shown.status) + "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ActiveJob, CloudDbInstanceSpec, JobPhase, MaintenanceWindow};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

    fn at(text: &str) -> Time {
        Time(text.parse().unwrap())
    }

    fn cond(type_: &str, status: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status: status.into(),
            reason: "R".into(),
            message: String::new(),
            observed_generation: Some(1),
            last_transition_time: at("2026-01-01T00:00:00Z"),
        }
    }

    fn status(conditions: &[(&str, &str)]) -> CloudDbInstanceStatus {
        CloudDbInstanceStatus {
            observed_generation: Some(1),
            last_discovery_time: Some(at("2026-01-01T00:00:00Z")),
            conditions: conditions.iter().map(|(t, s)| cond(t, s)).collect(),
            ..Default::default()
        }
    }

    fn shown(status: CloudDbInstanceStatus) -> ShownInstance {
        let spec: CloudDbInstanceSpec = serde_json::from_value(serde_json::json!({
            "provider": "aws", "instanceId": "orders-db", "region": "us-east-1",
            "credentialsSecretRef": {"name": "aws"}
        }))
        .unwrap();
        let mut instance = CloudDbInstance::new("orders", spec);
        instance.metadata.namespace = Some("db".into());
        instance.status = Some(status);
        instance.shown()
    }

    #[test]
    fn idle_busy_discovering_and_stalled_read_at_a_glance() {
        let idle = status(&[
            ("Ready", "True"),
            ("Reconciling", "False"),
            ("Idle", "True"),
        ]);
        assert_eq!(instance_summary(&idle), "Idle Ready 0 active");

        let mut busy = status(&[
            ("Ready", "True"),
            ("Reconciling", "True"),
            ("Idle", "False"),
        ]);
        busy.active_jobs = vec![
            ActiveJob {
                name: Some("orders-6b9f-x".into()),
                job_id: "6b9f4b5e-2a1d-4c7e-9f0a-1d2c3b4a5f60".into(),
                job_type: Some("maintenance".into()),
                phase: JobPhase::Running,
                progress: Some(40),
            },
            ActiveJob {
                name: None,
                job_id: "1002".into(),
                job_type: None,
                phase: JobPhase::Pending,
                progress: None,
            },
        ];
        busy.upcoming_maintenance = vec![MaintenanceWindow {
            action: "db-upgrade".into(),
            description: None,
            not_before: Some(at("2026-12-10T00:00:00Z")),
            forced_after: Some(at("2026-12-31T00:00:00Z")),
        }];
        assert_eq!(
            instance_summary(&busy),
            "Busy Ready 2 active: 6b9f4b5e-2a1… maintenance Running 40%, 1002 Pending; \
             maintenance db-upgrade from 2026-12-10T00:00:00Z (forced after 2026-12-31T00:00:00Z)"
        );

        // The CRD's default status: nothing listed yet.
        let new = CloudDbInstanceStatus {
            observed_generation: Some(0),
            ..Default::default()
        };
        assert_eq!(instance_summary(&new), "Discovering");

        let mut retrying = status(&[
            ("Ready", "Unknown"),
            ("Reconciling", "True"),
            ("Idle", "Unknown"),
        ]);
        retrying.last_discovery_time = None;
        retrying.reason = Some("Throttled".into());
        retrying.consecutive_errors = Some(2);
        retrying.message = Some("rate limit exceeded".into());
        assert_eq!(
            instance_summary(&retrying),
            "Discovering (Throttled, retrying: 2 errors): rate limit exceeded"
        );

        let mut stalled = status(&[("Ready", "False"), ("Stalled", "True"), ("Idle", "Unknown")]);
        stalled.reason = Some("InstanceNotFound".into());
        stalled.message = Some("DBInstance orders-db not found.".into());
        assert_eq!(
            instance_summary(&stalled),
            "Stalled [InstanceNotFound]: DBInstance orders-db not found."
        );
    }

    #[test]
    fn documents_name_the_instance_and_carry_the_status_fields() {
        let mut s = status(&[("Ready", "True"), ("Idle", "True")]);
        s.active_job_count = Some(0);
        let shown = shown(s);
        assert_eq!(shown.identity.api, "db-snapshot", "the instance default");
        let doc: serde_json::Value =
            serde_json::from_str(&render_instance(&shown, false, OutputFormat::Json)).unwrap();
        assert_eq!(
            doc["instance"],
            serde_json::json!({"namespace": "db", "name": "orders", "provider": "aws",
                               "api": "db-snapshot", "instanceId": "orders-db"})
        );
        assert_eq!(doc["activeJobCount"], 0);
        assert_eq!(doc["conditions"][1]["type"], "Idle");
        assert!(doc.get("deleted").is_none());
        let gone: serde_json::Value =
            serde_json::from_str(&render_instance(&shown, true, OutputFormat::Json)).unwrap();
        assert_eq!(gone["deleted"], true);
        let yaml = render_instance(&shown, false, OutputFormat::Yaml);
        assert!(yaml.starts_with("---\ninstance:\n"), "{yaml}");
        assert_eq!(
            render_instance(&shown, false, OutputFormat::Text),
            "Idle Ready 0 active\n"
        );
        assert_eq!(
            shown.identity.label(true),
            format!(
                "{:<32} {:<14} {:<24} {:<13}",
                "db/orders", "aws", "db-snapshot", "orders-db"
            )
        );
    }
}
