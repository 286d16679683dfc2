//! The HTTP server: one loopback listener speaking every provider family's API plus the
//! `/_sim/*` control API. Connections can be reset on purpose: each accepted stream carries
//! a kill switch the handler can flip, after which the stream refuses all I/O and closes
//! with a TCP RST (zero linger), so no byte of the response leaves.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::auth::SimCredentials;
use super::control;
use super::faults::FaultRule;
use super::handlers::{self, lock, Incoming, Reply, Shared};
use super::recorder::{Counters, RecordedRequest};
use super::scenario::JobSpec;
use super::state::SimState;
use super::SimConfig;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("refusing to bind {0}: the simulator (and its unauthenticated control API) listens on loopback only")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, io::Error),
}

/// A running simulator. Dropping it stops the server; [`Simulator::shutdown`] waits for it.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    state: Shared,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Starts serving on `bind` (a loopback address; port 0 picks a free port).
    pub async fn start(bind: SocketAddr, config: SimConfig) -> Result<Simulator, SimError> {
        if !bind.ip().is_loopback() {
            return Err(SimError::NotLoopback(bind));
        }
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|e| SimError::Bind(bind, e))?;
        let addr = listener.local_addr().map_err(|e| SimError::Bind(bind, e))?;
        let state: Shared = Arc::new(Mutex::new(SimState::new(config)));
        let app = router(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(
                KillableListener(listener),
                app.into_make_service_with_connect_info::<KillSwitch>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "simulator server stopped with an error");
            }
        });
        tracing::info!(%addr, "provider simulator listening");
        Ok(Simulator {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (use it as a job's `endpoint`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The most recent provider requests served (oldest first, bounded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).recorder.recent()
    }

    /// The distinct states reported for a job so far, in order (consecutive repeats folded).
    pub fn served_states(&self, job_id: &str) -> Vec<super::timeline::JobState> {
        let st = lock(&self.state);
        st.find(|spec| spec.job_id == job_id)
            .into_iter()
            .flat_map(|i| st.jobs[i].served.clone())
            .collect()
    }

    /// Provider requests served since start or the last reset.
    pub fn request_count(&self) -> u64 {
        lock(&self.state).recorder.total()
    }

    /// Counters by provider, API, job, status and fault.
    pub fn counters(&self) -> Counters {
        lock(&self.state).recorder.counters().clone()
    }

    /// Adds (or replaces) a job at runtime.
    pub fn add_job(&self, job: JobSpec) -> Result<(), String> {
        job.validate()?;
        lock(&self.state).upsert_job(job);
        Ok(())
    }

    /// Adds a global fault rule at runtime.
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), String> {
        rule.validate()?;
        lock(&self.state).faults.push(rule);
        Ok(())
    }

    /// Replaces the accepted credentials at runtime, e.g. to rotate keys mid-job: requests
    /// signed with keys no longer listed are rejected from now on (also after `reset`).
    pub fn set_credentials(&self, credentials: SimCredentials) {
        lock(&self.state).config.credentials = credentials;
    }

    /// Sets what the simulated STS trust for workload identity (the cluster's issuer and
    /// keys, the roles and their trusted ServiceAccounts).
    pub fn set_workload_identity(&self, config: crate::sts::WorkloadIdentityConfig) {
        lock(&self.state).sts.config = Some(config);
    }

    /// Credentials the simulated STS issued so far.
    pub fn sts_exchanges(&self) -> u64 {
        lock(&self.state).sts.exchanges
    }

    /// Revokes every Azure access token issued so far; returns how many were live.
    pub fn revoke_azure_tokens(&self) -> usize {
        lock(&self.state).azure_tokens.revoke_all()
    }

    /// Azure access tokens issued since start or the last reset.
    pub fn azure_tokens_issued(&self) -> u64 {
        lock(&self.state).azure_tokens.issued()
    }

    /// Revokes every Google access token issued so far (their next API call is a 401);
    /// returns how many were live.
    pub fn revoke_gcp_tokens(&self) -> usize {
        lock(&self.state).gcp_tokens.revoke_all()
    }

    /// Requests the Google token endpoint has answered (issued or refused).
    pub fn gcp_token_requests(&self) -> u64 {
        lock(&self.state).gcp_tokens.requests
    }

    /// Google access tokens issued.
    pub fn gcp_tokens_issued(&self) -> u64 {
        lock(&self.state).gcp_tokens.issued
    }

    /// Back to the configured jobs and faults, with fresh clocks, counters and log.
    pub fn reset(&self) {
        lock(&self.state).reset();
    }

    /// Stops the server, waiting briefly for in-flight requests (slow ones are cut off).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/_sim/requests", get(control::requests))
        .route("/_sim/jobs", get(control::list_jobs).post(control::add_job))
        .route(
            "/_sim/faults",
            get(control::list_faults)
                .post(control::add_faults)
                .delete(control::clear_faults),
        )
        .route("/_sim/reset", post(control::reset))
        .route(
            "/_sim/azure/revoke-tokens",
            post(control::revoke_azure_tokens),
        )
        .route("/_sim/gcp/revoke-tokens", post(control::revoke_gcp_tokens))
        .fallback(provider)
        .with_state(state)
}

async fn provider(
    State(state): State<Shared>,
    ConnectInfo(kill): ConnectInfo<KillSwitch>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let req = Incoming {
        method: &method,
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &headers,
        host: &host,
        body: &body,
    };
    let handled = handlers::handle(&state, req).await;
    lock(&state).recorder.record(RecordedRequest {
        seq: 0,
        at: jiff::Timestamp::now(),
        provider: handled.provider,
        api: handled.api,
        job_id: handled.job_id,
        status: handled.reply.status(),
        fault: handled.fault,
    });
    match handled.reply {
        Reply::Reset => {
            kill.0.store(true, Ordering::SeqCst);
            // Nothing will be written: the stream now refuses I/O.
            (http::StatusCode::INTERNAL_SERVER_ERROR, "reset").into_response()
        }
        Reply::Http {
            status,
            body,
            content_type,
            headers,
        } => {
            let mut response = (
                http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK),
                [(http::header::CONTENT_TYPE, content_type)],
                body,
            )
                .into_response();
            for (name, value) in headers {
                if let Ok(v) = http::HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, v);
                }
            }
            response
        }
    }
}

/// Per-connection switch: once set, the connection's stream fails all I/O.
#[derive(Clone, Debug)]
pub(crate) struct KillSwitch(Arc<AtomicBool>);

struct KillableListener(TcpListener);

/// A TCP stream that can be killed from its request handler.
pub(crate) struct KillableStream {
    stream: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableStream {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::SeqCst) {
            // Closing with zero linger sends RST instead of FIN.
            let _ = self.stream.set_zero_linger();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "simulated connection reset",
            ));
        }
        Ok(())
    }
}

impl axum::serve::Listener for KillableListener {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let io = KillableStream {
                        stream,
                        killed: Arc::new(AtomicBool::new(false)),
                    };
                    return (io, addr);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "simulator accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl Connected<axum::serve::IncomingStream<'_, KillableListener>> for KillSwitch {
    fn connect_info(stream: axum::serve::IncomingStream<'_, KillableListener>) -> Self {
        KillSwitch(stream.io().killed.clone())
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}
