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
//!   `cdb.ap-shanghai-fsi.tencentcloudapi.com`.
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

/// API hosts without a region label, each built by a client (or, for Azure's sovereign
/// clouds, the documented override for them).
pub const GLOBAL_HOSTS: &[&str] = &[
    // tencent::default_endpoint, every region but the `*-fsi` ones.
    "cdb.tencentcloudapi.com",
    // tencent_legacy::default_endpoint (API 2.0).
    "cdb.api.qcloud.com",
    // alibaba::endpoints::default_host, RDS_CENTRAL_REGIONS and POLARDB_CENTRAL_REGIONS.
    "rds.aliyuncs.com",
    "polardb.aliyuncs.com",
    // gcp::DEFAULT_ENDPOINT (Cloud SQL Admin API).
    "sqladmin.googleapis.com",
    // azure::endpoints::DEFAULT_ARM_ENDPOINT, and Resource Manager in the US Government and
    // China clouds (the README's `spec.endpoint` for them).
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
    // The same services in Huawei Cloud Europe (`eu-west-101`), whose hosts the official
    // SDK's region table names under `myhuaweicloud.eu`.
    RegionalHosts {
        services: HUAWEI_SERVICES,
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
mod tests {
    use super::*;
    use clouddb_api::ProviderApi;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn allows(policy: &EndpointPolicy, host: &str) -> bool {
        policy.check(&url(&format!("https://{host}/"))).is_ok()
    }

    /// The hosts the provider clients build, from their own endpoint functions and tables,
    /// for a spread of regions of every geography (every region of the clients' tables too).
    fn client_built_hosts() -> Vec<String> {
        let mut urls = Vec::new();
        for region in [
            "ap-guangzhou",
            "ap-singapore",
            "na-siliconvalley",
            "eu-frankfurt",
            "sa-saopaulo",
            "ap-shanghai-fsi",
            "ap-shenzhen-fsi",
            "ap-beijing-fsi",
        ] {
            urls.push(crate::tencent::default_endpoint(region));
        }
        urls.push(crate::tencent_legacy::default_endpoint());
        let huawei = [
            "cn-north-4",
            "cn-east-3",
            "cn-southwest-2",
            "ap-southeast-3",
            "af-south-1",
            "la-north-2",
            "na-mexico-1",
            "sa-brazil-1",
            "tr-west-1",
            "me-east-1",
            "ru-northwest-2",
            "ae-ad-1",
            "my-kualalumpur-1",
            "eu-west-0",
        ];
        let taurusdb = crate::huawei::endpoints::TAURUSDB_HOST_PREFIXES
            .iter()
            .map(|(region, _)| *region);
        for region in huawei.into_iter().chain(taurusdb) {
            for api in ["rds", "taurusdb", "taurusdb-legacy"] {
                urls.push(crate::huawei::endpoints::default_endpoint(api, region));
            }
        }
        use crate::alibaba::endpoints::{POLARDB_CENTRAL_REGIONS, RDS_CENTRAL_REGIONS};
        let alibaba = [
            "cn-hangzhou-finance",
            "cn-shenzhen",
            "cn-chengdu",
            "cn-hongkong",
            "ap-northeast-1",
            "ap-southeast-5",
            "eu-central-1",
            "eu-west-1",
            "me-east-1",
            "me-central-1",
            "na-south-1",
            "us-east-1",
        ];
        for region in RDS_CENTRAL_REGIONS
            .iter()
            .chain(POLARDB_CENTRAL_REGIONS)
            .copied()
            .chain(alibaba)
        {
            for api in [ProviderApi::AlibabaRds, ProviderApi::PolarDb] {
                urls.push(crate::alibaba::endpoints::default_endpoint(api, region));
            }
        }
        for region in [
            "us-east-1",
            "us-west-2",
            "us-gov-west-1",
            "us-gov-east-1",
            "ca-central-1",
            "ca-west-1",
            "eu-west-1",
            "eu-central-2",
            "ap-southeast-7",
            "ap-east-2",
            "sa-east-1",
            "me-central-1",
            "af-south-1",
            "il-central-1",
            "mx-central-1",
            "cn-north-1",
            "cn-northwest-1",
        ] {
            urls.push(crate::aws::default_endpoint(region).unwrap());
        }
        urls.push(url(crate::gcp::DEFAULT_ENDPOINT));
        urls.push(url(crate::azure::endpoints::DEFAULT_ARM_ENDPOINT));
        urls.iter()
            .map(|u| u.host_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn every_host_a_client_builds_is_allowed_by_default() {
        let p = EndpointPolicy::default();
        let built = client_built_hosts();
        for host in &built {
            assert!(allows(&p, host), "{host} is built by a client but refused");
        }
        // Hosts no client builds but the README names as overrides: Azure's sovereign
        // clouds, Huawei Cloud Europe (the SDK's region table), the TaurusDB example.
        for host in [
            "management.usgovcloudapi.net",
            "management.chinacloudapi.cn",
            "rds.eu-west-101.myhuaweicloud.eu",
            "gaussdb.eu-west-101.myhuaweicloud.eu",
            "gaussdbformysql.ap-southeast-1.myhuaweicloud.com",
            "rds-vpc.cn-hangzhou.aliyuncs.com",
        ] {
            assert!(allows(&p, host), "{host}");
        }
        assert!(
            p.check(&url(
                "https://cdb.ap-shanghai-fsi.tencentcloudapi.com:443/prefix/"
            ))
            .is_ok(),
            "port and path play no part"
        );
        assert!(p.check(&url("https://RDS.US-EAST-1.AMAZONAWS.COM")).is_ok());
        assert!(
            p.check(&url("http://127.0.0.1:8080")).is_err(),
            "loopback needs opting in"
        );
    }

    /// The list holds nothing the clients do not build: each fixed host and each regional
    /// family (service label and domain) is built by some client in some region. The
    /// exceptions are the documented overrides of clouds no client table names.
    #[test]
    fn the_default_list_is_no_wider_than_the_clients() {
        let built = client_built_hosts();
        let overrides = [
            "management.usgovcloudapi.net",
            "management.chinacloudapi.cn",
        ];
        for host in GLOBAL_HOSTS {
            assert!(
                built.iter().any(|b| b == host) || overrides.contains(host),
                "{host} is on the list but no client builds it"
            );
        }
        for family in REGIONAL_HOSTS
            .iter()
            .filter(|f| f.domain != "myhuaweicloud.eu")
        {
            for service in family.services {
                let found = built.iter().any(|b| {
                    b.strip_prefix(&format!("{service}."))
                        .and_then(|rest| rest.strip_suffix(&format!(".{}", family.domain)))
                        .is_some_and(|region| !region.contains('.'))
                });
                assert!(
                    found,
                    "no client builds {service}.<region>.{}",
                    family.domain
                );
            }
        }
        // No pattern is a whole domain: at most one `*`, as the tail of a region label that
        // starts with a region prefix (`us-*`).
        for pattern in default_patterns() {
            assert!(!pattern.contains("**"), "{pattern}");
            let star_labels: Vec<&str> = pattern.split('.').filter(|l| l.contains('*')).collect();
            assert!(star_labels.len() <= 1, "{pattern}");
            for label in star_labels {
                let prefix = label
                    .strip_suffix("-*")
                    .unwrap_or_else(|| panic!("{pattern}"));
                assert!(
                    prefix.len() == 2 && prefix.bytes().all(|b| b.is_ascii_lowercase()),
                    "{pattern}"
                );
            }
        }
    }

    /// Hosts under the providers' domains that a cloud customer can put a server or content
    /// of their own behind, with the cloud's certificate (and look-alikes elsewhere).
    #[test]
    fn customer_controllable_hosts_under_the_provider_domains_are_refused() {
        let p = EndpointPolicy::default();
        let refused = [
            // AWS: API Gateway, load balancers, AppSync, PrivateLink endpoint services, EC2
            // public names, Lambda function URLs, and buckets, one called `rds` included.
            "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "name-1234567890.us-east-1.elb.amazonaws.com",
            "internal-name-1234567890.us-east-1.elb.amazonaws.com",
            "name-0123456789abcdef.elb.us-east-1.amazonaws.com",
            "rds.us-east-1.elb.amazonaws.com",
            "abcdefghijklmnopqrstuvwxyz.appsync-api.us-east-1.amazonaws.com",
            "vpce-0123456789abcdef0-abcdefgh.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com",
            "ec2-203-0-113-10.compute-1.amazonaws.com",
            "ec2-203-0-113-10.us-west-2.compute.amazonaws.com",
            "abcdefghijklmnop.lambda-url.us-east-1.on.aws",
            "bucket.s3.us-east-1.amazonaws.com",
            "bucket.s3.amazonaws.com",
            "rds.s3.amazonaws.com",
            "rds.s3.us-east-1.amazonaws.com",
            "rds.foo.s3.amazonaws.com",
            "rds.s3-us-west-2.amazonaws.com",
            "rds.s3-external-1.amazonaws.com",
            "rds.s3-accelerate.amazonaws.com",
            "rds.s3-website-us-east-1.amazonaws.com",
            "rds.s3.dualstack.us-east-1.amazonaws.com",
            "rds.us-east-1.amazonaws.com.attacker.example",
            // AWS China.
            "abcdef1234.execute-api.cn-north-1.amazonaws.com.cn",
            "name-1234567890.cn-north-1.elb.amazonaws.com.cn",
            "bucket.s3.cn-north-1.amazonaws.com.cn",
            "rds.s3.cn-north-1.amazonaws.com.cn",
            "rds.s3.amazonaws.com.cn",
            // Alibaba Cloud: Function Compute, OSS buckets (named `rds`, `polardb`,
            // `rds-vpc` too), Simple Log Service projects, Tablestore instances.
            "1234567890123456.cn-hangzhou.fc.aliyuncs.com",
            "bucket.oss-cn-hangzhou.aliyuncs.com",
            "rds.oss-cn-hangzhou.aliyuncs.com",
            "polardb.oss-ap-southeast-1.aliyuncs.com",
            "rds-vpc.oss-cn-beijing-internal.aliyuncs.com",
            "rds.oss-accelerate.aliyuncs.com",
            "rds.oss.aliyuncs.com",
            "project.cn-hangzhou.log.aliyuncs.com",
            "instance.cn-hangzhou.ots.aliyuncs.com",
            "group-cn-hangzhou.alicloudapi.com",
            "rds.aliyuncs.com.attacker.example",
            // Huawei Cloud: OBS buckets (one called `rds` or `gaussdb`), API Gateway.
            "bucket.obs.cn-north-4.myhuaweicloud.com",
            "rds.obs.cn-north-4.myhuaweicloud.com",
            "rds.obs.myhuaweicloud.com",
            "gaussdb.obs.myhuaweicloud.com",
            "rds.obs-website.cn-north-4.myhuaweicloud.com",
            "bucket.obs.eu-west-101.myhuaweicloud.eu",
            "rds.obs.myhuaweicloud.eu",
            "0123456789abcdef.apic.cn-north-4.huaweicloudapis.com",
            "rds.cn-north-4.myhuaweicloud.com.attacker.example",
            // Google Cloud: Cloud Storage buckets (virtual-hosted, path-style, legacy), Cloud
            // Run, App Engine.
            "bucket.storage.googleapis.com",
            "sqladmin.storage.googleapis.com",
            "storage.googleapis.com",
            "bucket.commondatastorage.googleapis.com",
            "service-abcdefghij-uc.a.run.app",
            "project.appspot.com",
            "sqladmin.googleapis.com.attacker.example",
            // Tencent Cloud: API Gateway, COS buckets (their own domains), look-alikes.
            "service-abcdefgh-1250000000.gz.apigw.tencentcs.com",
            "bucket-1250000000.cos.ap-guangzhou.myqcloud.com",
            "cdb.tencentcloudapi.com.attacker.example",
            "cdb.ap-guangzhou.tencentcloudapi.com.attacker.example",
            "x.cdb.tencentcloudapi.com",
            "cdb.api.qcloud.com.attacker.example",
            "x.cdb.api.qcloud.com",
            // Azure: VM DNS labels, App Service, storage accounts, API Management.
            "name.westeurope.cloudapp.azure.com",
            "app.azurewebsites.net",
            "account.blob.core.windows.net",
            "name.azure-api.net",
            "management.azure.com.attacker.example",
            "x.management.azure.com",
        ];
        for host in refused {
            let err = p.check(&url(&format!("https://{host}"))).expect_err(host);
            assert!(err.contains(&format!("{host:?} is not allowed")), "{err}");
        }
    }

    /// Cloud-run hosts no client builds are not on the default list; the installer can add
    /// them, and that adds nothing else.
    #[test]
    fn other_provider_hosts_are_an_installer_choice() {
        let extra = [
            "sqladmin-psc1.p.googleapis.com",
            "rds-fips.us-gov-west-1.amazonaws.com",
        ];
        let p = EndpointPolicy::default();
        for host in extra.into_iter().chain([
            "rds.us-east-1.api.aws",
            "rds.cn-north-1.amazonaws.com",
            "rds.eu-west-1.amazonaws.com.cn",
            "polardb-vpc.cn-hangzhou.aliyuncs.com",
            "cdb.api.tencentcloudapi.com",
        ]) {
            assert!(!allows(&p, host), "{host}");
        }
        let p = EndpointPolicy::with_defaults([
            "sqladmin-*.p.googleapis.com".to_string(),
            " RDS-FIPS.*.amazonaws.com ".to_string(),
        ]);
        for host in extra {
            assert!(allows(&p, host), "{host}");
        }
        assert!(allows(&p, "rds.us-east-1.amazonaws.com"), "defaults stay");
        assert!(!allows(&p, "rds-fips.x.s3.amazonaws.com"));
        assert!(!allows(&p, "rds.s3.amazonaws.com"));
        assert!(!allows(&p, "sqladmin-x.storage.googleapis.com"));
    }

    #[test]
    fn refusals_name_the_host_and_the_installer_patterns_only() {
        let host = "https://name-1234567890.us-east-1.elb.amazonaws.com";
        let err = EndpointPolicy::default().check(&url(host)).unwrap_err();
        assert_eq!(
            err,
            "endpoint host \"name-1234567890.us-east-1.elb.amazonaws.com\" is not allowed: it is not one of the providers' API hosts, and the controller's --allowed-endpoints adds none"
        );
        let p = EndpointPolicy::with_defaults(["**.corp.example".to_string(), "::1".to_string()]);
        let err = p.check(&url(host)).unwrap_err();
        assert!(
            err.ends_with("nor on the controller's --allowed-endpoints (**.corp.example, ::1)"),
            "{err}"
        );
        let err = EndpointPolicy::new(["127.0.0.1".to_string()])
            .check(&url("https://rds.us-east-1.amazonaws.com"))
            .unwrap_err();
        assert!(
            err.ends_with("is not allowed by the controller's --allowed-endpoints (127.0.0.1)"),
            "{err}"
        );
    }

    #[test]
    fn explicit_patterns() {
        let p = EndpointPolicy::new([
            "127.0.0.1".to_string(),
            "*.corp.example".to_string(),
            "[::1]".to_string(),
            "**.lab.example".to_string(),
            "  ".to_string(),
        ]);
        assert!(p.check(&url("http://127.0.0.1:9000")).is_ok());
        assert!(p.check(&url("http://[::1]:9000")).is_ok());
        assert!(p.check(&url("https://db.corp.example")).is_ok());
        assert!(p.check(&url("https://corp.example")).is_err());
        assert!(
            p.check(&url("https://a.db.corp.example")).is_err(),
            "`*` stays within one label"
        );
        assert!(p.check(&url("https://a.b.lab.example")).is_ok());
        assert!(p.check(&url("https://lab.example")).is_err());
        assert!(
            p.check(&url("https://rds.us-east-1.amazonaws.com"))
                .is_err(),
            "`new` has no default list"
        );
    }

    #[test]
    fn glob() {
        // `*`: any run within one label.
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(glob_match("*", "anything"));
        assert!(!glob_match("*", "any.thing"));
        assert!(!glob_match("a*b", "ab-x"));
        assert!(glob_match("a*b", "ab"));
        assert!(!glob_match("a*a", "a"));
        assert!(glob_match("*.corp.example", "db.corp.example"));
        assert!(!glob_match("*.corp.example", "a.db.corp.example"));
        assert!(!glob_match("*.corp.example", "corp.example"));
        assert!(glob_match(
            "rds.*.amazonaws.com",
            "rds.us-east-1.amazonaws.com"
        ));
        assert!(!glob_match(
            "rds.*.amazonaws.com",
            "rds.foo.s3.amazonaws.com"
        ));
        assert!(glob_match(
            "rds.us-*.amazonaws.com",
            "rds.us-gov-west-1.amazonaws.com"
        ));
        assert!(!glob_match(
            "rds.us-*.amazonaws.com",
            "rds.s3-us-west-2.amazonaws.com"
        ));
        assert!(!glob_match(
            "rds.us-*.amazonaws.com",
            "rds.us-east-1.amazonaws.com.cn"
        ));
        assert!(glob_match("10.0.0.*", "10.0.0.7"));
        assert!(!glob_match("10.0.0.*", "10.0.0.7.nip.io"));
        assert!(glob_match("a.*.c", "a..c"), "an empty label is a label");
        // A leading `**.`: one or more whole labels.
        assert!(glob_match("**.corp.example", "db.corp.example"));
        assert!(glob_match("**.corp.example", "a.b.corp.example"));
        assert!(!glob_match("**.corp.example", "corp.example"));
        assert!(!glob_match("**.corp.example", "evilcorp.example"));
        assert!(!glob_match("**.corp.example", "db.corp.example.evil"));
        assert!(!glob_match("**.corp.example", "db.corp.example."));
        assert!(glob_match("**.*.corp.example", "a.b.corp.example"));
        assert!(!glob_match("**.*.corp.example", "b.corp.example"));
        // `**` alone: every host; anywhere else it is `*`.
        assert!(glob_match("**", "a.b.c"));
        assert!(glob_match("**", "::1"));
        assert!(glob_match("a.**.c", "a.b.c"));
        assert!(!glob_match("a.**.c", "a.b.b.c"));
        assert!(glob_match("**x.example", "abx.example"));
        assert!(!glob_match("**x.example", "a.bx.example"));
    }
}
