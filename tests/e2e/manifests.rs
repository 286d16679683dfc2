//! CloudDbJob + Secret manifests built from the files in `examples/`: the same documents
//! users start from, pointed at the simulator with its credentials and a fast poll interval,
//! without a namespace (each test applies them in its own).

use std::path::Path;
use std::time::Duration;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::{Phase, Step};
use clouddb_job_operator::simulator::JobSpec;

use clouddb_job_operator::simulator::auth::{
    default_gcp_key_json, DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
    DEFAULT_AWS_ACCESS_KEY_ID, DEFAULT_AWS_SECRET_ACCESS_KEY, DEFAULT_AZURE_CLIENT_ID,
    DEFAULT_AZURE_CLIENT_SECRET, DEFAULT_AZURE_SUBSCRIPTION_ID, DEFAULT_AZURE_TENANT_ID,
    DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_SK, DEFAULT_HUAWEI_TOKEN, DEFAULT_TENCENT_SECRET_ID,
    DEFAULT_TENCENT_SECRET_KEY,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Project of the simulator's built-in Huawei jobs.
pub const PROJECT: &str = "0483b6b16e954cb88930a360d2c4e663";

/// Secret data the simulator accepts by default, per kind.
pub fn tencent_creds() -> Vec<(String, String)> {
    vec![
        ("secretId".into(), DEFAULT_TENCENT_SECRET_ID.into()),
        ("secretKey".into(), DEFAULT_TENCENT_SECRET_KEY.into()),
    ]
}

pub fn huawei_aksk() -> Vec<(String, String)> {
    vec![
        ("ak".into(), DEFAULT_HUAWEI_AK.into()),
        ("sk".into(), DEFAULT_HUAWEI_SK.into()),
    ]
}

pub fn alibaba_creds() -> Vec<(String, String)> {
    vec![
        ("accessKeyId".into(), DEFAULT_ALIBABA_ACCESS_KEY_ID.into()),
        (
            "accessKeySecret".into(),
            DEFAULT_ALIBABA_ACCESS_KEY_SECRET.into(),
        ),
    ]
}

pub fn aws_creds() -> Vec<(String, String)> {
    vec![
        ("accessKeyId".into(), DEFAULT_AWS_ACCESS_KEY_ID.into()),
        (
            "secretAccessKey".into(),
            DEFAULT_AWS_SECRET_ACCESS_KEY.into(),
        ),
    ]
}

/// Azure client credentials whose token endpoint (`authorityHost`) is the simulator.
pub fn azure_creds(authority_host: &str) -> Vec<(String, String)> {
    vec![
        ("tenantId".into(), DEFAULT_AZURE_TENANT_ID.into()),
        ("clientId".into(), DEFAULT_AZURE_CLIENT_ID.into()),
        ("clientSecret".into(), DEFAULT_AZURE_CLIENT_SECRET.into()),
        ("authorityHost".into(), authority_host.into()),
    ]
}

/// The simulator's service-account key file for a simulator at `endpoint` (its `token_uri`
/// is the simulator's `/token`), under the default key `credentials.json`.
pub fn gcp_creds(endpoint: &str) -> Vec<(String, String)> {
    vec![("credentials.json".into(), default_gcp_key_json(endpoint))]
}

pub fn huawei_token() -> Vec<(String, String)> {
    vec![("token".into(), DEFAULT_HUAWEI_TOKEN.into())]
}

/// A job manifest derived from an example file.
pub struct JobManifest {
    /// File name under `examples/`.
    pub example: &'static str,
    /// Object name (the Secret is `<name>-creds`).
    pub name: String,
    /// Merged into `spec` (JSON merge patch: `null` removes a field).
    pub spec: Value,
    /// Secret `stringData`; `None` leaves the Secret out of the manifest.
    pub secret: Option<Vec<(String, String)>>,
}

impl JobManifest {
    /// `example` tracking `job_id` at `endpoint`, polling every second.
    pub fn new(
        example: &'static str,
        name: &str,
        job_id: &str,
        endpoint: &str,
        secret: Vec<(String, String)>,
    ) -> JobManifest {
        JobManifest {
            example,
            name: name.into(),
            spec: json!({"jobId": job_id, "endpoint": endpoint, "pollInterval": "1s"}),
            secret: Some(secret),
        }
    }

    /// Merges more fields into `spec`.
    pub fn with_spec(mut self, extra: Value) -> JobManifest {
        merge(&mut self.spec, &extra);
        // A top-level `null` removes the example's own field too, when `yaml` merges.
        for (k, v) in extra.as_object().into_iter().flatten() {
            if v.is_null() {
                self.spec[k.as_str()] = Value::Null;
            }
        }
        self
    }

    pub fn secret_name(&self) -> String {
        format!("{}-creds", self.name)
    }

    /// The example's documents.
    fn example_docs(&self) -> Vec<Value> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(self.example);
        let text = std::fs::read_to_string(&path).unwrap();
        serde_norway::Deserializer::from_str(&text)
            .map(|doc| Value::deserialize(doc).unwrap())
            .collect()
    }

    /// The example's `credentialsSecretRef` (it may rename the Secret keys).
    fn secret_ref(&self) -> Value {
        self.example_docs()
            .into_iter()
            .find(|d| d["kind"] == "CloudDbJob")
            .map(|d| d["spec"]["credentialsSecretRef"].clone())
            .unwrap_or(Value::Null)
    }

    /// A Secret with `data` (canonical keys: secretId, secretKey, token, ak, sk), under the
    /// key names the example's `credentialsSecretRef` uses.
    pub fn secret_yaml(&self, data: &[(String, String)]) -> String {
        let reference = self.secret_ref();
        let renamed: Vec<(String, String)> = data
            .iter()
            .map(|(k, v)| {
                let key = reference[format!("{k}Key")]
                    .as_str()
                    .map_or_else(|| k.clone(), str::to_string);
                (key, v.clone())
            })
            .collect();
        secret_yaml(&self.secret_name(), &renamed)
    }

    /// The YAML (Secret first, then the CloudDbJob).
    pub fn yaml(&self) -> String {
        let mut out = Vec::new();
        if let Some(data) = &self.secret {
            out.push(self.secret_yaml(data));
        }
        for mut value in self.example_docs() {
            match value["kind"].as_str() {
                Some("Secret") => continue,
                Some("CloudDbJob") => {
                    value["metadata"]["name"] = json!(self.name);
                    // The test's namespace comes from kubectl's context.
                    if let Some(meta) = value["metadata"].as_object_mut() {
                        meta.remove("namespace");
                    }
                    value["spec"]["credentialsSecretRef"]["name"] = json!(self.secret_name());
                    merge(&mut value["spec"], &self.spec);
                }
                other => panic!("{}: unexpected document kind {other:?}", self.example),
            }
            out.push(serde_norway::to_string(&value).unwrap());
        }
        assert!(
            out.iter().any(|d| d.contains("CloudDbJob")),
            "{}: no CloudDbJob",
            self.example
        );
        out.join("---\n")
    }
}

