//! The batching engine: jobs that hold identical credentials and share region, endpoint and
//! API (and for Tencent the instance) are answered from one read per poll round instead of
//! one call per job. Two sources use this one engine: Tencent `DescribeTasks` (a paged
//! sweep of an instance's task list, [`super::batching_tencent`]) and the AWS RDS describe
//! calls with an identifier filter of many values ([`super::batching_aws`]).
//!
//! A read is made with one job's credentials and answers the others', so a batch is keyed
//! by the digest of the whole credential (never by its public key ID): a job whose Secret
//! merely names another team's key ID gets a read of its own, which the provider refuses.
//! [`BatchKey`] can only be made by [`batch_key`].
//!
//! Each [`BatchKey`] has at most one read in flight; reconciles that ask while it runs
//! wait for it and share its answer. A finished read answers every later poll of its batch
//! in the same poll round (see [`super::rounds`]), and any poll within `cache_ttl` of it.
//!
//! A source that lists everything (Tencent) answers every job; one that asks by ID (AWS)
//! answers the batch's members: the jobs that polled recently ([`MEMBER_TTL`]), less those
//! an answer showed finished (they are not polled again). A job that
//! an answer does not cover (new, or an older answer that does not list it) gets a fresh
//! read, shared with its batch: queued behind the read in flight, which it would not be
//! in, so that jobs arriving together share the next read rather than each making one.
//! Such a read (for a job no answer covers yet) first waits [`DEFAULT_NEWCOMER_GATHER`]
//! for others: jobs applied together reach the controller one by one, each after its own
//! Secret read, a few tens of milliseconds apart, which is longer than a read takes; without
//! the wait, 30 jobs applied at once cost 29 reads (seen in `tests/e2e/aws_batch.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::{BoxFuture, FutureExt, Shared};
use jiff::Timestamp;

use super::batch_key::{batch_key, BatchKey, MEMBER_TTL};
use super::ratelimit::{limit_key, rate_limited, LimitKey, RateLimits};
use super::rounds::Rounds;
use crate::api::JobPhase;
use crate::providers::clock::Clock;
use crate::providers::{Credentials, JobObservation, JobTarget, Provider, ProviderError};

/// One batched answer.
pub trait Answer: Send + Sync + 'static {
    /// Whether this answer says something of the job: it lists it, or it was asked for it.
    fn answers(&self, target: &JobTarget) -> bool;
    /// What it says of the job (an unlisted job is not found yet, as for a single poll).
    fn observe(&self, target: &JobTarget) -> JobObservation;
    /// Whether it answers the batch member `id` (a by-ID answer that can be
    /// [`Answer::extended`]): a read for newcomers then asks only for the members this
    /// round's answer does not cover. By default no member is covered, so every read asks
    /// for all of them.
    fn covers_member(&self, _id: &str) -> bool {
        false
    }
    /// This answer with a newer read of the members it did not cover added. By default
    /// the newer read alone, which then asked for every member.
    fn extended(&self, newer: Self) -> Self
    where
        Self: Sized,
    {
        newer
    }
}

/// What a batched provider reads with.
#[async_trait]
pub trait Source: Send + Sync + 'static {
    type Answer: Answer;
    /// Whether an answer covers only the job IDs it was asked for (AWS), so that a job it
    /// does not answer needs a new read at once; otherwise (a full list) only once the
    /// answer is older than `cache_ttl`.
    fn by_id(&self) -> bool;
    /// Reads one answer for `members` (the batch's recent job IDs, `target`'s included),
    /// taking a token from `tokens` before every call.
    async fn read(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
        members: Vec<String>,
        tokens: &Tokens,
    ) -> Result<Self::Answer, ProviderError>;
    /// One unbatched poll (a job that has no batch, or that no answer covers).
    async fn single(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError>;
}

/// The rate-limit bucket of a read: `take` refuses at once, `wait` waits up to `max_wait`.
pub struct Tokens {
    limits: Option<Arc<RateLimits>>,
    key: LimitKey,
    max_wait: Duration,
    stats: Arc<BatchStats>,
}

impl Tokens {
    /// One token for one call, or a local rate-limit error.
    pub fn take(&self) -> Result<(), ProviderError> {
        self.stats.pages.fetch_add(1, Ordering::Relaxed);
        match &self.limits {
            Some(l) => l
                .acquire(&self.key)
                .map_err(|wait| rate_limited(&self.key, wait)),
            None => Ok(()),
        }
    }

