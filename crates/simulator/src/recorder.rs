//! The request log: the last N requests served (a ring buffer) plus counters over all of
//! them, so tests and benchmarks can assert call counts with bounded memory.

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;
use serde::Serialize;

use clouddb_api::ProviderKind;

/// Requests kept in the ring buffer by default.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// At most this many distinct keys per counter map (further keys are counted as `other`).
const MAX_KEYS: usize = 10_000;

/// One served request.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    /// 1-based sequence number over the simulator's life (since the last reset).
    pub seq: u64,
    pub at: Timestamp,
    /// `None` for control-API and unrecognised requests.
    pub provider: Option<ProviderKind>,
    /// API or action (`DescribeTasks`, `GetCdbTaskInfo`, `rds`, ...), or the path.
    pub api: String,
    pub job_id: Option<String>,
    /// HTTP status sent; `None` when the connection was reset without a response.
    pub status: Option<u16>,
    /// The fault applied, e.g. `status 503`.
    pub fault: Option<String>,
}

/// Counters over every recorded request.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    pub total: u64,
    pub by_provider: BTreeMap<String, u64>,
    pub by_api: BTreeMap<String, u64>,
    pub by_job: BTreeMap<String, u64>,
    pub by_status: BTreeMap<String, u64>,
    pub by_fault: BTreeMap<String, u64>,
}

fn bump(map: &mut BTreeMap<String, u64>, key: String) {
    let key = if map.len() >= MAX_KEYS && !map.contains_key(&key) {
        "other".to_string()
    } else {
        key
    };
    *map.entry(key).or_default() += 1;
}

/// Ring buffer of recent requests plus counters.
#[derive(Debug)]
pub struct Recorder {
    capacity: usize,
    recent: VecDeque<RecordedRequest>,
    counters: Counters,
}

impl Recorder {
    /// A recorder keeping the last `capacity` requests (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Recorder {
            capacity,
            recent: VecDeque::with_capacity(capacity.min(1024)),
            counters: Counters::default(),
        }
    }

    /// Records a request; its `seq` is assigned here and returned.
    pub fn record(&mut self, mut req: RecordedRequest) -> u64 {
        let c = &mut self.counters;
        c.total += 1;
        req.seq = c.total;
        let provider = req.provider.map_or("none", |p| p.as_str()).to_string();
        bump(&mut c.by_provider, provider);
        bump(&mut c.by_api, req.api.clone());
        if let Some(job) = &req.job_id {
            bump(&mut c.by_job, job.clone());
        }
        let status = req.status.map_or("reset".to_string(), |s| s.to_string());
        bump(&mut c.by_status, status);
        if let Some(fault) = &req.fault {
            bump(&mut c.by_fault, fault.clone());
        }
        if self.recent.len() == self.capacity {
            self.recent.pop_front();
        }
        self.recent.push_back(req);
        c.total
    }

    /// The recent requests, oldest first.
    pub fn recent(&self) -> Vec<RecordedRequest> {
        self.recent.iter().cloned().collect()
    }

    /// Total requests recorded since the last reset.
    pub fn total(&self) -> u64 {
        self.counters.total
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.recent.clear();
        self.counters = Counters::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(job: &str, status: Option<u16>) -> RecordedRequest {
        RecordedRequest {
            seq: 0,
            at: Timestamp::UNIX_EPOCH,
            provider: Some(ProviderKind::Huawei),
            api: "rds".into(),
            job_id: Some(job.into()),
            status,
            fault: status.is_none().then(|| "reset".to_string()),
        }
    }

    #[test]
    fn ring_is_bounded_and_counters_cover_everything() {
        let mut r = Recorder::new(3);
        for i in 0..5 {
            r.record(req(
                &format!("j{}", i % 2),
                if i == 4 { None } else { Some(200) },
            ));
        }
        let recent = r.recent();
        assert_eq!(recent.len(), 3);
        assert_eq!(
            recent.iter().map(|q| q.seq).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        let c = r.counters();
        assert_eq!(c.total, 5);
        assert_eq!(c.by_job["j0"], 3);
        assert_eq!(c.by_job["j1"], 2);
        assert_eq!(c.by_status["200"], 4);
        assert_eq!(c.by_status["reset"], 1);
        assert_eq!(c.by_fault["reset"], 1);
        assert_eq!(c.by_provider["huawei"], 5);
        r.clear();
        assert_eq!((r.total(), r.recent().len()), (0, 0));
    }
}
