//! A Git repository served on loopback for the Flux tests (`gitops.rs`): Debian git's
//! `git http-backend` behind Python's CGI server, and the child processes (the server, Flux's
//! controllers) the tests start, killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::{free_port, http_get, output_text, tail};

/// Runs a command to completion (bounded by the caller's tools); panics when it fails.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().expect("the command runs");
    assert!(out.status.success(), "{cmd:?}: {}", output_text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A child process killed on drop, its output in a log file.
pub struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    pub fn spawn(name: &'static str, cmd: &mut Command, dir: &Path) -> Process {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        Process { name, child, log }
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `http://127.0.0.1:<port><path>` answers 200.
    pub async fn wait_http(&mut self, port: u16, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = http_get(port, path).await {
                return;
            }
            assert!(
                matches!(self.child.try_wait(), Ok(None)),
                "{} exited at start:\n{}",
                self.name,
                tail(&self.logs(), 40)
            );
            assert!(
                Instant::now() < deadline,
                "{} not ready in 60s:\n{}",
                self.name,
                tail(&self.logs(), 40)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Git repository on loopback: a bare repository served read-only over smart HTTP by
/// `git http-backend` (Debian git) behind `python3 -m http.server --cgi`, and a working
/// copy the test commits to and pushes from.
pub struct GitServer {
    _server: Process,
    work: PathBuf,
    bare: PathBuf,
    /// The URL a GitRepository fetches.
    pub url: String,
}

impl GitServer {
    pub async fn start(dir: &Path) -> GitServer {
        let root_dir = dir.join("git");
        let repos = root_dir.join("repos");
        let cgi = root_dir.join("cgi-bin");
        std::fs::create_dir_all(&repos).unwrap();
        std::fs::create_dir_all(&cgi).unwrap();
        let bare = repos.join("platform.git");
        run_ok(
            Command::new("git")
                .args(["init", "-q", "--bare", "-b", "main"])
                .arg(&bare),
        );
        let backend = run_ok(Command::new("git").arg("--exec-path"));
        let backend = Path::new(backend.trim()).join("git-http-backend");
        // Python runs CGI scripts as `nobody` when it runs as root: the repository is then
        // owned by someone else, which git refuses unless safe.directory says otherwise.
        let wrapper = cgi.join("git");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexport GIT_PROJECT_ROOT='{}'\nexport GIT_HTTP_EXPORT_ALL=1\n\
                 export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'\n\
                 exec '{}'\n",
                repos.display(),
                backend.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        for d in [dir, &root_dir, &repos, &cgi] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let port = free_port();
        let mut server = Process::spawn(
            "git-http",
            Command::new("python3")
                .args(["-m", "http.server", "--cgi", "--bind", "127.0.0.1"])
                .arg(port.to_string())
                .current_dir(&root_dir),
            dir,
        );
        let url = format!("http://127.0.0.1:{port}/cgi-bin/git/platform.git");
        // Answers once the CGI wrapper runs (an empty repository has no refs yet).
        server
            .wait_http(
                port,
                "/cgi-bin/git/platform.git/info/refs?service=git-upload-pack",
            )
            .await;
        let work = root_dir.join("work");
        run_ok(
            Command::new("git")
                .args(["init", "-q", "-b", "main"])
                .arg(&work),
        );
        GitServer {
            _server: server,
            work,
            bare,
            url,
        }
    }

    /// The working copy's path of a file.
    pub fn path(&self, file: &str) -> PathBuf {
        self.work.join(file)
    }

    /// Copies a directory tree into the working copy (at `to`, relative).
    pub fn copy_dir(&self, from: &Path, to: &str) {
        let target = self.work.join(to);
        std::fs::create_dir_all(&target).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if path.is_dir() {
                self.copy_dir(&path, &format!("{to}/{name}"));
            } else {
                std::fs::copy(&path, target.join(&name)).unwrap();
            }
        }
    }

    /// Commits everything in the working copy and pushes it; returns the commit's hash.
    pub fn commit_and_push(&self, message: &str) -> String {
        let git = |args: &[&str]| {
            run_ok(
                Command::new("git")
                    .args([
                        "-c",
                        "user.name=e2e",
                        "-c",
                        "user.email=e2e@example.invalid",
                    ])
                    .args(args)
                    .current_dir(&self.work)
                    .env("HOME", &self.work)
                    .env("GIT_CONFIG_NOSYSTEM", "1"),
            )
        };
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", message]);
        git(&["push", "-q", self.bare.to_str().unwrap(), "main"]);
        git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}
