//! Issue 20, workload identity, on the real control plane: jobs without any stored key. The
//! operator requests ServiceAccount tokens from the real kube-apiserver (TokenRequest, under
//! the chart's RBAC, which names the usable ServiceAccounts), the simulated AWS STS verifies
//! them against the apiserver's own OIDC keys (its `/openid/v1/jwks`) and trust policies, and
//! the temporary credentials sign the RDS calls.

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::sts::{SimRole, WorkloadIdentityConfig};
use serde_json::{json, Value};

use super::cluster::kubectl_sync_ok;
use super::harness::{output_text, Harness, Options};
use super::manifests::{manifest_for, sim_job, JobManifest};

pub(super) const READER: &str = "reader";

/// The cluster's ServiceAccount token issuer and its keys, read where an STS reads them:
/// the apiserver's OIDC discovery document and JWKS.
pub(super) fn cluster_oidc(h: &Harness) -> (String, Value) {
    let admin = &h.cluster().kubeconfig;
    let discovery: Value = serde_json::from_str(&kubectl_sync_ok(
        admin,
        &["get", "--raw", "/.well-known/openid-configuration"],
    ))
    .expect("OIDC discovery document");
    let jwks: Value = serde_json::from_str(&kubectl_sync_ok(
        admin,
        &["get", "--raw", "/openid/v1/jwks"],
    ))
    .expect("JWKS");
    let issuer = discovery["issuer"].as_str().expect("issuer").to_string();
    (issuer, jwks)
}

pub(super) fn role(name: &str) -> String {
    format!("arn:aws:iam::123456789012:role/{name}")
}

/// A job of `job` using workload identity (no Secret, no stored key).
pub(super) fn identity_job(
    job: &clouddb_job_operator::simulator::JobSpec,
    name: &str,
    url: &str,
    identity: Value,
) -> JobManifest {
    let mut manifest = manifest_for(job, name, url).with_spec(json!({
        "credentialsSecretRef": null,
        "identity": identity,
    }));
    manifest.secret = None;
    manifest
}

/// Starts a harness whose operator may request tokens of `reader` only, with the simulated
/// STS trusting the cluster's issuer.
async fn start(
    tag: &str,
    jobs: Vec<clouddb_job_operator::simulator::JobSpec>,
    lifetime: u64,
    roles: impl FnOnce(&str) -> Vec<SimRole>,
) -> Harness {
    let mut h = Harness::start_without_operator(
        tag,
        Options {
            speed: 1.0,
            builtins: false,
            jobs,
            chart_sets: vec![format!("workloadIdentity.serviceAccountNames={{{READER}}}")],
            ..Options::default()
        },
    )
    .await;
    let (issuer, jwks) = cluster_oidc(&h);
    let ns = h.ns.clone();
    h.sim.set_workload_identity(WorkloadIdentityConfig {
        issuer,
        jwks,
        roles: roles(&ns),
        credential_lifetime_secs: lifetime,
    });
    h.kubectl_ok(&["create", "serviceaccount", READER]).await;
    let sts = format!(
        "aws={url},alibaba={url},huawei={url},tencent={url},azure={url},gcp={url}",
        url = h.sim.url()
    );
    h.add_operator_args(&["--sts-endpoint", &sts]);
    h.start_operator().await;
    h
}

const GCP_PROVIDER: &str =
    "projects/123456789012/locations/global/workloadIdentityPools/k8s/providers/e2e";
const GCP_SERVICE_ACCOUNT: &str = "db-reader@simulator-project.iam.gserviceaccount.com";
const AZURE_TENANT: &str = "11111111-2222-4333-8444-555555555555";
const AZURE_CLIENT: &str = "66666666-7777-4888-9999-000000000001";
const TENCENT_ROLE: &str = "qcs::cam::uin/100000000001:roleName/reader";
const TENCENT_PROVIDER: &str = "cls-e2e-oidc";
const HUAWEI_IDP: &str = "k8s-cluster-idp";
const HUAWEI_CLIENT: &str = "clouddb-e2e-client";
const ALIBABA_PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-test";

fn alibaba_role(name: &str) -> String {
    format!("acs:ram::1234567890123456:role/{name}")
}

/// The STS exchange of each cloud, as the simulator counts them (`by_api`).
pub(super) const EXCHANGES: [&str; 6] = [
    "AssumeRoleWithWebIdentity",
    "AssumeRoleWithOIDC",
    "OidcIdToken",
    "AssumeRoleWithWebIdentity (Tencent)",
    "entra-token",
    "gcp-federation",
];

