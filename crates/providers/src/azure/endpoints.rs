//! Hosts, resource provider namespaces, api-versions and the status URL.

use url::Url;

pub use super::cloud::AzureCloud;
use crate::target::{parse_endpoint, InvalidTarget};
use clouddb_api::ProviderApi;

/// Azure Resource Manager in the public cloud.
pub const DEFAULT_ARM_ENDPOINT: &str = "https://management.azure.com";
/// Microsoft Entra ID in the public cloud (`AZURE_AUTHORITY_HOST` replaces it).
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The scope the client asks for in the public cloud: ARM, with the application's own
/// permissions ([`AzureCloud::arm_scope`] in the others).
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// Namespace and api-version of a resource provider.
pub fn namespace(api: ProviderApi) -> Option<&'static str> {
    match api {
        ProviderApi::PostgresqlFlexible => Some("Microsoft.DBforPostgreSQL"),
        ProviderApi::MysqlFlexible => Some("Microsoft.DBforMySQL"),
        _ => None,
    }
}

/// The stable api-version each resource provider serves the status resource under.
pub fn api_version(api: ProviderApi) -> Option<&'static str> {
    match api {
        ProviderApi::PostgresqlFlexible => Some("2024-08-01"),
        ProviderApi::MysqlFlexible => Some("2023-12-30"),
        _ => None,
    }
}

/// `{base}/subscriptions/{sub}/providers/{namespace}/locations/{region}/azureAsyncOperation/{job}?api-version=..`.
/// Every user-supplied part is one percent-encoded path segment (a `/` or `?` in a job ID
/// cannot change the path); a path prefix on `base` is kept.
pub fn operation_url(
    base: &Url,
    subscription_id: &str,
    namespace: &str,
    region: &str,
    job_id: &str,
    api_version: &str,
) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend([
            "subscriptions",
            subscription_id,
            "providers",
            namespace,
            "locations",
            region,
            "azureAsyncOperation",
            job_id,
        ]);
    }
    url.query_pairs_mut()
        .append_pair("api-version", api_version);
    url
}

/// `{authority}/{tenant}/oauth2/v2.0/token`. The authority must be `https://` (plain
/// `http://` only on loopback, as for endpoint overrides); the tenant is one segment.
pub fn token_url(authority_host: Option<&str>, tenant_id: &str) -> Result<Url, InvalidTarget> {
    let raw = authority_host
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_AUTHORITY_HOST);
    let mut url = parse_endpoint(raw).map_err(|e| InvalidTarget(format!("authorityHost: {e}")))?;
    let tenant = tenant_id.trim();
    if tenant.is_empty() {
        return Err(InvalidTarget("tenantId must not be empty".into()));
    }
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .extend([tenant, "oauth2", "v2.0", "token"]);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_status_urls() {
        let base = Url::parse(DEFAULT_ARM_ENDPOINT).unwrap();
        let url = operation_url(
            &base,
            "00000000-0000-0000-0000-000000000001",
            "Microsoft.DBforPostgreSQL",
            "westeurope",
            "0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11",
            "2024-08-01",
        );
        assert_eq!(
            url.as_str(),
            "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.DBforPostgreSQL/locations/westeurope/azureAsyncOperation/0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11?api-version=2024-08-01"
        );
        let prefixed = Url::parse("http://127.0.0.1:8080/arm/").unwrap();
        let url = operation_url(
            &prefixed,
            "s",
            "Microsoft.DBforMySQL",
            "r",
            "a/b?c",
            "2023-12-30",
        );
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/arm/subscriptions/s/providers/Microsoft.DBforMySQL/locations/r/azureAsyncOperation/a%2Fb%3Fc?api-version=2023-12-30"
        );
        assert_eq!(
            namespace(ProviderApi::MysqlFlexible),
            Some("Microsoft.DBforMySQL")
        );
        assert_eq!(
            api_version(ProviderApi::PostgresqlFlexible),
            Some("2024-08-01")
        );
        assert_eq!(namespace(ProviderApi::AlibabaRds), None);
    }

    #[test]
    fn token_urls_default_and_refuse_plain_http_off_loopback() {
        assert_eq!(
            token_url(None, "contoso.onmicrosoft.com").unwrap().as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            token_url(Some("http://127.0.0.1:9/"), "t")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/t/oauth2/v2.0/token"
        );
        assert_eq!(
            token_url(Some("https://login.microsoftonline.us"), "a/b")
                .unwrap()
                .as_str(),
            "https://login.microsoftonline.us/a%2Fb/oauth2/v2.0/token"
        );
        assert!(token_url(Some("http://login.example.com"), "t").is_err());
        assert!(token_url(Some("ftp://x"), "t").is_err());
        assert!(token_url(None, " ").is_err());
    }
}
