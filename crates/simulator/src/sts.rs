//! The clouds' security token services as workload identity meets them: a Kubernetes
//! ServiceAccount token comes in, is verified against the cluster's OIDC issuer (its JWKS,
//! as served at the API server's discovery endpoints), the role's trust policy is checked
//! against the token's subject, and temporary credentials come out, valid for a configurable
//! lifetime and then refused as expired.
//!
//! Served: AWS `AssumeRoleWithWebIdentity` (`POST /`, form `Action=AssumeRoleWithWebIdentity`)
//! Alibaba Cloud `AssumeRoleWithOIDC` (`POST /?Action=AssumeRoleWithOIDC&...`) and Huawei
//! Cloud IAM's OpenID Connect token (`POST /v3.0/OS-AUTH/id-token/tokens`, the identity
//! provider in `X-Idp-Id` standing for the role), Tencent Cloud `AssumeRoleWithWebIdentity`
//! (`POST /`, `X-TC-Action`, `Authorization: SKIP`), and Azure's federated client assertion
//! at the Entra token endpoint (the app's client ID standing for the role, its tenant for
//! the identity provider).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use clouddb_api::ProviderKind;

use crate::auth::TemporaryKey;

/// The AWS STS Query API version.
pub const AWS_STS_VERSION: &str = "2011-06-15";
/// The Tencent Cloud STS API version.
pub const TENCENT_STS_VERSION: &str = "2018-08-13";
/// The Alibaba Cloud STS API version.
pub const ALIBABA_STS_VERSION: &str = "2015-04-01";
use crate::verify::jwt;

/// What the simulated clouds trust. Set at runtime (`Simulator::set_workload_identity`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadIdentityConfig {
    /// The cluster's ServiceAccount token issuer (`iss`).
    pub issuer: String,
    /// The issuer's JWKS document (`GET /openid/v1/jwks` on the API server).
    pub jwks: Value,
    /// Roles that may be assumed with a web identity.
    pub roles: Vec<SimRole>,
    /// Lifetime of issued temporary credentials, in seconds (0: AWS's default hour).
    #[serde(default)]
    pub credential_lifetime_secs: u64,
}

/// A cloud role and its trust policy: the ServiceAccount subjects
/// (`system:serviceaccount:<ns>:<name>`) allowed to assume it, and the identity provider
/// the exchange must name (Alibaba's OIDC provider ARN, Tencent's provider ID, Huawei's
/// identity provider, which stands for the role there); `None`: any.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimRole {
    pub arn: String,
    pub subjects: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_provider: Option<String>,
    /// The token audience this role's provider expects; `None`: the cloud's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

/// Credentials an STS issued, per cloud, until they expire (Unix seconds).
#[derive(Clone, Debug)]
struct Issued {
    provider: ProviderKind,
    key: TemporaryKey,
    expires: i64,
}

/// Temporary credentials issued so far, and when each expires.
#[derive(Debug, Default)]
pub(crate) struct StsState {
    pub config: Option<WorkloadIdentityConfig>,
    issued: Vec<Issued>,
    /// Exchanges answered with credentials, for tests.
    pub exchanges: u64,
}

/// An AWS STS refusal: HTTP status, error code, message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StsRefusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn refuse(status: u16, code: &'static str, message: impl Into<String>) -> StsRefusal {
    StsRefusal {
        status,
        code,
        message: message.into(),
    }
}

/// Why an exchange is refused; each cloud's handler answers it with its own code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No identity provider registered for the token's issuer.
    NoProvider,
    /// The token does not verify (signature, issuer, audience, expiry), or names another
    /// identity provider than the role trusts.
    InvalidToken(String),
    /// The role does not exist or does not trust the token's subject.
    NotTrusted,
}

/// A granted exchange: the trusted subject and when the credentials expire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    pub subject: String,
    pub expires: i64,
}

impl StsState {
    /// The credentials `provider`'s STS issued that are still valid at `now`.
    pub fn valid_keys(
        &self,
        provider: ProviderKind,
        now: i64,
    ) -> impl Iterator<Item = &TemporaryKey> {
        self.issued
            .iter()
            .filter(move |i| i.provider == provider && i.expires > now)
            .map(|i| &i.key)
    }

