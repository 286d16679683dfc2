//! Tencent API 3.0 `DescribeTasks`: envelope and error classification, page decoding, task
//! lookup and mapping.
#![no_main]

use clouddb_providers::tencent::{errors, mapping, DescribeTasksPage};
use clouddb_job_operator_fuzz::{check_observation, STATUSES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for status in STATUSES {
        let Ok(response) = errors::parse_response(status, data, None) else {
            continue;
        };
        let page: DescribeTasksPage =
            serde_json::from_value(response).expect("a Response object always decodes");
        for item in &page.items {
            check_observation(&mapping::map_task_item(item));
            if let Some(id) = &item.job_id {
                if let Some(obs) = mapping::observe_in_page(&page, id) {
                    check_observation(&obs);
                }
            }
        }
    }
});
