//! `CloudDbJob.spec`: which provider job to track and how.

use std::time::Duration;

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::ProviderKind;

/// How often a job is polled when `spec.pollInterval` is not set.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(15);
/// The floor for `spec.pollInterval`; enforced at admission and again by the controller.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Which provider job to track (an upgrade, rollback, import, restart, parameter change,
/// ...) and how. `provider`, `api` and `jobId` are immutable.
// kube-derive takes repeated `shortname`/`printcolumn` keys by design.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "clouddb.io",
    version = "v1alpha1",
    kind = "CloudDbJob",
    plural = "clouddbjobs",
    singular = "clouddbjob",
    shortname = "cdbjob",
    shortname = "dbjob",
    category = "clouddb",
    namespaced,
    status = "super::CloudDbJobStatus",
    doc = "CloudDbJob tracks one long-running cloud database job and reports its progress in status.",
    printcolumn(name = "Provider", type_ = "string", json_path = ".spec.provider"),
    printcolumn(name = "Job", type_ = "string", json_path = ".spec.jobId"),
    printcolumn(name = "Type", type_ = "string", json_path = ".status.jobType"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Progress",
        type_ = "integer",
        json_path = ".status.progress",
        description = "Percent complete (0-100)"
    ),
    // A string, not a date: kubectl prints a date column as the time since it, and a
    // future time (every useful ETA) as "<invalid>".
    printcolumn(
        name = "ETA",
        type_ = "string",
        json_path = ".status.estimatedCompletionTime",
        description = "Estimated completion time (RFC 3339, UTC)",
        priority = 1
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
    validation = Rule::new("self.provider != 'tencent' || !has(self.api) || self.api in ['DescribeTasks', 'DescribeAsyncRequestInfo']").message("for provider tencent, api must be DescribeTasks or DescribeAsyncRequestInfo").field_path(".api"),
    validation = Rule::new("self.provider != 'tencent-legacy' || !has(self.api) || self.api in ['GetCdbTaskInfo', 'GetCdbUpgradeJobInfo', 'GetCdbRollbackJobTask']").message("for provider tencent-legacy, api must be GetCdbTaskInfo, GetCdbUpgradeJobInfo or GetCdbRollbackJobTask").field_path(".api"),
    validation = Rule::new("self.provider != 'huawei' || !has(self.api) || self.api in ['rds', 'taurusdb', 'taurusdb-legacy']").message("for provider huawei, api must be rds, taurusdb or taurusdb-legacy").field_path(".api"),
    validation = Rule::new("self.provider != 'alibaba' || !has(self.api) || self.api in ['rds', 'polardb']").message("for provider alibaba, api must be rds or polardb").field_path(".api"),
    validation = Rule::new("self.provider != 'aws' || !has(self.api) || self.api in ['export-task', 'db-snapshot', 'cluster-snapshot', 'blue-green', 'blue-green-switchover']").message("for provider aws, api must be export-task, db-snapshot, cluster-snapshot, blue-green or blue-green-switchover").field_path(".api"),
    validation = Rule::new("self.provider != 'gcp' || !has(self.api) || self.api == 'cloudsql'").message("for provider gcp, api must be cloudsql").field_path(".api"),
    validation = Rule::new("self.provider != 'azure' || !has(self.api) || self.api in ['postgresql-flexible', 'mysql-flexible']").message("for provider azure, api must be postgresql-flexible or mysql-flexible").field_path(".api"),
    validation = Rule::new("!(self.provider in ['huawei', 'gcp']) || (has(self.projectId) && self.projectId != '')").message("projectId is required for providers huawei and gcp").field_path(".projectId"),
    validation = Rule::new("self.provider != 'azure' || has(self.subscriptionId)").message("subscriptionId is required for provider azure").field_path(".subscriptionId"),
    validation = Rule::new("self.provider == 'azure' || !has(self.subscriptionId)").message("subscriptionId applies to provider azure only").field_path(".subscriptionId"),
    validation = Rule::new("self.provider in ['huawei', 'gcp'] || has(self.region)").message("region is required for providers tencent, tencent-legacy, alibaba, aws (a signed request parameter) and azure (the operation's location)").field_path(".region"),
    validation = Rule::new("self.provider != 'huawei' || has(self.region) || has(self.endpoint)").message("region is required for provider huawei unless endpoint is set").field_path(".region"),
    validation = Rule::new("!(self.provider in ['tencent', 'tencent-legacy']) || (has(self.api) && self.api == 'DescribeAsyncRequestInfo') || self.jobId.matches('^[0-9]{1,19}$')").message("jobId must be an integer task ID for this provider API (only DescribeAsyncRequestInfo takes an AsyncRequestId string)").field_path(".jobId"),
    validation = Rule::new("self.provider != 'aws' || !has(self.api) || !(self.api in ['blue-green', 'blue-green-switchover']) || self.jobId.startsWith('bgd-')").message("for provider aws, a blue/green deployment jobId is its identifier, which starts with bgd-").field_path(".jobId"),
    validation = Rule::new("has(self.credentialsSecretRef) != has(self.identity)").message("set exactly one of credentialsSecretRef (stored keys) and identity (workload identity)").field_path(".credentialsSecretRef"),
    validation = Rule::new("!has(self.identity) || self.provider in ['aws', 'alibaba', 'huawei', 'tencent', 'azure', 'gcp']").message("identity (workload identity) is supported for providers aws, alibaba, huawei, tencent, azure and gcp; use credentialsSecretRef for tencent-legacy").field_path(".identity"),
    validation = Rule::new("!has(self.identity) || self.provider != 'gcp' || has(self.identity.oidcProvider)").message("identity.oidcProvider is required for provider gcp (the workload identity pool provider, projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>)").field_path(".identity.oidcProvider"),
    validation = Rule::new("!has(self.identity) || self.provider != 'azure' || (has(self.identity.tenantId) && has(self.identity.clientId))").message("identity.tenantId and identity.clientId are required for provider azure (the app registration whose federated credential trusts this ServiceAccount)").field_path(".identity"),
    validation = Rule::new("!has(self.identity) || self.provider != 'tencent' || (has(self.identity.roleArn) && has(self.identity.oidcProvider))").message("identity.roleArn and identity.oidcProvider are required for provider tencent (the CAM role and the identity provider's ProviderId for AssumeRoleWithWebIdentity)").field_path(".identity"),
    validation = Rule::new("!has(self.identity) || self.provider != 'huawei' || (has(self.identity.oidcProvider) && has(self.identity.audience))").message("identity.oidcProvider and identity.audience are required for provider huawei (the IAM identity provider ID and its client ID)").field_path(".identity"),
    validation = Rule::new("!has(self.identity) || self.provider != 'alibaba' || (has(self.identity.roleArn) && has(self.identity.oidcProvider))").message("identity.roleArn and identity.oidcProvider are required for provider alibaba (the RAM role and the RRSA OIDC provider ARN for AssumeRoleWithOIDC)").field_path(".identity"),
    validation = Rule::new("!has(self.identity) || self.provider != 'aws' || has(self.identity.roleArn)").message("identity.roleArn is required for provider aws (the IAM role to assume with AssumeRoleWithWebIdentity)").field_path(".identity.roleArn"),
    validation = Rule::new("self.provider == oldSelf.provider").message("provider is immutable; create a new CloudDbJob to track another job").field_path(".provider"),
    validation = Rule::new("has(self.api) == has(oldSelf.api) && (!has(self.api) || self.api == oldSelf.api)").message("api is immutable; create a new CloudDbJob to track another job").field_path(".api"),
    validation = Rule::new("self.jobId == oldSelf.jobId").message("jobId is immutable; create a new CloudDbJob to track another job").field_path(".jobId"),
)]
#[serde(rename_all = "camelCase")]
pub struct CloudDbJobSpec {
    /// Cloud provider API family that runs the job: `tencent` (Tencent Cloud API 3.0),
    /// `tencent-legacy` (Tencent Cloud CDB API 2.0), `huawei` (Huawei Cloud RDS / TaurusDB),
    /// `alibaba` (Alibaba Cloud RDS / PolarDB), `aws` (Amazon RDS / Aurora), `gcp` (Google
    /// Cloud SQL) or `azure` (Azure Database for PostgreSQL / MySQL flexible server).
    pub provider: ProviderKind,

