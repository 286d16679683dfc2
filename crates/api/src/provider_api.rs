//! The providers (`spec.provider`) and the APIs a job can be tracked through (`spec.api`):
//! typed inside the operator, named by their spec value only at the edges. One file for
//! both, as each names the other (a provider's default API, an API's provider).

use serde::{Deserialize, Serialize};

/// The provider API family.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, schemars::JsonSchema)]
pub enum ProviderKind {
    /// Tencent Cloud API 3.0 (`cdb.tencentcloudapi.com`, TC3-HMAC-SHA256).
    #[serde(rename = "tencent")]
    Tencent,
    /// Tencent Cloud CDB API 2.0 (`cdb.api.qcloud.com/v2/index.php`, HmacSHA1/HmacSHA256).
    #[serde(rename = "tencent-legacy")]
    TencentLegacy,
    /// Huawei Cloud RDS and TaurusDB (GaussDB for MySQL) `GET /v3/{project_id}/jobs`.
    #[serde(rename = "huawei")]
    Huawei,
    /// Alibaba Cloud RDS and PolarDB `DescribeHistoryTasks` (ACS3-HMAC-SHA256).
    #[serde(rename = "alibaba")]
    Alibaba,
    /// Amazon RDS Query API 2014-10-31 (Signature Version 4).
    #[serde(rename = "aws")]
    Aws,
    /// Google Cloud SQL Admin API v1 operations (OAuth2, service-account key).
    #[serde(rename = "gcp")]
    Gcp,
    /// Azure Resource Manager async operations of the flexible servers (OAuth2, client
    /// credentials).
    #[serde(rename = "azure")]
    Azure,
}

impl ProviderKind {
    /// Every provider, in the order the documentation lists them.
    pub const ALL: [ProviderKind; 7] = [
        ProviderKind::Tencent,
        ProviderKind::TencentLegacy,
        ProviderKind::Huawei,
        ProviderKind::Alibaba,
        ProviderKind::Aws,
        ProviderKind::Gcp,
        ProviderKind::Azure,
    ];

    /// The name used in the spec, metrics labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Tencent => "tencent",
            ProviderKind::TencentLegacy => "tencent-legacy",
            ProviderKind::Huawei => "huawei",
            ProviderKind::Alibaba => "alibaba",
            ProviderKind::Aws => "aws",
            ProviderKind::Gcp => "gcp",
            ProviderKind::Azure => "azure",
        }
    }

    /// The API used when `spec.api` is not set.
    pub fn default_api(self) -> &'static str {
        ProviderApi::default_for(self).as_str()
    }

    /// The `spec.api` names of this provider's APIs (the admission rules list the same).
    pub fn apis(self) -> Vec<&'static str> {
        ProviderApi::ALL
            .into_iter()
            .filter(|api| api.provider() == self)
            .map(ProviderApi::as_str)
            .collect()
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tencent" => Ok(ProviderKind::Tencent),
            "tencent-legacy" => Ok(ProviderKind::TencentLegacy),
            "huawei" => Ok(ProviderKind::Huawei),
            "alibaba" => Ok(ProviderKind::Alibaba),
            "aws" => Ok(ProviderKind::Aws),
            "gcp" => Ok(ProviderKind::Gcp),
            "azure" => Ok(ProviderKind::Azure),
            other => Err(format!(
                "unknown provider {other:?}: expected tencent, tencent-legacy, huawei, alibaba, aws, gcp or azure"
            )),
        }
    }
}

