//! [`FederatedIdentity`]: the workload identity a job's spec names, and the audiences the
//! clouds' STS expect. Its own module, depending on no exchange, so that
//! [`crate::credentials`] can hold an identity while the exchanges ([`super`]) produce
//! credentials.

use clouddb_api::ProviderKind;

/// The audience Alibaba Cloud's STS expects by default.
pub const ALIBABA_AUDIENCE: &str = "sts.aliyuncs.com";
/// The audience Tencent Cloud's STS expects by default.
pub const TENCENT_AUDIENCE: &str = "sts.cloud.tencent.com";
/// The audience Entra expects of a federated client assertion.
pub const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// What a Google workload identity pool provider's audience starts with.
pub const GCP_AUDIENCE_PREFIX: &str = "//iam.googleapis.com/";

/// The audience of a Google workload identity pool provider (its full resource name).
pub fn gcp_audience(provider: &str) -> String {
    format!(
        "{GCP_AUDIENCE_PREFIX}{}",
        provider.trim_start_matches(GCP_AUDIENCE_PREFIX)
    )
}

/// A job's workload identity, resolved from its spec: who it runs as and what it assumes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FederatedIdentity {
    pub provider: ProviderKind,
    /// The job's namespace, which is the ServiceAccount's.
    pub namespace: String,
    pub service_account: String,
    /// The cloud role to assume (AWS IAM or Alibaba RAM role ARN).
    pub role_arn: Option<String>,
    /// The cloud's registration of the cluster's issuer (Alibaba OIDC provider ARN).
    pub oidc_provider: Option<String>,
    /// The audience of the ServiceAccount token.
    pub audience: String,
    /// The region whose STS is asked (AWS uses the regional endpoint).
    pub region: Option<String>,
    /// The project a Huawei token is scoped to.
    pub project_id: Option<String>,
    /// The Entra tenant and app registration (client) ID of an Azure identity.
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    /// The Google service account a GCP federated identity impersonates, if any.
    pub google_service_account: Option<String>,
}

impl FederatedIdentity {
    /// The identity of `spec.identity` for a job of `provider` in `namespace`. `None` when
    /// the provider has no exchange here or a field it needs is missing (admission rejects
    /// both; the message says which).
    pub fn new(
        provider: ProviderKind,
        namespace: &str,
        identity: &clouddb_api::WorkloadIdentity,
        region: Option<&str>,
        project_id: Option<&str>,
    ) -> Result<Self, String> {
        if !matches!(
            provider,
            ProviderKind::Aws
                | ProviderKind::Alibaba
                | ProviderKind::Huawei
                | ProviderKind::Tencent
                | ProviderKind::Azure
                | ProviderKind::Gcp
        ) {
            return Err(format!("identity (workload identity) is not supported for provider {provider} yet; use credentialsSecretRef"));
        }
        if matches!(
            provider,
            ProviderKind::Aws | ProviderKind::Alibaba | ProviderKind::Tencent
        ) && identity.role_arn.is_none()
        {
            return Err(format!(
                "identity.roleArn is required for provider {provider}"
            ));
        }
        if matches!(
            provider,
            ProviderKind::Alibaba
                | ProviderKind::Huawei
                | ProviderKind::Tencent
                | ProviderKind::Gcp
        ) && identity.oidc_provider.is_none()
        {
            return Err(format!(
                "identity.oidcProvider is required for provider {provider}"
            ));
        }
        if provider == ProviderKind::Azure
            && (identity.tenant_id.is_none() || identity.client_id.is_none())
        {
            return Err(
                "identity.tenantId and identity.clientId are required for provider azure".into(),
            );
        }
        let audience = identity
            .audience
            .clone()
            .or_else(|| default_audience(provider).map(String::from))
            .or_else(|| {
                // GCP: the pool provider's own name, its default allowed audience.
                (provider == ProviderKind::Gcp)
                    .then(|| identity.oidc_provider.as_deref().map(gcp_audience))
                    .flatten()
            })
            .ok_or_else(|| format!("identity.audience is required for provider {provider} (the client ID of its identity provider)"))?;
        Ok(FederatedIdentity {
            provider,
            namespace: namespace.to_string(),
            service_account: identity.service_account_name.clone(),
            role_arn: identity.role_arn.clone(),
            oidc_provider: identity.oidc_provider.clone(),
            audience,
            region: region.map(String::from),
            project_id: project_id.map(String::from),
            tenant_id: identity.tenant_id.clone(),
            client_id: identity.client_id.clone(),
            google_service_account: identity.google_service_account.clone(),
        })
    }

    /// The Kubernetes subject of the ServiceAccount (`sub` of its tokens), which cloud
    /// trust policies name.
    pub fn subject(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace, self.service_account
        )
    }

    /// The session name the cloud records in its audit logs: where the call came from,
    /// within the 2-64 characters of `[\w+=,.@-]` STS accepts.
    pub fn session_name(&self) -> String {
        let raw = format!("clouddb.{}.{}", self.namespace, self.service_account);
        let cleaned: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(64)
            .collect();
        cleaned
    }

    /// A public name for logs, metrics and rate-limit keys.
    pub fn identity(&self) -> String {
        match &self.role_arn {
            Some(role) => format!("sa:{}/{}>{role}", self.namespace, self.service_account),
            None => format!("sa:{}/{}", self.namespace, self.service_account),
        }
    }
}

/// The audience a cloud's STS expects in the ServiceAccount token by default.
pub fn default_audience(provider: ProviderKind) -> Option<&'static str> {
    match provider {
        ProviderKind::Aws => Some("sts.amazonaws.com"),
        ProviderKind::Alibaba => Some(ALIBABA_AUDIENCE),
        ProviderKind::Tencent => Some(TENCENT_AUDIENCE),
        ProviderKind::Azure => Some(AZURE_AUDIENCE),
        _ => None,
    }
}
