//! Who may use a Secret: the chart's ValidatingAdmissionPolicy (rendered by `helm template`,
//! as users install it) on the real apiserver, whose CEL `authorizer` asks the apiserver's own
//! RBAC whether the author of a CloudDbJob may `get` the Secret or ServiceAccount it names.
//!
//! Authors are impersonated by the admin (`kubectl --as=<user>`; the admin is in
//! `system:masters`), with rights given by Roles in the test's namespace only.
//!
//! Sharing the apiserver with the tests running in parallel: the policy and its binding are
//! cluster-scoped, so each test renders the chart in namespaced mode with
//! `watchNamespace=<its own namespace>`. The binding then selects that one namespace
//! (`kubernetes.io/metadata.name`, set by the apiserver on every namespace) and the objects'
//! names carry it, so no other test's requests are ever evaluated by it, two of these tests
//! never claim the same objects, and the chart's namespaced binding is what is tested. Both
//! objects are deleted when the test ends.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::cluster::{self, kubectl_stdin, kubectl_sync, kubectl_sync_ok, TestNamespace};
use super::harness::{output_text, Harness, Options};

/// The authors (impersonated users).
const AUTHOR: &str = "author";
const EDITOR: &str = "editor";

/// The chart's policy and binding, bound to one namespace; deleted on drop.
struct Policy {
    kubeconfig: PathBuf,
    name: String,
}

impl Policy {
    /// Renders the chart's admission policy for namespaced mode in `ns` and applies it.
    fn install(kubeconfig: &Path, ns: &str) -> Policy {
        let rendered = cluster::helm_template(
            "clouddb-system",
            &[&format!("watchNamespace={ns}")],
            &["admissionpolicy.yaml"],
        );
        let docs = crate::common::parse_yaml_stream(&rendered);
        let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        assert_eq!(
            kinds,
            [
                "ValidatingAdmissionPolicy",
                "ValidatingAdmissionPolicyBinding"
            ],
            "{rendered}"
        );
        let name = docs[0]["metadata"]["name"].as_str().unwrap().to_string();
        assert_eq!(
            docs[1]["spec"]["matchResources"]["namespaceSelector"]["matchLabels"]
                ["kubernetes.io/metadata.name"],
            ns,
            "bound to the test's namespace only"
        );
        let policy = Policy {
            kubeconfig: kubeconfig.to_path_buf(),
            name,
        };
        let out = kubectl_stdin(kubeconfig, &["apply", "-f", "-"], &rendered);
        assert!(
            out.status.success(),
            "policy applied: {}",
            output_text(&out)
        );
        policy
    }
}

impl Drop for Policy {
    fn drop(&mut self) {
        for kind in [
            "validatingadmissionpolicybinding",
            "validatingadmissionpolicy",
        ] {
            let _ = kubectl_sync(
                &self.kubeconfig,
                &["delete", kind, &self.name, "--ignore-not-found"],
            );
        }
    }
}

fn job(name: &str, ns: &str, secret: &str) -> Value {
    json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbJob",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "provider": "tencent",
            "api": "DescribeTasks",
            "jobId": "15964",
            "region": "ap-guangzhou",
            "credentialsSecretRef": {"name": secret},
        }
    })
}

fn identity_job(name: &str, ns: &str, service_account: &str) -> Value {
    json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbJob",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "provider": "aws",
            "api": "export-task",
            "jobId": "orders-export",
            "region": "us-east-1",
            "identity": {
                "serviceAccountName": service_account,
                "roleArn": "arn:aws:iam::123456789012:role/db-job-reader",
            },
        }
    })
}

/// `kubectl <args> -f -` as `user` with `doc` on standard input.
fn as_user_stdin(kubeconfig: &Path, user: &str, args: &[&str], doc: &str) -> (bool, String) {
    let who = format!("--as={user}");
    let mut all = vec![who.as_str()];
    all.extend_from_slice(args);
    all.extend(["-f", "-"]);
    let out = kubectl_stdin(kubeconfig, &all, doc);
    (out.status.success(), output_text(&out))
}

