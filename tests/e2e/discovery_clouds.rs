//! CloudDbInstance on the real control plane for every listing provider besides Tencent
//! (`discovery.rs`): Alibaba RDS and PolarDB (`DescribeHistoryTasks`), AWS (DB snapshots,
//! blue/green deployments, pending maintenance), Google Cloud SQL (`operations.list`,
//! `scheduledMaintenance`) and Huawei RDS (`ListTasks`), one table, all instances watched at
//! once by one operator. For each: exactly one CloudDbJob per job the simulator lists for
//! the instance, owned by it; `Idle` False while the jobs run, True once they finished,
//! False again when a job starts mid-run (`clock: added`) and True after it; every
//! discovered job tracked to its terminal phase; the job (and maintenance) of another
//! instance never picked up, not even after more listings.

use std::collections::{BTreeMap, BTreeSet};

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::{ClockStart, JobSpec};
use jiff::Timestamp;
use serde_json::{json, Value};

use super::cluster;
use super::harness::{Harness, Options};
use super::history::condition;
use super::manifests::{alibaba_creds, aws_creds, gcp_creds, huawei_aksk, secret_yaml, sim_job};

/// One listing provider: a CloudDbInstance named `name` watching `instance`.
struct Cloud {
    /// The CloudDbInstance (its Secret is `<name>-creds`).
    name: &'static str,
    provider: ProviderKind,
    /// The instance's `api`, as the operator's listing metric names it.
    api: &'static str,
    instance: &'static str,
    /// More `spec` fields (YAML lines) the provider needs.
    fields: &'static str,
    /// Secret data for a simulator at the given URL.
    secret: fn(&str) -> Vec<(String, String)>,
    /// Jobs (API, ID) running on the instance from the first listing.
    initial: &'static [(&'static str, &'static str)],
    /// The job (API, ID) started on the instance once those finished.
    mid_run: (&'static str, &'static str),
    /// A running job (API, ID) of another instance of the same account.
    elsewhere: (&'static str, &'static str),
    /// The action of the maintenance announced for the instance, where the provider
    /// shows it (one is announced for the other instance too).
    maintenance: Option<&'static str>,
}

const GCP_PROJECT: &str = "my-project";
const OTHER_INSTANCE: &str = "other-e2e";

const CLOUDS: &[Cloud] = &[
    Cloud {
        name: "alibaba-rds",
        provider: ProviderKind::Alibaba,
        api: "rds",
        instance: "rm-e2edisc",
        fields: "region: cn-hangzhou",
        secret: |_| alibaba_creds(),
        initial: &[("rds", "t-e2erds01")],
        mid_run: ("rds", "t-e2erds02"),
        elsewhere: ("rds", "t-e2erds09"),
        maintenance: None,
    },
    Cloud {
        name: "alibaba-polardb",
        provider: ProviderKind::Alibaba,
        api: "polardb",
        instance: "pc-e2edisc",
        fields: "region: cn-hangzhou",
        secret: |_| alibaba_creds(),
        initial: &[("polardb", "t-e2epol01")],
        mid_run: ("polardb", "t-e2epol02"),
        elsewhere: ("polardb", "t-e2epol09"),
        maintenance: None,
    },
    Cloud {
        name: "aws",
        provider: ProviderKind::Aws,
        api: "db-snapshot",
        instance: "orders-e2e",
        fields: "region: us-east-1",
        secret: |_| aws_creds(),
        initial: &[
            ("db-snapshot", "orders-e2e-snap-1"),
            ("blue-green", "bgd-e2edisc01"),
        ],
        mid_run: ("db-snapshot", "orders-e2e-snap-2"),
        elsewhere: ("db-snapshot", "other-e2e-snap-1"),
        maintenance: Some("db-upgrade"),
    },
    Cloud {
        name: "gcp",
        provider: ProviderKind::Gcp,
        api: "cloudsql",
        instance: "orders-e2e-pg",
        fields: "projectId: my-project",
        secret: gcp_creds,
        initial: &[("cloudsql", "e2e0c5a1-0000-4000-8000-000000000001")],
        mid_run: ("cloudsql", "e2e0c5a1-0000-4000-8000-000000000002"),
        elsewhere: ("cloudsql", "e2e0c5a1-0000-4000-8000-000000000009"),
        maintenance: Some("scheduled-maintenance"),
    },
    Cloud {
        name: "huawei-rds",
        provider: ProviderKind::Huawei,
        api: "rds",
        instance: "hw-e2edisc01",
        fields: "region: cn-north-4\n  projectId: 0483b6b16e954cb88930a360d2c4e663",
        secret: |_| huawei_aksk(),
        initial: &[("rds", "e2e0d1a1-0000-4000-8000-000000000001")],
        mid_run: ("rds", "e2e0d1a1-0000-4000-8000-000000000002"),
        elsewhere: ("rds", "e2e0d1a1-0000-4000-8000-000000000009"),
        maintenance: None,
    },
];

