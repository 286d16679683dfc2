//! The scenario model: which jobs the simulator knows, how each one evolves over time
//! (a timeline of steps), the provider-specific detail its responses carry, and per-job
//! faults. Scenarios are YAML files (see `docs/simulator.md`); the built-ins cover every job
//! type in the provider documents.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::faults::FaultRule;
use clouddb_api::ProviderKind;

/// Built-in scenario: every job type of the provider documents, in the real response shape.
pub const BUILTIN_YAML: &str = include_str!("scenarios/builtin.yaml");
/// Built-in scenario: a few Tencent DescribeTasks jobs in the seed document's shape.
pub const BUILTIN_SEED_SHAPE_YAML: &str = include_str!("scenarios/builtin-seed-shape.yaml");

/// One scenario file: a named set of jobs with shared defaults.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Default response shape for this scenario's jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    /// Default clock start for this scenario's jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockStart>,
    pub jobs: Vec<JobSpec>,
    /// Maintenance announced ahead per instance (see [`crate::maintenance`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintenance: Vec<crate::maintenance::MaintenanceSpec>,
}

/// Which item shape Tencent `DescribeTasks` uses.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// What the live API returns (`TaskStatus`/`TaskType` strings, `InstanceIds`, ...).
    #[default]
    Real,
    /// The seed document's example (`Status`/`Type` integers, `Data[]` with `Before`/`After`).
    Seed,
}

/// When a job's clock starts.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ClockStart {
    /// When the simulator starts (or is reset).
    #[default]
    Start,
    /// At the first request that concerns the job.
    FirstRequest,
    /// When the job is added: at start for configured jobs, at `POST /_sim/jobs` for jobs
    /// added while running. With a first step `after: 30s`, a job added mid-run appears on
    /// its instance's listings 30 s later by itself, as the cloud's own maintenance does.
    Added,
}

/// One simulated job.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobSpec {
    pub provider: ProviderKind,
    /// The API that serves the job; defaults to the provider's default API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// Task ID (integer for Tencent tasks, the AsyncRequestId for DescribeAsyncRequestInfo,
    /// a UUID for Huawei).
    pub job_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_request_id: Option<String>,
    /// Huawei project ID; when set, requests for another project do not see the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: TaskKind,
    /// Huawei job name / API 2.0 `functionName` / Alibaba `TaskType`; derived from `type`
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockStart>,
    pub timeline: Vec<Step>,
    #[serde(default)]
    pub detail: Detail,
    /// Faults that apply to requests about this job.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultRule>,
}

impl JobSpec {
    /// The API name, defaulted from the provider.
    pub fn api(&self) -> &str {
        self.api.as_deref().unwrap_or(self.provider.default_api())
    }

    /// The id `DescribeAsyncRequestInfo` finds this job by, if any.
    pub fn async_id(&self) -> Option<&str> {
        match self.async_request_id.as_deref() {
            Some(id) => Some(id),
            None if self.api() == "DescribeAsyncRequestInfo" => Some(&self.job_id),
            None => None,
        }
    }

    /// The Huawei job name or API 2.0 function name.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| match self.provider {
            ProviderKind::Huawei => self.kind.huawei_name().to_string(),
            _ => self.kind.function_name().to_string(),
        })
    }

    /// Checks what serde cannot: the API belongs to the provider, ids are well formed, the
    /// timeline is non-empty and ordered.
    pub fn validate(&self) -> Result<(), String> {
        let api = self.api();
        if !self.provider.apis().contains(&api) {
            return Err(format!(
                "job {:?}: api {api:?} does not belong to provider {}",
                self.job_id, self.provider
            ));
        }
        if self.job_id.trim().is_empty() {
            return Err("a job has an empty jobId".into());
        }
        let numeric = clouddb_api::ProviderApi::parse(self.provider, api)
            .is_some_and(clouddb_api::ProviderApi::takes_integer_job_id);
        if numeric && self.job_id.parse::<u64>().is_err() {
            return Err(format!(
                "job {:?}: {api} task IDs are integers",
                self.job_id
            ));
        }
        if self.timeline.is_empty() {
            return Err(format!("job {:?}: timeline is empty", self.job_id));
        }
        if self.timeline.windows(2).any(|w| w[1].after < w[0].after) {
            return Err(format!(
                "job {:?}: timeline steps must be in order of `after`",
                self.job_id
            ));
        }
        for rule in &self.faults {
            rule.validate()
                .map_err(|e| format!("job {:?}: {e}", self.job_id))?;
        }
        Ok(())
    }
}

