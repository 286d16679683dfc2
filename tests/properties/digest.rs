//! The credential digest is what everything shared between jobs is keyed by (Tencent
//! batches, OAuth2 token caches, the rejected-credential memory), so its one property is the
//! tenant boundary: two credentials share a digest exactly when they are equal. Any field
//! left out of the digest (a key, a token, a token endpoint) would let a job that holds only
//! another's public identifiers share its calls; this test fails on that.

use clouddb_job_operator::providers::credentials::{GcpServiceAccountKey, SecretString};
use clouddb_job_operator::providers::identity::FederatedIdentity;
use clouddb_job_operator::providers::{Credentials, ProviderKind};
use proptest::prelude::*;

/// Short strings from a small alphabet, so that generated pairs often agree on some fields
/// and differ in others (the interesting case: same key ID, other secret).
fn field() -> impl Strategy<Value = String> {
    "[ab]{0,2}"
}

fn secret() -> impl Strategy<Value = SecretString> {
    field().prop_map(SecretString::new)
}

fn credentials() -> impl Strategy<Value = Credentials> {
    prop_oneof![
        (field(), secret(), proptest::option::of(secret())).prop_map(
            |(secret_id, secret_key, token)| {
                Credentials::Tencent {
                    secret_id,
                    secret_key,
                    token,
                }
            }
        ),
        (field(), secret()).prop_map(|(ak, sk)| Credentials::HuaweiAkSk { ak, sk }),
        secret().prop_map(|token| Credentials::HuaweiToken { token }),
        (field(), secret(), proptest::option::of(secret())).prop_map(
            |(access_key_id, access_key_secret, security_token)| Credentials::Alibaba {
                access_key_id,
                access_key_secret,
                security_token,
            }
        ),
        (field(), secret(), proptest::option::of(secret())).prop_map(
            |(access_key_id, secret_access_key, session_token)| Credentials::Aws {
                access_key_id,
                secret_access_key,
                session_token,
            }
        ),
        (field(), field(), secret(), field()).prop_map(
            |(client_email, private_key_id, private_key, token_uri)| {
                Credentials::Gcp(GcpServiceAccountKey {
                    client_email,
                    private_key_id,
                    private_key,
                    token_uri,
                })
            }
        ),
        (field(), field(), secret(), proptest::option::of(field())).prop_map(
            |(tenant_id, client_id, client_secret, authority_host)| Credentials::Azure {
                tenant_id,
                client_id,
                client_secret,
                authority_host,
            }
        ),
        secret().prop_map(Credentials::Bearer),
        (field(), field(), proptest::option::of(field()), field()).prop_map(
            |(namespace, service_account, role_arn, audience)| {
                Credentials::Federated(FederatedIdentity {
                    provider: ProviderKind::Aws,
                    namespace,
                    service_account,
                    role_arn,
                    oidc_provider: None,
                    audience,
                    region: None,
                    project_id: None,
                    tenant_id: None,
                    client_id: None,
                    google_service_account: None,
                })
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn credentials_share_a_digest_exactly_when_they_are_equal(
        a in credentials(),
        b in credentials(),
    ) {
        prop_assert_eq!(a.digest() == b.digest(), a == b, "{:?} vs {:?}", a, b);
        prop_assert_eq!(a.digest(), a.clone().digest());
    }
}

/// The tenant case by hand, per cloud: the public part kept, the secret part changed.
#[test]
fn a_known_public_identifier_with_another_secret_is_another_credential() {
    let s = SecretString::new;
    let pairs = [
        (
            Credentials::Tencent {
                secret_id: "AKID".into(),
                secret_key: s("a"),
                token: None,
            },
            Credentials::Tencent {
                secret_id: "AKID".into(),
                secret_key: s("b"),
                token: None,
            },
        ),
        (
            Credentials::Aws {
                access_key_id: "AKIA".into(),
                secret_access_key: s("k"),
                session_token: Some(s("t1")),
            },
            Credentials::Aws {
                access_key_id: "AKIA".into(),
                secret_access_key: s("k"),
                session_token: Some(s("t2")),
            },
        ),
        (
            Credentials::Azure {
                tenant_id: "t".into(),
                client_id: "c".into(),
                client_secret: s("x"),
                authority_host: None,
            },
            Credentials::Azure {
                tenant_id: "t".into(),
                client_id: "c".into(),
                client_secret: s("y"),
                authority_host: None,
            },
        ),
    ];
    for (a, b) in pairs {
        assert_ne!(a.digest(), b.digest(), "{a:?} vs {b:?}");
    }
}
