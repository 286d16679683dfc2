//! What `watch` shows, as pure state fed with the watcher's events: the objects of the
//! latest listing and the changes since, which of them changed (so each change is shown
//! once), and, for jobs, whether `--until-done` is satisfied. One [`WatchState`] per kind:
//! CloudDbJobs and CloudDbInstances.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use kube::runtime::watcher::Event;
use kube::ResourceExt;

use crate::api::{CloudDbJob, CloudDbJobStatus, JobPhase};
use crate::cli::exit;
use crate::cli::output::JobIdentity;

/// An object's namespace and name.
pub type Key = (String, String);

/// A kind `watch` shows: what is shown of one object of it.
pub trait Watched: ResourceExt {
    type Shown: Clone + Debug + PartialEq;
    fn shown(&self) -> Self::Shown;
}

/// What is shown of one job.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub identity: JobIdentity,
    pub status: CloudDbJobStatus,
}

impl Shown {
    fn phase(&self) -> JobPhase {
        self.status.phase.unwrap_or(JobPhase::Pending)
    }
}

impl Watched for CloudDbJob {
    type Shown = Shown;
    fn shown(&self) -> Shown {
        Shown {
            identity: JobIdentity::of_object(self),
            status: self.status.clone().unwrap_or_default(),
        }
    }
}

/// A change to show.
#[derive(Clone, Debug, PartialEq)]
pub enum Change<S> {
    /// New, or its status (or identity) changed: show [`WatchState::get`] of it.
    Updated(Key),
    /// Gone, with what was last shown of it.
    Deleted(Key, Box<S>),
}

/// Every shown job has finished (or there is none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Done {
    pub succeeded: usize,
    pub failed: usize,
}

impl Done {
    /// `--until-done`'s exit code: 0 when every job succeeded (or there was none), 1 when
    /// any failed.
    pub fn code(self) -> u8 {
        if self.failed > 0 {
            exit::FAILED
        } else {
            exit::SUCCEEDED
        }
    }
}

/// The objects of one kind `watch` shows.
#[derive(Debug)]
pub struct WatchState<K: Watched> {
    objects: BTreeMap<Key, K::Shown>,
    /// Objects listed since the watch (re)started, until the listing is complete.
    listing: Option<BTreeSet<Key>>,
    /// A complete listing arrived; before it, "every job finished" cannot be judged.
    listed: bool,
}

impl<K: Watched> Default for WatchState<K> {
    fn default() -> Self {
        WatchState {
            objects: BTreeMap::new(),
            listing: None,
            listed: false,
        }
    }
}

fn key<K: ResourceExt>(object: &K) -> Key {
    (object.namespace().unwrap_or_default(), object.name_any())
}

impl<K: Watched> WatchState<K> {
    /// Takes in one watcher event; returns what changed.
    pub fn apply(&mut self, event: Event<K>) -> Vec<Change<K::Shown>> {
        match event {
            Event::Init => {
                self.listing = Some(BTreeSet::new());
                Vec::new()
            }
            Event::InitApply(object) => {
                if let Some(listing) = self.listing.as_mut() {
                    listing.insert(key(&object));
                }
                self.upsert(&object).into_iter().collect()
            }
            Event::InitDone => {
                self.listed = true;
                // An object missing from a re-listing was deleted while the watch was down.
                let Some(listed) = self.listing.take() else {
                    return Vec::new();
                };
                let gone: Vec<Key> = self
                    .objects
                    .keys()
                    .filter(|k| !listed.contains(*k))
                    .cloned()
                    .collect();
                gone.into_iter()
                    .filter_map(|k| {
                        let shown = self.objects.remove(&k)?;
                        Some(Change::Deleted(k, Box::new(shown)))
                    })
                    .collect()
            }
            Event::Apply(object) => self.upsert(&object).into_iter().collect(),
            Event::Delete(object) => {
                let k = key(&object);
                if let Some(listing) = self.listing.as_mut() {
                    listing.remove(&k);
                }
                match self.objects.remove(&k) {
                    // The deleted object carries its last status.
                    Some(_) => vec![Change::Deleted(k, Box::new(object.shown()))],
                    None => Vec::new(),
                }
            }
        }
    }

    fn upsert(&mut self, object: &K) -> Option<Change<K::Shown>> {
        let k = key(object);
        let shown = object.shown();
        if self.objects.get(&k) == Some(&shown) {
            return None;
        }
        self.objects.insert(k.clone(), shown);
        Some(Change::Updated(k))
    }

    /// What is shown of an object.
    pub fn get(&self, key: &Key) -> Option<&K::Shown> {
        self.objects.get(key)
    }

    /// Whether a complete listing arrived.
    pub fn listed(&self) -> bool {
        self.listed
    }

