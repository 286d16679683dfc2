use super::*;
use crate::auth::{DEFAULT_GCP_CLIENT_EMAIL, DEFAULT_GCP_PRIVATE_KEY, DEFAULT_GCP_PRIVATE_KEY_ID};
use ring::rand::SystemRandom;
use ring::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::json;

const HOST: &str = "127.0.0.1:9000";
const NOW: i64 = 1_800_000_000;
const UNTRUSTED_KEY: &str = include_str!("../../../tests/fixtures/gcp/untrusted-test-key.pem");

fn pkcs8(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn sign(pem: &str, header: &Value, claims: &Value) -> String {
    let pair = RsaKeyPair::from_pkcs8(&pkcs8(pem)).unwrap();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn header() -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": DEFAULT_GCP_PRIVATE_KEY_ID})
}

fn claims() -> Value {
    json!({
        "iss": DEFAULT_GCP_CLIENT_EMAIL,
        "scope": "https://www.googleapis.com/auth/sqlservice.admin",
        "aud": format!("http://{HOST}/token"),
        "iat": NOW,
        "exp": NOW + 3600,
    })
}

fn form(assertion: &str) -> Vec<(String, String)> {
    vec![
        ("grant_type".into(), JWT_BEARER.into()),
        ("assertion".into(), assertion.into()),
    ]
}

fn verify(assertion: &str) -> Result<VerifiedGrant, GcpTokenError> {
    verify_jwt_bearer(&SimCredentials::default(), &form(assertion), HOST, NOW)
}

#[test]
fn the_committed_public_key_is_the_private_keys_half() {
    let pair = RsaKeyPair::from_pkcs8(&pkcs8(DEFAULT_GCP_PRIVATE_KEY)).unwrap();
    assert_eq!(
        public_key_der(crate::auth::DEFAULT_GCP_PUBLIC_KEY).unwrap(),
        pair.public_key().as_ref()
    );
}

#[test]
fn a_well_formed_assertion_is_granted() {
    let grant = verify(&sign(DEFAULT_GCP_PRIVATE_KEY, &header(), &claims())).unwrap();
    assert_eq!(grant.client_email, DEFAULT_GCP_CLIENT_EMAIL);
    assert_eq!(
        grant.scopes,
        vec!["https://www.googleapis.com/auth/sqlservice.admin"]
    );
}

#[test]
fn the_clients_own_assertion_is_granted() {
    let key = clouddb_providers::credentials::GcpServiceAccountKey::from_json(
        &crate::auth::default_gcp_key_json(&format!("http://{HOST}")),
    )
    .unwrap();
    let now = jiff::Timestamp::from_second(NOW).unwrap();
    let assertion = clouddb_providers::gcp::token::assertion(
        &key,
        &key.token_uri,
        clouddb_providers::gcp::token::SCOPE,
        now,
    )
    .unwrap();
    assert!(verify(assertion.expose()).is_ok());
}

#[test]
fn another_keys_signature_is_refused() {
    let e = verify(&sign(UNTRUSTED_KEY, &header(), &claims())).unwrap_err();
    assert_eq!((e.status, e.error), (400, "invalid_grant"));
    assert_eq!(e.description, "Invalid JWT Signature.");
}

#[test]
fn a_tampered_claim_breaks_the_signature() {
    let good = sign(DEFAULT_GCP_PRIVATE_KEY, &header(), &claims());
    let parts: Vec<&str> = good.split('.').collect();
    let mut c = claims();
    c["scope"] = json!("https://www.googleapis.com/auth/cloud-platform");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(c.to_string()),
        parts[2]
    );
    assert_eq!(
        verify(&forged).unwrap_err().description,
        "Invalid JWT Signature."
    );
}

#[test]
fn each_claim_is_checked() {
    let cases: Vec<(Value, Value, &str)> = vec![
        (
            json!({"alg": "HS256", "kid": DEFAULT_GCP_PRIVATE_KEY_ID}),
            claims(),
            "unsupported algorithm",
        ),
        (
            json!({"alg": "RS256", "kid": "other-key"}),
            claims(),
            "Invalid JWT Signature.",
        ),
        (
            header(),
            json!({"iss": "nobody@x.iam.gserviceaccount.com"}),
            "account not found",
        ),
        (
            header(),
            {
                let mut c = claims();
                c["aud"] = json!("https://oauth2.googleapis.com/token");
                c
            },
            "Failed audience check",
        ),
        (
            header(),
            {
                let mut c = claims();
                c["exp"] = json!(NOW + 7200);
                c
            },
            "short-lived",
        ),
        (
            header(),
            {
                let mut c = claims();
                c["iat"] = json!(NOW + 3600);
                c["exp"] = json!(NOW + 4000);
                c
            },
            "short-lived",
        ),
        (
            header(),
            {
                let mut c = claims();
                c["iat"] = json!(NOW - 7200);
                c["exp"] = json!(NOW - 3600);
                c
            },
            "short-lived",
        ),
        (
            header(),
            {
                let mut c = claims();
                c.as_object_mut().unwrap().remove("exp");
                c
            },
            "short-lived",
        ),
        (
            header(),
            {
                let mut c = claims();
                c["scope"] = json!("");
                c
            },
            "Invalid oauth scope",
        ),
    ];
    for (h, c, expected) in cases {
        let e = verify(&sign(DEFAULT_GCP_PRIVATE_KEY, &h, &c)).unwrap_err();
        assert!(e.description.contains(expected), "{h} {c}: {e:?}");
    }
}

#[test]
fn malformed_requests_are_refused() {
    let e = verify_jwt_bearer(
        &SimCredentials::default(),
        &[("grant_type".into(), "client_credentials".into())],
        HOST,
        NOW,
    )
    .unwrap_err();
    assert_eq!(e.error, "unsupported_grant_type");
    let e = verify_jwt_bearer(&SimCredentials::default(), &form(""), HOST, NOW).unwrap_err();
    assert_eq!(e.error, "invalid_request");
    for junk in ["a.b", "a.b.c", "!!.??.**"] {
        assert_eq!(verify(junk).unwrap_err().error, "invalid_grant", "{junk}");
    }
}

#[test]
fn tokens_are_checked_revoked_and_expire() {
    let mut store = GcpTokenStore::default();
    let issued = |scope: &str| IssuedToken {
        client_email: DEFAULT_GCP_CLIENT_EMAIL.into(),
        scopes: vec![scope.into()],
        expires_at: NOW + 60,
    };
    store.insert("t1".into(), issued(GCP_ACCEPTED_SCOPES[0]), NOW);
    store.insert(
        "t2".into(),
        issued("https://www.googleapis.com/auth/devstorage.read_only"),
        NOW,
    );
    assert_eq!(store.check(Some("Bearer t1"), NOW), TokenCheck::Valid);
    assert_eq!(
        store.check(Some("Bearer t1"), NOW + 60),
        TokenCheck::Invalid
    );
    assert_eq!(
        store.check(Some("Bearer t2"), NOW),
        TokenCheck::InsufficientScope
    );
    assert_eq!(store.check(Some("Bearer nope"), NOW), TokenCheck::Invalid);
    assert_eq!(store.check(Some("Basic t1"), NOW), TokenCheck::Missing);
    assert_eq!(store.check(None, NOW), TokenCheck::Missing);
    assert_eq!(store.revoke_all(), 2);
    assert_eq!(store.check(Some("Bearer t1"), NOW), TokenCheck::Invalid);
    assert_eq!(store.issued, 2);
}