/// One point on a job's timeline: from `after` on, the job is in this state.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    #[serde(with = "duration_text")]
    pub after: Duration,
    pub status: Phase,
    /// 0-100; when absent, 100 for a success and the previous step's value otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The task's error code (Tencent `Code`); 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
}

/// Provider-neutral job status; each renderer maps it to its provider's values.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Phase {
    #[serde(alias = "PENDING")]
    Initial,
    Waiting,
    Running,
    #[serde(alias = "SUCCESS", alias = "SUCCEEDED", alias = "COMPLETED")]
    Succeed,
    Failed,
    #[serde(alias = "CANCELED", alias = "TERMINATED")]
    Killed,
    Removed,
    Paused,
}

impl Phase {
    /// Whether the job has ended (it gets an end time).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Phase::Succeed | Phase::Failed | Phase::Killed | Phase::Removed
        )
    }
}

/// The task type (Tencent `TaskTypes` numbering), which also names API 2.0 functions and
/// Huawei jobs.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    Rollback,
    Sql,
    Import,
    Param,
    #[default]
    Init,
    Reboot,
    Gtid,
    UpgradeRo,
    BatchRollback,
    UpgradeMaster,
    DropTables,
    SwitchDr,
}

impl TaskKind {
    /// Tencent's integer task type.
    pub fn code(self) -> i64 {
        match self {
            TaskKind::Rollback => 1,
            TaskKind::Sql => 2,
            TaskKind::Import => 3,
            TaskKind::Param => 5,
            TaskKind::Init => 6,
            TaskKind::Reboot => 7,
            TaskKind::Gtid => 8,
            TaskKind::UpgradeRo => 9,
            TaskKind::BatchRollback => 10,
            TaskKind::UpgradeMaster => 11,
            TaskKind::DropTables => 12,
            TaskKind::SwitchDr => 13,
        }
    }

    /// The live API's `TaskType` string.
    pub fn real_name(self) -> &'static str {
        match self {
            TaskKind::Rollback => "ROLLBACK",
            TaskKind::Sql => "SQL OPERATION",
            TaskKind::Import => "IMPORT DATA",
            TaskKind::Param => "MODIFY PARAM",
            TaskKind::Init => "INITIAL",
            TaskKind::Reboot => "REBOOT",
            TaskKind::Gtid => "OPEN GTID",
            TaskKind::UpgradeRo => "UPGRADE RO",
            TaskKind::BatchRollback => "BATCH ROLLBACK",
            TaskKind::UpgradeMaster => "UPGRADE MASTER",
            TaskKind::DropTables => "DROP TABLES",
            TaskKind::SwitchDr => "SWITCH DR TO MASTER",
        }
    }

    /// The API 2.0 `functionName` (GetCdbTaskInfo).
    pub fn function_name(self) -> &'static str {
        match self {
            TaskKind::Import => "import_instance",
            TaskKind::Param => "modify_param",
            TaskKind::Init => "initial_set",
            TaskKind::UpgradeMaster => "upgrade",
            TaskKind::UpgradeRo => "upgrade_ro_group",
            TaskKind::SwitchDr => "dr_to_master",
            _ => "qcloud_apply",
        }
    }

    /// A Huawei job name for this kind of work.
    pub fn huawei_name(self) -> &'static str {
        match self {
            TaskKind::Reboot => "RestartInstance",
            TaskKind::Param => "ApplyParameterGroup",
            TaskKind::UpgradeMaster | TaskKind::UpgradeRo => "ResizeFlavor",
            TaskKind::Rollback | TaskKind::BatchRollback => "RestoreInstance",
            _ => "CreateInstance",
        }
    }
}

