//! The shared decoders and input checks: numbers, progress, times, durations, endpoints, the
//! endpoint allow-list, job targets and the `Authorization` parsers. The input is split on
//! newlines to feed the multi-argument ones.
#![no_main]

use std::time::Duration;

use clouddb_providers::ProviderKind;
use clouddb_providers::endpoints::EndpointPolicy;
use clouddb_providers::duration::{format_duration, parse_duration};
use clouddb_providers::decode;
use clouddb_providers::huawei::sign as hw_sign;
use clouddb_providers::target::{parse_endpoint, JobTarget};
use clouddb_providers::tencent::sign as tc_sign;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let s = text.as_ref();
    let _ = decode::parse_i64(s);
    let _ = decode::parse_tencent_time(s);
    let _ = decode::parse_offset_time(s);
    let _ = decode::parse_local_time(s, 8);
    if let Some(p) = decode::parse_progress(s) {
        assert!(p <= 100, "{s:?} gave progress {p}");
    }
    if let Ok(d) = parse_duration(s) {
        assert!(
            d <= Duration::from_secs(365 * 24 * 3600),
            "{s:?} gave {d:?}"
        );
        let _ = parse_duration(&format_duration(d));
    }
    let _ = tc_sign::parse_authorization(s);
    let _ = hw_sign::parse_authorization(s);

    let mut parts = s.split('\n');
    let mut next = || parts.next();
    let (a, b, c, d, e) = (next(), next(), next(), next(), next());
    if let Some(endpoint) = a {
        if let Ok(url) = parse_endpoint(endpoint) {
            assert!(matches!(url.scheme(), "https" | "http"), "{url}");
            let patterns = [b, c].into_iter().flatten().map(String::from);
            let _ = EndpointPolicy::new(patterns).check(&url);
            let _ = EndpointPolicy::default().check(&url);
        }
    }
    for kind in [
        ProviderKind::Tencent,
        ProviderKind::TencentLegacy,
        ProviderKind::Huawei,
    ] {
        let _ = JobTarget::new(kind, b, a.unwrap_or_default(), c, d, e, a);
    }
});
