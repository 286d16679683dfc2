use super::*;
use crate::auth::{DEFAULT_AZURE_CLIENT_ID, DEFAULT_AZURE_CLIENT_SECRET, DEFAULT_AZURE_TENANT_ID};

const FORM: &str = "application/x-www-form-urlencoded";

fn body(pairs: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

fn good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", DEFAULT_AZURE_CLIENT_ID),
        ("client_secret", DEFAULT_AZURE_CLIENT_SECRET),
        ("scope", ARM_SCOPE),
    ]
}

fn check(tenant: &str, pairs: &[(&str, &str)]) -> Result<String, EntraError> {
    let creds = SimCredentials::default();
    let body = body(pairs);
    verify_token_request(
        &creds,
        &TokenRequestInput {
            method: "POST",
            tenant,
            content_type: Some(FORM),
            body: &body,
        },
    )
    .map(|app| app.client_id.clone())
}

fn without(name: &str) -> Vec<(&'static str, &'static str)> {
    good().into_iter().filter(|(k, _)| *k != name).collect()
}

fn with(name: &str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    good()
        .into_iter()
        .map(|(k, v)| if k == name { (k, value) } else { (k, v) })
        .collect()
}

#[test]
fn the_documented_request_is_accepted() {
    assert_eq!(
        check(DEFAULT_AZURE_TENANT_ID, &good()).unwrap(),
        DEFAULT_AZURE_CLIENT_ID
    );
}

#[test]
fn every_refusal_has_entra_s_code() {
    let t = DEFAULT_AZURE_TENANT_ID;
    /// Tenant, form, and the expected status, OAuth error and AADSTS number.
    type Case = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        u16,
        &'static str,
        u32,
    );
    let cases: Vec<Case> = vec![
        ("other-tenant", good(), 400, "invalid_request", 90002),
        (t, without("grant_type"), 400, "invalid_request", 900144),
        (
            t,
            with("grant_type", "password"),
            400,
            "unsupported_grant_type",
            70003,
        ),
        (t, without("client_id"), 400, "invalid_request", 900144),
        (t, without("scope"), 400, "invalid_request", 900144),
        (
            t,
            with("scope", "https://management.azure.com/"),
            400,
            "invalid_scope",
            1002012,
        ),
        (
            t,
            with("scope", "https://management.core.windows.net/.default"),
            400,
            "invalid_scope",
            1002012,
        ),
        (
            t,
            with("client_id", "someone-else"),
            400,
            "unauthorized_client",
            700016,
        ),
        (t, without("client_secret"), 401, "invalid_client", 7000218),
        (
            t,
            with("client_secret", "wrong"),
            401,
            "invalid_client",
            7000215,
        ),
    ];
    for (tenant, pairs, status, error, aadsts) in cases {
        let e = check(tenant, &pairs).unwrap_err();
        assert_eq!(
            (e.status, e.error, e.aadsts),
            (status, error, aadsts),
            "{pairs:?}"
        );
        assert!(!e.description.contains(DEFAULT_AZURE_CLIENT_SECRET));
    }
    let mut twice = good();
    twice.push(("scope", ARM_SCOPE));
    assert_eq!(check(t, &twice).unwrap_err().aadsts, 90015);
}

#[test]
fn only_a_form_post_is_read() {
    let creds = SimCredentials::default();
    let body = body(&good());
    let input = |method, content_type| TokenRequestInput {
        method,
        tenant: DEFAULT_AZURE_TENANT_ID,
        content_type,
        body: &body,
    };
    assert!(verify_token_request(
        &creds,
        &input(
            "POST",
            Some("application/x-www-form-urlencoded; charset=utf-8")
        )
    )
    .is_ok());
    assert_eq!(
        verify_token_request(&creds, &input("GET", Some(FORM)))
            .unwrap_err()
            .aadsts,
        900561
    );
    assert_eq!(
        verify_token_request(&creds, &input("POST", Some("application/json")))
            .unwrap_err()
            .aadsts,
        900144
    );
    assert_eq!(
        verify_token_request(&creds, &input("POST", None))
            .unwrap_err()
            .aadsts,
        900144
    );
}

#[test]
fn tokens_expire_are_revoked_and_are_never_guessable() {
    let mut tokens = AzureTokens::default();
    let t0 = Instant::now();
    let wall = Timestamp::from_second(1_700_000_000).unwrap();
    let a = tokens.issue(Duration::from_secs(10), t0, wall, 1);
    let b = tokens.issue(Duration::from_secs(10), t0, wall, 2);
    assert_ne!(a, b);
    assert_eq!(tokens.issued(), 2);
    let bearer = |t: &str| format!("Bearer {t}");
    assert!(verify_bearer(&tokens, Some(&bearer(&a)), t0, wall).is_ok());
    assert!(verify_bearer(&tokens, Some(&format!("bearer {a}")), t0, wall).is_ok());
    let code = |tokens: &AzureTokens, auth: Option<&str>, at: Instant| {
        verify_bearer(tokens, auth, at, wall).unwrap_err().code
    };
    assert_eq!(code(&tokens, None, t0), "AuthenticationFailed");
    assert_eq!(code(&tokens, Some(&a), t0), "AuthenticationFailed");
    assert_eq!(code(&tokens, Some("Basic abc"), t0), "AuthenticationFailed");
    assert_eq!(
        code(&tokens, Some("Bearer nope"), t0),
        "InvalidAuthenticationToken"
    );
    let late = t0 + Duration::from_secs(10);
    let e = verify_bearer(&tokens, Some(&bearer(&a)), late, wall).unwrap_err();
    assert_eq!(e.code, "ExpiredAuthenticationToken");
    assert!(e.message.contains("11/14/2023 22:13:30"), "{}", e.message);
    assert_eq!(tokens.revoke_all(), 2);
    assert_eq!(
        code(&tokens, Some(&bearer(&b)), t0),
        "InvalidAuthenticationToken"
    );
    assert_eq!(tokens.revoke_all(), 0);
    assert!(!format!("{tokens:?}").contains("simaz."));
}
