//! Workload identity: a job names a ServiceAccount of its own namespace and a cloud role; the
//! operator asks Kubernetes for a short-lived token of that ServiceAccount (TokenRequest,
//! with the cloud's audience), exchanges it at the cloud's STS for temporary credentials,
//! caches them per (ServiceAccount, role) until shortly before they expire, and signs with
//! them. No static key is stored anywhere.
//!
//! This crate has no Kubernetes client: the token comes through [`ServiceAccountTokens`],
//! which the operator implements with the TokenRequest API. The STS endpoints are the
//! clouds' own or the installer's overrides, never something a job names, because the
//! ServiceAccount token is itself a credential for that audience.
//!
//! Exchanges implemented: AWS `AssumeRoleWithWebIdentity` ([`aws`]), Alibaba Cloud
//! `AssumeRoleWithOIDC` (RRSA, [`alibaba`]), Huawei Cloud IAM's OpenID Connect token
//! ([`huawei`]), Tencent Cloud `AssumeRoleWithWebIdentity` ([`tencent`]), Azure's federated
//! client assertion ([`azure`]), Google workload identity federation with service-account
//! impersonation ([`gcp`]).

pub mod alibaba;
pub mod aws;
pub mod azure;
mod federated;
pub mod gcp;
pub mod huawei;
pub mod tencent;
pub mod workload;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use url::Url;

use clouddb_api::ProviderKind;

use crate::secret::SecretString;
use crate::ProviderError;

pub use federated::FederatedProvider;
pub use workload::{default_audience, FederatedIdentity};

/// Test fixtures shared by the exchanges' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// An identity of `team-a/reader` for `provider`, every optional field empty.
    pub fn identity(provider: ProviderKind, audience: &str) -> FederatedIdentity {
        FederatedIdentity {
            provider,
            namespace: "team-a".into(),
            service_account: "reader".into(),
            role_arn: None,
            oidc_provider: None,
            audience: audience.into(),
            region: None,
            project_id: None,
            tenant_id: None,
            client_id: None,
            google_service_account: None,
        }
    }

    /// A form body's pairs, decoded.
    pub fn form_pairs(body: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect()
    }

    /// The value of `key` among `pairs`.
    pub fn field<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Short-lived ServiceAccount tokens (the operator implements this with TokenRequest).
#[async_trait]
pub trait ServiceAccountTokens: Send + Sync {
    /// A token of `namespace`/`name` for `audience`, valid for about `lifetime`. A missing
    /// ServiceAccount or a refused request is a permanent error naming it.
    async fn token(
        &self,
        namespace: &str,
        name: &str,
        audience: &str,
        lifetime: Duration,
    ) -> Result<SecretString, ProviderError>;
}

/// STS endpoints set by the installer (`--sts-endpoint aws=https://...`), per provider.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StsEndpoints {
    overrides: HashMap<ProviderKind, Url>,
}

impl StsEndpoints {
    /// Parses `provider=url` pairs.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut overrides = HashMap::new();
        for pair in pairs {
            let (provider, url) = pair
                .split_once('=')
                .ok_or_else(|| format!("--sts-endpoint {pair:?}: expected provider=url"))?;
            let provider: ProviderKind = provider.trim().parse()?;
            let url = crate::target::parse_endpoint(url.trim())
                .map_err(|e| format!("--sts-endpoint {pair:?}: {e}"))?;
            overrides.insert(provider, url);
        }
        Ok(StsEndpoints { overrides })
    }

    /// The override for `provider`, if the installer set one.
    pub fn get(&self, provider: ProviderKind) -> Option<&Url> {
        self.overrides.get(&provider)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(role: Option<&str>) -> clouddb_api::WorkloadIdentity {
        clouddb_api::WorkloadIdentity {
            service_account_name: "db-tracker".into(),
            role_arn: role.map(String::from),
            oidc_provider: None,
            audience: None,
            tenant_id: None,
            client_id: None,
            google_service_account: None,
        }
    }

    #[test]
    fn an_aws_identity_defaults_its_audience_and_needs_a_role() {
        let id = FederatedIdentity::new(
            ProviderKind::Aws,
            "team-a",
            &spec(Some("arn:aws:iam::123456789012:role/reader")),
            Some("us-east-1"),
            None,
        )
        .unwrap();
        assert_eq!(id.audience, "sts.amazonaws.com");
        assert_eq!(id.subject(), "system:serviceaccount:team-a:db-tracker");
        assert_eq!(id.session_name(), "clouddb.team-a.db-tracker");
        let err = FederatedIdentity::new(ProviderKind::Aws, "team-a", &spec(None), None, None);
        assert!(err.unwrap_err().contains("roleArn"));
        let err = FederatedIdentity::new(ProviderKind::Huawei, "team-a", &spec(None), None, None);
        assert!(err
            .unwrap_err()
            .contains("identity.oidcProvider is required"));
        let mut huawei = spec(None);
        huawei.oidc_provider = Some("idp".into());
        let err = FederatedIdentity::new(ProviderKind::Huawei, "team-a", &huawei, None, None);
        assert!(err.unwrap_err().contains("identity.audience is required"));
        let err = FederatedIdentity::new(ProviderKind::Tencent, "team-a", &spec(None), None, None);
        assert!(err.unwrap_err().contains("identity.roleArn is required"));
        let err = FederatedIdentity::new(
            ProviderKind::TencentLegacy,
            "team-a",
            &spec(None),
            None,
            None,
        );
        assert!(err
            .unwrap_err()
            .contains("not supported for provider tencent-legacy"));
    }

    #[test]
    fn session_names_stay_within_what_sts_accepts() {
        let mut id = FederatedIdentity::new(
            ProviderKind::Aws,
            &"n".repeat(63),
            &spec(Some("arn:aws:iam::1:role/r")),
            None,
            None,
        )
        .unwrap();
        id.service_account = "a:b/c".into();
        let name = id.session_name();
        assert!(name.len() <= 64, "{name}");
        assert!(name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)));
    }

    #[test]
    fn sts_endpoints_are_parsed_per_provider() {
        let e = StsEndpoints::parse(["aws=http://127.0.0.1:8086"]).unwrap();
        assert_eq!(
            e.get(ProviderKind::Aws).map(Url::as_str),
            Some("http://127.0.0.1:8086/")
        );
        assert!(e.get(ProviderKind::Alibaba).is_none());
        assert!(StsEndpoints::parse(["aws"]).is_err());
        assert!(StsEndpoints::parse(["oracle=https://x"]).is_err());
        assert!(StsEndpoints::parse(["aws=http://sts.example.com"]).is_err());
    }
}