/// How long each job runs, in scenario seconds: 20 s at speed 20, twenty rounds of the
/// instances' and jobs' 1 s poll intervals, so that neither the operator nor the test's
/// sampling of `Idle` can miss the busy window on a loaded machine.
const RUNNING_FOR: u64 = 400;

impl Cloud {
    /// A simulator job of this provider on `instance`: Running at 10 % for `RUNNING_FOR`
    /// scenario seconds, then succeeded.
    fn job(&self, (api, id): (&str, &str), instance: &str, first_step: u64) -> JobSpec {
        let mut job = sim_job(
            self.provider,
            api,
            id,
            &[
                (first_step, Phase::Running, Some(10)),
                (first_step + RUNNING_FOR, Phase::Succeed, None),
            ],
        );
        job.instance_id = Some(instance.into());
        if self.provider == ProviderKind::Gcp {
            job.project_id = Some(GCP_PROJECT.into());
        }
        job
    }

    /// The jobs the simulator starts with: the instance's and the other instance's.
    fn starting_jobs(&self) -> Vec<JobSpec> {
        let mut jobs: Vec<JobSpec> = self
            .initial
            .iter()
            .map(|&j| self.job(j, self.instance, 0))
            .collect();
        jobs.push(self.job(self.elsewhere, OTHER_INSTANCE, 0));
        jobs
    }

    /// The job started mid-run: its clock starts when it is added, and it appears a second
    /// later (20 scenario seconds), by itself.
    fn mid_run_job(&self) -> JobSpec {
        let mut job = self.job(self.mid_run, self.instance, 20);
        job.clock = Some(ClockStart::Added);
        job
    }

    /// Maintenance announced for the instance and for the other one.
    fn announced(&self) -> Vec<Value> {
        if self.maintenance.is_none() {
            return Vec::new();
        }
        [
            (self.instance, "db-upgrade"),
            (OTHER_INSTANCE, "system-update"),
        ]
        .into_iter()
        .map(|(instance, action)| {
            json!({"provider": self.provider.as_str(), "instanceId": instance,
                       "action": action, "description": "announced by the simulator",
                       "applyAfter": "72h", "forcedAfter": "720h"})
        })
        .collect()
    }

    fn instance_yaml(&self, url: &str) -> String {
        format!(
            "apiVersion: clouddb.io/v1alpha1\nkind: CloudDbInstance\nmetadata: {{name: {name}}}\n\
             spec:\n  provider: {provider}\n  api: {api}\n  instanceId: {instance}\n  {fields}\n  \
             endpoint: {url}\n  pollInterval: 1s\n  credentialsSecretRef: {{name: {name}-creds}}\n  \
             jobTemplate: {{pollInterval: 1s}}\n",
            name = self.name,
            provider = self.provider.as_str(),
            api = self.api,
            instance = self.instance,
            fields = self.fields,
        )
    }

    fn ids(&self, with_mid_run: bool) -> BTreeSet<String> {
        let mut ids: BTreeSet<String> = self.initial.iter().map(|(_, id)| id.to_string()).collect();
        if with_mid_run {
            ids.insert(self.mid_run.1.to_string());
        }
        ids
    }
}

/// One CloudDbInstance and the CloudDbJobs carrying its label, as read at one moment.
#[derive(Default)]
struct Watched {
    instance: Value,
    /// The labelled CloudDbJobs (by name).
    jobs: Vec<Value>,
}

impl Watched {
    fn status(&self) -> &Value {
        &self.instance["status"]
    }

    fn idle(&self) -> &str {
        condition(self.status(), "Idle")
            .and_then(|c| c["status"].as_str())
            .unwrap_or("")
    }

