//! `CloudDbInstance` (issue 30): one database instance whose jobs are discovered, each then
//! tracked by a CloudDbJob the controller creates. The provider, region, project, endpoint
//! and credential fields mean exactly what they mean on a CloudDbJob, with the same
//! admission rules, so that a discovered job's CloudDbJob is valid by construction.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::{CredentialsSecretRef, JobPhase, ProviderApi, ProviderKind, WorkloadIdentity};

/// How often an instance is listed when `spec.pollInterval` is not set: a listing is one
/// (paged) call per instance, and the CloudDbJobs it creates poll their jobs faster.
pub const DEFAULT_INSTANCE_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// `spec.discover.window` when not set.
pub const DEFAULT_DISCOVERY_WINDOW: &str = "24h";

/// The label on every CloudDbJob created for an instance; its value is the instance's name.
/// The controller lists (and only ever considers) CloudDbJobs carrying it.
pub const INSTANCE_LABEL: &str = "clouddb.io/instance";

/// The condition an instance has besides `Ready`, `Reconciling` and `Stalled`.
pub const IDLE_CONDITION: &str = "Idle";

/// Which database instance's jobs to discover, and how to track them. `provider`, `api`
/// and `instanceId` are immutable.
// kube-derive takes repeated `printcolumn` keys by design.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "clouddb.io",
    version = "v1alpha1",
    kind = "CloudDbInstance",
    plural = "clouddbinstances",
    singular = "clouddbinstance",
    shortname = "cdbinst",
    category = "clouddb",
    namespaced,
    status = "CloudDbInstanceStatus",
    doc = "CloudDbInstance discovers the jobs running on one cloud database instance, tracks each with a CloudDbJob, and says when the instance is idle.",
    printcolumn(name = "Provider", type_ = "string", json_path = ".spec.provider"),
    printcolumn(name = "Instance", type_ = "string", json_path = ".spec.instanceId"),
    printcolumn(
        name = "Active",
        type_ = "integer",
        json_path = ".status.activeJobCount",
        description = "Discovered jobs that are Pending or Running"
    ),
    printcolumn(
        name = "Idle",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Idle\")].status"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.reason",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    cel
)]
#[x_kube(
    validation = Rule::new("self.provider != 'tencent-legacy'").message("provider tencent-legacy (CDB API 2.0) has no call that lists an instance's jobs; use provider tencent (API 3.0 DescribeTasks by InstanceId)").field_path(".provider"),
    validation = Rule::new("self.provider != 'azure'").message("provider azure cannot list an instance's jobs (Azure Resource Manager has no list of a server's async operations); track each operation with a CloudDbJob").field_path(".provider"),
    validation = Rule::new("self.provider != 'tencent' || !has(self.api) || self.api == 'DescribeTasks'").message("for provider tencent, api must be DescribeTasks (DescribeAsyncRequestInfo cannot list)").field_path(".api"),
    validation = Rule::new("self.provider != 'huawei' || !has(self.api) || self.api == 'rds'").message("for provider huawei, api must be rds (TaurusDB has no call that lists an instance's jobs)").field_path(".api"),
    validation = Rule::new("self.provider != 'alibaba' || !has(self.api) || self.api in ['rds', 'polardb']").message("for provider alibaba, api must be rds or polardb").field_path(".api"),
    validation = Rule::new("self.provider != 'aws' || !has(self.api) || self.api == 'db-snapshot'").message("for provider aws, api must be db-snapshot (a DB instance: its snapshots, blue/green deployments and pending maintenance; Aurora clusters are not listed yet)").field_path(".api"),
    validation = Rule::new("self.provider != 'gcp' || !has(self.api) || self.api == 'cloudsql'").message("for provider gcp, api must be cloudsql").field_path(".api"),
    validation = Rule::new("!(self.provider in ['huawei', 'gcp']) || (has(self.projectId) && self.projectId != '')").message("projectId is required for providers huawei and gcp").field_path(".projectId"),
    validation = Rule::new("self.provider == 'azure' || !has(self.subscriptionId)").message("subscriptionId applies to provider azure only").field_path(".subscriptionId"),
    validation = Rule::new("self.provider in ['huawei', 'gcp'] || has(self.region)").message("region is required for providers tencent, tencent-legacy, alibaba, aws (a signed request parameter) and azure (the operation's location)").field_path(".region"),
    validation = Rule::new("self.provider != 'huawei' || has(self.region) || has(self.endpoint)").message("region is required for provider huawei unless endpoint is set").field_path(".region"),
    validation = Rule::new("has(self.credentialsSecretRef) != has(self.identity)").message("set exactly one of credentialsSecretRef (stored keys) and identity (workload identity)").field_path(".credentialsSecretRef"),
    validation = Rule::new("!has(self.identity) || self.provider in ['aws', 'alibaba', 'huawei', 'tencent', 'azure', 'gcp']").message("identity (workload identity) is supported for providers aws, alibaba, huawei, tencent, azure and gcp; use credentialsSecretRef for tencent-legacy").field_path(".identity"),
    validation = Rule::new("!has(self.identity) || self.provider != 'gcp' || has(self.identity.oidcProvider)").message("identity.oidcProvider is required for provider gcp (the workload identity pool provider, projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>)").field_path(".identity.oidcProvider"),
    validation = Rule::new("!has(self.identity) || self.provider != 'tencent' || (has(self.identity.roleArn) && has(self.identity.oidcProvider))").message("identity.roleArn and identity.oidcProvider are required for provider tencent (the CAM role and the identity provider's ProviderId for AssumeRoleWithWebIdentity)").field_path(".identity"),
    validation = Rule::new("!has(self.identity) || self.provider != 'huawei' || (has(self.identity.oidcProvider) && has(self.identity.audience))").message("identity.oidcProvider and identity.audience are required for provider huawei (the IAM identity provider ID and its client ID)").field_path(".identity"),
    validation = Rule::new("!has(self.identity) || self.provider != 'alibaba' || (has(self.identity.roleArn) && has(self.identity.oidcProvider))").message("identity.roleArn and identity.oidcProvider are required for provider alibaba (the RAM role and the RRSA OIDC provider ARN for AssumeRoleWithOIDC)").field_path(".identity"),
    validation = Rule::new("!has(self.identity) || self.provider != 'aws' || has(self.identity.roleArn)").message("identity.roleArn is required for provider aws (the IAM role to assume with AssumeRoleWithWebIdentity)").field_path(".identity.roleArn"),
    validation = Rule::new("self.provider == oldSelf.provider").message("provider is immutable; create a new CloudDbInstance for another instance").field_path(".provider"),
    validation = Rule::new("has(self.api) == has(oldSelf.api) && (!has(self.api) || self.api == oldSelf.api)").message("api is immutable; create a new CloudDbInstance for another instance").field_path(".api"),
    validation = Rule::new("self.instanceId == oldSelf.instanceId").message("instanceId is immutable; create a new CloudDbInstance for another instance").field_path(".instanceId"),
)]
#[serde(rename_all = "camelCase")]
pub struct CloudDbInstanceSpec {
    /// Cloud provider of the instance: `tencent` (API 3.0 `DescribeTasks` by `InstanceId`),
    /// `huawei`, `alibaba` (`DescribeHistoryTasks` by `InstanceId`), `aws` or `gcp`
    /// (`operations.list` by instance). `tencent-legacy` and `azure` have no call that
    /// lists an instance's jobs and are refused.
    pub provider: ProviderKind,

