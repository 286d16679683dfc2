//! Which `spec.endpoint` overrides the controller will send signed requests to.
//!
//! A CloudDbJob author chooses the endpoint, and the controller signs what it sends there
//! with the credentials of the job's namespace, session tokens attached (and for Google
//! Cloud and Azure with a bearer token, which is itself the credential). A server of the
//! author's own would collect them, so an override must name a host this policy allows.
//!
//! # The default: the API hosts the provider clients build
//!
//! By default an override may only name a host one of the provider clients builds itself
//! ([`default_patterns`] lists them as patterns):
//!
//! - a host without a region, [`GLOBAL_HOSTS`]: `cdb.tencentcloudapi.com`,
//!   `cdb.api.qcloud.com`, `rds.aliyuncs.com`, `polardb.aliyuncs.com`,
//!   `sqladmin.googleapis.com`, and Azure Resource Manager in the public, US Government and
//!   China clouds;
//! - a regional host `<service>.<region>.<domain>`, [`REGIONAL_HOSTS`]: a service label a
//!   client builds under that domain (`rds`, `gaussdb`, `rds-vpc`, ...) followed by one
//!   region label that starts with one of the cloud's region-name prefixes (`us-`, `cn-`,
//!   ...), e.g. `rds.us-east-1.amazonaws.com`, `gaussdb.cn-north-4.myhuaweicloud.com`,
//!   `cdb.ap-shanghai-fsi.tencentcloudapi.com`, and the AWS partitions' own domains
//!   (`rds.us-iso-east-1.c2s.ic.gov`, `rds.eusc-de-east-1.amazonaws.eu`, ...).
//!
//! Whole cloud domains are not allowed: under `amazonaws.com`, `aliyuncs.com`,
//! `myhuaweicloud.com` and `googleapis.com` live hosts that any cloud customer can put a
//! server or content of their own behind, with the cloud's valid certificate: API Gateway
//! `<id>.execute-api.<region>.amazonaws.com`, load balancers
//! `<name>.<region>.elb.amazonaws.com`, Function Compute
//! `<account>.<region>.fc.aliyuncs.com`, buckets `<bucket>.s3.amazonaws.com`,
//! `<bucket>.oss-<region>.aliyuncs.com`, `<bucket>.obs.myhuaweicloud.com`,
//! `<bucket>.storage.googleapis.com`, and more. A bucket may well be called `rds`: that is
//! why a region label must start with a region prefix rather than be any label
//! (`rds.s3.amazonaws.com`, `rds.oss-cn-hangzhou.aliyuncs.com` are refused).
//!
//! The policy only applies to overrides: a job without `spec.endpoint` uses its client's
//! default host in any region. An override naming a region whose prefix is not listed here
//! (a new geography) needs `--allowed-endpoints` until the list learns it.
//!
//! # Patterns
//!
//! A pattern is compared with the whole host (lowercase; IPv6 without brackets; no port):
//!
//! - `*` matches any run of characters within one DNS label, never a dot:
//!   `rds.*.amazonaws.com` matches `rds.us-east-1.amazonaws.com` but not
//!   `rds.foo.s3.amazonaws.com`; `rds.us-*.amazonaws.com` matches
//!   `rds.us-gov-west-1.amazonaws.com`; `10.0.0.*` matches `10.0.0.7`.
//! - A leading `**.` matches one or more whole labels, the explicit "whole domain" choice:
//!   `**.corp.example` matches `db.corp.example` and `a.b.corp.example`, not `corp.example`
//!   itself. `**` alone matches every host (no policy at all). Anywhere else `**` is `*`.
//! - Anything else matches itself: `127.0.0.1`, `::1`, `db.corp.example`.
//!
//! An installer adds patterns with `--allowed-endpoints` (chart value `allowedEndpoints`);
//! they extend the default list ([`EndpointPolicy::with_defaults`]) and cannot shrink it.
//! Earlier versions let `*` match dots too: a pattern such as `*.corp.example` written then
//! for a whole domain is `**.corp.example` now.

use url::Url;

