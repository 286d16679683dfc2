//! Where the benchmark's Kubernetes API comes from, and how its traffic is counted: the
//! in-process fake API server (its own counters), or a real kube-apiserver such as the
//! test control plane of scripts/testenv.sh (its `apiserver_request_total` metric, plus a
//! watch that sees every status change, so no-op writes show as writes without a change).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clouddb_job_operator::api::CloudDbJob;
use clouddb_testkit::apiserver::{FakeApiServer, FakeApiServerConfig};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, CustomResourceExt};

/// API traffic so far.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    /// Requests by `VERB resource[/subresource]` (successful or not).
    pub requests: BTreeMap<String, u64>,
    /// Successful status patches.
    pub status_writes: u64,
    /// Status patches that changed nothing (fake: counted by the server; real: computed by
    /// the caller from the watch).
    pub noop_writes: Option<u64>,
    /// Watches answered 410 Gone (fake only).
    pub gone: Option<u64>,
}

impl Traffic {
    pub fn count(&self, key: &str) -> u64 {
        self.requests.get(key).copied().unwrap_or(0)
    }

    /// Requests since `before`, by key.
    pub fn since(&self, before: &Traffic) -> BTreeMap<String, u64> {
        self.requests
            .iter()
            .map(|(k, v)| (k.clone(), v - before.count(k)))
            .filter(|(_, v)| *v > 0)
            .collect()
    }
}

pub enum Backend {
    Fake {
        server: FakeApiServer,
        kubeconfig: PathBuf,
    },
    Real {
        kubeconfig: PathBuf,
        client: Client,
    },
}

impl Backend {
    pub async fn fake() -> Backend {
        let server = FakeApiServer::start_with(
            "127.0.0.1:0".parse().expect("addr"),
            FakeApiServerConfig::default(),
        )
        .await
        .expect("fake apiserver");
        let kubeconfig =
            std::env::temp_dir().join(format!("scale-kubeconfig-{}", std::process::id()));
        std::fs::write(&kubeconfig, server.kubeconfig_yaml()).expect("kubeconfig");
        Backend::Fake { server, kubeconfig }
    }

    /// A real cluster (admin rights); installs the CRD by server-side apply.
    pub async fn real(kubeconfig: &Path) -> Backend {
        let yaml = std::fs::read_to_string(kubeconfig).expect("kubeconfig readable");
        let client = client_from(&yaml).await;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        crds.patch(
            "clouddbjobs.clouddb.io",
            &PatchParams::apply("scale-bench").force(),
            &Patch::Apply(CloudDbJob::crd()),
        )
        .await
        .expect("CRD applied");
        for _ in 0..600 {
            let crd = crds.get("clouddbjobs.clouddb.io").await.expect("CRD");
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            // Discovery lags Established: wait until the type is served.
            let served = Api::<CloudDbJob>::all(client.clone())
                .list(&Default::default())
                .await
                .is_ok();
            if established && served {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Backend::Real {
            kubeconfig: kubeconfig.to_path_buf(),
            client,
        }
    }

    pub fn kubeconfig(&self) -> &Path {
        match self {
            Backend::Fake { kubeconfig, .. } | Backend::Real { kubeconfig, .. } => kubeconfig,
        }
    }

    pub fn is_real(&self) -> bool {
        matches!(self, Backend::Real { .. })
    }

    pub async fn client(&self) -> Client {
        match self {
            Backend::Fake { server, .. } => client_from(&server.kubeconfig_yaml()).await,
            Backend::Real { client, .. } => client.clone(),
        }
    }

    pub async fn traffic(&self) -> Traffic {
        match self {
            Backend::Fake { server, .. } => {
                let stats = server.stats();
                let mut requests = BTreeMap::new();
                for (verb, resource) in [
                    ("list", "clouddbjobs"),
                    ("watch", "clouddbjobs"),
                    ("get", "secrets"),
                    ("patch", "clouddbjobs/status"),
                ] {
                    requests.insert(
                        format!("{} {resource}", verb.to_uppercase()),
                        stats.count(verb, resource),
                    );
                }
                Traffic {
                    requests,
                    status_writes: stats.status_writes,
                    noop_writes: Some(stats.noop_writes),
                    gone: Some(stats.gone),
                }
            }
            Backend::Real { client, .. } => {
                let request = http::Request::get("/metrics")
                    .body(Vec::new())
                    .expect("request");
                let text = client
                    .request_text(request)
                    .await
                    .expect("apiserver /metrics");
                parse_request_totals(&text)
            }
        }
    }
}

async fn client_from(yaml: &str) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(yaml).expect("kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

/// Sums `apiserver_request_total` by verb and resource for the resources the operator
/// touches (leases include the apiserver's own identity leases in kube-system).
pub fn parse_request_totals(text: &str) -> Traffic {
    let mut traffic = Traffic::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or("")
                .to_string()
        };
        let resource = label("resource");
        if !matches!(
            resource.as_str(),
            "clouddbjobs" | "secrets" | "leases" | "events"
        ) {
            continue;
        }
        let subresource = label("subresource");
        let key = if subresource.is_empty() {
            format!("{} {resource}", label("verb"))
        } else {
            format!("{} {resource}/{subresource}", label("verb"))
        };
        let n = value.trim().parse::<f64>().unwrap_or(0.0) as u64;
        *traffic.requests.entry(key.clone()).or_default() += n;
        // Server-side apply is counted under verb APPLY, other patches under PATCH.
        let status_patch = matches!(
            key.as_str(),
            "APPLY clouddbjobs/status" | "PATCH clouddbjobs/status"
        );
        if status_patch && label("code") == "200" {
            traffic.status_writes += n;
        }
    }
    traffic
}