    /// One token, waiting for it up to `max_wait` in all (the read runs in a task of its
    /// own, so no reconcile slot waits on the limiter but the ones sharing this read).
    pub async fn wait(&self) -> Result<(), ProviderError> {
        let mut waited = Duration::ZERO;
        loop {
            let Some(limits) = &self.limits else {
                self.stats.pages.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            };
            match limits.acquire(&self.key) {
                Ok(()) => {
                    self.stats.pages.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(wait) if waited + wait <= self.max_wait => {
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
                Err(wait) => return Err(rate_limited(&self.key, wait)),
            }
        }
    }

    /// Records the provider's verdict on a read (throttled, answered) for the adaptive
    /// limit of its bucket.
    pub fn feedback(&self, error: Option<&ProviderError>) {
        if let Some(limits) = &self.limits {
            limits.feedback(&self.key, error);
        }
    }
}

/// An answer and when its read started (its data is at least that fresh) and finished,
/// on the provider's clock.
struct Dated<A> {
    answer: Arc<A>,
    started: Timestamp,
    finished: Timestamp,
}

impl<A> Clone for Dated<A> {
    fn clone(&self) -> Self {
        Dated {
            answer: self.answer.clone(),
            started: self.started,
            finished: self.finished,
        }
    }
}

impl<A> Dated<A> {
    /// Finished less than `ttl` before `now`. A read that finished "after" `now` (the
    /// clock went back) is not reused.
    fn within(&self, ttl: Duration, now: Timestamp) -> bool {
        Duration::try_from(now.duration_since(self.finished)).is_ok_and(|age| age < ttl)
    }
}

type ReadResult<A> = Result<Dated<A>, ProviderError>;
type Flight<A> = Shared<BoxFuture<'static, ReadResult<A>>>;

/// The state of one batch.
struct Slot<A> {
    done: Option<Dated<A>>,
    in_flight: Option<Flight<A>>,
    /// A read queued behind `in_flight` for jobs it does not cover (by-ID sources).
    next: Option<Flight<A>>,
    /// Job IDs polled recently, and when (by-ID sources read these).
    members: HashMap<String, Timestamp>,
}

impl<A> Default for Slot<A> {
    fn default() -> Self {
        Slot {
            done: None,
            in_flight: None,
            next: None,
            members: HashMap::new(),
        }
    }
}

/// Counters of what the batcher did (for tests and the benchmark).
#[derive(Debug, Default)]
pub struct BatchStats {
    /// Reads (sweeps) started.
    pub sweeps: AtomicU64,
    /// Calls (pages) requested.
    pub pages: AtomicU64,
    /// Observations answered by another reconcile's read (in flight or cached).
    pub shared: AtomicU64,
    /// Observations answered by a single call (no batch, no answer covering them, or a
    /// batched read refused outright).
    pub single: AtomicU64,
}

/// Default reuse window of a finished read.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(2);

/// How long a by-ID read for a job that no answer covers yet waits for other such jobs
/// before it reads its members (jobs in steady state, already members, never wait).
pub const DEFAULT_NEWCOMER_GATHER: Duration = Duration::from_millis(200);

/// Whether a finished read may answer a poll of `key` at `now`: it is this round's (on
/// `rounds`), or younger than `cache_ttl`.
fn reusable<A>(
    rounds: Option<&Rounds>,
    cache_ttl: Duration,
    key: &BatchKey,
    dated: &Dated<A>,
    now: Timestamp,
) -> bool {
    dated.within(cache_ttl, now)
        || rounds
            .and_then(|r| r.round_start(key, now))
            .is_some_and(|start| dated.started >= start)
}

/// A [`Provider`] that batches the polls of `S` per [`BatchKey`] and applies the local
/// rate limits to every request it sends.
pub struct Batching<S: Source> {
    source: Arc<S>,
    limits: Option<Arc<RateLimits>>,
    cache_ttl: Duration,
    /// How long a read waits for rate-limit tokens before failing (zero: not at all).
    max_token_wait: Duration,
    /// How long a by-ID read for a job no answer covers waits for others to join it.
    newcomer_gather: Duration,
    slots: Arc<Mutex<HashMap<BatchKey, Slot<S::Answer>>>>,
    stats: Arc<BatchStats>,
    /// The poll rounds an answer is reused within (none: only `cache_ttl`).
    rounds: Option<Arc<Rounds>>,
    clock: Clock,
}

impl<S: Source> Batching<S> {
    /// Batches `source`; `limits` (if any) are taken once per request sent.
    pub fn with_source(source: S, limits: Option<Arc<RateLimits>>) -> Self {
        Batching {
            source: Arc::new(source),
            limits,
            cache_ttl: DEFAULT_CACHE_TTL,
            max_token_wait: Duration::ZERO,
            newcomer_gather: DEFAULT_NEWCOMER_GATHER,
            slots: Arc::default(),
            stats: Arc::default(),
            rounds: None,
            clock: crate::providers::clock::system_clock(),
        }
    }

    /// Reuses an answer for every poll of its batch in the poll round it was made in;
    /// `clock` must be the controller's (round times are on it).
    pub fn with_rounds(mut self, rounds: Arc<Rounds>, clock: Clock) -> Self {
        self.rounds = Some(rounds);
        self.with_clock(clock)
    }

    /// Replaces the clock that dates reads (the `cache_ttl` window and rounds are on it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How long a finished read answers later polls (keep it well below the poll interval).
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// How long one read may wait for rate-limit tokens in all before it fails.
    pub fn with_max_token_wait(mut self, wait: Duration) -> Self {
        self.max_token_wait = wait;
        self
    }

    /// How long a by-ID read for a job that no answer covers yet waits for others.
    pub fn with_newcomer_gather(mut self, gather: Duration) -> Self {
        self.newcomer_gather = gather;
        self
    }

    /// What the batcher did so far.
    pub fn stats(&self) -> Arc<BatchStats> {
        self.stats.clone()
    }

    /// The source (for its settings).
    pub(crate) fn source_mut(&mut self) -> Option<&mut S> {
        Arc::get_mut(&mut self.source)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BatchKey, Slot<S::Answer>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a finished read may answer a poll of `key` at `now`: it is this round's,
    /// or younger than `cache_ttl`.
    fn reusable(&self, key: &BatchKey, dated: &Dated<S::Answer>, now: Timestamp) -> bool {
        reusable(self.rounds.as_deref(), self.cache_ttl, key, dated, now)
    }

    /// The answer for `target` in batch `key`: a reusable one, the one in flight, the one
    /// queued behind it, or a new one. `fresh` skips answers kept only for their round.
    async fn answer(
        &self,
        key: &BatchKey,
        target: &JobTarget,
        credentials: &Credentials,
        fresh: bool,
    ) -> ReadResult<S::Answer> {
        let now = (self.clock)();
        let by_id = self.source.by_id();
        let flight = {
            let mut all = self.lock();
            if all.len() > 1024 {
                let ttl = self.cache_ttl;
                all.retain(|_, s| {
                    s.in_flight.is_some()
                        || s.next.is_some()
                        || s.done
                            .as_ref()
                            .is_some_and(|d| d.within(ttl.max(MEMBER_TTL), now))
                });
            }
            let slot = all.entry(key.clone()).or_default();
            // A job new to the batch, or one the last answer did not cover (`fresh`): its
            // read waits for others arriving with it.
            let newcomer = by_id
                && slot
                    .members
                    .insert(crate::providers::aws::batch::id_key(&target.job_id), now)
                    .is_none();
            let gather = if newcomer || (by_id && fresh) {
                self.newcomer_gather
            } else {
                Duration::ZERO
            };
            let usable = |d: &Dated<S::Answer>| {
                (if fresh {
                    d.within(self.cache_ttl, now)
                } else {
                    self.reusable(key, d, now)
                }) && (!by_id || d.answer.answers(target))
            };
            if let Some(done) = slot.done.as_ref().filter(|d| usable(d)) {
                self.stats.shared.fetch_add(1, Ordering::Relaxed);
                return Ok(done.clone());
            }
            match (&slot.in_flight, &slot.next) {
                // Queued behind the read in flight: it reads the members when it starts.
                (_, Some(next)) => {
                    self.stats.shared.fetch_add(1, Ordering::Relaxed);
                    next.clone()
                }
                // A full list answers everyone; by ID, only members it was started with,
                // which `answer`'s caller checks (and asks again if need be).
                (Some(flight), None) if !by_id || !fresh => {
                    self.stats.shared.fetch_add(1, Ordering::Relaxed);
                    flight.clone()
                }
                (Some(flight), None) => {
                    let next =
                        self.start(key, target, credentials, now, Some(flight.clone()), gather);
                    slot.next = Some(next.clone());
                    next
                }
                (None, None) => {
                    let f = self.start(key, target, credentials, now, None, gather);
                    slot.in_flight = Some(f.clone());
                    f
                }
            }
        };
        flight.await
    }

    /// Spawns one read (so it finishes even if the reconcile that started it is dropped),
    /// after `after` when queued and then `gather`, and records its answer in the slot.
    fn start(
        &self,
        key: &BatchKey,
        target: &JobTarget,
        credentials: &Credentials,
        started: Timestamp,
        after: Option<Flight<S::Answer>>,
        gather: Duration,
    ) -> Flight<S::Answer> {
        self.stats.sweeps.fetch_add(1, Ordering::Relaxed);
        let source = self.source.clone();
        let tokens = Tokens {
            limits: self.limits.clone(),
            key: limit_key(target, credentials),
            max_wait: self.max_token_wait,
            stats: self.stats.clone(),
        };
        let (key, target, credentials) = (key.clone(), target.clone(), credentials.clone());
        let slots = self.slots.clone();
        let clock = self.clock.clone();
        let (rounds, cache_ttl) = (self.rounds.clone(), self.cache_ttl);
        let queued = after.is_some();
        let handle = tokio::spawn(async move {
            if let Some(previous) = after {
                let _ = previous.await;
            }
            if !gather.is_zero() {
                // Jobs asking meanwhile share this read (in flight, or queued as `next`)
                // and are among the members it reads below.
                tokio::time::sleep(gather).await;
            }
            let (members, started, base) = {
                let mut all = slots.lock().unwrap_or_else(|p| p.into_inner());
                let slot = all.entry(key.clone()).or_default();
                let now = clock();
                slot.members.retain(|_, asked| {
                    Duration::try_from(now.duration_since(*asked)).map_or(true, |a| a < MEMBER_TTL)
                });
                if queued {
                    // This read is now the one in flight.
                    slot.in_flight = slot.next.take();
                }
                // A read for newcomers asks only for what this round's answer lacks, and
                // extends it: 10,000 jobs arriving over a minute otherwise cost a read of
                // every member per gather (4,559 calls instead of about 100 per round).
                let base = slot.done.clone().filter(|d| {
                    !gather.is_zero() && reusable(rounds.as_deref(), cache_ttl, &key, d, now)
                });
                let members: Vec<String> = slot
                    .members
                    .keys()
                    .filter(|id| !base.as_ref().is_some_and(|b| b.answer.covers_member(id)))
                    .cloned()
                    .collect();
                (members, if queued { now } else { started }, base)
            };
            let result = source.read(&target, &credentials, members, &tokens).await;
            tokens.feedback(result.as_ref().err());
            let result = result.map(|answer| {
                // An extended answer is as fresh as its older part: it is reused within
                // that part's round only.
                let (answer, started) = match base {
                    Some(base) => (base.answer.extended(answer), base.started.min(started)),
                    None => (answer, started),
                };
                Dated {
                    answer: Arc::new(answer),
                    started,
                    finished: clock(),
                }
            });
            let mut all = slots.lock().unwrap_or_else(|p| p.into_inner());
            let slot = all.entry(key).or_default();
            slot.in_flight = None;
            if let Ok(dated) = &result {
                slot.done = Some(dated.clone());
            }
            result
        });
        async move {
            handle.await.unwrap_or_else(|e| {
                Err(ProviderError::transient(
                    "SweepFailed",
                    format!("batched read task failed: {e}"),
                ))
            })
        }
        .boxed()
        .shared()
    }
}

#[async_trait]
impl<S: Source> Provider for Batching<S> {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        let Some(key) = batch_key(target, credentials) else {
            return self.single(target, credentials).await;
        };
        let key = match &self.rounds {
            Some(rounds) => rounds.lanes().key_for(key, &target.job_id, (self.clock)()),
            None => key,
        };
        let by_id = self.source.by_id();
        let mut dated = match self.answer(&key, target, credentials, false).await {
            Err(e) if by_id && e.is_permanent() => return self.single(target, credentials).await,
            other => other?,
        };
        if !dated.answer.answers(target) && (by_id || !dated.within(self.cache_ttl, (self.clock)()))
        {
            // Probably created after this round's read: look again now rather than report
            // it missing for a whole round.
            dated = match self.answer(&key, target, credentials, true).await {
                Err(e) if by_id && e.is_permanent() => {
                    return self.single(target, credentials).await
                }
                other => other?,
            };
        }
        if by_id && !dated.answer.answers(target) {
            // Still not covered (it raced a read that had started): a call of its own.
            return self.single(target, credentials).await;
        }
        let observation = dated.answer.observe(target);
        if by_id && observation.phase.is_some_and(JobPhase::is_terminal) {
            // A finished job is not polled again: later reads need not ask for it.
            if let Some(slot) = self.lock().get_mut(&key) {
                slot.members
                    .remove(&crate::providers::aws::batch::id_key(&target.job_id));
            }
            if let Some(rounds) = &self.rounds {
                rounds.lanes().release(&key, &target.job_id);
            }
        }
        Ok(observation)
    }
}

impl<S: Source> Batching<S> {
    /// One unbatched poll, rate-limited. A by-ID source also polls a job on its own when
    /// its batched read was refused outright (a permanent error): such a refusal is the
    /// batch's, not the job's verdict, and the job gets exactly what a single poll gets.
    async fn single(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        self.stats.single.fetch_add(1, Ordering::Relaxed);
        let Some(limits) = &self.limits else {
            return self.source.single(target, credentials).await;
        };
        let key = limit_key(target, credentials);
        limits
            .call(&key, self.source.single(target, credentials))
            .await
    }
}
