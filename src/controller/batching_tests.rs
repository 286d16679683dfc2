//! The batch keys (who shares a read) and the Tencent sweep index, without I/O.
use super::*;
use crate::api::ProviderKind;
use crate::providers::credentials::SecretString;
use crate::providers::tencent::{DescribeTasksPage, TaskItem};
use crate::providers::{Credentials, JobTarget, ProviderError};
use std::sync::Arc;
use std::time::Duration;

fn item(id: &str, status: &str) -> TaskItem {
    serde_json::from_value(serde_json::json!({"JobId": id, "TaskStatus": status})).unwrap()
}

fn page(items: Vec<TaskItem>, total: i64) -> DescribeTasksPage {
    DescribeTasksPage {
        total_count: Some(total),
        items,
        request_id: None,
    }
}

#[test]
fn sweep_finds_jobs_across_pages_and_normalises_ids() {
    let sweep = Sweep::new(
        vec![
            page(vec![item("0079", "RUNNING")], 2),
            page(vec![item("80", "SUCCESS")], 2),
        ],
        true,
    );
    assert_eq!(sweep.pages(), 2);
    assert_eq!(
        sweep.observe("79", None).provider_status.as_deref(),
        Some("RUNNING")
    );
    assert_eq!(
        sweep.observe("80", None).provider_status.as_deref(),
        Some("SUCCESS")
    );
    let missing = sweep.observe("81", Some("cdb-1"));
    assert!(missing.message.unwrap().contains("not listed"));
    let capped = Sweep::new(vec![page(vec![item("1", "RUNNING")], 500)], false);
    assert!(capped
        .observe("2", None)
        .message
        .unwrap()
        .contains("first 1 tasks"));
}

fn creds(id: &str, key: &str, token: Option<&str>) -> Credentials {
    Credentials::Tencent {
        secret_id: id.into(),
        secret_key: SecretString::new(key),
        token: token.map(SecretString::new),
    }
}

fn target(job: &str, api: &str, instance: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Tencent,
        Some(api),
        job,
        Some("ap-guangzhou"),
        Some(instance),
        None,
        None,
    )
    .unwrap()
}

/// A batch key of `instance` (for the rounds' tests).
pub(crate) fn key_on(instance: &str) -> BatchKey {
    batch_key(
        &target("1", "DescribeTasks", instance),
        &creds("S", "k", None),
    )
    .unwrap()
}

#[test]
fn only_tencent_describe_tasks_is_batched_and_keys_split_by_instance() {
    let a = batch_key(
        &target("1", "DescribeTasks", "cdb-a"),
        &creds("S1", "k", None),
    );
    let b = batch_key(
        &target("2", "DescribeTasks", "cdb-a"),
        &creds("S1", "k", None),
    );
    assert_eq!(
        a, b,
        "two jobs on one instance and one credential share a batch"
    );
    assert_ne!(
        a,
        batch_key(
            &target("1", "DescribeTasks", "cdb-b"),
            &creds("S1", "k", None)
        )
    );
    assert_eq!(
        batch_key(
            &target("x", "DescribeAsyncRequestInfo", "cdb-a"),
            &creds("S1", "k", None)
        ),
        None
    );
}

/// The cross-tenant defect: a Secret that only names another team's SecretId (public:
/// it shows in audit trails) must not join that team's batch, nor a stale key its
/// rotated successor's, nor a session token another session's.
#[test]
fn jobs_share_a_batch_only_when_their_whole_credentials_are_identical() {
    let t = target("88123", "DescribeTasks", "cdb-x");
    let key = |c: Credentials| batch_key(&t, &c).unwrap();
    let a = key(creds("AKIDteamA", "team-a-key", None));
    assert_eq!(a, key(creds("AKIDteamA", "team-a-key", None)));
    for other in [
        creds("AKIDteamA", "made-up-key", None),
        creds("AKIDteamA", "team-a-key", Some("token")),
        creds("AKIDteamB", "team-a-key", None),
    ] {
        assert_ne!(
            a,
            key(other),
            "a different credential must not share the batch"
        );
    }
    let with_token = key(creds("AKIDteamA", "team-a-key", Some("t1")));
    assert_ne!(
        with_token,
        key(creds("AKIDteamA", "team-a-key", Some("t2")))
    );
}