fn create_as(kubeconfig: &Path, user: &str, doc: &Value) -> (bool, String) {
    as_user_stdin(kubeconfig, user, &["create"], &doc.to_string())
}

/// `kubectl <args>` as `user`.
fn as_user(kubeconfig: &Path, user: &str, args: &[&str]) -> (bool, String) {
    let who = format!("--as={user}");
    let mut all = vec![who.as_str()];
    all.extend_from_slice(args);
    let out = kubectl_sync(kubeconfig, &all);
    (out.status.success(), output_text(&out))
}

/// Retries `attempt` until it returns `want` (policies and RBAC reach the apiserver's
/// admission and authorizer through informers, a moment after they are written), for at
/// most 30 s; returns the last output.
fn until(what: &str, want: bool, mut attempt: impl FnMut() -> (bool, String)) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (ok, text) = attempt();
        if ok == want {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still {ok} after 30 s\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn apply_admin(kubeconfig: &Path, manifest: &str) {
    let out = kubectl_stdin(kubeconfig, &["apply", "-f", "-"], manifest);
    assert!(out.status.success(), "{}\n{manifest}", output_text(&out));
}

/// A Role in `ns` bound to `user`.
fn grant(kubeconfig: &Path, ns: &str, name: &str, user: &str, rules: Value) {
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": ns},
        "rules": rules,
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    });
    apply_admin(kubeconfig, &format!("{role}\n---\n{binding}\n"));
}

