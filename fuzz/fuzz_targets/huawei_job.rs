//! Huawei task center `GET …/jobs?id=`: the whole response interpretation
//! (`huawei::client::interpret`) and the job mapping on its own.
#![no_main]

use clouddb_providers::huawei::{client, mapping, model};
use clouddb_job_operator_fuzz::{check, check_observation, response, STATUSES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for status in STATUSES {
        check(&client::interpret(&response(status, data), "job-1"));
    }
    check(&mapping::observation_from_body(data, "job-1"));
    if let Ok(job) = serde_json::from_slice::<model::Job>(data) {
        check_observation(&mapping::map_job(&job));
    }
});
