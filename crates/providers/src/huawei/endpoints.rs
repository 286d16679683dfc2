//! Default endpoints and request paths of the Huawei Cloud task-center APIs.
//!
//! | `api` | call | default host |
//! |---|---|---|
//! | `rds` (default) | `GET /v3/{project_id}/jobs?id={job}` (RDS ListJobInfo) | `rds.{region}.myhuaweicloud.com` |
//! | `taurusdb` | `GET /v3/{project_id}/jobs?id={job}` (TaurusDB ShowGaussMySqlJobInfo) | TaurusDB host of the region (below) |
//! | `taurusdb-legacy` | `GET /mysql/v3/{project_id}/jobs?id={job}` (historical ShowMysqlJobInfo) | TaurusDB host of the region (below) |
//!
//! The TaurusDB (GaussDB(for MySQL)) host differs by region (official SDK region tables):
//! `gaussdbformysql.{region}.myhuaweicloud.com` in `ap-southeast-1`, `ap-southeast-2` and
//! `tr-west-1`; `gaussdb-mysql.{region}.myhuaweicloud.com` in `af-south-1` and `cn-east-5`;
//! `gaussdb.{region}.myhuaweicloud.com` everywhere else. For a region missing from this
//! table, or a private deployment, set `spec.endpoint` (scheme, host, optional port and path
//! prefix): it replaces the default host, and the API path is appended to its path.

use url::Url;

use crate::{ErrorReason, ProviderError};

/// Regions whose TaurusDB endpoint is not `gaussdb.{region}`: (region, host prefix).
pub const TAURUSDB_HOST_PREFIXES: &[(&str, &str)] = &[
    ("ap-southeast-1", "gaussdbformysql"),
    ("ap-southeast-2", "gaussdbformysql"),
    ("tr-west-1", "gaussdbformysql"),
    ("af-south-1", "gaussdb-mysql"),
    ("cn-east-5", "gaussdb-mysql"),
];

/// Host prefix of TaurusDB regions not in [`TAURUSDB_HOST_PREFIXES`].
pub const DEFAULT_TAURUSDB_HOST_PREFIX: &str = "gaussdb";

/// The default endpoint (`https://host`) of `api` in `region`. Unknown APIs get the RDS
/// host; characters that cannot appear in a region name are dropped, so this never fails.
pub fn default_endpoint(api: &str, region: &str) -> Url {
    let region: String = region
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let region = region.trim_matches('-');
    let region = if region.is_empty() { "unknown" } else { region };
    let prefix = match api {
        "taurusdb" | "taurusdb-legacy" => TAURUSDB_HOST_PREFIXES
            .iter()
            .find(|(r, _)| *r == region)
            .map(|(_, p)| *p)
            .unwrap_or(DEFAULT_TAURUSDB_HOST_PREFIX),
        _ => "rds",
    };
    let raw = format!("https://{prefix}.{region}.myhuaweicloud.com/");
    Url::parse(&raw).unwrap_or_else(|_| {
        // Unreachable: the host is built from [a-z0-9-] labels only.
        Url::parse("https://rds.myhuaweicloud.com/")
            .unwrap_or_else(|_| unreachable!("constant URL parses"))
    })
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
