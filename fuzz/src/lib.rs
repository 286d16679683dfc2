//! Invariants shared by the fuzz targets: a violated one panics, which libFuzzer reports as a
//! crash with the input saved under `fuzz/artifacts/<target>/`.

use clouddb_providers::http::HttpResponse;
use clouddb_providers::{JobObservation, ProviderError};

/// HTTP statuses each response body is tried with: success, client errors, not found,
/// throttling and server errors take different paths.
pub const STATUSES: [u16; 5] = [200, 400, 404, 429, 503];

/// A response as the shared HTTP client returns it.
pub fn response(status: u16, body: &[u8]) -> HttpResponse {
    let mut headers = http::HeaderMap::new();
    headers.insert("x-request-id", http::HeaderValue::from_static("fuzz"));
    headers.insert("retry-after", http::HeaderValue::from_static("5"));
    HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    }
}

/// Progress within 0-100, a phase always set, and a terminal phase only with a provider
/// status that said so.
pub fn check_observation(obs: &JobObservation) {
    assert!(obs.phase.is_some(), "observation without a phase: {obs:?}");
    assert!(
        obs.progress.is_none_or(|p| p <= 100),
        "progress out of range: {obs:?}"
    );
    if obs.phase_or_pending().is_terminal() {
        assert!(
            obs.provider_status.is_some(),
            "terminal without a status: {obs:?}"
        );
    }
    if let Some(rollback) = &obs.detail.rollback {
        for task in &rollback.tasks {
            assert!(
                task.progress.is_none_or(|p| (0..=100).contains(&p)),
                "sub-task progress out of range: {task:?}"
            );
        }
    }
}

/// Errors always carry a code; describing them never panics.
pub fn check_error(e: &ProviderError) {
    assert!(!e.code.is_empty(), "error without a code: {e:?}");
    let _ = e.describe();
}

/// Checks either outcome of a parser.
pub fn check(result: &Result<JobObservation, ProviderError>) {
    match result {
        Ok(obs) => check_observation(obs),
        Err(e) => check_error(e),
    }
}
