//! Batched `DescribeTasks` polling: jobs that hold identical credentials and share region,
//! endpoint and instance are answered from one paged sweep per poll round instead of one
//! call (or several pages) per job.
//!
//! A sweep is read with one job's credentials and answers the others', so a batch is keyed
//! by the digest of the whole credential (SecretId, SecretKey and token), never by its
//! public SecretId: a job whose Secret merely names another team's SecretId gets a sweep of
//! its own, which the provider refuses. [`BatchKey`] can only be made by [`batch_key`].
//!
//! Each [`BatchKey`] has at most one sweep in flight; reconciles that ask while it runs
//! wait for it and share its pages. A finished sweep answers every later poll of its
//! batch in the same poll round (see [`super::rounds`]), and any poll within `cache_ttl`
//! of it. So a batch costs one call per page of its instance's task list per round,
//! however many jobs it has and however the reconciles of a round are spread out.
//!
//! One exception buys freshness for new jobs: a job that a round's older sweep does not
//! list (typically created after the sweep) gets a fresh sweep, shared with its batch.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::{BoxFuture, FutureExt, Shared};
use jiff::Timestamp;

pub use super::batch_key::{batch_key, BatchKey};
use super::ratelimit::{limit_key, rate_limited, RateLimits};
use super::rounds::Rounds;
use crate::providers::clock::Clock;
use crate::providers::tencent::client::{DEFAULT_MAX_PAGES, PAGE_LIMIT};
use crate::providers::tencent::{map_task_item, DescribeTasksPage, TasksQuery, TencentProvider};
use crate::providers::{Credentials, JobObservation, JobTarget, Provider, ProviderError};

/// The tasks one sweep listed, indexed by job ID.
#[derive(Debug, Default)]
pub struct Sweep {
    pages: Vec<DescribeTasksPage>,
    /// (page, item) of each listed job ID (numeric IDs normalised, so `0079` is `79`).
    index: HashMap<String, (usize, usize)>,
    /// Whether the list ended (false: stopped at the page cap).
    complete: bool,
    listed: u64,
}

/// A sweep and when it was started (its data is at least that fresh) and finished, on the
/// provider's clock.
#[derive(Clone, Debug)]
struct Dated {
    sweep: Arc<Sweep>,
    started: Timestamp,
    finished: Timestamp,
}

impl Dated {
    /// Finished less than `ttl` before `now`: reusable by any poll of its batch. A sweep
    /// that finished "after" `now` (the clock went back) is not reused.
    fn within(&self, ttl: Duration, now: Timestamp) -> bool {
        Duration::try_from(now.duration_since(self.finished)).is_ok_and(|age| age < ttl)
    }
}

fn normalise_id(id: &str) -> String {
    let id = id.trim();
    id.parse::<u64>()
        .map_or_else(|_| id.to_string(), |n| n.to_string())
}

impl Sweep {
    /// Indexes the pages of one sweep.
    pub fn new(pages: Vec<DescribeTasksPage>, complete: bool) -> Self {
        let mut index = HashMap::new();
        let mut listed = 0;
        for (p, page) in pages.iter().enumerate() {
            for (i, item) in page.items.iter().enumerate() {
                listed += 1;
                if let Some(id) = item.job_id.as_deref() {
                    index.entry(normalise_id(id)).or_insert((p, i));
                }
            }
        }
        Sweep {
            pages,
            index,
            complete,
            listed,
        }
    }

    /// The observation of `job_id`; an unlisted job is not-found-yet, like an unbatched poll.
    pub fn observe(&self, job_id: &str, instance_id: Option<&str>) -> JobObservation {
        let found = self
            .index
            .get(&normalise_id(job_id))
            .and_then(|&(p, i)| self.pages.get(p)?.items.get(i));
        if let Some(item) = found {
            return map_task_item(item);
        }
        let scope = instance_id
            .map(|id| format!(" for instance {id}"))
            .unwrap_or_default();
        if self.complete {
            JobObservation::not_found_yet(format!(
                "task {job_id} is not listed by DescribeTasks{scope} yet"
            ))
        } else {
            JobObservation::not_found_yet(format!(
                "task {job_id} is not among the first {} tasks DescribeTasks lists{scope}; \
                 set instanceId to narrow the search",
                self.listed
            ))
        }
    }

