//! Lenient XML types of the calls only discovery makes: `DescribeDBInstances` (the
//! instance's ARN, and `DBInstanceNotFound` for a wrong identifier) and
//! `DescribePendingMaintenanceActions`. List element names as in the RDS service model
//! (`<DBInstances><DBInstance>`, `<PendingMaintenanceActions><ResourcePendingMaintenanceActions>`
//! with `<PendingMaintenanceActionDetails><PendingMaintenanceAction>`); `member` accepted too.

use serde::Deserialize;

/// `<DescribeDBInstancesResponse>`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct DbInstancesResponse {
    #[serde(rename = "DescribeDBInstancesResult", default)]
    pub result: Option<DbInstancesResult>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct DbInstancesResult {
    #[serde(rename = "DBInstances", default)]
    pub list: Option<DbInstanceList>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct DbInstanceList {
    #[serde(rename = "DBInstance", alias = "member", default)]
    pub items: Vec<DbInstance>,
}

/// The fields of a DB instance discovery reads.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct DbInstance {
    #[serde(rename = "DBInstanceIdentifier", default)]
    pub identifier: Option<String>,
    #[serde(rename = "DBInstanceArn", default)]
    pub arn: Option<String>,
}

/// `<DescribePendingMaintenanceActionsResponse>`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct PendingMaintenanceResponse {
    #[serde(rename = "DescribePendingMaintenanceActionsResult", default)]
    pub result: Option<PendingMaintenanceResult>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct PendingMaintenanceResult {
    #[serde(rename = "PendingMaintenanceActions", default)]
    pub list: Option<ResourceActionsList>,
    #[serde(rename = "Marker", default)]
    pub marker: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ResourceActionsList {
    #[serde(
        rename = "ResourcePendingMaintenanceActions",
        alias = "member",
        default
    )]
    pub items: Vec<ResourceActions>,
}

/// The pending actions of one resource (an instance ARN).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ResourceActions {
    #[serde(rename = "ResourceIdentifier", default)]
    pub resource: Option<String>,
    #[serde(rename = "PendingMaintenanceActionDetails", default)]
    pub details: Option<ActionList>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ActionList {
    #[serde(rename = "PendingMaintenanceAction", alias = "member", default)]
    pub items: Vec<PendingAction>,
}

/// One pending maintenance action.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PendingAction {
    /// `system-update`, `db-upgrade`, `hardware-maintenance`, `ca-certificate-rotation`.
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// When it is applied in the maintenance window (if opted in or auto-applied).
    #[serde(default)]
    pub current_apply_date: Option<String>,
    #[serde(default)]
    pub auto_applied_after_date: Option<String>,
    #[serde(default)]
    pub forced_apply_date: Option<String>,
    #[serde(default)]
    pub opt_in_status: Option<String>,
}
