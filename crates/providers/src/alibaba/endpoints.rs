//! Default endpoints, API versions and request URLs of the two `DescribeHistoryTasks` APIs.
//!
//! The official SDKs (`alibabacloud-rds20140815`, `alibabacloud-polardb20170801`) map the
//! regions below to the central host and fall back to `<product>.<region>.aliyuncs.com`
//! for every other region. Their maps also list internal and test regions, left out here.

use clouddb_api::ProviderApi;
use url::Url;

/// The action of both APIs.
pub const ACTION: &str = "DescribeHistoryTasks";
/// RDS API version.
pub const RDS_VERSION: &str = "2014-08-15";
/// PolarDB API version.
pub const POLARDB_VERSION: &str = "2017-08-01";

/// Regions whose RDS endpoint is `rds.aliyuncs.com` (SDK endpoint map).
pub const RDS_CENTRAL_REGIONS: &[&str] = &[
    "cn-qingdao",
    "cn-beijing",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-hongkong",
    "ap-southeast-1",
    "us-west-1",
    "us-east-1",
    "cn-shanghai-finance-1",
    "cn-shenzhen-finance-1",
    "cn-north-2-gov-1",
    "cn-beijing-finance-1",
    "cn-beijing-gov-1",
    "cn-fujian",
    "cn-wuhan",
    "cn-zhangbei",
];

/// Regions whose PolarDB endpoint is `polardb.aliyuncs.com` (SDK endpoint map); the SDK maps
/// e.g. `cn-hongkong`, `cn-shenzhen` and `ap-southeast-1` to regional hosts instead.
pub const POLARDB_CENTRAL_REGIONS: &[&str] = &[
    "cn-qingdao",
    "cn-beijing",
    "cn-wulanchabu",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-heyuan",
    "cn-hangzhou-finance",
    "cn-beijing-finance-1",
    "cn-beijing-gov-1",
    "cn-fujian",
    "cn-wuhan",
    "cn-zhangbei",
];

/// The SDK's one exception to both rules: the Hangzhou finance region's RDS host.
const RDS_HANGZHOU_FINANCE: (&str, &str) = (
    "cn-hangzhou-finance",
    "rds-vpc.cn-hangzhou-finance.aliyuncs.com",
);

/// The `x-acs-version` of an API (`None` for another provider's API).
pub fn version(api: ProviderApi) -> Option<&'static str> {
    match api {
        ProviderApi::AlibabaRds => Some(RDS_VERSION),
        ProviderApi::PolarDb => Some(POLARDB_VERSION),
        _ => None,
    }
}

/// The default host of `api` in `region`. Characters that cannot appear in a region name
/// are dropped, so this never fails.
pub fn default_host(api: ProviderApi, region: &str) -> String {
    let region: String = region
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let region = region.trim_matches('-');
    let region = if region.is_empty() { "unknown" } else { region };
    let (product, central) = match api {
        ProviderApi::PolarDb => ("polardb", POLARDB_CENTRAL_REGIONS),
        _ => ("rds", RDS_CENTRAL_REGIONS),
    };
    if product == "rds" && region == RDS_HANGZHOU_FINANCE.0 {
        return RDS_HANGZHOU_FINANCE.1.to_string();
    }
    if central.contains(&region) {
        format!("{product}.aliyuncs.com")
    } else {
        format!("{product}.{region}.aliyuncs.com")
    }
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
