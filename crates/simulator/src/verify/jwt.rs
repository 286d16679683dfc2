//! JSON Web Token verification as a cloud STS does it for a Kubernetes ServiceAccount token
//! (RFC 7519 with RS256, RFC 7515 compact serialization): the signature against the issuer's
//! published keys (its JWKS, RFC 7517, found by `kid`), then `iss`, `aud`, `exp` and `nbf`.
//! Written from the RFCs with `ring`'s RSA verification, sharing nothing with the clients
//! (which never parse these tokens: they pass them on).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

/// Clock skew tolerated on `exp` and `nbf`, in seconds (the clouds allow a few minutes).
pub const LEEWAY_SECS: i64 = 60;

/// The claims an STS reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    pub expires: i64,
}

/// Why a token is refused (messages name the claim, never the token).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is not a signed JWT: {0}")]
    Malformed(&'static str),
    #[error("the token is signed with {0:?}; only RS256 is accepted")]
    Algorithm(String),
    #[error("no key {0:?} in the issuer's JWKS")]
    UnknownKey(String),
    #[error("the token's signature does not verify with the issuer's key")]
    BadSignature,
    #[error("the token's issuer {0:?} is not the trusted OIDC provider")]
    Issuer(String),
    #[error("the token's audience {0:?} is not {1:?}")]
    Audience(Vec<String>, String),
    #[error("the token expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Value>,
    exp: Option<i64>,
    nbf: Option<i64>,
}

fn decode_part(part: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed("a part is not base64url"))
}

/// The RSA key `kid` of a JWKS document (`{"keys": [{"kty": "RSA", "kid", "n", "e"}]}`).
fn rsa_key(jwks: &Value, kid: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let key = jwks["keys"]
        .as_array()?
        .iter()
        .find(|k| k["kty"] == "RSA" && k["kid"].as_str() == Some(kid))?;
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str()?).ok()?;
    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str()?).ok()?;
    Some((n, e))
}

/// Verifies `token` against `jwks` and checks it was issued by `issuer` for `audience` and is
/// valid at `now` (Unix seconds).
pub fn verify(
    token: &str,
    jwks: &Value,
    issuer: &str,
    audience: &str,
    now: i64,
) -> Result<Claims, JwtError> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("not three dot-separated parts"));
    };
    let head: Header = serde_json::from_slice(&decode_part(header)?)
        .map_err(|_| JwtError::Malformed("the header is not JSON"))?;
    if head.alg != "RS256" {
        return Err(JwtError::Algorithm(head.alg));
    }
    let kid = head.kid.unwrap_or_default();
    let (n, e) = rsa_key(jwks, &kid).ok_or(JwtError::UnknownKey(kid))?;
    let signed = &token.trim()[..header.len() + 1 + payload.len()];
    ring::signature::RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &decode_part(signature)?,
        )
        .map_err(|_| JwtError::BadSignature)?;
    let raw: RawClaims = serde_json::from_slice(&decode_part(payload)?)
        .map_err(|_| JwtError::Malformed("the claims are not JSON"))?;
    let iss = raw.iss.unwrap_or_default();
    if iss != issuer {
        return Err(JwtError::Issuer(iss));
    }
    let audiences: Vec<String> = match raw.aud {
        Some(Value::String(a)) => vec![a],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|a| a.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    if !audiences.iter().any(|a| a == audience) {
        return Err(JwtError::Audience(audiences, audience.to_string()));
    }
    let expires = raw.exp.ok_or(JwtError::Malformed("no exp claim"))?;
    if now > expires + LEEWAY_SECS {
        return Err(JwtError::Expired);
    }
    if raw.nbf.is_some_and(|nbf| now + LEEWAY_SECS < nbf) {
        return Err(JwtError::NotYetValid);
    }
    Ok(Claims {
        issuer: iss,
        subject: raw.sub.unwrap_or_default(),
        audiences,
        expires,
    })
}