/// What a team member who tracks jobs may do with them: everything but read Secrets.
fn job_author_rules() -> Value {
    json!([
        {"apiGroups": ["clouddb.io"], "resources": ["clouddbjobs"],
         "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    ])
}

/// Waits until the policy refuses what it should (it is enforced a moment after it is
/// written): `probe` as `user` must be refused with the policy's message.
fn wait_enforced(kubeconfig: &Path, user: &str, probe: &Value) -> String {
    until("the policy enforced", false, || {
        as_user_stdin(
            kubeconfig,
            user,
            &["create", "--dry-run=server"],
            &probe.to_string(),
        )
    })
}

/// A namespace of the test's own, no operator: only admission is under test.
async fn harness(tag: &str) -> Harness {
    Harness::start_without_operator(
        tag,
        Options {
            builtins: false,
            chart_identity: false,
            ..Options::default()
        },
    )
    .await
}

fn assert_refused_for(text: &str, user: &str, kind: &str, name: &str, ns: &str) {
    let expected = format!("user \"{user}\" may not get {kind} \"{name}\" in namespace \"{ns}\"");
    assert!(text.contains(&expected), "expected {expected:?} in\n{text}");
    assert!(text.contains("Forbidden"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admission_policy_refuses_credentials_their_author_may_not_read() {
    let h = harness("cred-policy").await;
    let ns = h.ns.clone();
    let kc = h.kubeconfig.clone();
    let scratch = h.dir.0.join("other");
    std::fs::create_dir_all(&scratch).unwrap();
    let cluster = h.cluster().clone();

    tokio::task::spawn_blocking(move || {
        let kc = kc.as_path();
        let policy = Policy::install(kc, &ns);

        // The team's credentials and identity, created by the admin.
        for secret in ["team-creds", "other-creds"] {
            kubectl_sync_ok(
                kc,
                &[
                    "create",
                    "secret",
                    "generic",
                    secret,
                    "--from-literal=secretId=AKIDexample",
                    "--from-literal=secretKey=example",
                ],
            );
        }
        kubectl_sync_ok(kc, &["create", "serviceaccount", "db-job-reader"]);
        // The author may create and change CloudDbJobs, and read no Secret.
        grant(kc, &ns, "job-author", AUTHOR, job_author_rules());
        let (can, _) = as_user(kc, AUTHOR, &["auth", "can-i", "get", "secret/team-creds"]);
        assert!(!can, "the author must not read the Secret");

        // 1. A job naming a Secret its author may not read: refused, nothing stored.
        let refused = wait_enforced(kc, AUTHOR, &job("probe", &ns, "team-creds"));
        assert_refused_for(&refused, AUTHOR, "Secret", "team-creds", &ns);
        let (ok, text) = create_as(kc, AUTHOR, &job("uses-team", &ns, "team-creds"));
        assert!(!ok, "admitted:\n{text}");
        assert_refused_for(&text, AUTHOR, "Secret", "team-creds", &ns);
        assert!(
            text.contains("a CloudDbJob may only use credentials its author may read"),
            "{text}"
        );
        let stored = kubectl_sync_ok(kc, &["get", "cdbjob", "-o", "name"]);
        assert!(stored.trim().is_empty(), "nothing stored: {stored}");

        // 2. `get` on that one Secret (resourceNames): admitted; another Secret still not.
        grant(
            kc,
            &ns,
            "read-team-creds",
            AUTHOR,
            json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                    "resourceNames": ["team-creds"]}]),
        );
        until("admitted once the author may read the Secret", true, || {
            create_as(kc, AUTHOR, &job("uses-team", &ns, "team-creds"))
        });
        let (ok, text) = create_as(kc, AUTHOR, &job("uses-other", &ns, "other-creds"));
        assert!(!ok, "a Secret outside resourceNames admitted:\n{text}");
        assert_refused_for(&text, AUTHOR, "Secret", "other-creds", &ns);

        // 3. Workload identity: a ServiceAccount the author may not get is refused, then
        //    admitted once they may.
        let (ok, text) = create_as(kc, AUTHOR, &identity_job("on-sa", &ns, "db-job-reader"));
        assert!(!ok, "admitted:\n{text}");
        assert_refused_for(&text, AUTHOR, "ServiceAccount", "db-job-reader", &ns);
        assert!(
            text.contains("a CloudDbJob may only use an identity its author may read"),
            "{text}"
        );
        grant(
            kc,
            &ns,
            "read-db-job-reader",
            AUTHOR,
            json!([{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["get"],
                    "resourceNames": ["db-job-reader"]}]),
        );
        until(
            "admitted once the author may get the ServiceAccount",
            true,
            || create_as(kc, AUTHOR, &identity_job("on-sa", &ns, "db-job-reader")),
        );
        //    An explicit `credentialsSecretRef: null` (the CRD keeps nulls of its nullable
        //    fields) is no reference: no error, nothing to check.
        let mut explicit_null = identity_job("on-sa-null", &ns, "db-job-reader");
        explicit_null["spec"]["credentialsSecretRef"] = Value::Null;
        let (ok, text) = create_as(kc, AUTHOR, &explicit_null);
        assert!(ok, "credentialsSecretRef: null refused:\n{text}");

        // 4. Updates: only a changed reference is checked.
        //    Pointing one's own job at an unreadable Secret: refused.
        let (ok, text) = as_user(
            kc,
            AUTHOR,
            &[
                "patch",
                "cdbjob/uses-team",
                "--type=merge",
                "-p",
                r#"{"spec":{"credentialsSecretRef":{"name":"other-creds"}}}"#,
            ],
        );
        assert!(!ok, "re-pointed at an unreadable Secret:\n{text}");
        assert_refused_for(&text, AUTHOR, "Secret", "other-creds", &ns);
        //    Switching from the identity to an unreadable Secret: refused too.
        let (ok, text) = as_user(
            kc,
            AUTHOR,
            &[
                "patch",
                "cdbjob/on-sa",
                "--type=merge",
                "-p",
                r#"{"spec":{"identity":null,"credentialsSecretRef":{"name":"other-creds"}}}"#,
            ],
        );
        assert!(!ok, "switched to an unreadable Secret:\n{text}");
        assert_refused_for(&text, AUTHOR, "Secret", "other-creds", &ns);
        //    A job the admin made with a Secret the author may not read: the author may
        //    still label it, change its other fields, write its status and delete it.
        let out = kubectl_stdin(
            kc,
            &["create", "-f", "-"],
            &job("admins", &ns, "other-creds").to_string(),
        );
        assert!(out.status.success(), "{}", output_text(&out));
        grant(
            kc,
            &ns,
            "job-status",
            AUTHOR,
            json!([{"apiGroups": ["clouddb.io"], "resources": ["clouddbjobs/status"],
                    "verbs": ["get", "patch"]}]),
        );
        for args in [
            vec!["label", "cdbjob/admins", "team=orders"],
            vec![
                "patch",
                "cdbjob/admins",
                "--type=merge",
                "-p",
                r#"{"spec":{"pollInterval":"30s","suspend":true}}"#,
            ],
            vec![
                "patch",
                "cdbjob/admins",
                "--type=merge",
                "-p",
                r#"{"spec":{"credentialsSecretRef":{"name":"other-creds","secretIdKey":"id"}}}"#,
            ],
        ] {
            let (ok, text) = as_user(kc, AUTHOR, &args);
            assert!(ok, "{args:?} refused:\n{text}");
        }
        until("status written", true, || {
            as_user(
                kc,
                AUTHOR,
                &[
                    "patch",
                    "cdbjob/admins",
                    "--subresource=status",
                    "--type=merge",
                    "-p",
                    r#"{"status":{"phase":"Running","progress":40}}"#,
                ],
            )
        });
        let (ok, text) = as_user(kc, AUTHOR, &["delete", "cdbjob/admins"]);
        assert!(ok, "delete refused:\n{text}");

        // 5. Bound to the watched namespace only: in another namespace the same request is
        //    admitted (no policy there; the operator does not read Secrets there).
        let other = TestNamespace::create(&cluster, "cred-policy-unbound", &scratch);
        grant(kc, &other.name, "job-author", AUTHOR, job_author_rules());
        until("admitted outside the bound namespace", true, || {
            create_as(kc, AUTHOR, &job("elsewhere", &other.name, "team-creds"))
        });
        drop(policy);
    })
    .await
    .unwrap();
}

/// The usual namespace-edit rights (those of the built-in `edit` ClusterRole on the objects
/// the examples hold, plus CloudDbJobs): every example is admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_is_admitted_for_a_namespace_editor() {
    let h = harness("cred-policy-examples").await;
    let ns = h.ns.clone();
    let kc = h.kubeconfig.clone();
    tokio::task::spawn_blocking(move || {
        let kc = kc.as_path();
        let policy = Policy::install(kc, &ns);
        let all = ["get", "list", "watch", "create", "update", "patch", "delete"];
        grant(
            kc,
            &ns,
            "namespace-edit",
            EDITOR,
            json!([
                {"apiGroups": [""], "resources": ["secrets", "serviceaccounts", "configmaps"], "verbs": all},
                {"apiGroups": ["clouddb.io"], "resources": ["clouddbjobs"], "verbs": all},
            ]),
        );
        // Enforced (someone without Secret rights is refused) before the examples go in.
        grant(kc, &ns, "job-author", AUTHOR, job_author_rules());
        let refused = wait_enforced(kc, AUTHOR, &job("probe", &ns, "creds"));
        assert_refused_for(&refused, AUTHOR, "Secret", "creds", &ns);

        for what in ["create clouddbjobs", "get secrets", "get serviceaccounts"] {
            let mut args = vec!["auth", "can-i"];
            args.extend(what.split(' '));
            until(&format!("{EDITOR} may {what}"), true, || {
                as_user(kc, EDITOR, &args)
            });
        }

        let examples = cluster::root().join("examples");
        let mut files: Vec<_> = std::fs::read_dir(&examples)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "yaml")
                    && !p.ends_with("00-namespace.yaml")
            })
            .collect();
        files.sort();
        assert!(files.len() >= 20, "{files:?}");
        let mut jobs = 0;
        for file in &files {
            // The examples live in namespace `databases`; here, in the test's namespace.
            let text = std::fs::read_to_string(file).unwrap();
            let manifest = text.replace("namespace: databases", &format!("namespace: {ns}"));
            let (ok, out) = as_user_stdin(kc, EDITOR, &["apply"], &manifest);
            assert!(ok, "{} refused for a namespace editor: {out}", file.display());
            jobs += out
                .lines()
                .filter(|l| l.contains("clouddbjob.clouddb.io/"))
                .count();
        }
        assert_eq!(jobs, files.len(), "one CloudDbJob per example");
        drop(policy);
    })
    .await
    .unwrap();
}