    /// Pages read by this sweep.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// Whether `job_id` is listed.
    pub fn lists(&self, job_id: &str) -> bool {
        self.index.contains_key(&normalise_id(job_id))
    }
}

type SweepResult = Result<Dated, ProviderError>;

enum Slot {
    InFlight(Shared<BoxFuture<'static, SweepResult>>),
    Done(Dated),
}

/// Counters of what the batcher did (for tests and the benchmark).
#[derive(Debug, Default)]
pub struct BatchStats {
    /// Sweeps started.
    pub sweeps: AtomicU64,
    /// `DescribeTasks` pages requested.
    pub pages: AtomicU64,
    /// Observations answered by another reconcile's sweep (in flight or cached).
    pub shared: AtomicU64,
}

/// A [`Provider`] for Tencent API 3.0 that batches `DescribeTasks` polls per [`BatchKey`]
/// and applies the local rate limits to every request it sends.
pub struct BatchingTencentProvider {
    inner: TencentProvider,
    limits: Option<Arc<RateLimits>>,
    cache_ttl: Duration,
    max_pages: u32,
    slots: Arc<Mutex<HashMap<BatchKey, Slot>>>,
    stats: Arc<BatchStats>,
    /// The poll rounds a sweep is reused within (none: only `cache_ttl`).
    rounds: Option<Arc<Rounds>>,
    clock: Clock,
}

/// Default reuse window of a finished sweep.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(2);

impl BatchingTencentProvider {
    /// Batches `inner`; `limits` (if any) are taken once per request sent.
    pub fn new(inner: TencentProvider, limits: Option<Arc<RateLimits>>) -> Self {
        BatchingTencentProvider {
            inner,
            limits,
            cache_ttl: DEFAULT_CACHE_TTL,
            max_pages: DEFAULT_MAX_PAGES,
            slots: Arc::default(),
            stats: Arc::default(),
            rounds: None,
            clock: crate::providers::clock::system_clock(),
        }
    }

    /// Reuses a sweep for every poll of its batch in the poll round it was made in;
    /// `clock` must be the controller's (round times are on it).
    pub fn with_rounds(mut self, rounds: Arc<Rounds>, clock: Clock) -> Self {
        self.rounds = Some(rounds);
        self.with_clock(clock)
    }

    /// Replaces the clock that dates sweeps (the `cache_ttl` window and rounds are on it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How long a finished sweep answers later polls (keep it well below the poll interval).
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// Caps the pages read per sweep (at least 1).
    pub fn with_max_pages(mut self, max_pages: u32) -> Self {
        self.max_pages = max_pages.max(1);
        self
    }