#[cfg(test)]
pub(crate) mod testing {
    //! Tokens signed with a fixed test key, as a Kubernetes API server would issue them.
    use super::*;
    use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};

    const KEY: &[u8] = include_bytes!("testdata/jwt-test-key.pk8");
    pub const KID: &str = "test-key-1";
    pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

    fn key() -> RsaKeyPair {
        RsaKeyPair::from_pkcs8(KEY).expect("the committed test key parses")
    }

    /// The issuer's JWKS with the test key.
    pub fn jwks() -> Value {
        let key = key();
        let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(key.public());
        serde_json::json!({"keys": [{
            "use": "sig", "kty": "RSA", "alg": "RS256", "kid": KID,
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
        }]})
    }

    /// A compact RS256 JWT with `claims`, signed with the test key under `kid`.
    pub fn sign(claims: &Value, kid: &str) -> String {
        let header = serde_json::json!({"alg": "RS256", "kid": kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let key = key();
        let mut signature = vec![0; key.public().modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .expect("signing with the test key");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// A ServiceAccount token of `namespace`/`name` for `audience`, valid from `now` for an hour.
    pub fn service_account_token(namespace: &str, name: &str, audience: &str, now: i64) -> String {
        sign(
            &serde_json::json!({
                "iss": ISSUER, "aud": [audience], "exp": now + 3600, "iat": now, "nbf": now,
                "sub": format!("system:serviceaccount:{namespace}:{name}"),
            }),
            KID,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const AUD: &str = "sts.amazonaws.com";

    #[test]
    fn a_service_account_token_verifies_and_yields_its_claims() {
        let token = service_account_token("team-a", "reader", AUD, NOW);
        let claims = verify(&token, &jwks(), ISSUER, AUD, NOW + 10).unwrap();
        assert_eq!(claims.subject, "system:serviceaccount:team-a:reader");
        assert_eq!(claims.audiences, vec![AUD]);
        assert_eq!(claims.expires, NOW + 3600);
    }

    #[test]
    fn every_broken_part_is_refused_for_its_own_reason() {
        let token = service_account_token("team-a", "reader", AUD, NOW);
        // A flipped signature byte.
        let (input, sig) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
        bytes[10] ^= 1;
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(
            verify(&forged, &jwks(), ISSUER, AUD, NOW),
            Err(JwtError::BadSignature)
        );
        // Claims changed after signing.
        let parts: Vec<&str> = token.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"iss": ISSUER, "aud": AUD, "exp": NOW + 3600,
                "sub": "system:serviceaccount:team-b:reader"})
            .to_string(),
        );
        let swapped = format!("{}.{other}.{}", parts[0], parts[2]);
        assert_eq!(
            verify(&swapped, &jwks(), ISSUER, AUD, NOW),
            Err(JwtError::BadSignature)
        );
        assert_eq!(
            verify(&token, &jwks(), "https://other.example", AUD, NOW),
            Err(JwtError::Issuer(ISSUER.into()))
        );
        assert!(matches!(
            verify(&token, &jwks(), ISSUER, "sts.aliyuncs.com", NOW),
            Err(JwtError::Audience(..))
        ));
        assert_eq!(
            verify(&token, &jwks(), ISSUER, AUD, NOW + 3600 + LEEWAY_SECS + 1),
            Err(JwtError::Expired)
        );
        assert_eq!(
            verify(&token, &jwks(), ISSUER, AUD, NOW - LEEWAY_SECS - 1),
            Err(JwtError::NotYetValid)
        );
        let unknown = sign(&serde_json::json!({"iss": ISSUER}), "rotated-away");
        assert_eq!(
            verify(&unknown, &jwks(), ISSUER, AUD, NOW),
            Err(JwtError::UnknownKey("rotated-away".into()))
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            parts[1]
        );
        assert_eq!(
            verify(&none, &jwks(), ISSUER, AUD, NOW),
            Err(JwtError::Algorithm("none".into()))
        );
        assert!(matches!(
            verify("not-a-token", &jwks(), ISSUER, AUD, NOW),
            Err(JwtError::Malformed(_))
        ));
    }
}