/// AWS region-name prefixes outside China: the `aws` and `aws-us-gov` partitions' region
/// pattern (`^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$` in the SDKs' `partitions.json`). The
/// client builds `rds.<region>.amazonaws.com` for these.
pub const AWS_REGIONS: &[&str] = &["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"];
/// AWS China (`aws-cn`, `^cn-\w+-\d+$`): the client builds `rds.<region>.amazonaws.com.cn`.
pub const AWS_CHINA_REGIONS: &[&str] = &["cn"];
/// Alibaba Cloud region-name prefixes (`cn-hangzhou`, `ap-southeast-1`, `us-east-1`,
/// `eu-central-1`, `me-east-1`, `na-south-1`).
pub const ALIBABA_REGIONS: &[&str] = &["cn", "ap", "us", "eu", "me", "na"];
/// Huawei Cloud region-name prefixes (the SDKs' region tables: `cn-north-4`,
/// `ap-southeast-1`, `af-south-1`, `la-north-2`, `na-mexico-1`, `sa-brazil-1`, `tr-west-1`,
/// `me-east-1`, `ru-northwest-2`, `ae-ad-1`, `my-kualalumpur-1`, `eu-west-0`).
pub const HUAWEI_REGIONS: &[&str] = &[
    "cn", "ap", "af", "la", "na", "sa", "tr", "me", "ru", "ae", "my", "eu",
];
/// Tencent Cloud region-name prefixes (`ap-guangzhou`, `ap-shanghai-fsi`,
/// `na-siliconvalley`, `eu-frankfurt`, `sa-saopaulo`).
pub const TENCENT_REGIONS: &[&str] = &["ap", "na", "eu", "sa"];

/// The service labels of the Huawei hosts: RDS and the three TaurusDB host names of the
/// official SDK's region table (`huawei::endpoints`).
const HUAWEI_SERVICES: &[&str] = &["rds", "gaussdb", "gaussdbformysql", "gaussdb-mysql"];

/// API hosts without a region label, each built by a client.
pub const GLOBAL_HOSTS: &[&str] = &[
    // tencent::default_endpoint, every region but the `*-fsi` ones.
    "cdb.tencentcloudapi.com",
    // tencent_legacy::default_endpoint (API 2.0).
    "cdb.api.qcloud.com",
    // alibaba::endpoints::default_host: the SDKs' endpoint maps (alibaba::regions).
    "rds.aliyuncs.com",
    "polardb.aliyuncs.com",
    // gcp::DEFAULT_ENDPOINT (Cloud SQL Admin API).
    "sqladmin.googleapis.com",
    // azure::endpoints::AzureCloud: Resource Manager in the public, US Government and China
    // clouds.
    "management.azure.com",
    "management.usgovcloudapi.net",
    "management.chinacloudapi.cn",
];

/// One family of regional API hosts, `<service>.<region>.<domain>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionalHosts {
    /// The first label: a service host name the client builds under `domain`.
    pub services: &'static [&'static str],
    /// The region label starts with one of these prefixes and a `-`.
    pub region_prefixes: &'static [&'static str],
    pub domain: &'static str,
}

/// The regional API hosts the clients build.
pub const REGIONAL_HOSTS: &[RegionalHosts] = &[
    // tencent::default_endpoint: `cdb.<region>` for the financial regions (`*-fsi`); Tencent
    // serves the same regional host for every region.
    RegionalHosts {
        services: &["cdb"],
        region_prefixes: TENCENT_REGIONS,
        domain: "tencentcloudapi.com",
    },
    // huawei::endpoints::default_endpoint (RDS and TaurusDB).
    RegionalHosts {
        services: HUAWEI_SERVICES,
        region_prefixes: HUAWEI_REGIONS,
        domain: "myhuaweicloud.com",
    },
    // Huawei Cloud Europe (`eu-west-101`): the SDK's region tables name its RDS host under
    // `myhuaweicloud.eu` (and no TaurusDB there).
    RegionalHosts {
        services: &["rds"],
        region_prefixes: &["eu"],
        domain: "myhuaweicloud.eu",
    },
    // alibaba::endpoints::default_host: `rds.<region>` and `polardb.<region>` outside the
    // central regions, `rds-vpc.cn-hangzhou-finance`.
    RegionalHosts {
        services: &["rds", "rds-vpc", "polardb"],
        region_prefixes: ALIBABA_REGIONS,
        domain: "aliyuncs.com",
    },
    // aws::default_endpoint.
    RegionalHosts {
        services: &["rds"],
        region_prefixes: AWS_REGIONS,
        domain: "amazonaws.com",
    },
    RegionalHosts {
        services: &["rds"],
        region_prefixes: AWS_CHINA_REGIONS,
        domain: "amazonaws.com.cn",
    },
    // The other partitions of botocore's data (`aws::partition`): the ISO partitions
    // (`us-iso-*`, `us-isob-*`, `us-isof-*`, `eu-isoe-*`) and the European Sovereign Cloud
    // (`eusc-de-*`), each under a domain of its own.
    RegionalHosts {
        services: &["rds"],
        region_prefixes: &["us"],
        domain: "c2s.ic.gov",
    },
    RegionalHosts {
        services: &["rds"],
        region_prefixes: &["us"],
        domain: "sc2s.sgov.gov",
    },
    RegionalHosts {
        services: &["rds"],
        region_prefixes: &["us"],
        domain: "csp.hci.ic.gov",
    },
    RegionalHosts {
        services: &["rds"],
        region_prefixes: &["eu"],
        domain: "cloud.adc-e.uk",
    },
    RegionalHosts {
        services: &["rds"],
        region_prefixes: &["eusc"],
        domain: "amazonaws.eu",
    },
];