    /// The credentials `provider`'s API accepts at `now`: the configured ones and what its
    /// STS issued that has not expired (keys with their tokens, or Huawei IAM tokens).
    pub fn accepted(
        &self,
        configured: &crate::auth::SimCredentials,
        provider: ProviderKind,
        now: i64,
    ) -> crate::auth::SimCredentials {
        let mut accepted = configured.clone();
        let issued = self.valid_keys(provider, now).cloned();
        match provider {
            ProviderKind::Aws => accepted.aws_temporary.extend(issued),
            ProviderKind::Alibaba => accepted.alibaba_temporary.extend(issued),
            ProviderKind::Huawei => accepted.huawei_tokens.extend(issued.map(|k| k.id)),
            // The token is checked by the handler (the TC3 verifier knows no tokens).
            ProviderKind::Tencent => {
                accepted
                    .tencent
                    .extend(issued.map(|k| crate::auth::KeyPair {
                        id: k.id,
                        secret: k.secret,
                    }))
            }
            _ => {}
        }
        accepted
    }

    /// Whether `key_id` is a key `provider`'s STS issued that has expired by `now`.
    pub fn expired(&self, provider: ProviderKind, key_id: &str, now: i64) -> bool {
        self.issued
            .iter()
            .any(|i| i.provider == provider && i.key.id == key_id && i.expires <= now)
    }

    /// Checks a web identity `token` against the trusted issuer and the role `role` (with the
    /// identity provider the request named, where the cloud names one), for the role's
    /// audience or the cloud's `default_audience`.
    pub fn verify(
        &self,
        role: &str,
        oidc_provider: Option<&str>,
        token: &str,
        default_audience: &str,
        now: i64,
    ) -> Result<Grant, Refusal> {
        let config = self.config.as_ref().ok_or(Refusal::NoProvider)?;
        let found = config.roles.iter().find(|r| r.arn == role);
        let audience = found
            .and_then(|r| r.audience.as_deref())
            .unwrap_or(default_audience);
        let claims = jwt::verify(token, &config.jwks, &config.issuer, audience, now)
            .map_err(|e| Refusal::InvalidToken(e.to_string()))?;
        let role = found.ok_or(Refusal::NotTrusted)?;
        if let (Some(expected), Some(named)) = (&role.oidc_provider, oidc_provider) {
            if expected != named {
                return Err(Refusal::InvalidToken(format!(
                    "the identity provider {named:?} is not the one the role trusts"
                )));
            }
        }
        if !role.subjects.contains(&claims.subject) {
            return Err(Refusal::NotTrusted);
        }
        Ok(Grant {
            subject: claims.subject,
            expires: now + self.lifetime_secs(),
        })
    }

    /// Whether the role (or service account) `role` trusts `subject`.
    pub fn trusts(&self, role: &str, subject: &str) -> bool {
        self.config.as_ref().is_some_and(|c| {
            c.roles
                .iter()
                .any(|r| r.arn == role && r.subjects.iter().any(|s| s == subject))
        })
    }

    /// The configured credential lifetime in seconds (an hour when unset).
    pub fn lifetime_secs(&self) -> i64 {
        match self
            .config
            .as_ref()
            .map_or(0, |c| c.credential_lifetime_secs)
        {
            0 => 3600,
            secs => i64::try_from(secs).unwrap_or(3600),
        }
    }

    /// Counts an exchange whose credential another part of the simulator issued (Azure's
    /// access tokens live with its token endpoint).
    pub fn count_exchange(&mut self) {
        self.exchanges += 1;
    }

    /// Records credentials issued under `grant`.
    pub fn issue(&mut self, provider: ProviderKind, key: TemporaryKey, grant: &Grant, now: i64) {
        // Expired credentials stay known (as expired) for a day, then are forgotten.
        self.issued.retain(|i| i.expires > now - 86_400);
        self.issued.push(Issued {
            provider,
            key,
            expires: grant.expires,
        });
        self.exchanges += 1;
    }