    /// What the batcher did so far.
    pub fn stats(&self) -> Arc<BatchStats> {
        self.stats.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BatchKey, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a finished sweep may answer a poll of `key` at `now`: it is this round's,
    /// or younger than `cache_ttl`.
    fn reusable(&self, key: &BatchKey, dated: &Dated, now: Timestamp, in_round: bool) -> bool {
        dated.within(self.cache_ttl, now)
            || (in_round
                && self
                    .rounds
                    .as_ref()
                    .and_then(|r| r.round_start(key, now))
                    .is_some_and(|start| dated.started >= start))
    }

    /// The sweep for `key`: a reusable one, the one in flight, or a new one.
    /// `in_round: false` skips sweeps kept only for being in the current round.
    async fn sweep(
        &self,
        key: BatchKey,
        target: &JobTarget,
        credentials: &Credentials,
        in_round: bool,
    ) -> SweepResult {
        let query = TasksQuery::for_target(target)?;
        let now = (self.clock)();
        let shared = {
            let mut slots = self.lock();
            match slots.get(&key) {
                Some(Slot::Done(dated)) if self.reusable(&key, dated, now, in_round) => {
                    self.stats.shared.fetch_add(1, Ordering::Relaxed);
                    return Ok(dated.clone());
                }
                Some(Slot::InFlight(f)) => {
                    self.stats.shared.fetch_add(1, Ordering::Relaxed);
                    f.clone()
                }
                _ => {
                    slots.retain(|k, s| match s {
                        Slot::Done(dated) => self.reusable(k, dated, now, true),
                        Slot::InFlight(_) => true,
                    });
                    let f = self.start_sweep(key.clone(), query, target, credentials, now);
                    slots.insert(key, Slot::InFlight(f.clone()));
                    f
                }
            }
        };
        shared.await
    }

    /// Spawns one sweep (so it finishes even if the reconcile that started it is dropped)
    /// and records its result in the slot.
    fn start_sweep(
        &self,
        key: BatchKey,
        query: TasksQuery,
        target: &JobTarget,
        credentials: &Credentials,
        started: Timestamp,
    ) -> Shared<BoxFuture<'static, SweepResult>> {
        self.stats.sweeps.fetch_add(1, Ordering::Relaxed);
        let inner = self.inner.clone();
        let limits = self.limits.clone();
        let limit = limit_key(target, credentials);
        let credentials = credentials.clone();
        let slots = self.slots.clone();
        let stats = self.stats.clone();
        let max_pages = self.max_pages;
        let clock = self.clock.clone();
        let handle = tokio::spawn(async move {
            let result = read_all(&inner, query, &credentials, max_pages, |_| {
                stats.pages.fetch_add(1, Ordering::Relaxed);
                match &limits {
                    Some(l) => l.acquire(&limit).map_err(|wait| rate_limited(&limit, wait)),
                    None => Ok(()),
                }
            })
            .await
            .map(|sweep| Dated {
                sweep: Arc::new(sweep),
                started,
                finished: clock(),
            });
            let mut map = slots.lock().unwrap_or_else(|p| p.into_inner());
            match &result {
                Ok(dated) => {
                    map.insert(key, Slot::Done(dated.clone()));
                }
                Err(_) => {
                    map.remove(&key);
                }
            }
            result
        });
        async move {
            handle.await.unwrap_or_else(|e| {
                Err(ProviderError::transient(
                    "SweepFailed",
                    format!("DescribeTasks sweep task failed: {e}"),
                ))
            })
        }
        .boxed()
        .shared()
    }
}

/// Reads every page of `query` (up to `max_pages`) through the provider's one paging
/// loop; `before_page` may refuse a page (rate limit), which fails the sweep.
async fn read_all(
    inner: &TencentProvider,
    mut query: TasksQuery,
    credentials: &Credentials,
    max_pages: u32,
    before_page: impl FnMut(u64) -> Result<(), ProviderError> + Send,
) -> Result<Sweep, ProviderError> {
    query.limit = PAGE_LIMIT;
    let mut pages = Vec::new();
    let paged = inner
        .page_tasks(&query, credentials, max_pages, before_page, |page| {
            pages.push(page);
            ControlFlow::Continue(())
        })
        .await?;
    Ok(Sweep::new(pages, paged.ended))
}

#[async_trait]
impl Provider for BatchingTencentProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        match batch_key(target, credentials) {
            Some(key) => {
                let mut dated = self.sweep(key.clone(), target, credentials, true).await?;
                if !dated.sweep.lists(&target.job_id)
                    && dated.sweep.complete
                    && !dated.within(self.cache_ttl, (self.clock)())
                {
                    // Probably created after this round's sweep: look again now rather
                    // than report it missing for a whole round.
                    dated = self.sweep(key, target, credentials, false).await?;
                }
                Ok(dated
                    .sweep
                    .observe(&target.job_id, target.instance_id.as_deref()))
            }
            None => {
                if let Some(limits) = &self.limits {
                    let key = limit_key(target, credentials);
                    limits.acquire(&key).map_err(|w| rate_limited(&key, w))?;
                }
                self.inner.observe(target, credentials).await
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::api::ProviderKind;
    use crate::providers::credentials::SecretString;
    use crate::providers::tencent::TaskItem;

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
}
