use super::*;
use serde_json::json;

const PEM: &str = include_str!("../../../simulator/src/keys/gcp-simulator-key.pem");

fn key(token_uri: &str) -> GcpServiceAccountKey {
    GcpServiceAccountKey {
        client_email: "sa@p.iam.gserviceaccount.com".into(),
        private_key_id: "kid-1".into(),
        private_key: SecretString::new(PEM),
        token_uri: token_uri.into(),
    }
}

fn decode(part: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn response(status: u16, body: serde_json::Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: Default::default(),
        body: body.to_string().into_bytes(),
    }
}

#[test]
fn the_assertion_carries_the_documented_header_and_claims() {
    let now = Timestamp::from_second(1_800_000_000).unwrap();
    let k = key("https://oauth2.googleapis.com/token");
    let jwt = assertion(&k, &k.token_uri, SCOPE, now).unwrap();
    let parts: Vec<&str> = jwt.expose().split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        decode(parts[0]),
        json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
    );
    assert_eq!(
        decode(parts[1]),
        json!({
            "iss": "sa@p.iam.gserviceaccount.com",
            "scope": SCOPE,
            "aud": "https://oauth2.googleapis.com/token",
            "iat": 1_800_000_000,
            "exp": 1_800_003_600,
        })
    );
    // RSA-2048: a 256-byte signature.
    assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), 256);
    assert!(!format!("{jwt:?}").contains(parts[2]));
}

#[test]
fn the_form_body_is_the_jwt_bearer_grant() {
    let body = form_body(&SecretString::new("a.b.c"));
    assert_eq!(
        body,
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c"
    );
}

#[test]
fn an_unusable_key_is_refused_without_quoting_it() {
    let mut k = key("https://oauth2.googleapis.com/token");
    k.private_key = SecretString::new(
        "-----BEGIN PRIVATE KEY-----\nAAAAsecretish\n-----END PRIVATE KEY-----\n",
    );
    let e = assertion(&k, &k.token_uri, SCOPE, Timestamp::UNIX_EPOCH).unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
    assert!(!e.message.contains("secretish"), "{}", e.message);
}

#[test]
fn token_uris_must_be_https_except_on_loopback() {
    assert!(token_url(&key("https://oauth2.googleapis.com/token")).is_ok());
    assert!(token_url(&key("http://127.0.0.1:8080/token")).is_ok());
    let e = token_url(&key("http://evil.example/token")).unwrap_err();
    assert_eq!(e.code, "InvalidTokenUri");
    assert!(e.is_permanent());
}

#[test]
fn a_token_answer_expires_after_expires_in() {
    let now = Timestamp::from_second(1_800_000_000).unwrap();
    let t = interpret_token_response(
        &response(
            200,
            json!({"access_token": "ya29.x", "expires_in": 3599, "token_type": "Bearer"}),
        ),
        now,
    )
    .unwrap();
    assert_eq!(t.value.expose(), "ya29.x");
    assert_eq!(t.expires_at.as_second(), 1_800_003_599);
    // Missing lifetime: Google's hour; absurd ones are bounded.
    let t = interpret_token_response(&response(200, json!({"access_token": "y"})), now).unwrap();
    assert_eq!(t.expires_at.as_second(), 1_800_003_600);
    let t = interpret_token_response(
        &response(200, json!({"access_token": "y", "expires_in": -5})),
        now,
    )
    .unwrap();
    assert_eq!(t.expires_at.as_second(), 1_800_000_001);
}

#[test]
fn bad_token_answers_are_classified() {
    let now = Timestamp::UNIX_EPOCH;
    let e = interpret_token_response(&response(200, json!({"expires_in": 5})), now).unwrap_err();
    assert!(!e.is_permanent());
    let e = interpret_token_response(
        &response(200, json!({"access_token": "y", "token_type": "MAC"})),
        now,
    )
    .unwrap_err();
    assert_eq!(e.code, "UnsupportedTokenType");
    let e = interpret_token_response(
        &response(
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
        ),
        now,
    )
    .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
}
