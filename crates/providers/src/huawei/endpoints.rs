//! Default endpoints and request paths of the Huawei Cloud task-center APIs.
//!
//! | `api` | call | default host |
//! |---|---|---|
//! | `rds` (default) | `GET /v3/{project_id}/jobs?id={job}` (RDS ListJobInfo) | `rds.{region}.myhuaweicloud.com` |
//! | `taurusdb` | `GET /v3/{project_id}/jobs?id={job}` (TaurusDB ShowGaussMySqlJobInfo) | TaurusDB host of the region (below) |
//! | `taurusdb-legacy` | `GET /mysql/v3/{project_id}/jobs?id={job}` (historical ShowMysqlJobInfo) | TaurusDB host of the region (below) |
//!
//! The hosts are the official SDK's region tables (`huaweicloudsdkrds` `RdsRegion`,
//! `huaweicloudsdkgaussdb` `GaussDBRegion`), generated into [`super::regions`] by
//! `scripts/gen-endpoints.py`: the TaurusDB (GaussDB(for MySQL)) host name differs by region
//! (`gaussdb`, `gaussdbformysql` or `gaussdb-mysql`), and Huawei Cloud Europe
//! (`eu-west-101`) is under `myhuaweicloud.eu`. A region missing from the tables gets
//! `rds.{region}.myhuaweicloud.com` or `gaussdb.{region}.myhuaweicloud.com`; for a private
//! deployment set `spec.endpoint` (scheme, host, optional port and path prefix): it replaces
//! the default host, and the API path is appended to its path.

use url::Url;

use super::regions::{IAM_HOSTS, RDS_HOSTS, TAURUSDB_HOSTS};
use crate::{ErrorReason, ProviderError};

/// Host prefix of TaurusDB in regions missing from the SDK's table.
pub const DEFAULT_TAURUSDB_HOST_PREFIX: &str = "gaussdb";
/// The global IAM host, which the SDK uses for regions missing from its IAM table.
pub const GLOBAL_IAM_HOST: &str = "iam.myhuaweicloud.com";

/// `region` as a host label: characters that cannot appear in a region name dropped,
/// lowercase, `unknown` when nothing is left.
fn region_label(region: &str) -> String {
    let region: String = region
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let region = region.trim_matches('-');
    if region.is_empty() {
        "unknown".into()
    } else {
        region.into()
    }
}

fn lookup(table: &[(&str, &'static str)], region: &str) -> Option<&'static str> {
    table.iter().find(|(r, _)| *r == region).map(|(_, h)| *h)
}

fn https(host: &str) -> Url {
    Url::parse(&format!("https://{host}/")).unwrap_or_else(|_| {
        // Unreachable: the hosts are the SDK's or built from [a-z0-9-] labels only.
        Url::parse("https://rds.myhuaweicloud.com/")
            .unwrap_or_else(|_| unreachable!("constant URL parses"))
    })
}

/// The default endpoint (`https://host/`) of `api` in `region`. Unknown APIs get the RDS
/// host; characters that cannot appear in a region name are dropped, so this never fails.
pub fn default_endpoint(api: &str, region: &str) -> Url {
    let region = region_label(region);
    let (table, prefix) = match api {
        "taurusdb" | "taurusdb-legacy" => (TAURUSDB_HOSTS, DEFAULT_TAURUSDB_HOST_PREFIX),
        _ => (RDS_HOSTS, "rds"),
    };
    match lookup(table, &region) {
        Some(host) => https(host),
        None => https(&format!("{prefix}.{region}.myhuaweicloud.com")),
    }
}

/// The IAM endpoint of `region` (`https://host/`): the SDK's IAM region table, else the
/// global IAM host, as the SDK's own token exchange falls back.
pub fn iam_endpoint(region: Option<&str>) -> Url {
    let region = region.map(region_label);
    https(
        region
            .as_deref()
            .and_then(|r| lookup(IAM_HOSTS, r))
            .unwrap_or(GLOBAL_IAM_HOST),
    )
}

/// The API path (percent-encoded) of `api` for `project_id`, without any endpoint prefix.
pub fn job_path(api: &str, project_id: &str) -> Result<String, ProviderError> {
    let project = crate::encoding::percent_encode(project_id);
    match api {
        "rds" | "taurusdb" => Ok(format!("/v3/{project}/jobs")),
        "taurusdb-legacy" => Ok(format!("/mysql/v3/{project}/jobs")),
        other => Err(ProviderError::permanent(
            ErrorReason::InvalidRequest,
            "UnsupportedApi",
            format!("api {other:?} is not a Huawei Cloud API: expected rds, taurusdb or taurusdb-legacy"),
        )),
    }
}

/// The full request URL: `base` (default or override, keeping its path prefix) + the API
/// path + `?id=` (RFC 3986-encoded, exactly as it is signed).
pub fn request_url(
    base: &Url,
    api: &str,
    project_id: &str,
    job_id: &str,
) -> Result<Url, ProviderError> {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{prefix}{}", job_path(api, project_id)?));
    url.set_query(Some(&super::sign::canonical_query(&[(
        "id".to_string(),
        job_id.to_string(),
    )])));
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_hosts() {
        let host = |api, region| {
            default_endpoint(api, region)
                .host_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            host("rds", "cn-north-4"),
            "rds.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(
            host("rds", "ap-southeast-1"),
            "rds.ap-southeast-1.myhuaweicloud.com"
        );
        assert_eq!(
            host("taurusdb", "cn-north-4"),
            "gaussdb.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(
            host("taurusdb", "ap-southeast-1"),
            "gaussdbformysql.ap-southeast-1.myhuaweicloud.com"
        );
        assert_eq!(
            host("taurusdb-legacy", "tr-west-1"),
            "gaussdbformysql.tr-west-1.myhuaweicloud.com"
        );
        assert_eq!(
            host("taurusdb", "af-south-1"),
            "gaussdb-mysql.af-south-1.myhuaweicloud.com"
        );
        assert_eq!(
            host("taurusdb", "cn-east-5"),
            "gaussdb-mysql.cn-east-5.myhuaweicloud.com"
        );
        assert_eq!(
            host("rds", " CN-North-4/evil "),
            "rds.cn-north-4evil.myhuaweicloud.com"
        );
        assert_eq!(host("rds", "///"), "rds.unknown.myhuaweicloud.com");
        assert_eq!(default_endpoint("rds", "cn-north-4").scheme(), "https");
    }

    #[test]
    fn paths_per_api() {
        let base = default_endpoint("taurusdb-legacy", "cn-north-4");
        let url = request_url(&base, "taurusdb-legacy", "0483b6b1", "a9767ede-fe0f").unwrap();
        assert_eq!(
            url.as_str(),
            "https://gaussdb.cn-north-4.myhuaweicloud.com/mysql/v3/0483b6b1/jobs?id=a9767ede-fe0f"
        );
        let url = request_url(&base, "taurusdb", "p", "j").unwrap();
        assert_eq!(url.path(), "/v3/p/jobs");
        let base = Url::parse("http://127.0.0.1:8080/proxy/huawei/").unwrap();
        let url = request_url(&base, "rds", "p", "a b:c").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/proxy/huawei/v3/p/jobs?id=a%20b%3Ac"
        );
        assert!(request_url(&base, "DescribeTasks", "p", "j")
            .unwrap_err()
            .is_permanent());
    }
}
