//! Which `spec.endpoint` overrides the controller will send signed requests to.
//!
//! A CloudDbJob author could otherwise point the controller at their own host and collect
//! requests signed with someone else's credentials (the Secret is in their namespace, but
//! the signature still proves possession and may be replayed within its window).

use url::Url;

/// Host globs accepted by default: the providers' own API domains.
pub const DEFAULT_ALLOWED: &[&str] = &[
    "*.tencentcloudapi.com",
    "*.api.qcloud.com",
    "*.myhuaweicloud.com",
    "*.myhuaweicloud.eu",
    "*.aliyuncs.com",
    "*.amazonaws.com",
    "*.amazonaws.com.cn",
    // Azure Resource Manager: public, US Government and China clouds (exact hosts).
    "management.azure.com",
    "management.usgovcloudapi.net",
    "management.chinacloudapi.cn",
    "*.googleapis.com",
];

/// Host glob allow-list for endpoint overrides (`*` matches any run of characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointPolicy {
    patterns: Vec<String>,
}

impl Default for EndpointPolicy {
    fn default() -> Self {
        EndpointPolicy::new(DEFAULT_ALLOWED.iter().map(|s| s.to_string()))
    }
}

impl EndpointPolicy {
    pub fn new(patterns: impl IntoIterator<Item = String>) -> Self {
        EndpointPolicy {
            patterns: patterns
                .into_iter()
                .map(|p| {
                    // Hosts are compared without IPv6 brackets, so patterns are too.
                    p.trim()
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_ascii_lowercase()
                })
                .filter(|p| !p.is_empty())
                .collect(),
        }
    }

    /// Checks an already-parsed override (scheme rules are enforced by `parse_endpoint`).
    pub fn check(&self, endpoint: &Url) -> Result<(), String> {
        let host = endpoint
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if self.patterns.iter().any(|p| glob_match(p, &host)) {
            Ok(())
        } else {
            Err(format!(
                "endpoint host {host:?} is not allowed by the controller's --allowed-endpoints ({})",
                self.patterns.join(", ")
            ))
        }
    }
}

/// `*` matches any (possibly empty) run of characters; everything else literally.
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn default_allows_provider_domains_only() {
        let p = EndpointPolicy::default();
        assert!(p
            .check(&url("https://cdb.ap-shanghai-fsi.tencentcloudapi.com"))
            .is_ok());
        assert!(p
            .check(&url("https://rds.cn-north-4.myhuaweicloud.com"))
            .is_ok());
        assert!(p.check(&url("https://cdb.api.qcloud.com")).is_ok());
        assert!(p
            .check(&url("https://rds-vpc.cn-hangzhou.aliyuncs.com"))
            .is_ok());
        let err = p
            .check(&url("https://tencentcloudapi.com.evil.example"))
            .unwrap_err();
        assert!(err.contains("not allowed"), "{err}");
        assert!(
            p.check(&url("http://127.0.0.1:8080")).is_err(),
            "loopback needs opting in"
        );
    }

    #[test]
    fn aws_endpoints_are_allowed_by_default() {
        let p = EndpointPolicy::default();
        for ok in [
            "https://rds.us-east-1.amazonaws.com",
            "https://rds-fips.us-gov-west-1.amazonaws.com",
            "https://rds.cn-north-1.amazonaws.com.cn",
        ] {
            assert!(p.check(&url(ok)).is_ok(), "{ok}");
        }
        assert!(p.check(&url("https://amazonaws.com.evil.example")).is_err());
    }

    #[test]
    fn azure_resource_manager_is_allowed_by_default() {
        let p = EndpointPolicy::default();
        for ok in [
            "https://management.azure.com",
            "https://management.usgovcloudapi.net",
            "https://management.chinacloudapi.cn",
        ] {
            assert!(p.check(&url(ok)).is_ok(), "{ok}");
        }
        assert!(p
            .check(&url("https://management.azure.com.evil.example"))
            .is_err());
        assert!(p.check(&url("https://evil.azure.com")).is_err());
    }

    #[test]
    fn explicit_patterns() {
        let p = EndpointPolicy::new([
            "127.0.0.1".to_string(),
            "*.corp.example".to_string(),
            "::1".to_string(),
        ]);
        assert!(p.check(&url("http://127.0.0.1:9000")).is_ok());
        assert!(p.check(&url("http://[::1]:9000")).is_ok());
        assert!(p.check(&url("https://db.corp.example")).is_ok());
        assert!(p.check(&url("https://corp.example")).is_err());
    }

    #[test]
    fn glob() {
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(glob_match("*", "anything"));
        assert!(!glob_match("a*b", "ab-x"));
        assert!(glob_match("a*b", "ab"));
        assert!(!glob_match("a*a", "a"));
    }
}
