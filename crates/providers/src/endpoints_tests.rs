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
    let tables = crate::huawei::regions::RDS_HOSTS
        .iter()
        .chain(crate::huawei::regions::TAURUSDB_HOSTS)
        .map(|(region, _)| *region);
    for region in huawei.into_iter().chain(tables) {
        for api in ["rds", "taurusdb", "taurusdb-legacy"] {
            urls.push(crate::huawei::endpoints::default_endpoint(api, region));
        }
    }
    use crate::alibaba::regions::{POLARDB_HOSTS, RDS_HOSTS};
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
    for region in RDS_HOSTS
        .iter()
        .chain(POLARDB_HOSTS)
        .map(|(region, _)| *region)
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
    for partition in crate::aws::partition::PARTITIONS {
        for region in partition.regions {
            urls.push(crate::aws::default_endpoint(region).unwrap());
        }
    }
    urls.push(url(crate::gcp::DEFAULT_ENDPOINT));
    for cloud in crate::azure::endpoints::AzureCloud::ALL {
        urls.push(cloud.arm_endpoint());
    }
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
    // The sovereign clouds' hosts the SDKs name, and the README's TaurusDB example.
    for host in [
        "management.usgovcloudapi.net",
        "management.chinacloudapi.cn",
        "rds.us-iso-east-1.c2s.ic.gov",
        "rds.us-isob-east-1.sc2s.sgov.gov",
        "rds.eusc-de-east-1.amazonaws.eu",
        "rds.eu-west-101.myhuaweicloud.eu",
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
    for host in GLOBAL_HOSTS {
        assert!(
            built.iter().any(|b| b == host),
            "{host} is on the list but no client builds it"
        );
    }
    for family in REGIONAL_HOSTS {
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
                (2..=4).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_lowercase()),
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
        "gaussdb.eu-west-101.myhuaweicloud.eu",
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