/// One job per cloud on workload identity (ServiceAccount [`READER`]): the simulator's job,
/// the object's name and its `spec.identity`.
pub(super) fn every_cloud_jobs(
    steps: &[(u64, Phase, Option<u8>)],
) -> Vec<(
    clouddb_job_operator::simulator::JobSpec,
    &'static str,
    Value,
)> {
    vec![
        (
            sim_job(ProviderKind::Aws, "export-task", "export-identity-1", steps),
            "aws-identity",
            json!({"serviceAccountName": READER, "roleArn": role("reader")}),
        ),
        (
            sim_job(ProviderKind::Alibaba, "rds", "t-identity-1", steps),
            "alibaba-identity",
            json!({"serviceAccountName": READER, "roleArn": alibaba_role("reader"), "oidcProvider": ALIBABA_PROVIDER}),
        ),
        (
            sim_job(
                ProviderKind::Huawei,
                "rds",
                "eeeeeeee-0000-4000-8000-000000000001",
                steps,
            ),
            "huawei-identity",
            json!({"serviceAccountName": READER, "oidcProvider": HUAWEI_IDP, "audience": HUAWEI_CLIENT}),
        ),
        (
            sim_job(ProviderKind::Tencent, "DescribeTasks", "886001", steps),
            "tencent-identity",
            json!({"serviceAccountName": READER, "roleArn": TENCENT_ROLE, "oidcProvider": TENCENT_PROVIDER}),
        ),
        (
            sim_job(
                ProviderKind::Gcp,
                "cloudsql",
                "e2e-identity-operation",
                steps,
            ),
            "gcp-identity",
            json!({"serviceAccountName": READER, "oidcProvider": GCP_PROVIDER, "googleServiceAccount": GCP_SERVICE_ACCOUNT}),
        ),
        (
            sim_job(
                ProviderKind::Azure,
                "postgresql-flexible",
                "ffffffff-0000-4000-8000-000000000001",
                steps,
            ),
            "azure-identity",
            json!({"serviceAccountName": READER, "tenantId": AZURE_TENANT, "clientId": AZURE_CLIENT}),
        ),
    ]
}

