//! Runs the Argo CD health check (`examples/gitops/argocd/health.lua`, one script for
//! CloudDbJob and CloudDbInstance) with a real Lua 5.1, Argo CD's dialect, over the fixtures
//! in `examples/gitops/argocd/tests/fixtures.lua`, and checks that `argocd-cm.yaml` embeds
//! the same script for both kinds.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::Output;

fn argocd_dir() -> PathBuf {
    common::repo_root().join("examples/gitops/argocd")
}

/// Runs the fixture runner against `script` (default: health.lua).
fn run_fixtures(script: Option<&Path>) -> Output {
    let lua = common::find_tool("LUA", "lua5.1");
    let mut cmd = std::process::Command::new(&lua);
    cmd.arg(argocd_dir().join("tests/run.lua"));
    if let Some(s) = script {
        cmd.arg(s);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("running {}: {e}", lua.display()))
}

/// Parses the runner's "N passed, M failed" summary line.
fn summary(stdout: &str) -> (usize, usize) {
    let line = stdout.lines().last().expect("runner printed a summary");
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(nums.len(), 2, "summary line: {line:?}");
    assert_eq!(line, format!("{} passed, {} failed", nums[0], nums[1]));
    (nums[0], nums[1])
}

fn temp_script(name: &str, body: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("clouddb-{}-{name}.lua", std::process::id()));
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn health_check_passes_every_fixture() {
    let out = run_fixtures(None);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "fixtures failed:\n{stdout}{stderr}");

    let (passed, failed) = summary(&stdout);
    assert_eq!(failed, 0, "{stdout}");
    assert!(passed >= 24, "expected at least 24 fixtures, ran {passed}");
    let results: Vec<&str> = stdout.lines().filter(|l| l.starts_with("ok ")).collect();
    assert_eq!(results.len(), passed, "{stdout}");
    assert!(!stdout.contains("not ok"), "{stdout}");

    // Every health status the script can return is exercised, with the expected message shape.
    for expected in [
        "-> Healthy: Succeeded, 100%: Upgrade finished",
        "-> Degraded: Failed, 0%: dial tcp :0: connection refused",
        "-> Degraded: Pending: credentials were rejected",
        "-> Progressing: Running, 45%: Upgrading instance cdb-pdn63pw5",
        "-> Progressing: Waiting for the controller to observe generation 2",
        // CloudDbInstance: each state a pipeline gates on.
        "instance: just created, as the apiserver serves it (the CRD's default status) -> \
         Progressing: Waiting for the controller to observe generation 1",
        "instance: idle -> Healthy: Idle: no discovered job is Pending or Running",
        "-> Healthy: Idle: no discovered job is Pending or Running; maintenance db-upgrade from \
         2026-01-04T00:00:00Z",
        "-> Progressing: Busy, 2 active: op-1 maintenance Running 40%, op-2 Pending",
        "-> Progressing: Retrying discovery: Throttled: rate limit exceeded",
        "-> Degraded: Stalled: InstanceNotFound: The Cloud SQL instance orders-db does not exist.",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn runner_fails_on_a_wrong_health_check() {
    // A script that ignores the object must fail most fixtures, and the runner must say so
    // through its output and exit status.
    let always_healthy = temp_script(
        "always-healthy",
        "return { status = \"Healthy\", message = \"ok\" }\n",
    );
    let out = run_fixtures(Some(&always_healthy));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let (_, failed) = summary(&stdout);
    assert!(
        failed >= 8,
        "only {failed} fixtures caught the broken script:\n{stdout}"
    );
    assert!(stdout.contains("not ok"));

    let broken = temp_script("syntax-error", "return {\n");
    let out = run_fixtures(Some(&broken));
    assert!(
        !out.status.success(),
        "a script that does not compile must fail the run"
    );
    let _ = std::fs::remove_file(always_healthy);
    let _ = std::fs::remove_file(broken);
}

#[test]
fn argocd_cm_embeds_health_lua_for_both_kinds() {
    let docs = common::read_yaml_stream(&argocd_dir().join("argocd-cm.yaml"));
    assert_eq!(docs.len(), 1);
    let cm = &docs[0];
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["name"], "argocd-cm");
    let script = std::fs::read_to_string(argocd_dir().join("health.lua")).unwrap();
    for kind in ["CloudDbJob", "CloudDbInstance"] {
        let key = format!("resource.customizations.health.clouddb.io_{kind}");
        let embedded = cm["data"][key.as_str()]
            .as_str()
            .unwrap_or_else(|| panic!("argocd-cm has no {key}"));
        assert!(
            embedded == script,
            "{key} in argocd-cm.yaml is out of date with health.lua: run scripts/gen-argocd-cm.sh"
        );

        // The embedded copy, as Argo CD would read it, passes the fixtures too.
        let copy = temp_script(&format!("embedded-{kind}"), embedded);
        let out = run_fixtures(Some(&copy));
        let _ = std::fs::remove_file(copy);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// The job's check alone, as it was before CloudDbInstance: it reads an instance's
/// conditions as a job's (no `Complete`, so never Healthy), which the instance fixtures
/// catch.
#[test]
fn a_job_only_health_check_fails_the_instance_fixtures() {
    let script = std::fs::read_to_string(argocd_dir().join("health.lua")).unwrap();
    let job_only = script.replace("if obj.kind == \"CloudDbInstance\" then", "if false then");
    assert_ne!(job_only, script, "health.lua dispatches on obj.kind");
    let path = temp_script("job-only", &job_only);
    let out = run_fixtures(Some(&path));
    let _ = std::fs::remove_file(path);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let failing: Vec<&str> = stdout.lines().filter(|l| l.starts_with("not ok")).collect();
    assert!(
        failing.len() >= 5 && failing.iter().all(|l| l.contains(" - instance: ")),
        "{stdout}"
    );
}
