//! The Tencent `DescribeTasks` source of the batching engine ([`super::batch_engine`]): a
//! paged sweep of an instance's task list answers every job of the batch, indexed by job
//! ID. So a batch costs one call per page of its instance's task list per round, however
//! many jobs it has.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use async_trait::async_trait;

use super::batch_engine::{Answer, Batching, Source, Tokens};
use super::ratelimit::RateLimits;
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

impl Answer for Sweep {
    /// A complete sweep that does not list the job may be older than the job: only then
    /// is it worth a fresh one.
    fn answers(&self, target: &JobTarget) -> bool {
        self.lists(&target.job_id) || !self.complete
    }

    fn observe(&self, target: &JobTarget) -> JobObservation {
        Sweep::observe(self, &target.job_id, target.instance_id.as_deref())
    }
}

/// Tencent `DescribeTasks` sweeps (up to `max_pages` pages each).
pub struct TencentTasks {
    inner: TencentProvider,
    max_pages: u32,
}

#[async_trait]
impl Source for TencentTasks {
    type Answer = Sweep;

    fn by_id(&self) -> bool {
        false
    }

    async fn read(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
        _members: Vec<String>,
        tokens: &Tokens,
    ) -> Result<Sweep, ProviderError> {
        let mut query = TasksQuery::for_target(target)?;
        query.limit = PAGE_LIMIT;
        let mut pages = Vec::new();
        let paged = self
            .inner
            .page_tasks(
                &query,
                credentials,
                self.max_pages,
                |_| tokens.take(),
                |page| {
                    pages.push(page);
                    ControlFlow::Continue(())
                },
            )
            .await?;
        Ok(Sweep::new(pages, paged.ended))
    }

    async fn single(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        self.inner.observe(target, credentials).await
    }
}

/// A [`Provider`] for Tencent API 3.0 that batches `DescribeTasks` polls per batch key.
pub type BatchingTencentProvider = Batching<TencentTasks>;

impl Batching<TencentTasks> {
    /// Batches `inner`; `limits` (if any) are taken once per request sent.
    pub fn new(inner: TencentProvider, limits: Option<Arc<RateLimits>>) -> Self {
        Batching::with_source(
            TencentTasks {
                inner,
                max_pages: DEFAULT_MAX_PAGES,
            },
            limits,
        )
    }

    /// Caps the pages read per sweep (at least 1).
    pub fn with_max_pages(mut self, max_pages: u32) -> Self {
        if let Some(source) = self.source_mut() {
            source.max_pages = max_pages.max(1);
        }
        self
    }
}
