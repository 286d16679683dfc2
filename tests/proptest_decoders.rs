//! Property tests of the shared decoders (numbers, progress, times, durations), the endpoint
//! checks (`parse_endpoint`, the `EndpointPolicy` glob allow-list), `JobTarget::new` and the
//! `parse_authorization` functions: no panics on any input, and round trips where a
//! formatter exists. `PROPTEST_CASES` raises the case count (default 256).

mod fuzzkit;

use std::time::Duration;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::controller::endpoints::EndpointPolicy;
use clouddb_job_operator::duration::{format_duration, parse_duration};
use clouddb_job_operator::providers::decode::{
    parse_i64, parse_offset_time, parse_progress, parse_tencent_time,
};
use clouddb_job_operator::providers::huawei::sign as hw_sign;
use clouddb_job_operator::providers::target::{parse_endpoint, JobTarget};
use clouddb_job_operator::providers::tencent::sign as tc_sign;
use fuzzkit::{config, hostile_string};
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use proptest::prelude::*;

/// Any text: hostile strings and arbitrary unicode.
fn text() -> BoxedStrategy<String> {
    prop_oneof![hostile_string(), any::<String>()].boxed()
}

/// Timestamps between 1970 and 2100, whole seconds.
fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..4_102_444_800).prop_map(|s| Timestamp::from_second(s).unwrap())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn decoders_never_panic(s in text()) {
        let _ = parse_i64(&s);
        let _ = parse_tencent_time(&s);
        let _ = parse_offset_time(&s);
        let _ = parse_duration(&s);
        let _ = tc_sign::parse_authorization(&s);
        let _ = hw_sign::parse_authorization(&s);
        if let Some(p) = parse_progress(&s) {
            prop_assert!(p <= 100, "{s:?} gave progress {p}");
        }
    }

    #[test]
    fn integers_round_trip(n in any::<i64>(), pad in "[ \t]{0,3}") {
        prop_assert_eq!(parse_i64(&format!("{pad}{n}{pad}")), Some(n));
        if n.unsigned_abs() < 1 << 53 {
            prop_assert_eq!(parse_i64(&format!("{n}.0")), Some(n));
        }
    }

    #[test]
    fn fractions_are_not_integers(n in -1_000_000i64..1_000_000, frac in 1u32..1000) {
        let sign = if n < 0 { "-" } else { "" };
        let text = format!("{sign}{}.{frac:03}", n.unsigned_abs());
        prop_assert_eq!(parse_i64(&text), None, "{}", text);
    }

    #[test]
    fn progress_is_clamped_and_floored(f in any::<f64>(), percent in any::<bool>()) {
        let text = if percent { format!(" {f} % ") } else { format!("{f}") };
        let got = parse_progress(&text);
        if f.is_finite() {
            prop_assert_eq!(got, Some(f.clamp(0.0, 100.0).floor() as u8), "{}", text);
        } else {
            prop_assert_eq!(got, None, "{}", text);
        }
    }

    #[test]
    fn tencent_times_round_trip(ts in timestamp()) {
        let china = TimeZone::fixed(Offset::constant(8));
        let local = ts.to_zoned(china).strftime("%Y-%m-%d %H:%M:%S").to_string();
        prop_assert_eq!(parse_tencent_time(&local), Some(ts), "{}", local);
        prop_assert_eq!(parse_tencent_time(&ts.to_string()), Some(ts));
    }

    #[test]
    fn offset_times_round_trip(ts in timestamp(), minutes in -(14 * 60i32)..=(14 * 60), colon in any::<bool>()) {
        let offset = Offset::from_seconds(minutes * 60).unwrap();
        let zoned = ts.to_zoned(TimeZone::fixed(offset));
        let fmt = if colon { "%Y-%m-%dT%H:%M:%S%:z" } else { "%Y-%m-%dT%H:%M:%S%z" };
        let text = zoned.strftime(fmt).to_string();
        prop_assert_eq!(parse_offset_time(&text), Some(ts), "{}", text);
    }

    #[test]
    fn durations_round_trip(secs in 0u64..=365 * 24 * 3600, millis in 0u64..1000) {
        for d in [Duration::from_secs(secs), Duration::from_millis(millis)] {
            let text = format_duration(d);
            prop_assert_eq!(parse_duration(&text), Ok(d), "{}", text);
        }
    }

    #[test]
    fn parsed_durations_are_bounded(s in "([0-9]{0,6}(\\.[0-9]{0,4})?(ms|s|m|h|x)?){0,4}") {
        if let Ok(d) = parse_duration(&s) {
            prop_assert!(d <= Duration::from_secs(365 * 24 * 3600), "{s:?} gave {d:?}");
        }
    }

    #[test]
    fn endpoints_are_https_or_loopback_http(s in prop_oneof![
        text(),
        "(https?|ftp|file)://([a-z0-9.\\-]{0,20}|\\[::1\\]|127\\.0\\.0\\.[0-9]{1,3})(:[0-9]{1,6})?(/[a-z]{0,5})?(\\?x)?(#y)?",
        "https?://[a-z]{0,4}(:[a-z]{0,4})?@[a-z.]{1,10}",
    ]) {
        if let Ok(url) = parse_endpoint(&s) {
            prop_assert!(url.host().is_some());
            prop_assert!(url.username().is_empty() && url.password().is_none());
            prop_assert!(url.query().is_none() && url.fragment().is_none());
            let host = url.host_str().unwrap_or_default();
            match url.scheme() {
                "https" => {}
                "http" => prop_assert!(
                    host == "localhost" || host.starts_with("127.") || host == "[::1]",
                    "http allowed for {host:?}"
                ),
                other => prop_assert!(false, "scheme {other:?} accepted"),
            }
        }
    }

    #[test]
    fn endpoint_policy_matches_like_a_glob(
        patterns in prop::collection::vec("[ab.*]{0,6}", 0..4),
        host in "[ab]{1,3}(\\.[ab]{1,3}){0,2}",
    ) {
        let policy = EndpointPolicy::new(patterns.clone());
        let url = url::Url::parse(&format!("https://{host}/")).unwrap();
        let want = patterns.iter().any(|p| !p.trim().is_empty() && glob_reference(p.as_bytes(), host.as_bytes()));
        prop_assert_eq!(policy.check(&url).is_ok(), want, "patterns {:?} host {}", patterns, host);
    }

    #[test]
    fn endpoint_policy_never_panics(patterns in prop::collection::vec(text(), 0..4), s in text()) {
        let policy = EndpointPolicy::new(patterns);
        for raw in [s.clone(), format!("https://{s}/"), format!("http://[{s}]/")] {
            if let Ok(url) = url::Url::parse(&raw) {
                let _ = policy.check(&url);
            }
        }
    }

    #[test]
    fn job_targets_never_panic(
        kind in prop::sample::select(vec![ProviderKind::Tencent, ProviderKind::TencentLegacy, ProviderKind::Huawei]),
        api in proptest::option::of(text()),
        job_id in text(),
        region in proptest::option::of(text()),
        project in proptest::option::of(text()),
        endpoint in proptest::option::of(text()),
    ) {
        let target = JobTarget::new(kind, api.as_deref(), &job_id, region.as_deref(), None, project.as_deref(), endpoint.as_deref());
        if let Ok(t) = target {
            prop_assert!(!t.job_id.is_empty() && t.job_id.trim() == t.job_id);
            prop_assert!(kind.apis().contains(&t.api.as_str()));
        }
    }

    #[test]
    fn tencent_authorization_round_trips(
        id in "[A-Za-z0-9]{1,40}",
        key in "\\PC{0,40}",
        service in "[a-z]{1,8}",
        timestamp in any::<i64>(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let req = tc_sign::Tc3Request {
            method: "POST",
            host: "cdb.tencentcloudapi.com",
            query: "",
            content_type: "application/json; charset=utf-8",
            payload: &payload,
            service: &service,
            timestamp,
        };
        let header = tc_sign::authorization(&id, &key, &req);
        let parsed = tc_sign::parse_authorization(&header);
        prop_assert!(parsed.is_some(), "{}", header);
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed.secret_id, &id);
        prop_assert_eq!(parsed.date, tc_sign::utc_date(timestamp));
        prop_assert_eq!(&parsed.service, &service);
        prop_assert_eq!(parsed.signed_headers, tc_sign::SIGNED_HEADERS);
        prop_assert_eq!(parsed.signature, tc_sign::signature(&key, &req));
    }

    #[test]
    fn huawei_authorization_round_trips(
        ak in "[A-Za-z0-9]{1,40}",
        sk in "\\PC{0,40}",
        names in prop::collection::btree_set("[A-Za-z][A-Za-z0-9-]{0,12}", 1..5),
        path in "(/[a-z0-9 %]{0,8}){0,4}",
    ) {
        let mut headers: Vec<(String, String)> = names.iter().map(|n| (n.clone(), "v".to_string())).collect();
        headers.push(("X-Sdk-Date".into(), "20191115T033655Z".into()));
        let req = hw_sign::SignableRequest { method: "GET", path: &path, query: &[], headers: &headers, body: b"" };
        let header = hw_sign::authorization(&ak, &sk, &req, "20191115T033655Z");
        let parsed = hw_sign::parse_authorization(&header);
        prop_assert!(parsed.is_some(), "{}", header);
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.access, ak);
        let want: Vec<String> = hw_sign::signed_headers(&headers).split(';').map(String::from).collect();
        prop_assert_eq!(parsed.signed_headers, want);
        prop_assert_eq!(parsed.signature, hw_sign::signature(&sk, &hw_sign::string_to_sign(&req, "20191115T033655Z")));
    }
}

/// Reference glob matcher (`*` = any run, possibly empty), by dynamic programming.
fn glob_reference(pattern: &[u8], text: &[u8]) -> bool {
    let mut row = vec![false; text.len() + 1];
    row[0] = true;
    for &p in pattern {
        let mut next = vec![false; text.len() + 1];
        if p == b'*' {
            let mut any = false;
            for j in 0..=text.len() {
                any |= row[j];
                next[j] = any;
            }
        } else {
            for j in 1..=text.len() {
                next[j] = row[j - 1] && text[j - 1] == p;
            }
        }
        row = next;
    }
    row[text.len()]
}
