//! The clouds' security token services as workload identity meets them: a Kubernetes
//! ServiceAccount token comes in, is verified against the cluster's OIDC issuer (its JWKS,
//! as served at the API server's discovery endpoints), the role's trust policy is checked
//! against the token's subject, and temporary credentials come out, valid for a configurable
//! lifetime and then refused as expired.
//!
//! Served: AWS `AssumeRoleWithWebIdentity` (`POST /`, form `Action=AssumeRoleWithWebIdentity`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::TemporaryKey;

/// The STS Query API version.
pub const AWS_STS_VERSION: &str = "2011-06-15";
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
/// (`system:serviceaccount:<ns>:<name>`) allowed to assume it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimRole {
    pub arn: String,
    pub subjects: Vec<String>,
}

/// Temporary credentials issued so far, and when each expires (Unix seconds).
#[derive(Debug, Default)]
pub(crate) struct StsState {
    pub config: Option<WorkloadIdentityConfig>,
    issued_aws: Vec<(TemporaryKey, i64)>,
    /// Issued keys by ID, for telling an expired key from an unknown one.
    expiry: HashMap<String, i64>,
    /// Exchanges answered with credentials, for tests.
    pub exchanges: u64,
}

/// An STS refusal: HTTP status, AWS error code, message.
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

impl StsState {
    /// The STS keys still valid at `now`, to accept beside the configured ones.
    pub fn valid_aws_keys(&self, now: i64) -> impl Iterator<Item = &TemporaryKey> {
        self.issued_aws
            .iter()
            .filter(move |(_, expires)| *expires > now)
            .map(|(key, _)| key)
    }

    /// Whether `key_id` is an STS key that has expired by `now`.
    pub fn expired(&self, key_id: &str, now: i64) -> bool {
        self.expiry.get(key_id).is_some_and(|e| *e <= now)
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
        let Some(config) = &self.config else {
            return Err(refuse(
                400,
                "InvalidIdentityToken",
                "No OpenIDConnect provider found in your account for this issuer",
            ));
        };
        let claims = jwt::verify(
            token,
            &config.jwks,
            &config.issuer,
            "sts.amazonaws.com",
            now,
        )
        .map_err(|e| refuse(400, "InvalidIdentityToken", e.to_string()))?;
        let role = config
            .roles
            .iter()
            .find(|r| r.arn == role_arn)
            .filter(|r| r.subjects.contains(&claims.subject))
            .ok_or_else(|| {
                refuse(
                    403,
                    "AccessDenied",
                    "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                )
            })?;
        let lifetime = match config.credential_lifetime_secs {
            0 => 3600,
            secs => i64::try_from(secs).unwrap_or(3600),
        };
        let expires = now + lifetime;
        let key = TemporaryKey {
            id: format!("ASIA{:016X}", random() as u64),
            secret: format!("{:032x}", random()),
            token: format!("FwoGZXIvYXdzE{:032x}{:032x}", random(), random()),
        };
        self.expiry.insert(key.id.clone(), expires);
        self.issued_aws.push((key.clone(), expires));
        // Expired keys stay known (as expired) for a day, then are forgotten.
        self.issued_aws.retain(|(_, e)| *e > now - 86_400);
        self.expiry.retain(|_, e| *e > now - 86_400);
        self.exchanges += 1;
        Ok((key, expires, format!("{}:{}", role.arn, claims.subject)))
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
        assert_eq!(sts.valid_aws_keys(NOW + 899).count(), 1);
        assert_eq!(sts.valid_aws_keys(NOW + 900).count(), 0);
        assert!(!sts.expired(&key.id, NOW + 899));
        assert!(sts.expired(&key.id, NOW + 900));
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
