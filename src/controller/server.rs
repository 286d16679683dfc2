//! The operator's HTTP endpoints: `/metrics`, `/healthz`, `/readyz`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::memory::JobMemory;
use super::metrics::Metrics;

/// Readiness and liveness flags flipped by the controller as it starts and stops.
#[derive(Debug, Default)]
pub struct Health {
    ready: AtomicBool,
    alive: AtomicBool,
}

impl Health {
    pub fn new() -> Arc<Self> {
        Arc::new(Health {
            ready: AtomicBool::new(false),
            alive: AtomicBool::new(true),
        })
    }
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
    pub fn set_alive(&self, alive: bool) {
        self.alive.store(alive, Ordering::SeqCst);
    }
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    memory: Arc<JobMemory>,
    health: Arc<Health>,
}

/// The router, separate from binding so tests can drive it directly.
pub fn router(metrics: Arc<Metrics>, memory: Arc<JobMemory>, health: Arc<Health>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(AppState {
            metrics,
            memory,
            health,
        })
}

/// Binds and serves until the process ends.
pub async fn serve(addr: SocketAddr, app: Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await
}

/// OpenMetrics for scrapers that ask for it (Prometheus does), the Prometheus text
/// format for everything else (curl, promtool).
async fn metrics_handler(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
) -> impl IntoResponse {
    let text = s.metrics.render(Some(&s.memory));
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    if openmetrics {
        (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
    } else {
        (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            super::metrics::prometheus_text(&text),
        )
    }
}

async fn healthz(State(s): State<AppState>) -> impl IntoResponse {
    if s.health.alive.load(Ordering::SeqCst) {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "controller stopped")
    }
}

async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    if s.health.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get_text(addr: SocketAddr, path: &str) -> (u16, String) {
        let client = crate::providers::http::HttpClient::new(&Default::default()).unwrap();
        let resp = client
            .send(client.reqwest().get(format!("http://{addr}{path}")))
            .await
            .unwrap();
        (resp.status, String::from_utf8(resp.body).unwrap())
    }

    #[tokio::test]
    async fn endpoints_follow_health_flags() {
        let health = Health::new();
        let app = router(
            Arc::new(Metrics::new()),
            Arc::new(JobMemory::default()),
            health.clone(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        assert_eq!(get_text(addr, "/healthz").await.0, 200);
        assert_eq!(get_text(addr, "/readyz").await.0, 503);
        health.set_ready(true);
        assert_eq!(get_text(addr, "/readyz").await.0, 200);
        health.set_alive(false);
        assert_eq!(get_text(addr, "/healthz").await.0, 503);
        let (code, body) = get_text(addr, "/metrics").await;
        assert_eq!(code, 200);
        assert!(
            body.contains("clouddb_job_operator_status_writes_total 0"),
            "{body}"
        );
    }
}
