//! Azure Database for PostgreSQL and MySQL flexible servers: the Azure-AsyncOperation status
//! resource of a long-running ARM operation,
//! `GET {arm}/subscriptions/{subscriptionId}/providers/{namespace}/locations/{region}/azureAsyncOperation/{jobId}?api-version=..`
//! (`Microsoft.DBforPostgreSQL` at `2024-08-01`, `Microsoft.DBforMySQL` at `2023-12-30`),
//! authenticated with a bearer token from the client-credentials grant.
//!
//! - [`model`]: lenient response types (status body, ARM errors, token answers).
//! - [`mapping`]: status body → [`JobObservation`](crate::JobObservation).
//! - [`errors`]: ARM and token-endpoint error classification.
//! - [`endpoints`]: hosts, namespaces, api-versions, URLs.
//! - [`token`]: the OAuth2 client-credentials exchange (hand-written; see there why).
//! - [`client`]: [`AzureProvider`], the [`Provider`](crate::Provider).
//!
//! Endpoints: ARM is `https://management.azure.com` unless `spec.endpoint` replaces it (a
//! path prefix is kept); the token comes from `{authorityHost}/{tenantId}/oauth2/v2.0/token`
//! (`authorityHost` from the Secret or `AZURE_AUTHORITY_HOST`, default
//! `https://login.microsoftonline.com`; plain `http://` only on loopback) with scope
//! `https://management.azure.com/.default`.
//!
//! Status: `Succeeded` → Succeeded (progress 100); `Failed` → Failed (`JobFailed`, the
//! `error` code and message, with up to five `details`, in the message); `Canceled` /
//! `Cancelled` → Failed (`Canceled`, as AWS and Alibaba Cloud report a canceled job);
//! `InProgress`, `CancelInProgress`, `Accepted` and every other value → Running, never a
//! terminal phase (an unknown value adds reason `UnknownStatus`). `percentComplete` (a float,
//! floored) is the progress when present.
//!
//! Job type: the body carries no operation type (`name` is the operation's ID, the same GUID
//! as `jobId`), so `jobType`/`providerJobType` stay unset rather than guessed; `status.azure`
//! carries the operation's name and ARM path, the resource provider and the error code.
//!
//! Tokens: one per credential in the provider's [`TokenCache`](crate::token_cache::TokenCache),
//! shared by every job, refreshed before expiry; a 401 from ARM drops the token and retries
//! once with a fresh one before it counts as `AuthenticationFailed`. A 404 on the status
//! resource is the not-found grace (`Pending`/`NotFoundYet`).
//!
//! `Retry-After` is honoured on 429 and 5xx answers (as the error's `retry_after`). On a 200
//! it is only a polling hint, and the controller has no channel for such a hint on a
//! successful poll, so it is not read there: the job's `pollInterval` governs.
//!
//! Discovery (a `CloudDbInstance`): not supported. ARM has no call that lists a flexible
//! server's long-running operations: the Azure-AsyncOperation status resource a CloudDbJob
//! tracks is reachable only by the ID its creating request returned, and the activity log
//! (`Microsoft.Insights` management events) lists events by correlation ID, not those
//! operation IDs, and lags by minutes. So this provider has no
//! [`JobLister`](crate::discovery::JobLister).

pub mod client;
pub mod cloud;
pub mod endpoints;
pub mod errors;
pub mod mapping;
pub mod model;
pub mod token;

pub use client::AzureProvider;