    /// Provider call used to track the job. tencent: `DescribeTasks` (default) or
    /// `DescribeAsyncRequestInfo`; tencent-legacy: `GetCdbTaskInfo` (default),
    /// `GetCdbUpgradeJobInfo` or `GetCdbRollbackJobTask`; huawei: `rds` (default),
    /// `taurusdb` or `taurusdb-legacy` (the historical `/mysql/v3/` path); alibaba: `rds`
    /// (default) or `polardb` (`DescribeHistoryTasks`); aws: `export-task` (default),
    /// `db-snapshot`, `cluster-snapshot`, `blue-green` (done when the green environment is
    /// ready) or `blue-green-switchover` (done when the switchover completed); gcp:
    /// `cloudsql` (default, an operation name); azure: `postgresql-flexible` (default) or
    /// `mysql-flexible` (the ID of an Azure-AsyncOperation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = [
        "DescribeTasks", "DescribeAsyncRequestInfo",
        "GetCdbTaskInfo", "GetCdbUpgradeJobInfo", "GetCdbRollbackJobTask",
        "rds", "taurusdb", "taurusdb-legacy", "polardb",
        "export-task", "db-snapshot", "cluster-snapshot", "blue-green", "blue-green-switchover",
        "cloudsql", "postgresql-flexible", "mysql-flexible"
    ]))]
    pub api: Option<String>,

    /// Provider job ID. Tencent task and job IDs are integers; Tencent AsyncRequestIds,
    /// Huawei job IDs and Alibaba task IDs (`t-...`) are strings; for AWS it is the export
    /// task, snapshot or blue/green deployment (`bgd-...`) identifier; for Google Cloud SQL
    /// the operation name; for Azure the operation ID of the `Azure-AsyncOperation` URL.
    #[schemars(
        length(min = 1, max = 128),
        regex(pattern = crate::patterns::PROVIDER_ID)
    )]
    pub job_id: String,

    /// Provider region, e.g. `ap-guangzhou` (Tencent), `cn-north-4` (Huawei), `cn-hangzhou`
    /// (Alibaba), `us-east-1` (AWS) or `eastus` (Azure location). Required except for Huawei
    /// with an `endpoint` and for Google Cloud (operations are per project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = crate::patterns::REGION))]
    pub region: Option<String>,

    /// Database instance the job runs on, e.g. `cdb-c1nl9rpv`. Narrows the Tencent
    /// `DescribeTasks` and Alibaba `DescribeHistoryTasks` searches; informational elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub instance_id: Option<String>,

    /// Huawei Cloud project ID of the tenant in the region, or the Google Cloud project
    /// (required for `huawei` and `gcp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = crate::patterns::PROJECT_ID))]
    pub project_id: Option<String>,

    /// Azure subscription that ran the operation (required for `azure`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = crate::patterns::SUBSCRIPTION_ID
    ))]
    pub subscription_id: Option<String>,

    /// Overrides the provider endpoint, e.g. `https://cdb.ap-shanghai-fsi.tencentcloudapi.com`.
    /// `https://` is required except for loopback hosts, and the controller accepts only the
    /// provider API hosts its clients build (`<service>.<region>.<domain>`) and hosts on its
    /// `--allowed-endpoints` list, because requests sent there are signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 2048),
        regex(
            pattern = crate::patterns::ENDPOINT
        )
    )]
    pub endpoint: Option<String>,

    /// Secret in this namespace holding the provider credentials. Exactly one of
    /// `credentialsSecretRef` and `identity` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<CredentialsSecretRef>,

    /// Workload identity instead of stored keys: the controller requests a short-lived token
    /// of this namespace's ServiceAccount and exchanges it at the cloud's STS for temporary
    /// credentials. Exactly one of `credentialsSecretRef` and `identity` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<WorkloadIdentity>,

    /// How often to poll the provider, as a duration such as `15s` or `1m`. Default `15s`,
    /// minimum `1s`. The controller adds jitter and polls faster near the predicted end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = crate::patterns::DURATION))]
    #[x_kube(validation = Rule::new("duration(self) >= duration('1s')").message("pollInterval must be at least 1s"))]
    pub poll_interval: Option<String>,

    /// Gives up tracking after this long (counted from the resource's creation, suspended
    /// time included: a suspended job fails at the deadline too), as a duration such as
    /// `2h`: the job is then marked Failed with reason `TrackingTimeout`. The provider job
    /// itself is not cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = crate::patterns::DURATION))]
    #[x_kube(validation = Rule::new("duration(self) > duration('0s')").message("timeout must be greater than zero"))]
    pub timeout: Option<String>,

    /// Stops polling while `true` (like batch/v1 Job's `suspend`). Status keeps what was
    /// last seen and says the job is suspended; setting it back continues where it stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,

    /// Deletes this CloudDbJob that many seconds after it finished (succeeded or failed),
    /// like batch/v1 Job. Absent: kept forever. Do not set it on a job managed by GitOps
    /// (Argo CD, Flux): the tool would create it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 31536000))]
    pub ttl_seconds_after_finished: Option<i64>,
}

