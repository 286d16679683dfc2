//! Huawei error bodies: envelope discovery (`parse_error_envelope`, `error_in_success_body`)
//! and classification for every status.
#![no_main]

use clouddb_providers::huawei::errors::{self, Failure};
use clouddb_job_operator_fuzz::check_error;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = errors::parse_error_envelope(data);
    let _ = errors::error_in_success_body(data);
    for status in [200, 400, 401, 403, 404, 408, 429, 500, 599, 0, 999] {
        match errors::classify(status, data, Some("r".into()), None) {
            Failure::Error(e) => check_error(&e),
            Failure::NotFound { code, .. } => assert!(!code.is_empty()),
        }
    }
});