    /// AWS `AssumeRoleWithWebIdentity`: verifies the token and the role's trust, and issues
    /// credentials. `random` supplies the key material.
    pub fn assume_role_with_web_identity(
        &mut self,
        role_arn: &str,
        token: &str,
        now: i64,
        random: &mut impl FnMut() -> u128,
    ) -> Result<(TemporaryKey, i64, String), StsRefusal> {
        let grant = self
            .verify(role_arn, None, token, "sts.amazonaws.com", now)
            .map_err(|refusal| match refusal {
                Refusal::NoProvider => refuse(
                    400,
                    "InvalidIdentityToken",
                    "No OpenIDConnect provider found in your account for this issuer",
                ),
                Refusal::InvalidToken(why) => refuse(400, "InvalidIdentityToken", why),
                Refusal::NotTrusted => refuse(
                    403,
                    "AccessDenied",
                    "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                ),
            })?;
        let key = TemporaryKey {
            id: format!("ASIA{:016X}", random() as u64),
            secret: format!("{:032x}", random()),
            token: format!("FwoGZXIvYXdzE{:032x}{:032x}", random(), random()),
        };
        self.issue(ProviderKind::Aws, key.clone(), &grant, now);
        Ok((key, grant.expires, format!("{role_arn}:{}", grant.subject)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::jwt::testing::{jwks, service_account_token, ISSUER};

    const NOW: i64 = 1_800_000_000;
    const ROLE: &str = "arn:aws:iam::123456789012:role/team-a-reader";

    fn state() -> StsState {
        StsState {
            config: Some(WorkloadIdentityConfig {
                issuer: ISSUER.into(),
                jwks: jwks(),
                roles: vec![SimRole {
                    arn: ROLE.into(),
                    subjects: vec!["system:serviceaccount:team-a:reader".into()],
                    oidc_provider: None,
                    audience: None,
                }],
                credential_lifetime_secs: 900,
            }),
            ..StsState::default()
        }
    }

    fn counter() -> impl FnMut() -> u128 {
        let mut n = 0u128;
        move || {
            n += 1;
            n
        }
    }

    #[test]
    fn the_trusted_service_account_gets_credentials_that_expire() {
        let mut sts = state();
        let token = service_account_token("team-a", "reader", "sts.amazonaws.com", NOW);
        let (key, expires, _) = sts
            .assume_role_with_web_identity(ROLE, &token, NOW, &mut counter())
            .unwrap();
        assert_eq!(expires, NOW + 900);
        assert!(key.id.starts_with("ASIA"));
        assert_eq!(sts.valid_keys(ProviderKind::Aws, NOW + 899).count(), 1);
        assert_eq!(sts.valid_keys(ProviderKind::Aws, NOW + 900).count(), 0);
        assert_eq!(sts.valid_keys(ProviderKind::Alibaba, NOW).count(), 0);
        assert!(!sts.expired(ProviderKind::Aws, &key.id, NOW + 899));
        assert!(sts.expired(ProviderKind::Aws, &key.id, NOW + 900));
        assert_eq!(sts.exchanges, 1);
    }

    #[test]
    fn another_namespace_cannot_assume_the_role() {
        let mut sts = state();
        let token = service_account_token("team-b", "reader", "sts.amazonaws.com", NOW);
        let refused = sts
            .assume_role_with_web_identity(ROLE, &token, NOW, &mut counter())
            .unwrap_err();
        assert_eq!((refused.status, refused.code), (403, "AccessDenied"));
        let wrong_audience = service_account_token("team-a", "reader", "sts.aliyuncs.com", NOW);
        let refused = sts
            .assume_role_with_web_identity(ROLE, &wrong_audience, NOW, &mut counter())
            .unwrap_err();
        assert_eq!(refused.code, "InvalidIdentityToken");
        assert!(refused.message.contains("audience"), "{}", refused.message);
        let mut no_issuer = StsState::default();
        let token = service_account_token("team-a", "reader", "sts.amazonaws.com", NOW);
        assert_eq!(
            no_issuer
                .assume_role_with_web_identity(ROLE, &token, NOW, &mut counter())
                .unwrap_err()
                .code,
            "InvalidIdentityToken"
        );
        assert_eq!(sts.exchanges, 0);
    }
}
