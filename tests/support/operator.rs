//! A reconciler wired to the fake API server with a scripted provider and a movable clock.

use std::sync::{Arc, Mutex};

use clouddb_job_operator::api::{CloudDbJob, JobPhase};
use clouddb_job_operator::controller::events::EventPublisher;
use clouddb_job_operator::controller::memory::JobMemory;
use clouddb_job_operator::controller::metrics::Metrics;
use clouddb_job_operator::controller::{reconcile, Context};
use clouddb_job_operator::providers::endpoints::EndpointPolicy;
use clouddb_job_operator::providers::scripted::ScriptedProvider;
use clouddb_job_operator::providers::JobObservation;
use clouddb_testkit::apiserver::FakeApiServerConfig;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use kube::runtime::events::Reporter;
use kube::Client;
use serde_json::json;

pub fn observation(phase: JobPhase, progress: u8) -> JobObservation {
    JobObservation {
        phase: Some(phase),
        progress: Some(progress),
        provider_status: Some(phase.as_str().to_uppercase()),
        ..Default::default()
    }
}

pub struct Setup {
    pub server: clouddb_testkit::apiserver::FakeApiServer,
    pub ctx: Arc<Context>,
    pub clock: Arc<Mutex<Timestamp>>,
    pub api: Api<CloudDbJob>,
}

pub async fn setup(steps: Vec<JobObservation>) -> Setup {
    let (server, client) = super::start(FakeApiServerConfig::default()).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "creds"},
                "stringData": {"secretId": "AKIDTEST", "secretKey": "test-secret-key"},
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let api: Api<CloudDbJob> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &super::job("upgrade-1", "4242"))
        .await
        .unwrap();
    let provider = Arc::new(ScriptedProvider::new());
    provider.script("4242", steps.into_iter().map(Ok).collect());
    let clock = Arc::new(Mutex::new(Timestamp::now()));
    let read = clock.clone();
    let ctx = Arc::new(context(
        client,
        provider,
        Arc::new(move || *read.lock().unwrap()),
    ));
    Setup {
        server,
        ctx,
        clock,
        api,
    }
}

fn context(
    client: Client,
    provider: Arc<ScriptedProvider>,
    clock: clouddb_job_operator::controller::Clock,
) -> Context {
    Context {
        recorder: Some(EventPublisher::new(
            client.clone(),
            Reporter {
                controller: "clouddb-job-operator".into(),
                instance: None,
            },
        )),
        client,
        provider,
        memory: Arc::new(JobMemory::default()),
        metrics: Arc::new(Metrics::new()),
        endpoints: EndpointPolicy::default(),
        clock,
        sampler: Arc::new(|| 0.5),
        schedule: Default::default(),
        secrets: Default::default(),
    }
}

impl Setup {
    /// One reconcile of the current object, then the clock moves past the next poll.
    pub async fn poll(&self) -> CloudDbJob {
        let job = self.api.get("upgrade-1").await.unwrap();
        reconcile(Arc::new(job), self.ctx.clone()).await.unwrap();
        self.advance(3600);
        self.api.get("upgrade-1").await.unwrap()
    }

    fn advance(&self, seconds: i64) {
        let mut now = self.clock.lock().unwrap();
        *now = now
            .checked_add(jiff::SignedDuration::from_secs(seconds))
            .unwrap();
    }

    pub fn events_written(&self) -> u64 {
        let stats = self.server.stats();
        stats.count("create", "events") + stats.count("patch", "events")
    }
}
