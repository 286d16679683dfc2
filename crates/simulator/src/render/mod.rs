//! Pure renderers: a job's state → the provider's response JSON (XML for AWS), exactly as
//! documented (field names, types and the documents' quirks, such as API 2.0 numbers sent
//! as strings).

pub mod alibaba;
pub mod aws;
pub mod azure;
pub mod gcp;
pub mod huawei;
pub mod tencent;
pub mod tencent_legacy;

use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

use super::scenario::JobSpec;
use super::timeline::JobState;

/// What a renderer needs about one job at one moment.
#[derive(Clone, Copy, Debug)]
pub struct RenderJob<'a> {
    pub job: &'a JobSpec,
    pub state: &'a JobState,
    /// Wall-clock start time.
    pub start: Timestamp,
    /// Wall-clock end time, for ended jobs.
    pub end: Option<Timestamp>,
}

impl RenderJob<'_> {
    /// The job's main instance ID, or `""`.
    pub fn instance_id(&self) -> &str {
        self.job.instance_id.as_deref().unwrap_or("")
    }

    /// The main instance followed by any extra instance IDs.
    pub fn instance_ids(&self) -> Vec<String> {
        self.job
            .instance_id
            .iter()
            .chain(self.job.detail.instance_ids.iter())
            .cloned()
            .collect()
    }
}

fn beijing() -> TimeZone {
    TimeZone::fixed(Offset::constant(8))
}

/// Tencent time: `2017-06-27 15:05:33`, Beijing time, no zone.
pub fn tencent_time(t: Timestamp) -> String {
    t.to_zoned(beijing())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Tencent's "not yet" time, sent as the end time of running tasks.
pub const TENCENT_ZERO_TIME: &str = "0000-00-00 00:00:00";

/// Huawei time: `2018-08-06T10:41:14+0800`.
pub fn huawei_time(t: Timestamp) -> String {
    t.to_zoned(beijing())
        .strftime("%Y-%m-%dT%H:%M:%S%z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clouddb_providers::decode::{parse_offset_time, parse_tencent_time};

    #[test]
    fn times_round_trip_through_the_client_parsers() {
        let t = Timestamp::from_second(1_498_547_133).unwrap();
        assert_eq!(tencent_time(t), "2017-06-27 15:05:33");
        assert_eq!(parse_tencent_time(&tencent_time(t)), Some(t));
        assert_eq!(huawei_time(t), "2017-06-27T15:05:33+0800");
        assert_eq!(parse_offset_time(&huawei_time(t)), Some(t));
    }
}

#[cfg(test)]
#[path = "shape_tests.rs"]
mod shape_tests;