    /// How many objects are shown.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

impl WatchState<CloudDbJob> {
    /// `Some` once a complete listing arrived and every shown job is terminal (also when
    /// none is shown: there is nothing to wait for).
    pub fn done(&self) -> Option<Done> {
        if !self.listed || self.objects.values().any(|j| !j.phase().is_terminal()) {
            return None;
        }
        let count = |phase| self.objects.values().filter(|j| j.phase() == phase).count();
        Some(Done {
            succeeded: count(JobPhase::Succeeded),
            failed: count(JobPhase::Failed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::CloudDbJobSpec;

    fn job(name: &str, phase: Option<JobPhase>, progress: Option<i32>) -> CloudDbJob {
        let spec: CloudDbJobSpec = serde_json::from_value(serde_json::json!({
            "provider": "tencent", "jobId": "15964", "region": "ap-guangzhou",
            "credentialsSecretRef": {"name": "creds"}
        }))
        .unwrap();
        let mut job = CloudDbJob::new(name, spec);
        job.metadata.namespace = Some("db".into());
        job.status = phase.map(|phase| CloudDbJobStatus {
            phase: Some(phase),
            progress,
            ..Default::default()
        });
        job
    }

    fn k(name: &str) -> Key {
        ("db".into(), name.into())
    }

    #[test]
    fn each_change_is_shown_once_and_done_waits_for_every_job() {
        let mut s = WatchState::<CloudDbJob>::default();
        assert_eq!(s.apply(Event::Init), vec![]);
        let a = job("a", None, None);
        assert_eq!(s.apply(Event::InitApply(a)), vec![Change::Updated(k("a"))]);
        let b = job("b", Some(JobPhase::Running), Some(10));
        assert_eq!(s.apply(Event::InitApply(b)), vec![Change::Updated(k("b"))]);
        assert_eq!(s.done(), None, "the listing is not complete yet");
        assert_eq!(s.apply(Event::InitDone), vec![]);
        assert_eq!(s.done(), None, "both still running");

        let a = job("a", Some(JobPhase::Running), Some(40));
        assert_eq!(
            s.apply(Event::Apply(a.clone())),
            vec![Change::Updated(k("a"))]
        );
        assert_eq!(s.get(&k("a")).unwrap().status.progress, Some(40));
        assert_eq!(
            s.get(&k("a")).unwrap().identity.api,
            "DescribeTasks",
            "the API is defaulted per provider"
        );
        assert_eq!(s.apply(Event::Apply(a)), vec![], "nothing changed");

        s.apply(Event::Apply(job("a", Some(JobPhase::Succeeded), Some(100))));
        assert_eq!(s.done(), None);
        s.apply(Event::Apply(job("b", Some(JobPhase::Failed), Some(10))));
        assert_eq!(
            s.done(),
            Some(Done {
                succeeded: 1,
                failed: 1
            })
        );
        assert_eq!(s.done().unwrap().code(), exit::FAILED);
    }

    #[test]
    fn deleted_jobs_are_shown_with_their_last_status_and_leave_the_set() {
        let mut s = WatchState::<CloudDbJob>::default();
        s.apply(Event::Init);
        s.apply(Event::InitApply(job(
            "a",
            Some(JobPhase::Succeeded),
            Some(100),
        )));
        s.apply(Event::InitApply(job(
            "b",
            Some(JobPhase::Running),
            Some(50),
        )));
        s.apply(Event::InitDone);
        assert_eq!(s.done(), None);
        let changes = s.apply(Event::Delete(job("b", Some(JobPhase::Running), Some(60))));
        match changes.as_slice() {
            [Change::Deleted(key, last)] => {
                assert_eq!(key, &k("b"));
                assert_eq!(last.status.progress, Some(60));
                assert_eq!(last.identity.name.as_deref(), Some("b"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.len(), 1);
        assert_eq!(
            s.done(),
            Some(Done {
                succeeded: 1,
                failed: 0
            }),
            "a deleted job neither blocks nor fails the exit"
        );
        assert_eq!(s.apply(Event::Delete(job("b", None, None))), vec![]);
    }

    #[test]
    fn a_relisting_reports_jobs_deleted_while_the_watch_was_down() {
        let mut s = WatchState::<CloudDbJob>::default();
        s.apply(Event::Init);
        s.apply(Event::InitApply(job(
            "a",
            Some(JobPhase::Running),
            Some(10),
        )));
        s.apply(Event::InitApply(job(
            "b",
            Some(JobPhase::Running),
            Some(10),
        )));
        s.apply(Event::InitDone);
        // The watch restarts: only `a` is listed again, unchanged.
        s.apply(Event::Init);
        assert_eq!(
            s.apply(Event::InitApply(job(
                "a",
                Some(JobPhase::Running),
                Some(10)
            ))),
            vec![]
        );
        let changes = s.apply(Event::InitDone);
        assert!(
            matches!(changes.as_slice(), [Change::Deleted(key, _)] if key == &k("b")),
            "{changes:?}"
        );
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn no_jobs_is_done_at_once_with_exit_code_0() {
        let mut s = WatchState::<CloudDbJob>::default();
        assert_eq!(s.done(), None, "nothing listed yet");
        s.apply(Event::Init);
        s.apply(Event::InitDone);
        assert!(s.is_empty());
        let done = s.done().unwrap();
        assert_eq!(
            done,
            Done {
                succeeded: 0,
                failed: 0
            }
        );
        assert_eq!(done.code(), exit::SUCCEEDED);
    }
}
