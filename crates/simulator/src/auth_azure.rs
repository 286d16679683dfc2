//! Microsoft Entra ID's client-credentials grant and Azure Resource Manager's bearer-token
//! check, as the two services answer them: the token endpoint verifies the form the client
//! posts (grant type, scope, tenant in the path, client ID and secret against the accepted
//! applications) and issues opaque tokens with a configurable lifetime; ARM rejects a
//! missing, unknown, revoked or expired token with its documented 401 bodies. Written from
//! the published protocol (RFC 6749 section 4.4, the Entra error reference), independently
//! of the client's `azure::token` module. Messages never contain secrets or tokens.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::{AzureApp, SimCredentials};
use crate::verify::same;

/// The one scope ARM tokens are issued for.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// What Entra issues by default (`expires_in` 3599 for a fresh token).
pub const DEFAULT_AZURE_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);
/// Expired tokens are remembered this long (to answer `ExpiredAuthenticationToken`), then
/// forgotten (and answered as unknown), so the store stays bounded.
const EXPIRED_MEMORY: Duration = Duration::from_secs(3600);

/// A token endpoint refusal: HTTP status, OAuth `error`, the `AADSTS` number and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntraError {
    pub status: u16,
    pub error: &'static str,
    pub aadsts: u32,
    pub description: String,
}

fn entra(
    status: u16,
    error: &'static str,
    aadsts: u32,
    description: impl Into<String>,
) -> EntraError {
    EntraError {
        status,
        error,
        aadsts,
        description: description.into(),
    }
}

fn missing(name: &str) -> EntraError {
    entra(
        400,
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{name}'."),
    )
}

/// An ARM authentication failure (always HTTP 401).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArmAuthError {
    pub code: &'static str,
    pub message: String,
}

/// The parts of a token request the check reads.
#[derive(Clone, Copy, Debug)]
pub struct TokenRequestInput<'a> {
    pub method: &'a str,
    /// The tenant segment of `/{tenant}/oauth2/v2.0/token`, percent-decoded.
    pub tenant: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// Verifies a client-credentials token request; the accepted application on success.
pub fn verify_token_request<'c>(
    creds: &'c SimCredentials,
    req: &TokenRequestInput<'_>,
) -> Result<&'c AzureApp, EntraError> {
    if !req.method.eq_ignore_ascii_case("POST") {
        return Err(entra(
            400,
            "invalid_request",
            900561,
            "The endpoint only accepts POST, OPTIONS requests. Received a GET request.",
        ));
    }
    let form_type = req.content_type.is_some_and(|c| {
        c.split(';').next().is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    if !form_type {
        return Err(missing("grant_type"));
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(entra(
            400,
            "invalid_request",
            90015,
            format!(
                "Requested query string is too long or parameter '{}' is duplicated.",
                pair[0]
            ),
        ));
    }
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    if !creds.azure.iter().any(|a| a.tenant_id == req.tenant) {
        return Err(entra(
            400,
            "invalid_request",
            90002,
            format!(
                "Tenant '{}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
                req.tenant
            ),
        ));
    }
    match field("grant_type") {
        None => return Err(missing("grant_type")),
        Some("client_credentials") => {}
        Some(other) => {
            return Err(entra(
                400,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            ))
        }
    }
    let client_id = field("client_id").ok_or_else(|| missing("client_id"))?;
    let scope = field("scope").ok_or_else(|| missing("scope"))?;
    if scope != ARM_SCOPE {
        return Err(entra(
            400,
            "invalid_scope",
            1002012,
            format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
        ));
    }
    let app = creds
        .azure
        .iter()
        .find(|a| a.tenant_id == req.tenant && a.client_id == client_id)
        .ok_or_else(|| {
            entra(
                400,
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant.",
                    req.tenant
                ),
            )
        })?;
    let secret = field("client_secret").ok_or_else(|| {
        entra(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    })?;
    if !same(secret, &app.client_secret) {
        return Err(entra(
            401,
            "invalid_client",
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.", app.client_id),
        ));
    }
    Ok(app)
}

#[derive(Clone, Debug)]
struct Issued {
    expires: Instant,
    expires_wall: Timestamp,
    revoked: bool,
}

/// The tokens the simulator issued. `Debug` shows counts only.
#[derive(Default)]
pub struct AzureTokens {
    issued: HashMap<String, Issued>,
    count: u64,
}

impl fmt::Debug for AzureTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureTokens")
            .field("live", &self.issued.len())
            .field("issued", &self.count)
            .finish()
    }
}

impl AzureTokens {
    /// Issues a token valid for `lifetime` from `now`; `random` makes it unguessable.
    pub fn issue(
        &mut self,
        lifetime: Duration,
        now: Instant,
        wall: Timestamp,
        random: u128,
    ) -> String {
        self.issued
            .retain(|_, t| now.saturating_duration_since(t.expires) < EXPIRED_MEMORY);
        self.count += 1;
        let token = format!("simaz.{:06}.{random:032x}", self.count);
        let expires_wall = wall
            .checked_add(jiff::SignedDuration::try_from(lifetime).unwrap_or_default())
            .unwrap_or(wall);
        self.issued.insert(
            token.clone(),
            Issued {
                expires: now + lifetime,
                expires_wall,
                revoked: false,
            },
        );
        token
    }

    /// Revokes every token issued so far (they are answered as invalid from now on).
    pub fn revoke_all(&mut self) -> usize {
        let mut revoked = 0;
        for token in self.issued.values_mut().filter(|t| !t.revoked) {
            token.revoked = true;
            revoked += 1;
        }
        revoked
    }

    /// Tokens issued since start or the last reset.
    pub fn issued(&self) -> u64 {
        self.count
    }
}

/// Checks an `Authorization` header at `now`, as ARM does.
pub fn verify_bearer(
    tokens: &AzureTokens,
    authorization: Option<&str>,
    now: Instant,
    wall: Timestamp,
) -> Result<(), ArmAuthError> {
    let header = authorization.ok_or_else(|| ArmAuthError {
        code: "AuthenticationFailed",
        message: "Authentication failed. The 'Authorization' header is missing.".into(),
    })?;
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ArmAuthError {
            code: "AuthenticationFailed",
            message: "Authentication failed. The 'Authorization' header is provided in an invalid format.".into(),
        })?;
    let invalid = || ArmAuthError {
        code: "InvalidAuthenticationToken",
        message: "The access token is invalid.".into(),
    };
    let issued = tokens
        .issued
        .iter()
        .find(|(t, _)| same(t, token))
        .map(|(_, i)| i)
        .ok_or_else(invalid)?;
    if issued.revoked {
        return Err(invalid());
    }
    if now >= issued.expires {
        let format = |t: Timestamp| t.strftime("%m/%d/%Y %H:%M:%S").to_string();
        return Err(ArmAuthError {
            code: "ExpiredAuthenticationToken",
            message: format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                format(issued.expires_wall),
                format(wall)
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "auth_azure_tests.rs"]
mod tests;