/// A ServiceAccount of the job's namespace and the cloud role its tokens are exchanged for.
/// Its short-lived token (Kubernetes TokenRequest, audience per cloud) goes to the cloud's
/// STS, never anywhere the job names: the STS endpoints are set by the installer.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadIdentity {
    /// ServiceAccount in the CloudDbJob's own namespace (a name: another namespace's
    /// ServiceAccount cannot be named).
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub service_account_name: String,
    /// The cloud role to assume, whose trust policy names the cluster's OIDC provider and
    /// this ServiceAccount (`system:serviceaccount:<ns>:<name>`). aws: the IAM role ARN
    /// (`arn:aws:iam::123456789012:role/db-job-reader`); alibaba: the RAM role ARN
    /// (`acs:ram::<uid>:role/<name>`); tencent: the CAM role ARN
    /// (`qcs::cam::uin/<uin>:roleName/<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    pub role_arn: Option<String>,
    /// The cloud's registration of the cluster's OIDC issuer. alibaba: the RAM OIDC provider
    /// ARN (`acs:ram::<uid>:oidc-provider/<name>`); huawei: the IAM identity provider ID
    /// (`X-Idp-Id`; its mapping rules decide the token's permissions); tencent: the CAM OIDC
    /// identity provider's name (`ProviderId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    pub oidc_provider: Option<String>,
    /// azure: the Microsoft Entra tenant of the app registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub tenant_id: Option<String>,
    /// azure: the app registration (client) ID whose federated credential names the
    /// cluster's issuer and this ServiceAccount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub client_id: Option<String>,
    /// gcp: the Google service account to impersonate (`name@project.iam.gserviceaccount.com`);
    /// without it the federated identity itself needs the Cloud SQL permission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 254))]
    pub google_service_account: Option<String>,
    /// The token audience the cloud's identity provider expects. Default: aws
    /// `sts.amazonaws.com`, alibaba `sts.aliyuncs.com`, tencent `sts.cloud.tencent.com`,
    /// azure `api://AzureADTokenExchange` (`...USGov`, `...China` in those clouds), gcp
    /// `//iam.googleapis.com/<oidcProvider>`;
    /// huawei: required, the identity
    /// provider's client ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub audience: Option<String>,
}

