//! The Cloud SQL provider: gets an access token from the shared cache (fetching one with
//! the key when there is none or it is due for refresh), reads the operation, and hands the
//! answer to the pure mapping and error classification.
//!
//! A 401 with a cached token means the token was revoked or expired early: the token is
//! dropped from the cache and the call is retried ONCE with a fresh one, silently; a second
//! 401 is a real refusal.

use std::sync::Arc;

use async_trait::async_trait;
use url::Url;

use crate::clock::Clock;
use crate::credentials::{GcpServiceAccountKey, SecretString};
use crate::digest::{digest_of, CredentialDigest};
use crate::http::{HttpClient, HttpResponse};
use crate::redact::sanitize_error;
use crate::token_cache::TokenCache;
use crate::{Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError};

use super::errors::{classify, Failure};
use super::mapping::{not_found_yet, observation_from_body};
use super::token::{fetch_token, SCOPE};

/// The Cloud SQL Admin API's host.
pub const DEFAULT_ENDPOINT: &str = "https://sqladmin.googleapis.com";

/// Access tokens by credential (and scope).
pub type GcpTokenCache = TokenCache<CredentialDigest, SecretString>;

/// Polls Cloud SQL operations (`api` `cloudsql`). Holds no per-job state; its token cache
/// is shared by every job polled through it.
#[derive(Clone)]
pub struct GcpProvider {
    http: HttpClient,
    clock: Clock,
    tokens: Arc<GcpTokenCache>,
}

impl std::fmt::Debug for GcpProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpProvider")
            .field("cached_tokens", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

impl GcpProvider {
    /// A provider using the shared HTTP client and the system clock.
    pub fn new(http: HttpClient) -> Self {
        Self::with_clock(http, crate::clock::system_clock())
    }

    /// A provider reading time (JWT `iat`/`exp`, token expiry) from `clock` (tests).
    pub fn with_clock(http: HttpClient, clock: Clock) -> Self {
        GcpProvider {
            http,
            tokens: Arc::new(TokenCache::new(clock.clone())),
            clock,
        }
    }

    /// The token cache, e.g. to count fetches.
    pub fn token_cache(&self) -> &Arc<GcpTokenCache> {
        &self.tokens
    }

    /// The operation's URL: the endpoint (or the default host) with
    /// `/v1/projects/{project}/operations/{operation}` after any path prefix, each segment
    /// percent-encoded.
    pub fn operation_url(target: &JobTarget) -> Result<Url, ProviderError> {
        let project =
            crate::target::require_project_id(target.project_id.as_deref(), target.provider)?;
        let mut url = match &target.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => Url::parse(DEFAULT_ENDPOINT).map_err(|e| {
                ProviderError::permanent(
                    ErrorReason::InvalidRequest,
                    "InvalidEndpoint",
                    e.to_string(),
                )
            })?,
        };
        url.set_query(None);
        url.set_fragment(None);
        url.path_segments_mut()
            .map_err(|()| {
                ProviderError::permanent(
                    ErrorReason::InvalidRequest,
                    "InvalidEndpoint",
                    "the endpoint cannot carry a path",
                )
            })?
            .pop_if_empty()
            .extend([
                "v1",
                "projects",
                project,
                "operations",
                target.job_id.trim(),
            ]);
        Ok(url)
    }

    /// The whole key and the scope: only jobs holding this very key share its token.
    fn cache_key(credentials: &Credentials) -> CredentialDigest {
        digest_of(&(credentials.digest(), SCOPE))
    }

    async fn token(
        &self,
        key_id: CredentialDigest,
        key: &GcpServiceAccountKey,
    ) -> Result<SecretString, ProviderError> {
        self.tokens
            .get(&key_id, || {
                fetch_token(&self.http, key, SCOPE, (self.clock)())
            })
            .await
    }

    async fn get(&self, url: &Url, token: &SecretString) -> Result<HttpResponse, ProviderError> {
        let request = self
            .http
            .reqwest()
            .get(url.clone())
            .header("authorization", format!("Bearer {}", token.expose()))
            .header("accept", "application/json");
        self.http.send(request).await
    }

    /// The one authorized GET: with a workload-identity bearer token as given, or with the
    /// key's cached access token, dropped and fetched again ONCE on a 401. Transport errors
    /// are sanitized; returns the response and what to scrub from later errors (the token
    /// and the header as sent).
    pub async fn authorized_get(
        &self,
        url: &Url,
        credentials: &Credentials,
    ) -> Result<(HttpResponse, Vec<String>), ProviderError> {
        if let Credentials::Bearer(token) = credentials {
            // Workload identity: the token comes from its own exchange (and is replaced by it
            // when refused), so no key and no cache here.
            let header = format!("Bearer {}", token.expose());
            let response = self
                .get(url, token)
                .await
                .map_err(|e| sanitize_error(e, credentials, &[&header], "Bearer "))?;
            return Ok((response, vec![header]));
        }
        let Credentials::Gcp(key) = credentials else {
            return Err(ProviderError::permanent(
                ErrorReason::AuthenticationFailed,
                "WrongCredentials",
                "provider gcp needs a service-account key file (credentials.json)",
            ));
        };
        let cache_key = Self::cache_key(credentials);
        let (response, token) = self
            .get_with_key(url, key, cache_key)
            .await
            .map_err(|e| sanitize_error(e, credentials, &[], "Bearer "))?;
        // The token as sent, and the whole header value (a server may echo it encoded).
        let header = format!("Bearer {}", token.expose());
        Ok((response, vec![token.expose().to_string(), header]))
    }

    async fn get_with_key(
        &self,
        url: &Url,
        key: &GcpServiceAccountKey,
        cache_key: CredentialDigest,
    ) -> Result<(HttpResponse, SecretString), ProviderError> {
        let token = self.token(cache_key, key).await?;
        let response = self.get(url, &token).await?;
        if response.status != 401 {
            return Ok((response, token));
        }
        // Revoked or expired early: one fresh token, one more try.
        self.tokens.invalidate(&cache_key, &token).await;
        let fresh = self.token(cache_key, key).await?;
        let response = self.get(url, &fresh).await?;
        Ok((response, fresh))
    }
}

/// Interprets the operation response.
pub fn interpret(
    response: &HttpResponse,
    target: &JobTarget,
) -> Result<JobObservation, ProviderError> {
    if (200..300).contains(&response.status) {
        return observation_from_body(&response.body);
    }
    match classify(response.status, &response.body, response.retry_after()) {
        Failure::NotFound { .. } => Ok(not_found_yet(
            &target.job_id,
            target.project_id.as_deref().unwrap_or_default(),
        )),
        Failure::Error(e) => Err(e),
    }
}

#[async_trait]
impl Provider for GcpProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        let url = Self::operation_url(target)?;
        let (response, sent) = self.authorized_get(&url, credentials).await?;
        let sent: Vec<&str> = sent.iter().map(String::as_str).collect();
        interpret(&response, target).map_err(|e| sanitize_error(e, credentials, &sent, "Bearer "))
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
