//! crane's OCI registry on loopback (no registry is reachable from here), for the tests that
//! push the chart and the image as they are shipped: `tests/packaging/chart_oci.rs` and the
//! node's `tests/e2e/node/oci.rs`.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `crane registry serve` on 127.0.0.1, killed on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub address: String,
}

impl Registry {
    /// Starts it with its log in `log`, and waits until it listens.
    pub fn start(crane: &Path, log: &Path) -> Registry {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(log).expect("registry log");
        let child = Command::new(crane)
            .args(["registry", "serve", "--address", &address])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", crane.display()));
        let registry = Registry { child, address };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&registry.address).is_err() {
            assert!(Instant::now() < deadline, "crane's registry did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