/// What each cloud's simulated STS trusts: `subject` (a ServiceAccount's token subject) for
/// the roles, providers and applications of [`every_cloud_jobs`].
pub(super) fn every_cloud_roles(subject: &str) -> Vec<SimRole> {
    let trusts = |arn: &str, oidc_provider: Option<&str>, audience: Option<&str>| SimRole {
        arn: arn.into(),
        subjects: vec![subject.to_string()],
        oidc_provider: oidc_provider.map(str::to_string),
        audience: audience.map(str::to_string),
    };
    vec![
        trusts(&role("reader"), None, None),
        trusts(&alibaba_role("reader"), Some(ALIBABA_PROVIDER), None),
        trusts(TENCENT_ROLE, Some(TENCENT_PROVIDER), None),
        // Google: the pool provider trusts the subject; the service account lets it
        // impersonate.
        trusts(GCP_PROVIDER, None, None),
        trusts(GCP_SERVICE_ACCOUNT, None, None),
        // Azure: the app registration stands for the role, its tenant for the provider.
        trusts(AZURE_CLIENT, Some(AZURE_TENANT), None),
        // Huawei: the IAM identity provider stands for the role.
        trusts(HUAWEI_IDP, None, Some(HUAWEI_CLIENT)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_on_workload_identity_and_renew_it_before_it_expires() {
    let steps = [
        (0, Phase::Running, Some(10)),
        (10, Phase::Running, Some(40)),
        (20, Phase::Running, Some(80)),
        (32, Phase::Succeed, None),
    ];
    // Temporary credentials live 12 s: the operator must renew them (at half-life) about
    // three times per job, always before they expire.
    let every = every_cloud_jobs(&steps);
    let jobs = every.iter().map(|(job, _, _)| job.clone()).collect();
    let h = start("identity", jobs, 12, |ns| {
        every_cloud_roles(&format!("system:serviceaccount:{ns}:{READER}"))
    })
    .await;
    let url = h.sim.url();
    let manifests: Vec<JobManifest> = every
        .iter()
        .map(|(job, name, identity)| identity_job(job, name, &url, identity.clone()))
        .collect();
    for manifest in &manifests {
        assert!(!manifest.yaml().contains("kind: Secret"));
        h.apply(&manifest.name, &manifest.yaml()).await;
    }
    for manifest in &manifests {
        h.wait_for(&manifest.name, "Complete", 60).await;
        assert_eq!(h.status(&manifest.name)["progress"], 100);
    }

    let exchanges = h.sim.sts_exchanges();
    assert!(
        (18..=36).contains(&exchanges),
        "{exchanges} STS exchanges for six 32 s jobs on 12 s credentials (expected a renewal every ~6 s per identity, not one per poll)"
    );
    // Every request succeeded: no call was ever signed with expired credentials.
    assert_every_exchange_renewed_and_nothing_refused(&h, &manifests, 3).await;
}

/// Each cloud's exchange happened at least `at_least` times (so credentials were renewed),
/// the simulator refused no request, and no job has a Warning event.
pub(super) async fn assert_every_exchange_renewed_and_nothing_refused(
    h: &Harness,
    manifests: &[JobManifest],
    at_least: u64,
) {
    let counters = h.sim.counters();
    for action in EXCHANGES {
        assert!(
            counters.by_api.get(action).copied().unwrap_or(0) >= at_least,
            "{action}: {counters:?}"
        );
    }
    let refused: Vec<_> = counters
        .by_status
        .iter()
        .filter(|(status, _)| !status.starts_with('2'))
        .collect();
    assert!(
        refused.is_empty(),
        "refused requests: {refused:?}\n{counters:?}"
    );
    for manifest in manifests {
        let events = h.events_of(&manifest.name).await;
        assert!(events.iter().all(|e| e["type"] != "Warning"), "{events:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_namespaces_identity_is_refused_never_used() {
    let job = sim_job(
        ProviderKind::Aws,
        "export-task",
        "export-identity-2",
        &[(0, Phase::Running, Some(10)), (5, Phase::Succeed, None)],
    );
    // The role trusts only namespace team-b's ServiceAccount.
    let h = start("identity-x", vec![job.clone()], 0, |_| {
        vec![SimRole {
            arn: role("team-b-reader"),
            subjects: vec![format!("system:serviceaccount:team-b:{READER}")],
            oidc_provider: None,
            audience: None,
        }]
    })
    .await;
    let url = h.sim.url();

    // Admission: a ServiceAccount of another namespace cannot even be named.
    let other_ns = identity_job(
        &job,
        "qualified",
        &url,
        json!({"serviceAccountName": "team-b/reader", "roleArn": role("team-b-reader")}),
    );
    let path = h.write("qualified.yaml", &other_ns.yaml());
    let out = h.kubectl(&["apply", "-f", path.to_str().unwrap()]).await;
    assert!(!out.status.success(), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("serviceAccountName"),
        "{}",
        output_text(&out)
    );

    // Its own ServiceAccount with team-b's role: the STS refuses, the job stalls saying why.
    h.apply(
        "borrowed",
        &identity_job(
            &job,
            "borrowed",
            &url,
            json!({"serviceAccountName": READER, "roleArn": role("team-b-reader")}),
        )
        .yaml(),
    )
    .await;
    h.wait_for("borrowed", "Stalled", 30).await;
    let status = h.status("borrowed");
    assert_eq!(status["reason"], "AccessDenied", "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or("")
            .contains("trust policy"),
        "{status}"
    );
    assert_eq!(status["phase"], "Pending", "never Failed: {status}");

    // A ServiceAccount the installer did not list: the apiserver refuses the token.
    h.kubectl_ok(&["create", "serviceaccount", "unlisted"])
        .await;
    h.apply(
        "unlisted",
        &identity_job(
            &job,
            "unlisted",
            &url,
            json!({"serviceAccountName": "unlisted", "roleArn": role("team-b-reader")}),
        )
        .yaml(),
    )
    .await;
    h.wait_for("unlisted", "Stalled", 30).await;
    let status = h.status("unlisted");
    assert_eq!(status["reason"], "AccessDenied", "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or("")
            .contains("workloadIdentity.serviceAccountNames"),
        "{status}"
    );
    // No credentials were ever issued, and no RDS call was made for either job.
    assert_eq!(h.sim.sts_exchanges(), 0);
    assert_eq!(h.sim_requests(&job.job_id), 0);
}