    /// The instance's API family. tencent: `DescribeTasks` (default); huawei: `rds`
    /// (default; TaurusDB cannot list); alibaba: `rds` (default) or `polardb`; aws:
    /// `db-snapshot` (a DB instance: its snapshots, blue/green deployments and pending
    /// maintenance; default); gcp: `cloudsql` (default). A discovered job's CloudDbJob gets
    /// the API that tracks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = [
        "DescribeTasks", "rds", "polardb", "db-snapshot", "cloudsql"
    ]))]
    pub api: Option<String>,

    /// The provider's instance (or cluster) identifier, e.g. `cdb-c1nl9rpv`, `rm-bp1...`,
    /// `orders-db` or a Cloud SQL instance name.
    #[schemars(
        length(min = 1, max = 128),
        regex(pattern = crate::patterns::PROVIDER_ID)
    )]
    pub instance_id: String,

    /// Provider region, as on a CloudDbJob. Required except for Huawei with an `endpoint`
    /// and for Google Cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = crate::patterns::REGION))]
    pub region: Option<String>,

    /// Huawei Cloud project ID or Google Cloud project (required for `huawei` and `gcp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = crate::patterns::PROJECT_ID))]
    pub project_id: Option<String>,

    /// Azure subscription (kept for symmetry with CloudDbJob; Azure cannot list yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = crate::patterns::SUBSCRIPTION_ID
    ))]
    pub subscription_id: Option<String>,

    /// Overrides the provider endpoint, with the same rules as a CloudDbJob's (signed
    /// requests go only to provider hosts and the `--allowed-endpoints` list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 2048),
        regex(
            pattern = crate::patterns::ENDPOINT
        )
    )]
    pub endpoint: Option<String>,

    /// Secret in this namespace holding the provider credentials; the CloudDbJobs created
    /// for the instance use the same. Exactly one of `credentialsSecretRef` and `identity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<CredentialsSecretRef>,

    /// Workload identity instead of stored keys; the CloudDbJobs created for the instance
    /// use the same. Exactly one of `credentialsSecretRef` and `identity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<WorkloadIdentity>,

    /// How often to list the instance's jobs, as a duration such as `60s`. Default `60s`,
    /// minimum `1s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = crate::patterns::DURATION))]
    #[x_kube(validation = Rule::new("duration(self) >= duration('1s')").message("pollInterval must be at least 1s"))]
    pub poll_interval: Option<String>,

    /// Which jobs to discover and how far back.
    #[serde(default)]
    pub discover: DiscoverSpec,

    /// What the CloudDbJobs created for discovered jobs get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_template: Option<JobTemplate>,
}