/// One provider API (`spec.api`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderApi {
    /// Tencent Cloud API 3.0 `DescribeTasks`.
    DescribeTasks,
    /// Tencent Cloud API 3.0 `DescribeAsyncRequestInfo` (an AsyncRequestId string).
    DescribeAsyncRequestInfo,
    /// Tencent CDB API 2.0 `GetCdbTaskInfo`.
    GetCdbTaskInfo,
    /// Tencent CDB API 2.0 `GetCdbUpgradeJobInfo`.
    GetCdbUpgradeJobInfo,
    /// Tencent CDB API 2.0 `GetCdbRollbackJobTask`.
    GetCdbRollbackJobTask,
    /// Huawei Cloud RDS jobs.
    Rds,
    /// Huawei Cloud TaurusDB (GaussDB for MySQL) jobs.
    TaurusDb,
    /// Huawei Cloud TaurusDB through its legacy endpoint.
    TaurusDbLegacy,
    /// Alibaba Cloud RDS `DescribeHistoryTasks` (2014-08-15).
    AlibabaRds,
    /// Alibaba Cloud PolarDB `DescribeHistoryTasks` (2017-08-01).
    PolarDb,
    /// AWS RDS `DescribeExportTasks` (snapshot exports to S3).
    ExportTask,
    /// AWS RDS `DescribeDBSnapshots` (a DB instance snapshot being created).
    DbSnapshot,
    /// AWS RDS `DescribeDBClusterSnapshots` (a DB cluster snapshot being created).
    ClusterSnapshot,
    /// AWS RDS `DescribeBlueGreenDeployments`, done when the green environment is ready.
    BlueGreen,
    /// AWS RDS `DescribeBlueGreenDeployments`, done when the switchover completed.
    BlueGreenSwitchover,
    /// Google Cloud SQL Admin API v1 `operations.get`.
    CloudSql,
    /// Azure Database for PostgreSQL flexible server: an Azure-AsyncOperation status resource.
    PostgresqlFlexible,
    /// Azure Database for MySQL flexible server: an Azure-AsyncOperation status resource.
    MysqlFlexible,
}

impl ProviderApi {
    pub const ALL: [ProviderApi; 18] = [
        ProviderApi::DescribeTasks,
        ProviderApi::DescribeAsyncRequestInfo,
        ProviderApi::GetCdbTaskInfo,
        ProviderApi::GetCdbUpgradeJobInfo,
        ProviderApi::GetCdbRollbackJobTask,
        ProviderApi::Rds,
        ProviderApi::TaurusDb,
        ProviderApi::TaurusDbLegacy,
        ProviderApi::AlibabaRds,
        ProviderApi::PolarDb,
        ProviderApi::ExportTask,
        ProviderApi::DbSnapshot,
        ProviderApi::ClusterSnapshot,
        ProviderApi::BlueGreen,
        ProviderApi::BlueGreenSwitchover,
        ProviderApi::CloudSql,
        ProviderApi::PostgresqlFlexible,
        ProviderApi::MysqlFlexible,
    ];

    /// The `spec.api` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderApi::DescribeTasks => "DescribeTasks",
            ProviderApi::DescribeAsyncRequestInfo => "DescribeAsyncRequestInfo",
            ProviderApi::GetCdbTaskInfo => "GetCdbTaskInfo",
            ProviderApi::GetCdbUpgradeJobInfo => "GetCdbUpgradeJobInfo",
            ProviderApi::GetCdbRollbackJobTask => "GetCdbRollbackJobTask",
            ProviderApi::Rds => "rds",
            ProviderApi::TaurusDb => "taurusdb",
            ProviderApi::TaurusDbLegacy => "taurusdb-legacy",
            // Alibaba's RDS shares the spec name `rds` with Huawei's; `parse` is per provider.
            ProviderApi::AlibabaRds => "rds",
            ProviderApi::PolarDb => "polardb",
            ProviderApi::ExportTask => "export-task",
            ProviderApi::DbSnapshot => "db-snapshot",
            ProviderApi::ClusterSnapshot => "cluster-snapshot",
            ProviderApi::BlueGreen => "blue-green",
            ProviderApi::BlueGreenSwitchover => "blue-green-switchover",
            ProviderApi::CloudSql => "cloudsql",
            ProviderApi::PostgresqlFlexible => "postgresql-flexible",
            ProviderApi::MysqlFlexible => "mysql-flexible",
        }
    }

    /// The provider the API belongs to.
    pub fn provider(self) -> ProviderKind {
        match self {
            ProviderApi::DescribeTasks | ProviderApi::DescribeAsyncRequestInfo => {
                ProviderKind::Tencent
            }
            ProviderApi::GetCdbTaskInfo
            | ProviderApi::GetCdbUpgradeJobInfo
            | ProviderApi::GetCdbRollbackJobTask => ProviderKind::TencentLegacy,
            ProviderApi::Rds | ProviderApi::TaurusDb | ProviderApi::TaurusDbLegacy => {
                ProviderKind::Huawei
            }
            ProviderApi::AlibabaRds | ProviderApi::PolarDb => ProviderKind::Alibaba,
            ProviderApi::ExportTask
            | ProviderApi::DbSnapshot
            | ProviderApi::ClusterSnapshot
            | ProviderApi::BlueGreen
            | ProviderApi::BlueGreenSwitchover => ProviderKind::Aws,
            ProviderApi::CloudSql => ProviderKind::Gcp,
            ProviderApi::PostgresqlFlexible | ProviderApi::MysqlFlexible => ProviderKind::Azure,
        }
    }

    /// The API named `name` of `provider`, if it has one by that name.
    pub fn parse(provider: ProviderKind, name: &str) -> Option<ProviderApi> {
        Self::ALL
            .into_iter()
            .find(|api| api.provider() == provider && api.as_str() == name)
    }

    /// The API used when `spec.api` is not set.
    pub fn default_for(provider: ProviderKind) -> ProviderApi {
        match provider {
            ProviderKind::Tencent => ProviderApi::DescribeTasks,
            ProviderKind::TencentLegacy => ProviderApi::GetCdbTaskInfo,
            ProviderKind::Huawei => ProviderApi::Rds,
            ProviderKind::Alibaba => ProviderApi::AlibabaRds,
            ProviderKind::Aws => ProviderApi::ExportTask,
            ProviderKind::Gcp => ProviderApi::CloudSql,
            ProviderKind::Azure => ProviderApi::PostgresqlFlexible,
        }
    }

    /// Whether the job ID is an integer task ID (Tencent's task APIs; every other API
    /// names jobs with strings).
    pub fn takes_integer_job_id(self) -> bool {
        matches!(
            self,
            ProviderApi::DescribeTasks
                | ProviderApi::GetCdbTaskInfo
                | ProviderApi::GetCdbUpgradeJobInfo
                | ProviderApi::GetCdbRollbackJobTask
        )
    }
}

