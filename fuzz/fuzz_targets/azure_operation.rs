//! Azure: the async-operation status read (`azure::client::interpret`, ARM errors included),
//! the status body mapping, and the token endpoint's answer (`azure::token::interpret_token`,
//! refusals included).
#![no_main]

use clouddb_job_operator_fuzz::{check_error, check_observation, response, STATUSES};
use clouddb_providers::azure::{client, errors, mapping, token};
use clouddb_providers::{JobTarget, ProviderKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let target = JobTarget::new(
        ProviderKind::Azure,
        None,
        "0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11",
        Some("westeurope"),
        None,
        None,
        None,
    )
    .and_then(|t| t.with_subscription_id(Some("00000000-0000-0000-0000-000000000001")))
    .expect("a valid target");
    for status in STATUSES {
        let resp = response(status, data);
        match client::interpret(&resp, &target) {
            Ok(obs) => check_observation(&obs),
            Err(failure) => check_error(&failure.into_error()),
        }
        match token::interpret_token(&resp, jiff::Timestamp::UNIX_EPOCH) {
            Ok(t) => assert!(status == 200 && t.expires_at > jiff::Timestamp::UNIX_EPOCH),
            Err(e) => check_error(&e),
        }
        check_error(&errors::classify(status, data, Some("r".into()), None).into_error());
    }
    if let Ok(op) = mapping::decode_operation(data) {
        check_observation(&mapping::map_operation(&op, target.api));
    }
});