/// Which jobs to discover.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverSpec {
    /// Normalized job types to discover (as a CloudDbJob's `status.jobType`: `upgrade`,
    /// `backup`, `maintenance`, ...). Empty: every type. Jobs of other types neither get a
    /// CloudDbJob nor count for `Idle`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(regex(pattern = r"^[a-z][a-z0-9-]*$")))]
    pub types: Vec<String>,

    /// How far back to look, as a duration such as `24h` (default). A window longer than
    /// the provider's history is clamped, and `status.windowClamped` says so.
    #[serde(default = "default_window")]
    #[schemars(regex(pattern = crate::patterns::DURATION))]
    #[x_kube(validation = Rule::new("duration(self) >= duration('1m')").message("discover.window must be at least 1m"))]
    pub window: String,

    /// Whether jobs already finished when first discovered get a CloudDbJob too (default
    /// true). False: only jobs seen Pending or Running are tracked.
    #[serde(default = "default_true")]
    pub record_finished: bool,
}

impl Default for DiscoverSpec {
    fn default() -> Self {
        DiscoverSpec {
            types: Vec::new(),
            window: default_window(),
            record_finished: true,
        }
    }
}

fn default_window() -> String {
    DEFAULT_DISCOVERY_WINDOW.to_string()
}

fn default_true() -> bool {
    true
}

/// Fields copied into every CloudDbJob created for the instance.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobTemplate {
    /// Labels added to each CloudDbJob (the `clouddb.io/instance` label is always set).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations added to each CloudDbJob.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The CloudDbJobs' `spec.pollInterval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = crate::patterns::DURATION))]
    #[x_kube(validation = Rule::new("duration(self) >= duration('1s')").message("jobTemplate.pollInterval must be at least 1s"))]
    pub poll_interval: Option<String>,
    /// The CloudDbJobs' `spec.ttlSecondsAfterFinished`. A job deleted by its TTL is not
    /// created again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 31536000))]
    pub ttl_seconds_after_finished: Option<i64>,
    /// The CloudDbJobs' `spec.suspend`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

impl CloudDbInstanceSpec {
    /// The API family listed: `spec.api`, or the provider's instance default. `None` for
    /// a name this provider does not have (admission refuses it first).
    pub fn listed_api(&self) -> Option<ProviderApi> {
        match &self.api {
            Some(name) => ProviderApi::parse(self.provider, name),
            None => Some(default_instance_api(self.provider)),
        }
    }
}

/// The API family listed when `spec.api` is not set (for AWS a DB instance's, not the
/// job default `export-task`).
pub fn default_instance_api(provider: ProviderKind) -> ProviderApi {
    match provider {
        ProviderKind::Aws => ProviderApi::DbSnapshot,
        other => ProviderApi::default_for(other),
    }
}

/// Observed state of the instance's jobs, written only by the controller and only when it
/// changed. Defaults to `observedGeneration: 0` for the same reason as CloudDbJob's: health
/// checks wait until a controller has looked.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": 0}))]
pub struct CloudDbInstanceStatus {
    /// `metadata.generation` this status describes (0 until first written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Discovered jobs that are Pending or Running, as the last listing saw them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active_jobs: Vec<ActiveJob>,

    /// How many entries `activeJobs` has (for `kubectl get`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_job_count: Option<i32>,

    /// Every job ID a CloudDbJob was created for, while the provider may still list it:
    /// a CloudDbJob deleted by a user or its TTL is never created again. Entries older than
    /// the window are dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovered_job_ids: Vec<DiscoveredJobId>,

    /// When the provider was last listed successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_discovery_time: Option<Time>,

    /// Maintenance the provider announces ahead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upcoming_maintenance: Vec<MaintenanceWindow>,

    /// Set when `discover.window` exceeds the provider's history: why and from when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_clamped: Option<String>,

    /// CamelCase reason of the current state, e.g. `Discovered`, `ProviderError`,
    /// `InstanceNotFound`, `AuthenticationFailed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,

    /// Human-readable detail: the provider's message on error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// Listings that failed in a row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_errors: Option<i32>,

    /// `Ready` (discovery works), `Reconciling`, `Stalled` (needs a human) and `Idle`
    /// (True when no discovered job is Pending or Running).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

/// A discovered job that is Pending or Running.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveJob {
    /// The CloudDbJob tracking it (absent when none exists, e.g. it was deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub job_id: String,
    /// Normalized job type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    pub phase: JobPhase,
    /// Percent complete, 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub progress: Option<i32>,
}

/// One job ID a CloudDbJob was created for.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredJobId {
    pub job_id: String,
    /// The job's start time, or when it was first discovered if the provider gave none;
    /// the entry is dropped once this is older than the window.
    pub since: Time,
}

/// Maintenance the provider announced.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceWindow {
    /// The provider's name for it (e.g. `system-update`, `db-upgrade`).
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Earliest start, if the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Time>,
    /// When it is applied without asking, if the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_after: Option<Time>,
}
