//! What the SDK oracle tests share: a local capture server that records every request a
//! provider client really sends (method, path and query, headers, body, as received), the
//! pinned venv of the official SDKs (`scripts/sdk-venv.sh`), and a runner for the oracle
//! scripts in `tests/sdk_oracle/`. One copy, so every oracle sees requests captured the
//! same way.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;

/// One request as the capture server received it.
#[derive(Clone, Debug)]
pub struct Captured {
    pub method: String,
    pub path_and_query: String,
    /// Lower-case names, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Captured {
    /// The value of header `name` (lower-case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The request as one JSON line for the oracle scripts: `method`, `url` (on `base`),
    /// `headers` (`[[name, value], ...]`) and `body_b64`, plus the fields of `extra` (an
    /// object: what the oracle needs besides the request, e.g. its label).
    pub fn oracle_line(&self, base: &str, extra: serde_json::Value) -> String {
        let mut line = serde_json::json!({
            "method": self.method,
            "url": format!("{base}{}", self.path_and_query),
            "headers": self.headers,
            "body_b64": base64::engine::general_purpose::STANDARD.encode(&self.body),
        });
        if let (Some(line), serde_json::Value::Object(extra)) = (line.as_object_mut(), extra) {
            line.extend(extra);
        }
        line.to_string()
    }
}

/// The answer the server gives a captured request: status, content type, body.
pub type Answer = fn(&Captured) -> (u16, &'static str, String);

/// The requests received so far, and how to answer them.
pub struct Capture {
    seen: Mutex<Vec<Captured>>,
    answer: Answer,
}

impl Capture {
    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Captured> {
        self.seen.lock().unwrap().clone()
    }
}

/// Any answer will do when only the request matters: 400 is final for every client (no
/// retry), so each call sends exactly its first request.
fn refuse(_: &Captured) -> (u16, &'static str, String) {
    (400, "text/plain", "captured".into())
}

async fn capture(
    State(server): State<Arc<Capture>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string());
    let request = Captured {
        method: method.as_str().to_string(),
        path_and_query,
        headers,
        body: body.to_vec(),
    };
    let (status, content_type, body) = (server.answer)(&request);
    server.seen.lock().unwrap().push(request);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, [("content-type", content_type)], body).into_response()
}

/// A capture server answering every request with 400; returns it and its base URL
/// (`http://127.0.0.1:<port>`).
pub async fn start() -> (Arc<Capture>, String) {
    start_with(refuse).await
}

/// A capture server answering with `answer` (for calls whose later requests depend on an
/// earlier answer, e.g. a token exchange followed by impersonation).
pub async fn start_with(answer: Answer) -> (Arc<Capture>, String) {
    let server = Arc::new(Capture {
        seen: Mutex::new(Vec::new()),
        answer,
    });
    let app = Router::new().fallback(capture).with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (server, format!("http://{addr}"))
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pinned venv's Python: created (or checked) by `scripts/sdk-venv.sh`. Fails, never
/// skips, with the script's output when it cannot be created (no network): an oracle test
/// that silently passes without its oracle would prove nothing.
pub fn sdk_python() -> PathBuf {
    let out = Command::new("bash")
        .arg(root().join("scripts/sdk-venv.sh"))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the official SDKs' venv could not be created (scripts/sdk-venv.sh: it needs PyPI \
         the first time; run it by hand, or scripts/test.sh, with network access):\n{}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let python = PathBuf::from(stdout.trim());
    assert!(
        python.is_file(),
        "scripts/sdk-venv.sh printed {python:?}, not a file"
    );
    python
}

/// Runs `tests/sdk_oracle/<script>` in the venv on `lines` (one JSON document each, written
/// to a file passed as the only argument).
pub fn run_oracle(python: &Path, script: &str, lines: &[String]) -> std::process::Output {
    // One directory per run: the tests of a binary run in parallel in one process.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::SeqCst);
    let stem = script.trim_end_matches(".py");
    let dir = std::env::temp_dir().join(format!("{stem}-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("requests.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = Command::new(python)
        .arg(root().join("tests/sdk_oracle").join(script))
        .arg(&input)
        .output()
        .expect("the venv's python runs");
    let _ = std::fs::remove_dir_all(&dir);
    out
}
