//! The standard set of CloudDbInstance listers: one per provider with a list call by
//! instance. Apart from `discovery` (the contract), so that the contract depends on no
//! provider and the providers' list modules on the contract only.

use std::sync::Arc;

use crate::discovery::ListerSet;
use crate::http::HttpClient;
use crate::ProviderKind;

/// Every provider that can list an instance's jobs, on one shared HTTP client (the same
/// input as the job providers): Tencent API 3.0, Alibaba, AWS, Google Cloud SQL and
/// Huawei RDS. Tencent API 2.0 and Azure have no list call by instance and no lister.
pub fn standard(http: &HttpClient) -> ListerSet {
    ListerSet::new()
        .with(
            ProviderKind::Tencent,
            Arc::new(crate::tencent::TencentProvider::new(http.clone())),
        )
        .with(
            ProviderKind::Alibaba,
            Arc::new(crate::alibaba::AlibabaProvider::new(http.clone())),
        )
        .with(
            ProviderKind::Aws,
            Arc::new(crate::aws::AwsProvider::new(http.clone())),
        )
        .with(
            ProviderKind::Gcp,
            Arc::new(crate::gcp::GcpProvider::new(http.clone())),
        )
        .with(
            ProviderKind::Huawei,
            Arc::new(crate::huawei::HuaweiProvider::new(http.clone())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::SecretString;
    use crate::discovery::{InstanceTarget, JobLister};
    use crate::{Credentials, ErrorReason};
    use clouddb_api::ProviderApi;
    use jiff::Timestamp;

    fn target(provider: ProviderKind, api: ProviderApi) -> InstanceTarget {
        InstanceTarget {
            provider,
            api,
            instance_id: "db-1".into(),
            region: Some("r".into()),
            project_id: None,
            subscription_id: None,
            endpoint: None,
        }
    }

    #[test]
    fn the_standard_set_lists_every_provider_with_a_list_call() {
        let http = crate::http::HttpClient::new(&Default::default()).unwrap();
        let set = standard(&http);
        for kind in [
            ProviderKind::Tencent,
            ProviderKind::Alibaba,
            ProviderKind::Aws,
            ProviderKind::Gcp,
            ProviderKind::Huawei,
        ] {
            assert!(set.lists(kind), "{kind}");
        }
        assert!(!set.lists(ProviderKind::TencentLegacy));
        assert!(!set.lists(ProviderKind::Azure));
    }

    #[tokio::test]
    async fn a_provider_without_lister_is_refused_before_any_call() {
        let http = crate::http::HttpClient::new(&Default::default()).unwrap();
        let creds = Credentials::Bearer(SecretString::new("t"));
        let e = standard(&http)
            .list_jobs(
                &target(
                    ProviderKind::Azure,
                    ProviderApi::default_for(ProviderKind::Azure),
                ),
                &creds,
                Timestamp::UNIX_EPOCH,
            )
            .await
            .unwrap_err();
        assert_eq!(e.reason, ErrorReason::UnsupportedProvider);
        let mut blank = target(ProviderKind::Tencent, ProviderApi::DescribeTasks);
        blank.instance_id = "  ".into();
        assert_eq!(
            blank.require_instance_id().unwrap_err().code,
            "MissingInstanceId"
        );
        let e = standard(&http)
            .list_jobs(&blank, &creds, Timestamp::UNIX_EPOCH)
            .await
            .unwrap_err();
        assert_eq!(e.code, "MissingInstanceId");
    }
}