/// The default allow-list as patterns: every [`GLOBAL_HOSTS`] entry, then
/// `<service>.<prefix>-*.<domain>` for every [`REGIONAL_HOSTS`] family.
pub fn default_patterns() -> Vec<String> {
    let regional = REGIONAL_HOSTS.iter().flat_map(|family| {
        family.services.iter().flat_map(move |service| {
            family
                .region_prefixes
                .iter()
                .map(move |prefix| format!("{service}.{prefix}-*.{}", family.domain))
        })
    });
    GLOBAL_HOSTS
        .iter()
        .map(|host| host.to_string())
        .chain(regional)
        .collect()
}

/// Host allow-list for endpoint overrides; see the module documentation for the patterns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// [`default_patterns`], or nothing for a policy of explicit patterns only.
    builtin: Vec<String>,
    /// The installer's patterns (`--allowed-endpoints`), normalized.
    extra: Vec<String>,
}

impl Default for EndpointPolicy {
    /// The provider clients' own API hosts, nothing else.
    fn default() -> Self {
        EndpointPolicy::with_defaults(std::iter::empty())
    }
}

impl EndpointPolicy {
    /// Exactly `patterns`, without the default list.
    pub fn new(patterns: impl IntoIterator<Item = String>) -> Self {
        EndpointPolicy {
            builtin: Vec::new(),
            extra: normalize(patterns),
        }
    }

    /// The default list ([`default_patterns`]) plus the installer's `patterns`: what
    /// `run --allowed-endpoints` builds.
    pub fn with_defaults(patterns: impl IntoIterator<Item = String>) -> Self {
        EndpointPolicy {
            builtin: default_patterns(),
            extra: normalize(patterns),
        }
    }

    /// Checks an already-parsed override (scheme rules are enforced by `parse_endpoint`).
    /// The refusal names the host and the installer's patterns, not the whole default list.
    pub fn check(&self, endpoint: &Url) -> Result<(), String> {
        let host = endpoint
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if self
            .builtin
            .iter()
            .chain(&self.extra)
            .any(|p| glob_match(p, &host))
        {
            return Ok(());
        }
        let extra = self.extra.join(", ");
        Err(match (self.builtin.is_empty(), self.extra.is_empty()) {
            (false, true) => format!(
                "endpoint host {host:?} is not allowed: it is not one of the providers' API hosts, and the controller's --allowed-endpoints adds none"
            ),
            (false, false) => format!(
                "endpoint host {host:?} is not allowed: it is neither one of the providers' API hosts nor on the controller's --allowed-endpoints ({extra})"
            ),
            (true, _) => format!(
                "endpoint host {host:?} is not allowed by the controller's --allowed-endpoints ({extra})"
            ),
        })
    }
}

/// Trimmed, lowercase, without IPv6 brackets (hosts are compared without them); empty
/// patterns dropped.
fn normalize(patterns: impl IntoIterator<Item = String>) -> Vec<String> {
    patterns
        .into_iter()
        .map(|p| {
            p.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// Whether `host` matches `pattern`: `**` every host; a leading `**.` one or more whole
/// labels; otherwise label by label, `*` within one label.
fn glob_match(pattern: &str, host: &str) -> bool {
    if pattern == "**" {
        return true;
    }
    match pattern.strip_prefix("**.") {
        // Skip one or more leading labels (up to and including a dot), match the rest.
        Some(rest) => host
            .match_indices('.')
            .any(|(dot, _)| labels_match(rest, &host[dot + 1..])),
        None => labels_match(pattern, host),
    }
}

/// As many labels in `host` as in `pattern`, each matching its pattern label.
fn labels_match(pattern: &str, host: &str) -> bool {
    let (mut pattern, mut host) = (pattern.split('.'), host.split('.'));
    loop {
        match (pattern.next(), host.next()) {
            (None, None) => return true,
            (Some(p), Some(h)) if label_match(p, h) => {}
            _ => return false,
        }
    }
}

/// One label: `*` matches any (possibly empty) run of characters, everything else itself.
/// Neither side holds a dot, so no `*` can reach into another label.
fn label_match(pattern: &str, label: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == label;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !label.starts_with(first) || label.len() < first.len() + last.len() || !label.ends_with(last)
    {
        return false;
    }
    let mut rest = &label[first.len()..label.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
#[path = "endpoints_tests.rs"]
mod tests;
