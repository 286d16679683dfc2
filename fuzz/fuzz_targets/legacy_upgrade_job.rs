//! Tencent API 2.0 `GetCdbUpgradeJobInfo`: envelope, error-code classification, data decoding and
//! mapping (`tencent_legacy::client::decode_response`).
#![no_main]

use clouddb_providers::tencent_legacy::client::{decode_response, Api};
use clouddb_job_operator_fuzz::{check, response, STATUSES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for status in STATUSES {
        check(&decode_response(Api::UpgradeJob, &response(status, data)));
    }
});
