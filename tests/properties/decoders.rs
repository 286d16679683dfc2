//! Property tests of the shared decoders (numbers, progress, times, durations), the endpoint
//! checks (`parse_endpoint`, the `EndpointPolicy` glob allow-list) and `JobTarget::new`: no
//! panics on any input, and round trips where a formatter exists. The clients' request
//! signers (AWS's `aws-sigv4` included) are checked against the simulator's independent verifier
//! (`simulator::verify`, written from the published algorithms), so a bug on either side
//! fails. `PROPTEST_CASES` raises the case count (default 256).

use crate::fuzzkit;
use std::time::Duration;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::duration::{format_duration, parse_duration};
use clouddb_job_operator::providers::alibaba::{self, AlibabaProvider};
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::decode::{
    parse_i64, parse_offset_time, parse_progress, parse_tencent_time,
};
use clouddb_job_operator::providers::endpoints::EndpointPolicy;
use clouddb_job_operator::providers::huawei::{sign as hw_sign, HuaweiProvider};
use clouddb_job_operator::providers::target::{parse_endpoint, JobTarget};
use clouddb_job_operator::providers::tencent::sign as tc_sign;
use clouddb_job_operator::providers::tencent_legacy as legacy;
use clouddb_job_operator::providers::Credentials;
use clouddb_job_operator::simulator::auth::{
    verify_aws, AwsInput, KeyPair, SimCredentials, TemporaryKey,
};
use clouddb_job_operator::simulator::verify;
use fuzzkit::{config, hostile_string};
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use percent_encoding::percent_decode_str;
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
        let _ = verify::tc3::parse_authorization(&s);
        let _ = verify::huawei::parse_authorization(&s);
        let _ = verify::huawei::parse_sdk_date(&s);
        let _ = verify::acs3::parse_authorization(&s);
        let _ = alibaba::mapping::parse_time(&s);
        if let Some(d) = alibaba::errors::parse_retry_after_ms(&s) {
            prop_assert!(d <= alibaba::errors::MAX_RETRY_AFTER && !d.is_zero(), "{s:?}");
        }
        let _ = verify::sigv4::parse_authorization(&s);
        let _ = verify::sigv4::parse_amz_date(&s);
        let _ = verify::sigv4::canonical_uri(&s);
        let _ = verify::sigv4::canonical_query(&s);
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
        let want = patterns.iter().any(|p| !p.trim().is_empty() && host_glob_reference(p, &host));
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
    fn the_tencent_signer_agrees_with_the_independent_verifier(
        id in "[A-Za-z0-9]{1,40}",
        key in "\\PC{0,40}",
        service in "[a-z]{1,8}",
        host in "[a-z0-9.-]{1,30}(:[0-9]{1,5})?",
        content_type in prop::sample::select(vec![
            "application/json; charset=utf-8", "application/json", " Application/JSON ",
        ]),
        timestamp in 0i64..8_000_000_000,
        payload in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let req = tc_sign::Tc3Request {
            method: "POST",
            host: &host,
            query: "",
            content_type,
            payload: &payload,
            service: &service,
            timestamp,
        };
        let header = tc_sign::authorization(&id, &key, &req);
        let parsed = verify::tc3::parse_authorization(&header);
        prop_assert!(parsed.is_some(), "{}", header);
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed.secret_id, &id);
        prop_assert_eq!(Some(parsed.date), verify::tc3::utc_date(timestamp));
        prop_assert_eq!(&parsed.service, &service);
        prop_assert_eq!(&parsed.signed_headers, &["content-type", "host"]);
        let headers = [("Content-Type", content_type), ("Host", host.as_str())];
        let expected = verify::tc3::signature(&key, &verify::tc3::Request {
            method: "POST",
            query: "",
            headers: &headers,
            payload: &payload,
            service: &service,
            timestamp,
        });
        prop_assert_eq!(Some(parsed.signature), expected);
    }

    #[test]
    fn the_api2_signer_agrees_with_the_independent_verifier(
        api in prop::sample::select(vec![legacy::Api::TaskInfo, legacy::Api::UpgradeJob, legacy::Api::RollbackJob]),
        region in "[a-z0-9_-]{1,16}",
        job_id in "\\PC{1,20}",
        secret_id in "[A-Za-z0-9_]{1,40}",
        key in "\\PC{0,40}",
        token in proptest::option::of("\\PC{1,40}"),
        timestamp in 0i64..8_000_000_000,
        nonce in any::<u32>(),
        port in proptest::option::of(1u16..),
        prefix in "(/[A-Za-z0-9_.~-]{1,6}){0,2}",
    ) {
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let endpoint = url::Url::parse(&format!("http://127.0.0.1{port}{prefix}")).unwrap();
        let request = legacy::client::build_request(&legacy::client::RequestInput {
            endpoint: &endpoint,
            api,
            region: &region,
            job_id: &job_id,
            secret_id: &secret_id,
            secret_key: &key,
            token: token.as_deref(),
            timestamp,
            nonce,
        }).unwrap();
        // Read back as the simulator's gateway reads a request.
        let sent = url::Url::parse(&request.url).unwrap();
        let params: Vec<(String, String)> = sent.query_pairs().into_owned().collect();
        let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        prop_assert_eq!(param("jobId"), Some(job_id.as_str()));
        prop_assert_eq!(param("Token"), token.as_deref());
        let host = format!("127.0.0.1{port}");
        let source = verify::v2::source("GET", &host, sent.path(), &params);
        let hash = verify::v2::hash_for(param("SignatureMethod"));
        prop_assert_eq!(hash, verify::Hash::Sha256);
        let expected = verify::v2::signature(&key, hash, &source);
        prop_assert_eq!(param("Signature"), Some(expected.as_str()));
    }

    #[test]
    fn the_huawei_signer_agrees_with_the_independent_verifier(
        ak in "[A-Za-z0-9]{1,40}",
        sk in "\\PC{0,40}",
        names in prop::collection::btree_set("[A-Za-z][A-Za-z0-9-]{0,12}", 1..5),
        value in "[ -~]{0,12}",
        path in "(/[a-z0-9 %+~]{0,8}){0,4}",
        query in prop::collection::vec(("\\PC{0,6}", "\\PC{0,6}"), 0..4),
        body in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let mut headers: Vec<(String, String)> = names.iter().map(|n| (n.clone(), value.clone())).collect();
        headers.push(("X-Sdk-Date".into(), "20191115T033655Z".into()));
        let req = hw_sign::SignableRequest { method: "GET", path: &path, query: &query, headers: &headers, body: &body };
        let header = hw_sign::authorization(&ak, &sk, &req, "20191115T033655Z");
        let parsed = verify::huawei::parse_authorization(&header);
        prop_assert!(parsed.is_some(), "{}", header);
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.access, ak);
        let mut want: Vec<String> = headers.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
        want.sort();
        prop_assert_eq!(parsed.signed_headers, want);
        let expected = verify::huawei::signature(&sk, &verify::huawei::Request {
            method: "GET", path: &path, query: &query, headers: &headers, body: &body,
        }, "20191115T033655Z");
        prop_assert_eq!(parsed.signature, expected);
    }

    #[test]
    fn huawei_requests_as_sent_verify_independently(
        api in prop::sample::select(vec!["rds", "taurusdb", "taurusdb-legacy"]),
        job_id in "\\PC{1,24}",
        project in "\\PC{1,16}",
        sk in "\\PC{1,40}",
        port in proptest::option::of(1u16..),
        prefix in "(/[A-Za-z0-9_.~-]{1,6}){0,2}",
        now in 0i64..8_000_000_000,
    ) {
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let endpoint = format!("http://127.0.0.1{port}{prefix}");
        let target = JobTarget::new(ProviderKind::Huawei, Some(api), &job_id, None, None, Some(&project), Some(&endpoint));
        prop_assume!(target.is_ok());
        let target = target.unwrap();
        let creds = Credentials::HuaweiAkSk { ak: "AK".into(), sk: SecretString::new(sk.clone()) };
        let prepared = HuaweiProvider::prepare(&target, &creds, Timestamp::from_second(now).unwrap()).unwrap();
        // What the gateway receives: the URL, the headers, and the Host the HTTP client adds.
        let mut received = prepared.headers.clone();
        received.push(("Host".into(), format!("127.0.0.1{port}")));
        let get = |name: &str| received.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        let auth = verify::huawei::parse_authorization(&get("authorization").unwrap()).unwrap();
        prop_assert!(auth.signed_headers.iter().any(|h| h == "host"));
        let signed: Vec<(String, String)> = auth.signed_headers.iter().map(|h| (h.clone(), get(h).unwrap_or_default())).collect();
        let date = get("x-sdk-date").unwrap();
        prop_assert_eq!(verify::huawei::parse_sdk_date(&date), Some(now));
        let path = percent_decode_str(prepared.url.path()).decode_utf8_lossy().into_owned();
        let query: Vec<(String, String)> = prepared.url.query_pairs().into_owned().collect();
        prop_assert_eq!(&query, &vec![("id".to_string(), target.job_id.clone())]);
        let expected = verify::huawei::signature(&sk, &verify::huawei::Request {
            method: "GET", path: &path, query: &query, headers: &signed, body: b"",
        }, &date);
        prop_assert_eq!(auth.signature, expected);
    }

    #[test]
    fn the_alibaba_signer_agrees_with_the_independent_verifier(
        id in "[A-Za-z0-9.]{1,30}",
        secret in "\\PC{0,40}",
        method in prop::sample::select(vec!["GET", "POST"]),
        names in prop::collection::btree_set("x-acs-[a-z0-9-]{1,10}", 1..5),
        value in "[!-~][ -~]{0,10}[!-~]",
        path in "(/[A-Za-z0-9_.~%-]{0,8}){0,3}/",
        query in prop::collection::vec(("\\PC{1,6}", "\\PC{0,6}"), 0..4),
        body in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let mut headers: Vec<(String, String)> = names.iter().map(|n| (n.clone(), value.clone())).collect();
        headers.push(("host".into(), "rds.aliyuncs.com".into()));
        let req = alibaba::sign::SignableRequest { method, path: &path, query: &query, headers: &headers, body: &body };
        let header = alibaba::sign::authorization(&id, &secret, &req);
        let parsed = verify::acs3::parse_authorization(&header);
        prop_assert!(parsed.is_some(), "{}", header);
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed.access_key_id, &id);
        let mut want: Vec<String> = headers.iter().map(|(k, _)| k.clone()).collect();
        want.sort();
        prop_assert_eq!(&parsed.signed_headers, &want);
        let payload_hash = verify::sha256_hex(&body);
        let expected = verify::acs3::signature(&secret, &verify::acs3::Request {
            method, path: &path, query: &query, headers: &headers, payload_hash: &payload_hash,
        });
        prop_assert_eq!(parsed.signature, expected);
    }

    #[test]
    fn alibaba_requests_as_sent_verify_independently(
        api in prop::sample::select(vec!["rds", "polardb"]),
        job_id in "\\PC{1,24}",
        region in "[a-z0-9-]{1,16}",
        instance in proptest::option::of("\\PC{1,12}"),
        secret in "\\PC{1,40}",
        token in proptest::option::of("\\PC{1,40}"),
        port in proptest::option::of(1u16..),
        prefix in "(/[A-Za-z0-9_.~-]{1,6}){0,2}",
        now in 0i64..8_000_000_000,
    ) {
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let endpoint = format!("http://127.0.0.1{port}{prefix}");
        let target = JobTarget::new(ProviderKind::Alibaba, Some(api), &job_id, Some(&region), instance.as_deref(), None, Some(&endpoint));
        prop_assume!(target.is_ok());
        let target = target.unwrap();
        let creds = Credentials::Alibaba {
            access_key_id: "LTAIexample".into(),
            access_key_secret: SecretString::new(secret.clone()),
            security_token: token.clone().map(SecretString::new),
        };
        let at = Timestamp::from_second(now).unwrap();
        let prepared = AlibabaProvider::prepare(&target, &creds, at, 1, "nonce").unwrap();
        // What the gateway receives: the URL, the headers, and the Host the HTTP client adds.
        let mut received = prepared.headers.clone();
        received.push(("host".into(), format!("127.0.0.1{port}")));
        let get = |name: &str| received.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        let auth = verify::acs3::parse_authorization(&get("authorization").unwrap()).unwrap();
        for name in received.iter().map(|(k, _)| k).filter(|k| *k != "authorization") {
            prop_assert!(auth.signed_headers.contains(name), "{} is not signed", name);
        }
        prop_assert_eq!(get("x-acs-security-token"), token);
        let signed: Vec<(String, String)> = auth.signed_headers.iter().map(|h| (h.clone(), get(h).unwrap_or_default())).collect();
        let query: Vec<(String, String)> = prepared.url.query_pairs().into_owned().collect();
        prop_assert!(query.contains(&("TaskId".to_string(), target.job_id.clone())));
        let payload_hash = get("x-acs-content-sha256").unwrap();
        prop_assert_eq!(&payload_hash, &verify::sha256_hex(b""));
        let expected = verify::acs3::signature(&secret, &verify::acs3::Request {
            method: "POST", path: prepared.url.path(), query: &query, headers: &signed, payload_hash: &payload_hash,
        });
        prop_assert_eq!(auth.signature, expected);
    }

    #[test]
    fn aws_requests_as_sent_verify_independently(
        api in prop::sample::select(ProviderKind::Aws.apis().to_vec()),
        job_id in "\\PC{1,24}",
        key_id in "[A-Z0-9]{4,20}",
        secret in "\\PC{1,40}",
        token in proptest::option::of("[A-Za-z0-9/+=]{1,40}"),
        region in "[a-z]{2}-[a-z]{2,9}-[1-9]",
        port in proptest::option::of(1u16..),
        prefix in "(/[A-Za-z0-9_.~-]{1,6}){0,2}",
        now in 0i64..8_000_000_000,
        flip in any::<prop::sample::Index>(),
    ) {
        // The client's aws-sigv4 request, as sent, against the simulator's own SigV4 check.
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let endpoint = format!("http://127.0.0.1{port}{prefix}");
        let target = JobTarget::new(ProviderKind::Aws, Some(api), &job_id, Some(&region), None, None, Some(&endpoint));
        prop_assume!(target.is_ok());
        let target = target.unwrap();
        let creds = Credentials::Aws {
            access_key_id: key_id.clone(),
            secret_access_key: SecretString::new(secret.clone()),
            session_token: token.clone().map(SecretString::new),
        };
        let prepared = AwsProvider::prepare(&target, &creds, Timestamp::from_second(now).unwrap()).unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("host", format!("127.0.0.1{port}").parse().unwrap());
        for (k, v) in &prepared.headers {
            headers.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let accepted = match &token {
            None => SimCredentials { aws: vec![KeyPair { id: key_id.clone(), secret: secret.clone() }], ..SimCredentials::default() },
            Some(t) => SimCredentials { aws: Vec::new(), aws_temporary: vec![TemporaryKey { id: key_id.clone(), secret: secret.clone(), token: t.clone() }], ..SimCredentials::default() },
        };
        let input = |body: &[u8]| -> Result<(), String> {
            verify_aws(&accepted, &AwsInput {
                method: "POST", path: prepared.url.path(), query: "", headers: &headers, body, region: None,
            }, now).map_err(|e| format!("{} {}: {}", e.status, e.code, e.message))
        };
        prop_assert_eq!(input(prepared.body.as_bytes()), Ok(()), "{:?}", prepared);
        let mut tampered = prepared.body.clone().into_bytes();
        let i = flip.index(tampered.len());
        tampered[i] ^= 0x01;
        let refused = input(&tampered);
        prop_assert!(refused.as_ref().is_err_and(|e| e.contains("SignatureDoesNotMatch")), "{:?}", refused);
    }
}

/// Reference host matcher: `**` is every host; a leading `**.` skips one or more labels;
/// otherwise as many labels as the pattern, each matched by [`glob_reference`] (labels hold
/// no dot, so `*` stays within one).
fn host_glob_reference(pattern: &str, host: &str) -> bool {
    let labels = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
    let same = |p: &[String], h: &[String]| {
        p.len() == h.len()
            && p.iter()
                .zip(h)
                .all(|(p, h)| glob_reference(p.as_bytes(), h.as_bytes()))
    };
    if pattern == "**" {
        return true;
    }
    let host = labels(host);
    match pattern.strip_prefix("**.") {
        Some(rest) => {
            let rest = labels(rest);
            (1..host.len()).any(|skip| same(&rest, &host[skip..]))
        }
        None => same(&labels(pattern), &host),
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