/// A Secret manifest on its own.
pub fn secret_yaml(name: &str, data: &[(String, String)]) -> String {
    let value = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "Opaque",
        "stringData": data.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
    });
    serde_norway::to_string(&value).unwrap()
}

/// RFC 7386 JSON merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = json!({});
            }
            let map = target.as_object_mut().unwrap();
            for (k, v) in fields {
                if v.is_null() {
                    map.remove(k);
                } else {
                    merge(map.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// A simulator job: `steps` are `(after seconds, status, progress)`; Huawei jobs get the
/// built-ins' project and each job its own instance `cdb-<jobId>`.
pub fn sim_job(
    provider: ProviderKind,
    api: &str,
    job_id: &str,
    steps: &[(u64, Phase, Option<u8>)],
) -> JobSpec {
    JobSpec {
        provider,
        api: Some(api.into()),
        job_id: job_id.into(),
        // One instance per job: DescribeTasks requests name the instance, not the task.
        instance_id: Some(format!("cdb-{job_id}")),
        instance_name: None,
        async_request_id: None,
        project_id: (provider == ProviderKind::Huawei).then(|| PROJECT.into()),
        kind: Default::default(),
        name: None,
        shape: None,
        clock: None,
        timeline: steps
            .iter()
            .map(|(after, status, progress)| Step {
                after: Duration::from_secs(*after),
                status: *status,
                progress: *progress,
                message: Some(format!("{status:?} {}", progress.unwrap_or(0))),
                code: None,
            })
            .collect(),
        detail: Default::default(),
        faults: Vec::new(),
    }
}

/// A manifest for a simulator job, from the example of its provider API.
pub fn manifest_for(job: &JobSpec, name: &str, endpoint: &str) -> JobManifest {
    let (example, creds) = match (job.provider, job.api()) {
        (ProviderKind::Tencent, "DescribeAsyncRequestInfo") => {
            ("tencent-describeasyncrequestinfo.yaml", tencent_creds())
        }
        (ProviderKind::Tencent, _) => ("tencent-describetasks.yaml", tencent_creds()),
        (ProviderKind::TencentLegacy, "GetCdbUpgradeJobInfo") => {
            ("tencent-legacy-getcdbupgradejobinfo.yaml", tencent_creds())
        }
        (ProviderKind::TencentLegacy, "GetCdbRollbackJobTask") => {
            ("tencent-legacy-getcdbrollbackjobtask.yaml", tencent_creds())
        }
        (ProviderKind::TencentLegacy, _) => ("tencent-legacy-getcdbtaskinfo.yaml", tencent_creds()),
        (ProviderKind::Huawei, "taurusdb") => ("huawei-taurusdb.yaml", huawei_aksk()),
        (ProviderKind::Huawei, "taurusdb-legacy") => ("huawei-taurusdb-legacy.yaml", huawei_aksk()),
        (ProviderKind::Huawei, _) => ("huawei-rds.yaml", huawei_aksk()),
        (ProviderKind::Alibaba, "polardb") => ("alibaba-polardb.yaml", alibaba_creds()),
        (ProviderKind::Alibaba, _) => ("alibaba-rds.yaml", alibaba_creds()),
        (ProviderKind::Aws, "db-snapshot") => ("aws-db-snapshot.yaml", aws_creds()),
        (ProviderKind::Aws, "cluster-snapshot") => ("aws-cluster-snapshot.yaml", aws_creds()),
        (ProviderKind::Aws, "blue-green") => ("aws-blue-green.yaml", aws_creds()),
        (ProviderKind::Aws, "blue-green-switchover") => {
            ("aws-blue-green-switchover.yaml", aws_creds())
        }
        (ProviderKind::Aws, _) => ("aws-export-task.yaml", aws_creds()),
        (ProviderKind::Azure, "mysql-flexible") => {
            ("azure-mysql-flexible.yaml", azure_creds(endpoint))
        }
        (ProviderKind::Azure, _) => ("azure-postgresql-flexible.yaml", azure_creds(endpoint)),
        (ProviderKind::Gcp, _) => ("gcp-cloudsql.yaml", gcp_creds(endpoint)),
    };
    let mut spec = json!({"projectId": job.project_id, "instanceId": job.instance_id});
    match job.provider {
        ProviderKind::Huawei => {}
        // A job without a project is served for any: keep the example's.
        ProviderKind::Gcp if job.project_id.is_none() => {
            spec.as_object_mut().map(|s| s.remove("projectId"));
        }
        ProviderKind::Gcp => {}
        _ => spec["projectId"] = Value::Null,
    }
    if job.provider == ProviderKind::Azure {
        // The operation ID names the job; the subscription is any well-formed one.
        spec["instanceId"] = Value::Null;
        spec["subscriptionId"] = json!(DEFAULT_AZURE_SUBSCRIPTION_ID);
    }
    JobManifest::new(example, name, &job.job_id, endpoint, creds).with_spec(spec)
}