/// Type-specific detail rendered into the responses that carry it.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Detail {
    /// Upgrade: instance spec before and after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<InstanceSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<InstanceSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_name: Option<String>,
    /// Upgrade: in-place (`FastUpgradeStatus` 1) or normal (0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_upgrade: Option<bool>,
    /// Rollback: renamed databases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<DatabaseRename>,
    /// Rollback: renamed tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableRename>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Parameter change: the parameters set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterChange>,
    /// Import: the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportFile>,
    /// SQL operation: per-database results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sql_databases: Vec<SqlDatabaseResult>,
    /// Init: the settings applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<InitSettings>,
    /// API 2.0 `uInstanceIds` / extra `InstanceIds`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_ids: Vec<String>,
    /// Huawei `entities` object (free-form, `{}` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entities: Option<serde_json::Value>,
    /// Huawei `fail_reason` for a failed job (defaults to the step message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<String>,
    // Alibaba Cloud (the job's `name` is its `TaskType`).
    /// Alibaba `ReasonCode`: why the task was started (default `user_api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// Alibaba `DbType` (default `mysql` for RDS, `MySQL` for PolarDB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_type: Option<String>,
    // --- AWS ---
    /// AWS: an export's `SourceArn`, a blue/green deployment's `Source` (both derived from
    /// the instance when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<String>,
    /// AWS: a blue/green deployment's `Target` (derived from the source when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    /// AWS: an export's `S3Bucket`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    /// AWS: an export's `WarningMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_message: Option<String>,
    /// AWS: a snapshot's `Engine` (default `mysql`, `aurora-mysql` for clusters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// AWS: a snapshot's `SnapshotType` (default `manual`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_type: Option<String>,
    // --- Azure, Google Cloud SQL ---
    /// The provider's error code of a failed operation; the step message is its message.
    /// Azure: `error.code` (defaults `InternalServerError`, and `OperationCancelled` for a
    /// canceled one); GCP: `error.errors[].code` (default `UNKNOWN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    // --- Google Cloud SQL (the job's `name` is its `operationType`) ---
    /// GCP: the operation's `user` (default the simulator's service account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// An instance spec before or after an upgrade. Zones left out render as `""`, as the
/// provider documents show for `slaveZoneSecond`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstanceSpec {
    pub memory: i64,
    pub volume: i64,
    #[serde(default)]
    pub engine_version: String,
    #[serde(default)]
    pub cdb_type: String,
    #[serde(default)]
    pub protect_mode: String,
    #[serde(default)]
    pub deploy_mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_zone: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slave_zone_first: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slave_zone_second: Option<i64>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatabaseRename {
    pub database: String,
    pub new_database: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TableRename {
    pub database: String,
    pub table: String,
    pub new_table: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParameterChange {
    pub name: String,
    pub old_value: String,
    pub current_value: String,
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportFile {
    pub file_name: String,
    pub file_size: u64,
    pub database: String,
    #[serde(default)]
    pub cost_time: i64,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SqlDatabaseResult {
    pub database: String,
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InitSettings {
    pub character_set: String,
    pub lower_case_table_names: String,
    pub port: i64,
}

impl Scenario {
    /// Parses and validates one scenario file's text.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let scenario: Scenario = serde_norway::from_str(text).map_err(|e| e.to_string())?;
        for job in &scenario.jobs {
            job.validate()?;
        }
        Ok(scenario)
    }

    /// The built-in scenarios (real shape, then seed shape).
    pub fn builtins() -> Result<Vec<Scenario>, String> {
        Ok(vec![
            Scenario::from_yaml(BUILTIN_YAML).map_err(|e| format!("built-in scenario: {e}"))?,
            Scenario::from_yaml(BUILTIN_SEED_SHAPE_YAML)
                .map_err(|e| format!("built-in seed-shape scenario: {e}"))?,
        ])
    }

    /// The jobs with the scenario defaults (shape, clock) applied.
    pub fn resolved_jobs(&self) -> Vec<JobSpec> {
        self.jobs
            .iter()
            .map(|job| {
                let mut job = job.clone();
                job.shape = job.shape.or(self.shape);
                job.clock = job.clock.or(self.clock);
                job
            })
            .collect()
    }
}

/// Serde for durations written as Go-style text (`10s`, `1m30s`).
pub(crate) mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use clouddb_providers::duration::{format_duration, parse_duration};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[path = "scenario_tests.rs"]
mod tests;
