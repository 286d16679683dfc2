//! Google Cloud SQL `operations.get`: the whole answer interpretation
//! (`gcp::client::interpret`, the not-found grace and errors included), the operation
//! mapping, and the token endpoint's error classification.
#![no_main]

use clouddb_api::ProviderKind;
use clouddb_job_operator_fuzz::{check_error, check_observation, response, STATUSES};
use clouddb_providers::gcp::{client, errors, mapping, model};
use clouddb_providers::JobTarget;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(target) = JobTarget::new(ProviderKind::Gcp, None, "op", None, None, Some("p"), None)
    else {
        return;
    };
    for status in STATUSES {
        match client::interpret(&response(status, data), &target) {
            Ok(obs) => check_observation(&obs),
            Err(e) => check_error(&e),
        }
        if let errors::Failure::Error(e) = errors::classify(status, data, None) {
            check_error(&e);
        }
        check_error(&errors::classify_token_error(status, data, None));
    }
    if let Ok(obs) = mapping::observation_from_body(data) {
        check_observation(&obs);
    }
    if let Ok(op) = serde_json::from_slice::<model::Operation>(data) {
        check_observation(&mapping::map_operation(&op));
    }
});
