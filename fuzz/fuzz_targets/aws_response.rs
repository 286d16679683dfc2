//! AWS RDS Query API responses: the whole interpretation (`aws::client::interpret`) for
//! every API and status, the XML mapping on its own, and the `ErrorResponse` classification.
#![no_main]

use clouddb_api::{ProviderApi, ProviderKind};
use clouddb_job_operator_fuzz::{check, check_error, response, STATUSES};
use clouddb_providers::aws::{client, errors, mapping};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for api in ProviderApi::ALL
        .into_iter()
        .filter(|a| a.provider() == ProviderKind::Aws)
    {
        for status in STATUSES {
            check(&client::interpret(api, &response(status, data), "job-1"));
        }
        check(&mapping::observation_from_body(api, data, "job-1"));
    }
    let _ = errors::parse_error_envelope(data);
    for status in [200, 400, 403, 404, 408, 429, 500, 599, 0, 999] {
        match errors::classify(status, data, Some("r".into()), None) {
            errors::Failure::Error(e) => check_error(&e),
            errors::Failure::NotFound { code, .. } => assert!(!code.is_empty()),
        }
    }
});
