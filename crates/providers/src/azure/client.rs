//! The Azure provider: fetches (or reuses) a bearer token, reads the async operation's
//! status resource and hands the answer to the pure mapping and error classification.

use std::sync::Arc;

use async_trait::async_trait;
use url::Url;

use crate::clock::Clock;
use crate::credentials::SecretString;
use crate::digest::CredentialDigest;
use crate::http::{HttpClient, HttpResponse};
use crate::redact::sanitize_error;
use crate::token_cache::TokenCache;
use crate::{Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError};

use super::endpoints::{self, operation_url, AzureCloud};
use super::errors::{classify, request_id, Failure};
use super::mapping::{decode_operation, map_operation, not_found_yet};
use super::token::fetch_token;

/// Access tokens by credential digest (one scope, so the whole credential selects the token:
/// a client ID with another secret never gets this one's token).
pub type AzureTokens = TokenCache<CredentialDigest, SecretString>;

/// Polls Azure Database flexible server async operations (`api` `postgresql-flexible`,
/// `mysql-flexible`). Holds no per-job state; its token cache is shared by every job.
#[derive(Clone)]
pub struct AzureProvider {
    http: HttpClient,
    clock: Clock,
    tokens: Arc<AzureTokens>,
}

impl std::fmt::Debug for AzureProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureProvider").finish_non_exhaustive()
    }
}

impl AzureProvider {
    /// A provider using the shared HTTP client and the system clock.
    pub fn new(http: HttpClient) -> Self {
        Self::with_clock(http, crate::clock::system_clock())
    }

    /// A provider whose token lifetimes are judged on `clock` (tests).
    pub fn with_clock(http: HttpClient, clock: Clock) -> Self {
        AzureProvider {
            http,
            tokens: Arc::new(TokenCache::new(clock.clone())),
            clock,
        }
    }

    /// The token cache (tests and metrics read its fetch count).
    pub fn tokens(&self) -> &Arc<AzureTokens> {
        &self.tokens
    }

    /// The status resource's URL for a target: on `spec.endpoint`, else on the Resource
    /// Manager of the credential's cloud.
    pub fn status_url(target: &JobTarget, cloud: AzureCloud) -> Result<Url, ProviderError> {
        let invalid = |code: &str, message: String| {
            ProviderError::permanent(ErrorReason::InvalidRequest, code, message)
        };
        let (Some(namespace), Some(version)) = (
            endpoints::namespace(target.api),
            endpoints::api_version(target.api),
        ) else {
            return Err(invalid(
                "UnsupportedApi",
                format!(
                    "api {:?} is not an Azure API: expected postgresql-flexible or mysql-flexible",
                    target.api.as_str()
                ),
            ));
        };
        let subscription = target.subscription_id.as_deref().ok_or_else(|| {
            invalid(
                "MissingSubscription",
                "subscriptionId is required for provider azure".into(),
            )
        })?;
        let region = target.region.as_deref().ok_or_else(|| {
            invalid(
                "MissingRegion",
                "region is required for provider azure".into(),
            )
        })?;
        let base = match &target.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => cloud.arm_endpoint(),
        };
        Ok(operation_url(
            &base,
            subscription,
            namespace,
            region,
            &target.job_id,
            version,
        ))
    }

    async fn token(&self, credentials: &Credentials) -> Result<SecretString, ProviderError> {
        // Workload identity already holds an access token (cached by its own exchange).
        if let Credentials::Bearer(token) = credentials {
            return Ok(token.clone());
        }
        let (http, clock) = (&self.http, &self.clock);
        self.tokens
            .get(&credentials.digest(), || {
                fetch_token(http, credentials, clock)
            })
            .await
    }

    async fn get(&self, url: &Url, token: &SecretString) -> Result<HttpResponse, ProviderError> {
        let builder = self
            .http
            .reqwest()
            .get(url.clone())
            .header("accept", "application/json")
            .header("authorization", format!("Bearer {}", token.expose()));
        self.http.send(builder).await
    }
}

/// Interprets the status resource's response.
pub fn interpret(response: &HttpResponse, target: &JobTarget) -> Result<JobObservation, Failure> {
    let request_id = request_id(response);
    if !(200..300).contains(&response.status) {
        return Err(classify(
            response.status,
            &response.body,
            request_id,
            response.retry_after(),
        ));
    }
    let op = decode_operation(&response.body)
        .map_err(|e| Failure::Error(e.with_request_id(request_id)))?;
    Ok(map_operation(&op, target.api))
}

/// The one sanitizing step ([`sanitize_error`]): the client secret and the bearer token,
/// alone and as the `Authorization` value, in every form, and an echoed `Authorization`
/// header.
fn sanitize(
    error: ProviderError,
    credentials: &Credentials,
    token: Option<&SecretString>,
) -> ProviderError {
    let header = token.map(|t| format!("Bearer {}", t.expose()));
    let signed: Vec<&str> = token
        .map(SecretString::expose)
        .into_iter()
        .chain(header.as_deref())
        .collect();
    sanitize_error(error, credentials, &signed, "Bearer ")
}

#[async_trait]
impl Provider for AzureProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        // A workload-identity token comes with the ARM host of its cloud as the endpoint.
        let cloud = match credentials {
            Credentials::Azure { authority_host, .. } => {
                AzureCloud::from_authority(authority_host.as_deref())
            }
            _ => AzureCloud::Public,
        };
        let url = Self::status_url(target, cloud)?;
        let key = credentials.digest();
        let mut retried = false;
        loop {
            let token = self
                .token(credentials)
                .await
                .map_err(|e| sanitize(e, credentials, None))?;
            let response = self
                .get(&url, &token)
                .await
                .map_err(|e| sanitize(e, credentials, Some(&token)))?;
            match interpret(&response, target) {
                Ok(observation) => return Ok(observation),
                Err(Failure::NotFound { .. }) => {
                    return Ok(not_found_yet(target.api, &target.job_id))
                }
                // A token revoked (or expired) early: drop it and try once more, silently
                // (a workload-identity token is exchanged again by its own wrapper).
                Err(Failure::TokenRejected(_))
                    if !retried && !matches!(credentials, Credentials::Bearer(_)) =>
                {
                    self.tokens.invalidate(&key, &token).await;
                    retried = true;
                }
                Err(failure) => {
                    return Err(sanitize(failure.into_error(), credentials, Some(&token)))
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
