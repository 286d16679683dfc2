//! Request and write counters, so tests and benchmarks can assert on API traffic (e.g. that a
//! steady-state reconcile issues no writes).

use std::collections::BTreeMap;

/// A snapshot of the server's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiStats {
    /// Requests by `"<verb> <resource>"`, e.g. `"patch clouddbjobs/status"`, `"watch leases"`.
    /// Verbs are the Kubernetes ones: get, list, watch, create, update, patch, delete,
    /// deletecollection.
    pub requests: BTreeMap<String, u64>,
    /// Writes that changed stored state (create, update, patch, delete), dry runs excluded.
    pub writes: u64,
    /// Of `writes`, those through a `/status` subresource.
    pub status_writes: u64,
    /// Updates and patches that changed nothing: answered without a resourceVersion bump
    /// or watch event.
    pub noop_writes: u64,
    /// `409 Conflict` answers (stale resourceVersion or injected), not `AlreadyExists`.
    pub conflicts: u64,
    /// Watch requests answered with a `410 Gone` ERROR event.
    pub gone: u64,
}

impl ApiStats {
    /// Requests counted for `verb` on `resource` (`"clouddbjobs"`, `"clouddbjobs/status"`).
    pub fn count(&self, verb: &str, resource: &str) -> u64 {
        self.requests
            .get(&format!("{verb} {resource}"))
            .copied()
            .unwrap_or(0)
    }

    /// Requests counted for `verb` on any resource.
    pub fn count_verb(&self, verb: &str) -> u64 {
        self.requests
            .iter()
            .filter(|(key, _)| key.split(' ').next() == Some(verb))
            .map(|(_, n)| n)
            .sum()
    }

    pub(super) fn record(&mut self, verb: &str, resource: &str) {
        *self
            .requests
            .entry(format!("{verb} {resource}"))
            .or_insert(0) += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_verb_and_resource() {
        let mut stats = ApiStats::default();
        stats.record("patch", "clouddbjobs/status");
        stats.record("patch", "clouddbjobs/status");
        stats.record("get", "secrets");
        assert_eq!(stats.count("patch", "clouddbjobs/status"), 2);
        assert_eq!(stats.count("patch", "clouddbjobs"), 0);
        assert_eq!(stats.count_verb("patch"), 2);
        assert_eq!(stats.count_verb("get"), 1);
    }
}
