//! The hosts the clients and the STS exchanges build, compared with the official SDKs'
//! answers for every region the SDKs list: `crates/providers/data/sdk-endpoints.tsv`,
//! written by `scripts/gen-endpoints.py` from each SDK's own endpoint resolver (botocore,
//! the Huawei Cloud SDK's region classes, the Alibaba Cloud clients' endpoint maps, the
//! Tencent Cloud clients, azure-identity and msrestazure). Regenerate it with that script;
//! it needs no network at test time.

use clouddb_api::{ProviderApi, ProviderKind};
use url::Url;

use crate::identity::{fixtures, StsEndpoints};

/// One SDK answer: provider, service, region, URL.
struct Answer {
    provider: &'static str,
    service: &'static str,
    region: &'static str,
    url: &'static str,
}

fn answers(provider: &str) -> Vec<Answer> {
    let all: Vec<Answer> = include_str!("../data/sdk-endpoints.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            let mut next = || f.next().unwrap_or_else(|| panic!("short line {l:?}"));
            Answer {
                provider: next(),
                service: next(),
                region: next(),
                url: next(),
            }
        })
        .collect();
    let picked: Vec<Answer> = all.into_iter().filter(|a| a.provider == provider).collect();
    assert!(!picked.is_empty(), "no {provider} answers in the snapshot");
    picked
}

/// `https://host` of a URL, no path: how the SDKs write an endpoint.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Mismatches as `service region: ours != sdk`, empty when every answer agrees.
fn compare(provider: &str, ours: impl Fn(&Answer) -> Option<String>) -> Vec<String> {
    answers(provider)
        .iter()
        .filter_map(|a| {
            let built = ours(a)?;
            (built != a.url).then(|| format!("{} {}: {built} != {}", a.service, a.region, a.url))
        })
        .collect()
}

#[test]
fn aws_rds_and_sts_hosts_are_botocores_in_every_region() {
    let regions: Vec<&str> = answers("aws").iter().map(|a| a.region).collect();
    for partition in [
        "us-iso-east-1",
        "us-isob-east-1",
        "eusc-de-east-1",
        "cn-north-1",
    ] {
        assert!(
            regions.contains(&partition),
            "{partition} missing from the snapshot"
        );
    }
    let wrong = compare("aws", |a| {
        let url = match a.service {
            "rds" => crate::aws::default_endpoint(a.region),
            // The exchange's own endpoint function, as the STS call uses it.
            _ => {
                let identity = crate::identity::FederatedIdentity {
                    region: Some(a.region.into()),
                    ..fixtures::identity(ProviderKind::Aws, "sts.amazonaws.com")
                };
                crate::identity::aws::endpoint(&identity, &StsEndpoints::default())
            }
        };
        Some(origin(
            &url.unwrap_or_else(|e| panic!("{}: {e:?}", a.region)),
        ))
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn huawei_rds_taurusdb_and_iam_hosts_are_the_sdks() {
    let wrong = compare("huawei", |a| {
        let url = match a.service {
            "rds" => crate::huawei::endpoints::default_endpoint("rds", a.region),
            "taurusdb" => crate::huawei::endpoints::default_endpoint("taurusdb", a.region),
            "iam" => {
                let identity = crate::identity::FederatedIdentity {
                    region: Some(a.region.into()),
                    ..fixtures::identity(ProviderKind::Huawei, "client")
                };
                crate::identity::huawei::endpoint(&identity, &StsEndpoints::default())
                    .unwrap_or_else(|e| panic!("{e:?}"))
            }
            // The core's IAM table, which the SDK's own token exchange reads: it lacks
            // Huawei Cloud Europe (the SDK would send `eu-west-101` tokens to the global
            // host, which does not know European accounts); the IAM service table has it.
            "iam-core" if a.region == "eu-west-101" => return None,
            "iam-core" => crate::huawei::endpoints::iam_endpoint(Some(a.region)),
            other => panic!("unknown service {other}"),
        };
        Some(origin(&url))
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Regions outside the tables: the SDK's global IAM host, the RDS host pattern.
    assert_eq!(
        origin(&crate::huawei::endpoints::iam_endpoint(Some("xx-new-1"))),
        "https://iam.myhuaweicloud.com"
    );
}

#[test]
fn alibaba_rds_polardb_and_sts_hosts_are_the_sdks() {
    let wrong = compare("alibaba", |a| {
        let url = match a.service {
            "rds" => crate::alibaba::endpoints::default_endpoint(ProviderApi::AlibabaRds, a.region),
            "polardb" => {
                crate::alibaba::endpoints::default_endpoint(ProviderApi::PolarDb, a.region)
            }
            _ => {
                let identity = crate::identity::FederatedIdentity {
                    region: Some(a.region.into()),
                    ..fixtures::identity(ProviderKind::Alibaba, "sts.aliyuncs.com")
                };
                crate::identity::alibaba::endpoint(&identity, &StsEndpoints::default())
                    .unwrap_or_else(|e| panic!("{e:?}"))
            }
        };
        Some(origin(&url))
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn tencent_hosts_are_the_sdks_but_in_the_financial_regions() {
    let wrong = compare("tencent", |a| {
        let url = match a.service {
            // The SDK sends every region to `cdb.tencentcloudapi.com`; Tencent's API
            // documentation requires the regional host in the isolated `*-fsi` regions.
            "cdb" if a.region.ends_with("-fsi") => return None,
            "cdb" => crate::tencent::default_endpoint(a.region),
            _ => crate::identity::tencent::endpoint(&StsEndpoints::default())
                .unwrap_or_else(|e| panic!("{e:?}")),
        };
        Some(origin(&url))
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn azure_clouds_are_azure_identitys_and_msrestazures() {
    use crate::azure::endpoints::AzureCloud;
    let wrong = compare("azure", |a| {
        let cloud = AzureCloud::ALL
            .into_iter()
            .find(|c| c.name() == a.region)
            .unwrap_or_else(|| panic!("unknown cloud {}", a.region));
        Some(match a.service {
            "authority" => cloud.authority_host().to_string(),
            _ => cloud.arm_host().to_string(),
        })
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}