    fn job_ids(&self) -> BTreeSet<String> {
        self.jobs
            .iter()
            .filter_map(|j| j["spec"]["jobId"].as_str())
            .map(String::from)
            .collect()
    }

    /// Every labelled job has reached phase `phase`.
    fn all_in(&self, phase: &str) -> bool {
        self.jobs.iter().all(|j| j["status"]["phase"] == phase)
    }
}

/// Every CloudDbInstance of the test's namespace with its labelled CloudDbJobs, read with
/// one `kubectl get` (both kinds, so one moment); empty when kubectl fails.
fn watched(h: &Harness) -> BTreeMap<String, Watched> {
    let out = cluster::kubectl_sync(&h.kubeconfig, &["get", "cdbinst,cdbjob", "-o", "json"]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let mut by_instance: BTreeMap<String, Watched> = BTreeMap::new();
    for item in list["items"].as_array().into_iter().flatten() {
        match item["kind"].as_str() {
            Some("CloudDbInstance") => {
                let name = item["metadata"]["name"].as_str().unwrap_or_default();
                by_instance.entry(name.into()).or_default().instance = item.clone();
            }
            Some("CloudDbJob") => {
                if let Some(owner) = item["metadata"]["labels"]["clouddb.io/instance"].as_str() {
                    by_instance
                        .entry(owner.into())
                        .or_default()
                        .jobs
                        .push(item.clone());
                }
            }
            _ => {}
        }
    }
    by_instance
}

/// Where one cloud's run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// Waiting for `Idle` False with exactly the initial jobs discovered.
    Running,
    /// Waiting for `Idle` True with every initial job Succeeded; then the mid-run job is added.
    Finished,
    /// Waiting for `Idle` False with the mid-run job discovered too.
    RunningAgain,
    /// Waiting for `Idle` True with every job Succeeded.
    FinishedAgain,
    Done,
}

/// Checks what must hold at every moment, and moves `stage` on when its fact holds.
fn step(h: &Harness, cloud: &Cloud, seen: &Watched, stage: &mut Stage) {
    let ids = seen.job_ids();
    let allowed = cloud.ids(*stage >= Stage::RunningAgain);
    assert!(
        ids.is_subset(&allowed),
        "{}: CloudDbJobs for {ids:?}, expected only {allowed:?}",
        cloud.name
    );
    assert_eq!(
        seen.jobs.len(),
        ids.len(),
        "{}: more than one CloudDbJob for a job",
        cloud.name
    );
    let next = match *stage {
        Stage::Running if seen.idle() == "False" && ids == cloud.ids(false) => {
            assert_active(cloud, seen.status(), &ids);
            assert_maintenance(cloud, seen.status());
            Stage::Finished
        }
        Stage::Finished if seen.idle() == "True" && seen.all_in("Succeeded") => {
            h.sim.add_job(cloud.mid_run_job()).unwrap();
            Stage::RunningAgain
        }
        Stage::RunningAgain if seen.idle() == "False" && ids == cloud.ids(true) => {
            assert_active(
                cloud,
                seen.status(),
                &BTreeSet::from([cloud.mid_run.1.into()]),
            );
            Stage::FinishedAgain
        }
        Stage::FinishedAgain if seen.idle() == "True" && seen.all_in("Succeeded") => Stage::Done,
        _ => return,
    };
    eprintln!("{}: {:?} -> {next:?}", cloud.name, *stage);
    *stage = next;
}

/// `status.activeJobs` names exactly `ids`, each Running.
fn assert_active(cloud: &Cloud, status: &Value, ids: &BTreeSet<String>) {
    let active = status["activeJobs"].as_array().cloned().unwrap_or_default();
    let listed: BTreeSet<String> = active
        .iter()
        .filter_map(|a| a["jobId"].as_str())
        .map(String::from)
        .collect();
    assert_eq!(&listed, ids, "{}: activeJobs {status}", cloud.name);
    assert!(
        active.iter().all(|a| a["phase"] == "Running"),
        "{}: {status}",
        cloud.name
    );
}

