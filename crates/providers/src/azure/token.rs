//! The OAuth2 client-credentials exchange with Microsoft Entra ID, hand-written over the
//! shared [`HttpClient`]: one form `POST` to `{authority}/{tenant}/oauth2/v2.0/token` and a
//! lenient read of the answer.
//!
//! Why not `azure_identity`: its `ClientSecretCredential` refuses a non-`https` authority
//! (so it cannot reach the loopback simulator), keeps a second token cache on the system
//! clock beside [`crate::token_cache::TokenCache`] (no way to drop a revoked token), types
//! `expires_in` as a number only, and drops the OAuth `error` this module classifies on.
//! The exchange itself is a dozen lines.

use jiff::{SignedDuration, Timestamp};
use url::Url;

use super::endpoints::{token_url, AzureCloud};
use super::errors::classify_token_error;
use super::model::TokenAnswer;
use crate::http::{HttpClient, HttpResponse};
use crate::secret::SecretString;
use crate::token_cache::Expiring;
use crate::{Credentials, ErrorReason, ProviderError};

/// Lifetime assumed when an answer leaves out `expires_in` (Entra always sends it; a
/// shorter guess only means an earlier refresh).
pub const DEFAULT_LIFETIME_SECS: i64 = 600;
/// Longest lifetime believed (Entra issues 60-90 minutes).
pub const MAX_LIFETIME_SECS: i64 = 24 * 3600;

/// A token request ready to send. `Debug` hides the form (it carries the client secret).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub url: Url,
    /// `application/x-www-form-urlencoded` body.
    pub body: String,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("url", &self.url.as_str())
            .field("body", &"[REDACTED]")
            .finish()
    }
}

/// Builds the token request for Azure client credentials.
pub fn token_request(credentials: &Credentials) -> Result<TokenRequest, ProviderError> {
    let Credentials::Azure {
        tenant_id,
        client_id,
        client_secret,
        authority_host,
    } = credentials
    else {
        return Err(ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            "WrongCredentials",
            "provider azure needs client credentials (tenantId, clientId, clientSecret)",
        ));
    };
    let url = token_url(authority_host.as_deref(), tenant_id).map_err(|e| {
        ProviderError::permanent(ErrorReason::InvalidRequest, "InvalidAuthority", e.0)
    })?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client_id.trim())
        .append_pair("client_secret", client_secret.expose())
        .append_pair(
            "scope",
            &AzureCloud::from_authority(authority_host.as_deref()).arm_scope(),
        )
        .finish();
    Ok(TokenRequest { url, body })
}

/// Reads a token answer received at `now`.
pub fn interpret_token(
    response: &HttpResponse,
    now: Timestamp,
) -> Result<Expiring<SecretString>, ProviderError> {
    let request_id = response
        .header("x-ms-request-id")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from);
    if !(200..300).contains(&response.status) {
        return Err(classify_token_error(
            response.status,
            &response.body,
            request_id,
            response.retry_after(),
        ));
    }
    let malformed = |what: &str| {
        ProviderError::transient(
            "MalformedTokenResponse",
            format!(
                "the token endpoint answered HTTP {} but {what}",
                response.status
            ),
        )
        .with_request_id(request_id.clone())
    };
    let answer: TokenAnswer =
        serde_json::from_slice(&response.body).map_err(|_| malformed("not with token JSON"))?;
    let token = answer
        .access_token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| malformed("without an access_token"))?;
    if let Some(kind) = &answer.token_type {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(malformed(&format!("with token_type {kind:?}, not Bearer")));
        }
    }
    let lifetime = answer
        .expires_in
        .unwrap_or(DEFAULT_LIFETIME_SECS)
        .clamp(1, MAX_LIFETIME_SECS);
    Ok(Expiring {
        value: SecretString::new(token.trim()),
        expires_at: now
            .checked_add(SignedDuration::from_secs(lifetime))
            .unwrap_or(now),
    })
}

/// Sends the token request and reads the answer; `now` is read when the answer arrives.
pub async fn fetch_token(
    http: &HttpClient,
    credentials: &Credentials,
    clock: &crate::clock::Clock,
) -> Result<Expiring<SecretString>, ProviderError> {
    let request = token_request(credentials)?;
    let builder = http
        .reqwest()
        .post(request.url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(request.body);
    let response = http.send(builder).await?;
    interpret_token(&response, clock())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(authority: Option<&str>) -> Credentials {
        Credentials::Azure {
            tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "a1b2c3d4-0000-4000-8000-000000000001".into(),
            client_secret: SecretString::new("s3cr3t~value+/="),
            authority_host: authority.map(String::from),
        }
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-ms-request-id", "rid-1".parse().unwrap());
        HttpResponse {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_form_is_the_documented_client_credentials_grant() {
        let req = token_request(&creds(None)).unwrap();
        assert_eq!(
            req.url.as_str(),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        );
        let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            form,
            [
                ("grant_type".to_string(), "client_credentials".to_string()),
                (
                    "client_id".into(),
                    "a1b2c3d4-0000-4000-8000-000000000001".into()
                ),
                ("client_secret".into(), "s3cr3t~value+/=".into()),
                (
                    "scope".into(),
                    "https://management.azure.com/.default".into()
                ),
            ]
        );
        assert!(!format!("{req:?}").contains("s3cr3t"));
        let e = token_request(&creds(Some("http://login.example.com"))).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.reason),
            ("InvalidAuthority", ErrorReason::InvalidRequest)
        );
        let aws = Credentials::Aws {
            access_key_id: "AKIA".into(),
            secret_access_key: SecretString::new("x"),
            session_token: None,
        };
        assert_eq!(token_request(&aws).unwrap_err().code, "WrongCredentials");
    }

    #[test]
    fn answers_with_numeric_or_string_lifetimes() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        for body in [
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok"}"#,
            r#"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","access_token":"tok"}"#,
        ] {
            let t = interpret_token(&response(200, body), now).unwrap();
            assert_eq!(t.value.expose(), "tok");
            assert_eq!(t.expires_at.as_second(), 1_700_003_599);
        }
        let t = interpret_token(&response(200, r#"{"access_token":"tok"}"#), now).unwrap();
        assert_eq!(
            t.expires_at.as_second() - now.as_second(),
            DEFAULT_LIFETIME_SECS
        );
        let t = interpret_token(
            &response(200, r#"{"access_token":"t","expires_in":-5}"#),
            now,
        )
        .unwrap();
        assert_eq!(t.expires_at.as_second() - now.as_second(), 1);
    }

    #[test]
    fn odd_success_bodies_are_transient() {
        let now = Timestamp::UNIX_EPOCH;
        for body in [
            "<html>",
            "{}",
            r#"{"access_token":"  "}"#,
            r#"{"token_type":"mac","access_token":"x"}"#,
        ] {
            let e = interpret_token(&response(200, body), now).unwrap_err();
            assert_eq!(e.class, crate::ErrorClass::Transient, "{body}");
            assert_eq!(e.request_id.as_deref(), Some("rid-1"));
        }
    }

    #[test]
    fn refusals_are_classified() {
        let now = Timestamp::UNIX_EPOCH;
        let e = interpret_token(
            &response(
                401,
                r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"trace_id":"tr","correlation_id":"co"}"#,
            ),
            now,
        )
        .unwrap_err();
        assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
        assert!(e.is_permanent());
        assert_eq!(e.code, "invalid_client");
        assert!(e.message.contains("AADSTS7000215"), "{}", e.message);
        assert_eq!(e.request_id.as_deref(), Some("rid-1"));
    }
}
