//! Tencent API 3.0 `DescribeAsyncRequestInfo`: envelope and mapping.
#![no_main]

use clouddb_providers::tencent::{errors, mapping, AsyncRequestInfo};
use clouddb_job_operator_fuzz::{check_observation, STATUSES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for status in STATUSES {
        let Ok(response) = errors::parse_response(status, data, None) else {
            continue;
        };
        let info: AsyncRequestInfo =
            serde_json::from_value(response).expect("a Response object always decodes");
        check_observation(&mapping::map_async_request_info(&info));
    }
});
