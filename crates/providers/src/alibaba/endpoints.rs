//! Default endpoints, API versions and request URLs of the two `DescribeHistoryTasks` APIs.
//!
//! The official SDKs (`alibabacloud-rds20140815`, `alibabacloud-polardb20170801`,
//! `alibabacloud-sts20150401`) map some regions to a host of their own (mostly the central
//! `<product>.aliyuncs.com`) and fall back to `<product>.<region>.aliyuncs.com` for every
//! other region. Their maps are generated into [`super::regions`] by
//! `scripts/gen-endpoints.py`.

use clouddb_api::ProviderApi;
use url::Url;

use super::regions::{POLARDB_HOSTS, RDS_HOSTS, STS_HOSTS};

/// The action of both APIs.
pub const ACTION: &str = "DescribeHistoryTasks";
/// RDS API version.
pub const RDS_VERSION: &str = "2014-08-15";
/// PolarDB API version.
pub const POLARDB_VERSION: &str = "2017-08-01";

/// The `x-acs-version` of an API (`None` for another provider's API).
pub fn version(api: ProviderApi) -> Option<&'static str> {
    match api {
        ProviderApi::AlibabaRds => Some(RDS_VERSION),
        ProviderApi::PolarDb => Some(POLARDB_VERSION),
        _ => None,
    }
}

/// `region` as a host label: characters that cannot appear in a region name dropped.
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

/// The SDK's host of `product` in `region`: its endpoint map, else the regional rule.
fn sdk_host(table: &[(&str, &str)], product: &str, region: &str) -> String {
    table
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, host)| host.to_string())
        .unwrap_or_else(|| format!("{product}.{region}.aliyuncs.com"))
}

/// The default host of `api` in `region`. Characters that cannot appear in a region name
/// are dropped, so this never fails.
pub fn default_host(api: ProviderApi, region: &str) -> String {
    let region = region_label(region);
    match api {
        ProviderApi::PolarDb => sdk_host(POLARDB_HOSTS, "polardb", &region),
        _ => sdk_host(RDS_HOSTS, "rds", &region),
    }
}

/// The STS endpoint of `region` (`https://host/`), the central `sts.aliyuncs.com` without
/// one.
pub fn sts_endpoint(region: Option<&str>) -> Url {
    let host = match region.map(region_label) {
        Some(region) if region != "unknown" => sdk_host(STS_HOSTS, "sts", &region),
        _ => "sts.aliyuncs.com".into(),
    };
    Url::parse(&format!("https://{host}/")).unwrap_or_else(|_| {
        Url::parse("https://sts.aliyuncs.com/").unwrap_or_else(|_| unreachable!("constant URL"))
    })
}

/// The default endpoint (`https://host/`).
pub fn default_endpoint(api: ProviderApi, region: &str) -> Url {
    Url::parse(&format!("https://{}/", default_host(api, region))).unwrap_or_else(|_| {
        // Unreachable: the host is built from [a-z0-9-] labels only.
        Url::parse("https://rds.aliyuncs.com/")
            .unwrap_or_else(|_| unreachable!("constant URL parses"))
    })
}

/// The request URL: `base` (keeping a path prefix, which then ends in `/`) with the
/// canonical query, exactly as it is signed.
pub fn request_url(base: &Url, canonical_query: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{prefix}/"));
    url.set_query(Some(canonical_query).filter(|q| !q.is_empty()));
    url.set_fragment(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn central_and_regional_hosts() {
        let rds = |r| default_host(ProviderApi::AlibabaRds, r);
        let polar = |r| default_host(ProviderApi::PolarDb, r);
        assert_eq!(rds("cn-hangzhou"), "rds.aliyuncs.com");
        assert_eq!(rds("ap-southeast-1"), "rds.aliyuncs.com");
        assert_eq!(rds("eu-central-1"), "rds.eu-central-1.aliyuncs.com");
        assert_eq!(rds("ap-northeast-1"), "rds.ap-northeast-1.aliyuncs.com");
        assert_eq!(
            rds("cn-hangzhou-finance"),
            "rds-vpc.cn-hangzhou-finance.aliyuncs.com"
        );
        assert_eq!(polar("cn-hangzhou"), "polardb.aliyuncs.com");
        assert_eq!(polar("cn-hangzhou-finance"), "polardb.aliyuncs.com");
        assert_eq!(polar("cn-shenzhen"), "polardb.cn-shenzhen.aliyuncs.com");
        assert_eq!(
            polar("ap-southeast-1"),
            "polardb.ap-southeast-1.aliyuncs.com"
        );
        assert_eq!(
            rds(" CN-Hangzhou/evil "),
            "rds.cn-hangzhouevil.aliyuncs.com"
        );
        assert_eq!(rds("///"), "rds.unknown.aliyuncs.com");
        assert_eq!(
            default_endpoint(ProviderApi::PolarDb, "cn-beijing").as_str(),
            "https://polardb.aliyuncs.com/"
        );
        assert_eq!(version(ProviderApi::AlibabaRds), Some("2014-08-15"));
        assert_eq!(version(ProviderApi::PolarDb), Some("2017-08-01"));
        assert_eq!(version(ProviderApi::Rds), None);
    }

    #[test]
    fn urls_keep_a_prefix_and_carry_the_signed_query() {
        let base = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            request_url(&base, "A=1&B=x%20y").as_str(),
            "http://127.0.0.1:8080/?A=1&B=x%20y"
        );
        let prefixed = Url::parse("https://gw.example.com/aliyun/rds").unwrap();
        assert_eq!(
            request_url(&prefixed, "A=1").as_str(),
            "https://gw.example.com/aliyun/rds/?A=1"
        );
        assert_eq!(request_url(&base, "").as_str(), "http://127.0.0.1:8080/");
    }
}