impl std::fmt::Display for ProviderApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tests and callers at the edges compare with the spec value.
impl PartialEq<&str> for ProviderApi {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDERS: [ProviderKind; 7] = ProviderKind::ALL;

    #[test]
    fn each_provider_has_exactly_its_spec_names() {
        // The contract users write in `spec.api` (and the CRD's admission rules list).
        assert_eq!(
            ProviderKind::Tencent.apis(),
            ["DescribeTasks", "DescribeAsyncRequestInfo"]
        );
        assert_eq!(
            ProviderKind::TencentLegacy.apis(),
            [
                "GetCdbTaskInfo",
                "GetCdbUpgradeJobInfo",
                "GetCdbRollbackJobTask"
            ]
        );
        assert_eq!(
            ProviderKind::Huawei.apis(),
            ["rds", "taurusdb", "taurusdb-legacy"]
        );
        assert_eq!(ProviderKind::Alibaba.apis(), ["rds", "polardb"]);
        assert_eq!(
            ProviderKind::Aws.apis(),
            [
                "export-task",
                "db-snapshot",
                "cluster-snapshot",
                "blue-green",
                "blue-green-switchover"
            ]
        );
        assert_eq!(ProviderKind::Gcp.apis(), ["cloudsql"]);
        assert_eq!(
            ProviderKind::Azure.apis(),
            ["postgresql-flexible", "mysql-flexible"]
        );
        for provider in PROVIDERS {
            assert_eq!(
                ProviderApi::default_for(provider).provider(),
                provider,
                "{provider}"
            );
            for name in provider.apis() {
                let api = ProviderApi::parse(provider, name).unwrap();
                assert_eq!(api.as_str(), name);
                assert_eq!(api.provider(), provider);
            }
        }
        // The same spec name is a different API per provider.
        assert_eq!(
            ProviderApi::parse(ProviderKind::Alibaba, "rds"),
            Some(ProviderApi::AlibabaRds)
        );
        assert_eq!(
            ProviderApi::parse(ProviderKind::Huawei, "rds"),
            Some(ProviderApi::Rds)
        );
        // A name of another provider's API is not this provider's.
        assert_eq!(
            ProviderApi::parse(ProviderKind::Huawei, "DescribeTasks"),
            None
        );
        assert_eq!(
            ProviderApi::parse(ProviderKind::Tencent, "describetasks"),
            None
        );
    }

    #[test]
    fn only_task_id_apis_take_integer_job_ids() {
        let integer: Vec<&str> = ProviderApi::ALL
            .into_iter()
            .filter(|api| api.takes_integer_job_id())
            .map(ProviderApi::as_str)
            .collect();
        assert_eq!(
            integer,
            [
                "DescribeTasks",
                "GetCdbTaskInfo",
                "GetCdbUpgradeJobInfo",
                "GetCdbRollbackJobTask"
            ]
        );
    }
}
