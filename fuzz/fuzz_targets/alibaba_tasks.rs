//! Alibaba Cloud `DescribeHistoryTasks`: the whole page interpretation
//! (`alibaba::client::interpret`, errors included), the page decoding and the task mapping.
#![no_main]

use clouddb_providers::alibaba::client::{self, PageOutcome};
use clouddb_providers::alibaba::{errors, mapping, model};
use clouddb_job_operator_fuzz::{check_error, check_observation, response, STATUSES};
use libfuzzer_sys::fuzz_target;

const TASK: &str = "t-83br18hloy3faf****";

fuzz_target!(|data: &[u8]| {
    for status in STATUSES {
        match client::interpret(&response(status, data), TASK) {
            Ok(PageOutcome::Found(obs)) => check_observation(&obs),
            Ok(PageOutcome::NotListed { .. }) => {}
            Err(e) => check_error(&e),
        }
        check_error(&errors::classify(status, data, Some("r".into()), None));
    }
    let _ = errors::error_in_success_body(data);
    if let Ok((Some(obs), _)) = mapping::observation_from_body(data, TASK) {
        check_observation(&obs);
    }
    if let Ok(item) = serde_json::from_slice::<model::TaskItem>(data) {
        check_observation(&mapping::map_task(&item));
    }
});
