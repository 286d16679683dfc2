//! A scripted in-process provider: answers from a fixed list of steps. Used by the
//! controller's tests and by `track --provider-script` to exercise the whole pipeline
//! without a network.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Credentials, JobObservation, JobTarget, Provider, ProviderError};

/// Answers each job's polls from its script, one step per call; the last step repeats.
#[derive(Default)]
pub struct ScriptedProvider {
    scripts: Mutex<HashMap<String, Script>>,
    calls: AtomicUsize,
}

struct Script {
    steps: Vec<Result<JobObservation, ProviderError>>,
    next: usize,
}

impl ScriptedProvider {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the steps for `job_id` (replacing any earlier script).
    pub fn script(&self, job_id: &str, steps: Vec<Result<JobObservation, ProviderError>>) {
        if let Ok(mut scripts) = self.scripts.lock() {
            scripts.insert(job_id.to_string(), Script { steps, next: 0 });
        }
    }

    /// Total `observe` calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Provider for ScriptedProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        _credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut scripts = self
            .scripts
            .lock()
            .map_err(|_| ProviderError::transient("Internal", "script lock poisoned"))?;
        let Some(script) = scripts.get_mut(&target.job_id) else {
            return Ok(JobObservation::not_found_yet(format!(
                "job {} is not known to the provider yet",
                target.job_id
            )));
        };
        if script.steps.is_empty() {
            return Ok(JobObservation::not_found_yet("empty script"));
        }
        let index = script.next.min(script.steps.len() - 1);
        script.next = script.next.saturating_add(1);
        script.steps[index].clone()
    }
}