#[test]
fn a_batch_key_shows_nothing_of_the_credential() {
    let shown = format!(
        "{:?}",
        batch_key(
            &target("1", "DescribeTasks", "cdb-a"),
            &creds("AKIDteamA", "team-a-key", Some("tok"))
        )
    );
    for secret in ["AKIDteamA", "team-a-key", "tok"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

fn aws_creds(id: &str, secret: &str, token: Option<&str>) -> Credentials {
    Credentials::Aws {
        access_key_id: id.into(),
        secret_access_key: SecretString::new(secret),
        session_token: token.map(SecretString::new),
    }
}

fn aws_target(job: &str, api: &str, region: &str, endpoint: Option<&str>) -> JobTarget {
    JobTarget::new(
        ProviderKind::Aws,
        Some(api),
        job,
        Some(region),
        None,
        None,
        endpoint,
    )
    .unwrap()
}

/// AWS jobs share a read when API, whole credential, region and endpoint are the same,
/// whatever their IDs; any difference (a forged secret for the same public key ID
/// included) is another batch.
#[test]
fn aws_jobs_group_by_api_whole_credential_region_and_endpoint() {
    let c = aws_creds("AKIDteamA", "team-a-secret", None);
    let key = |t: &JobTarget, c: &Credentials| batch_key(t, c).unwrap();
    let a = key(&aws_target("snap-1", "db-snapshot", "us-east-1", None), &c);
    assert_eq!(
        a,
        key(&aws_target("snap-2", "db-snapshot", "us-east-1", None), &c),
        "two snapshots of one credential share a read"
    );
    assert_eq!(
        a,
        key(
            &aws_target(
                "snap-3",
                "db-snapshot",
                "us-east-1",
                Some("https://rds.us-east-1.amazonaws.com/")
            ),
            &c
        ),
        "the default endpoint named explicitly is the same endpoint"
    );
    let others = [
        key(
            &aws_target("snap-1", "cluster-snapshot", "us-east-1", None),
            &c,
        ),
        key(&aws_target("snap-1", "db-snapshot", "eu-west-1", None), &c),
        key(
            &aws_target(
                "snap-1",
                "db-snapshot",
                "us-east-1",
                Some("https://rds.example.test/"),
            ),
            &c,
        ),
        key(
            &aws_target("snap-1", "db-snapshot", "us-east-1", None),
            &aws_creds("AKIDteamA", "forged-secret", None),
        ),
        key(
            &aws_target("snap-1", "db-snapshot", "us-east-1", None),
            &aws_creds("AKIDteamA", "team-a-secret", Some("session")),
        ),
        key(
            &aws_target("bgd-1", "blue-green-switchover", "us-east-1", None),
            &c,
        ),
    ];
    for (n, other) in others.iter().enumerate() {
        assert_ne!(&a, other, "case {n} must not share the read");
    }
    assert_eq!(
        key(&aws_target("bgd-1", "blue-green", "us-east-1", None), &c),
        key(&aws_target("bgd-2", "blue-green", "us-east-1", None), &c)
    );
    assert_eq!(
        key(&aws_target("e-1", "export-task", "us-east-1", None), &c),
        key(&aws_target("e-2", "export-task", "us-east-1", None), &c)
    );
}

/// The key of a batch of AWS DB snapshots read with `team`'s credential (for the lanes' tests).
pub(crate) fn aws_key(team: &str) -> BatchKey {
    batch_key(
        &aws_target("snap-1", "db-snapshot", "us-east-1", None),
        &aws_creds(&format!("AKID{team}"), &format!("{team}-secret"), None),
    )
    .unwrap()
}

#[test]
fn aws_jobs_named_by_arn_or_with_foreign_credentials_are_not_batched() {
    let c = aws_creds("AKIDteamA", "team-a-secret", None);
    let arn = "arn:aws:rds:us-east-1:123456789012:snapshot:shared-snap";
    assert_eq!(
        batch_key(&aws_target(arn, "db-snapshot", "us-east-1", None), &c),
        None
    );
    assert_eq!(
        batch_key(
            &aws_target("snap-1", "db-snapshot", "us-east-1", None),
            &creds("S", "k", None)
        ),
        None
    );
}

/// A by-ID source whose batched read fails with `error`, and whose single poll answers.
struct Failing(ProviderError);

#[async_trait::async_trait]
impl Source for Failing {
    type Answer = crate::providers::aws::batch::Described;

    fn by_id(&self) -> bool {
        true
    }

    async fn read(
        &self,
        _: &JobTarget,
        _: &Credentials,
        _: Vec<String>,
        _: &Tokens,
    ) -> Result<Self::Answer, ProviderError> {
        Err(self.0.clone())
    }

    async fn single(
        &self,
        _: &JobTarget,
        _: &Credentials,
    ) -> Result<crate::providers::JobObservation, ProviderError> {
        Ok(crate::providers::JobObservation::not_found_yet(
            "single poll",
        ))
    }
}

/// A batched read refused outright is not the job's verdict: the job is polled on its
/// own. A throttled or transient one is the job's (retried), with no single poll.
#[tokio::test]
async fn a_refused_batched_read_falls_back_to_a_single_poll_and_a_throttled_one_does_not() {
    use crate::providers::ErrorReason;
    use crate::providers::Provider;
    use std::sync::atomic::Ordering;
    let t = aws_target("snap-1", "db-snapshot", "us-east-1", None);
    let c = aws_creds("AKID", "secret", None);
    let refused = ProviderError::permanent(
        ErrorReason::InvalidRequest,
        "InvalidParameterCombination",
        "no filters here",
    );
    let p = Batching::with_source(Failing(refused), None);
    let o = p.observe(&t, &c).await.unwrap();
    assert_eq!(o.message.as_deref(), Some("single poll"));
    assert_eq!(p.stats().single.load(Ordering::Relaxed), 1);
    for e in [
        ProviderError::throttled("Throttling", "Rate exceeded"),
        ProviderError::transient("HTTP 503", "down"),
    ] {
        let p = Batching::with_source(Failing(e.clone()), None);
        assert_eq!(p.observe(&t, &c).await.unwrap_err(), e);
        assert_eq!(p.stats().single.load(Ordering::Relaxed), 0);
    }
}

/// A by-ID source that answers exactly the IDs it was asked for, after `latency`: the
/// jobs in `finished` have succeeded, the others run. It counts its reads and records what
/// each asked for.
#[derive(Default)]
struct Recording {
    reads: Arc<std::sync::atomic::AtomicU64>,
    latency: Duration,
    finished: Vec<String>,
    asked: Arc<std::sync::Mutex<Vec<Vec<String>>>>,
}

/// What [`Recording`] was asked for, and which of it has succeeded.
struct Recorded {
    asked: Vec<String>,
    finished: Vec<String>,
}

impl Answer for Recorded {
    fn answers(&self, target: &JobTarget) -> bool {
        self.covers_member(&crate::providers::aws::batch::id_key(&target.job_id))
    }

    fn covers_member(&self, id: &str) -> bool {
        self.asked.iter().any(|a| a == id)
    }

    fn extended(&self, newer: Self) -> Self {
        Recorded {
            asked: [self.asked.clone(), newer.asked].concat(),
            finished: self.finished.clone(),
        }
    }

    fn observe(&self, target: &JobTarget) -> crate::providers::JobObservation {
        let done = self.finished.contains(&target.job_id);
        crate::providers::JobObservation {
            phase: Some(if done {
                crate::api::JobPhase::Succeeded
            } else {
                crate::api::JobPhase::Running
            }),
            message: Some("asked".into()),
            ..Default::default()
        }
    }
}

#[async_trait::async_trait]
impl Source for Recording {
    type Answer = Recorded;

    fn by_id(&self) -> bool {
        true
    }

    async fn read(
        &self,
        _: &JobTarget,
        _: &Credentials,
        mut members: Vec<String>,
        _: &Tokens,
    ) -> Result<Recorded, ProviderError> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::time::sleep(self.latency).await;
        members.sort();
        self.asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(members.clone());
        Ok(Recorded {
            asked: members,
            finished: self.finished.clone(),
        })
    }

    async fn single(
        &self,
        _: &JobTarget,
        _: &Credentials,
    ) -> Result<crate::providers::JobObservation, ProviderError> {
        Err(ProviderError::transient("Unexpected", "single poll"))
    }
}

/// Runs `jobs` first polls of one batch arriving `apart` from each other (each a read of
/// 20 ms) with a newcomer gather of `gather`; returns the reads made.
async fn first_polls(jobs: usize, apart: Duration, gather: Duration) -> u64 {
    use crate::providers::Provider;
    let reads = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let source = Recording {
        reads: reads.clone(),
        latency: Duration::from_millis(20),
        ..Recording::default()
    };
    let p = Arc::new(Batching::with_source(source, None).with_newcomer_gather(gather));
    let c = aws_creds("AKID", "secret", None);
    let mut polls = Vec::new();
    for n in 0..jobs {
        let (p, c) = (p.clone(), c.clone());
        let t = aws_target(&format!("snap-{n}"), "db-snapshot", "us-east-1", None);
        polls.push(tokio::spawn(async move { p.observe(&t, &c).await }));
        tokio::time::sleep(apart).await;
    }
    for poll in polls {
        let observed = poll.await.expect("poll task");
        assert_eq!(
            observed
                .expect("answered by a batched read")
                .message
                .as_deref(),
            Some("asked")
        );
    }
    reads.load(std::sync::atomic::Ordering::Relaxed)
}

/// Jobs applied together reach the batcher tens of milliseconds apart (each after its own
/// Secret read), longer than a read takes: each one would make its own read. A read for a
/// job no answer covers waits for the others, so they share a few reads.
#[tokio::test(start_paused = true)]
async fn jobs_arriving_one_by_one_share_their_first_read() {
    let apart = Duration::from_millis(30);
    let gathered = first_polls(30, apart, DEFAULT_NEWCOMER_GATHER).await;
    // 30 arrivals over 870 ms, a read every gather (200 ms) plus one read's time (20 ms).
    assert!((4..=6).contains(&gathered), "{gathered} reads for 30 jobs");
    // Without the wait, each arrival finds the last read finished and makes its own.
    assert_eq!(first_polls(30, apart, Duration::ZERO).await, 30);
}

/// A job seen finished is not polled again, so later reads of its batch do not ask for it
/// (it would take a place in the 100-value filter for nothing until `MEMBER_TTL`).
#[tokio::test(start_paused = true)]
async fn a_job_seen_finished_leaves_its_batch_reads() {
    use crate::providers::Provider;
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let source = Recording {
        finished: vec!["snap-done".into()],
        asked: asked.clone(),
        ..Recording::default()
    };
    let rounds = Arc::new(super::super::rounds::Rounds::default());
    let p = Batching::with_source(source, None)
        .with_cache_ttl(Duration::ZERO)
        .with_rounds(rounds.clone(), Arc::new(jiff::Timestamp::now));
    let c = aws_creds("AKID", "secret", None);
    let t = |id: &str| aws_target(id, "db-snapshot", "us-east-1", None);
    let (done, running) = (t("snap-done"), t("snap-running"));
    let (a, b) = tokio::join!(p.observe(&done, &c), p.observe(&running, &c));
    assert_eq!(
        a.expect("done").phase,
        Some(crate::api::JobPhase::Succeeded)
    );
    assert_eq!(
        b.expect("running").phase,
        Some(crate::api::JobPhase::Running)
    );
    // The next round: only the running job polls again.
    tokio::time::sleep(Duration::from_secs(30)).await;
    p.observe(&running, &c).await.expect("running again");
    let asked = asked.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(
        asked,
        vec![
            vec!["snap-done".to_string(), "snap-running".to_string()],
            vec!["snap-running".to_string()],
        ]
    );
    // Nor does it keep its place in the batch's lanes.
    assert_eq!(rounds.lanes().len(), 1);
}

/// A job new to a batch whose round's answer is still fresh gets a read of its own ID
/// only, which extends that answer: the members already answered are not asked again,
/// and answer their later polls in the round from the extended answer.
#[tokio::test(start_paused = true)]
async fn a_read_for_a_newcomer_asks_only_for_what_the_answer_lacks() {
    use crate::providers::Provider;
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let source = Recording {
        asked: asked.clone(),
        ..Recording::default()
    };
    // The batcher's clock, moved with tokio's paused one.
    let millis = Arc::new(std::sync::atomic::AtomicI64::new(1_700_000_000_000));
    let clock: crate::providers::clock::Clock = {
        let millis = millis.clone();
        Arc::new(move || {
            jiff::Timestamp::from_millisecond(millis.load(std::sync::atomic::Ordering::SeqCst))
                .unwrap_or_default()
        })
    };
    let advance = |secs: i64| {
        millis.fetch_add(secs * 1000, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(secs as u64))
    };
    let p = Batching::with_source(source, None)
        .with_cache_ttl(Duration::from_secs(20))
        .with_clock(clock);
    let c = aws_creds("AKID", "secret", None);
    let t = |id: &str| aws_target(id, "db-snapshot", "us-east-1", None);
    let (a, b, late) = (t("snap-a"), t("snap-b"), t("snap-late"));
    let (ra, rb) = tokio::join!(p.observe(&a, &c), p.observe(&b, &c));
    assert!(ra.is_ok() && rb.is_ok());
    advance(5).await;
    p.observe(&late, &c).await.expect("the newcomer");
    // Later polls of all three within the answer's life: no read.
    for job in [&a, &b, &late] {
        p.observe(job, &c).await.expect("answered");
    }
    let seen = asked.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(
        seen,
        vec![
            vec!["snap-a".to_string(), "snap-b".to_string()],
            vec!["snap-late".to_string()],
        ]
    );
    // Once that answer is stale, a read asks for every member again.
    advance(30).await;
    p.observe(&a, &c).await.expect("next round");
    let asked = asked.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(
        asked.last().cloned().unwrap_or_default(),
        ["snap-a", "snap-b", "snap-late"]
    );
}