/// Reference to the Secret holding provider credentials, and the keys to read from it.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsSecretRef {
    /// Name of a Secret in the CloudDbJob's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key of the access key ID: the Tencent SecretId (default `secretId`), the Alibaba
    /// Cloud or AWS access key ID (default `accessKeyId`), or the Azure client ID (default
    /// `clientId`; the tenant is read from `tenantId`, an optional token host from
    /// `authorityHost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_id_key: Option<String>,
    /// Key of the secret: the Tencent SecretKey (default `secretKey`), the Alibaba Cloud
    /// AccessKey secret (default `accessKeySecret`), the AWS secret access key (default
    /// `secretAccessKey`) or the Azure client secret (default `clientSecret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_key: Option<String>,
    /// Key of a temporary-credential session token (optional): Tencent (default `token`),
    /// Alibaba Cloud STS (default `securityToken`) or AWS STS (default `sessionToken`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token_key: Option<String>,
    /// Key of the Huawei access key (default `ak`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ak_key: Option<String>,
    /// Key of the Huawei secret key (default `sk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sk_key: Option<String>,
    /// Key of a Huawei IAM token, used instead of AK/SK when present (default `token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_key: Option<String>,
    /// Key of the Google Cloud service-account key JSON (default `credentials.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_json_key: Option<String>,
}
