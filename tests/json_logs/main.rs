//! `--log-format json` lines carry the job's `namespace`, `name` and `job_id` fields. In its
//! own test binary: tracing caches callsite interest per process, so a subscriber set for
//! one test thread must not race other tests (in the operator tests' binary it failed
//! about one run in three once those tests logged from many threads at once).

#[path = "../support/mod.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use clouddb_job_operator::api::JobPhase;
use clouddb_job_operator::cli::logging::json_subscriber;
use support::operator::{observation, setup};
use tracing_subscriber::EnvFilter;

/// A writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn json_logs_carry_namespace_name_and_job_id() {
    let buffer = Buffer::default();
    let subscriber = json_subscriber(EnvFilter::new("clouddb_job_operator=debug"), buffer.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let s = setup(vec![observation(JobPhase::Running, 10)]).await;
    s.poll().await;
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let reconciled = lines
        .iter()
        .find(|l| l["message"] == "reconciled")
        .unwrap_or_else(|| panic!("no reconciled line in {text}"));
    assert_eq!(reconciled["namespace"], "default");
    assert_eq!(reconciled["name"], "upgrade-1");
    assert_eq!(reconciled["job_id"], "4242");
    assert!(reconciled["level"].is_string() && reconciled["timestamp"].is_string());
    assert!(!text.contains("test-secret-key"), "secrets never logged");
}