/// The instance's announced maintenance, and not the other instance's, in
/// `status.upcomingMaintenance`, with its time ahead; nothing for the others.
fn assert_maintenance(cloud: &Cloud, status: &Value) {
    let upcoming = status["upcomingMaintenance"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let Some(action) = cloud.maintenance else {
        assert!(upcoming.is_empty(), "{}: {status}", cloud.name);
        return;
    };
    assert_eq!(upcoming.len(), 1, "{}: {status}", cloud.name);
    assert_eq!(upcoming[0]["action"], action, "{}: {status}", cloud.name);
    let not_before: Option<Timestamp> = upcoming[0]["notBefore"]
        .as_str()
        .and_then(|t| t.parse().ok());
    let ahead = Timestamp::now() + jiff::SignedDuration::from_hours(71);
    assert!(
        not_before.is_some_and(|t| t > ahead),
        "{}: {status}",
        cloud.name
    );
}

/// Successful listings per (provider, api), from the operator's metrics.
async fn listings(h: &Harness) -> BTreeMap<(String, String), u64> {
    let metrics = h.metrics().await;
    let mut counts = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("clouddb_job_operator_discovery_listings_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|l| l.strip_prefix(&format!("{name}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
        };
        if label("outcome").as_deref() != Some("ok") {
            continue;
        }
        if let (Some(p), Some(a), Ok(n)) = (label("provider"), label("api"), value.parse()) {
            counts.insert((p, a), n);
        }
    }
    counts
}

fn listed(counts: &BTreeMap<(String, String), u64>, cloud: &Cloud) -> u64 {
    let key = (cloud.provider.as_str().to_string(), cloud.api.to_string());
    counts.get(&key).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_discovery_on_every_listing_provider() {
    let h = Harness::start(
        "disc-clouds",
        Options {
            speed: 20.0,
            builtins: false,
            jobs: CLOUDS.iter().flat_map(Cloud::starting_jobs).collect(),
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    let maintenance: Vec<Value> = CLOUDS.iter().flat_map(Cloud::announced).collect();
    let added = reqwest::Client::new()
        .post(format!("{url}/_sim/jobs"))
        .json(&json!({"jobs": [], "maintenance": maintenance}))
        .send()
        .await
        .unwrap();
    assert!(added.status().is_success(), "{:?}", added.text().await);
    for cloud in CLOUDS {
        let secret = format!("{}-creds", cloud.name);
        h.apply(&secret, &secret_yaml(&secret, &(cloud.secret)(&url)))
            .await;
        h.apply(cloud.name, &cloud.instance_yaml(&url)).await;
    }

    let mut stages = vec![Stage::Running; CLOUDS.len()];
    h.eventually(
        "every instance: Idle False, True, False after a job started mid-run, True",
        240,
        |h| {
            let now = watched(h);
            for (cloud, stage) in CLOUDS.iter().zip(stages.iter_mut()) {
                if let Some(seen) = now.get(cloud.name) {
                    step(h, cloud, seen, stage);
                }
            }
            stages.iter().all(|s| *s == Stage::Done)
        },
    )
    .await;

    // Three more listings of every instance: none creates another CloudDbJob, none picks
    // up the other instance's job.
    let before = listings(&h).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let now = listings(&h).await;
        if CLOUDS
            .iter()
            .all(|c| listed(&now, c) >= listed(&before, c) + 3)
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "three more listings of each instance in 30 s: {before:?} -> {now:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let now = watched(&h);
    for cloud in CLOUDS {
        let seen = now
            .get(cloud.name)
            .unwrap_or_else(|| panic!("{} gone", cloud.name));
        assert_eq!(seen.job_ids(), cloud.ids(true), "{}", cloud.name);
        assert_eq!(seen.jobs.len(), cloud.ids(true).len(), "{}", cloud.name);
        assert_eq!(seen.idle(), "True", "{}", cloud.name);
        assert!(seen.all_in("Succeeded"), "{}: {:?}", cloud.name, seen.jobs);
        let uid = &seen.instance["metadata"]["uid"];
        for job in &seen.jobs {
            let owner = &job["metadata"]["ownerReferences"][0];
            assert_eq!(
                (&owner["kind"], &owner["name"], &owner["uid"]),
                (&json!("CloudDbInstance"), &json!(cloud.name), uid),
                "{}: {job}",
                cloud.name
            );
        }
    }
    // Nothing but the discovered jobs: no CloudDbJob without an instance's label.
    let all = cluster::kubectl_sync_ok(&h.kubeconfig, &["get", "cdbjob", "-o", "name"]);
    let expected: usize = CLOUDS.iter().map(|c| c.ids(true).len()).sum();
    assert_eq!(all.lines().count(), expected, "{all}");
}
