use super::*;
// The clients' signers produce the requests; the verifier under test is independent of them.
use clouddb_providers::huawei::sign as hw;
use clouddb_providers::tencent::sign as tc3;
use clouddb_providers::tencent_legacy::sign as v2;

const NOW: i64 = 1_700_000_000;

fn tc3_auth(id: &str, key: &str, host: &str, body: &[u8], ts: i64) -> String {
    tc3::authorization(
        id,
        key,
        &tc3::Tc3Request {
            method: "POST",
            host,
            query: "",
            content_type: "application/json",
            payload: body,
            service: "cdb",
            timestamp: ts,
        },
    )
}

fn tc3_check(auth: &str, ts: i64, body: &[u8]) -> Result<(), TencentError> {
    let ts = ts.to_string();
    verify_tc3(
        &SimCredentials::default(),
        &Tc3Input {
            authorization: Some(auth),
            timestamp: Some(&ts),
            host: Some("127.0.0.1:8086"),
            content_type: Some("application/json"),
            body,
        },
        NOW,
    )
}

#[test]
fn tc3_accepts_and_rejects() {
    let body = br#"{"InstanceId":"cdb-1"}"#;
    let good = tc3_auth(
        DEFAULT_TENCENT_SECRET_ID,
        DEFAULT_TENCENT_SECRET_KEY,
        "127.0.0.1:8086",
        body,
        NOW,
    );
    assert_eq!(tc3_check(&good, NOW, body), Ok(()));
    let code = |r: Result<(), TencentError>| r.unwrap_err().code;
    assert_eq!(
        code(tc3_check(&good, NOW, br#"{"InstanceId":"cdb-2"}"#)),
        "AuthFailure.SignatureFailure"
    );
    let wrong_key = tc3_auth(
        DEFAULT_TENCENT_SECRET_ID,
        "nope",
        "127.0.0.1:8086",
        body,
        NOW,
    );
    assert_eq!(
        code(tc3_check(&wrong_key, NOW, body)),
        "AuthFailure.SignatureFailure"
    );
    let other_host = tc3_auth(
        DEFAULT_TENCENT_SECRET_ID,
        DEFAULT_TENCENT_SECRET_KEY,
        "127.0.0.1",
        body,
        NOW,
    );
    assert_eq!(
        code(tc3_check(&other_host, NOW, body)),
        "AuthFailure.SignatureFailure"
    );
    let unknown = tc3_auth(
        "AKIDother",
        DEFAULT_TENCENT_SECRET_KEY,
        "127.0.0.1:8086",
        body,
        NOW,
    );
    assert_eq!(
        code(tc3_check(&unknown, NOW, body)),
        "AuthFailure.SecretIdNotFound"
    );
    let old = NOW - 301;
    let stale = tc3_auth(
        DEFAULT_TENCENT_SECRET_ID,
        DEFAULT_TENCENT_SECRET_KEY,
        "127.0.0.1:8086",
        body,
        old,
    );
    assert_eq!(
        code(tc3_check(&stale, old, body)),
        "AuthFailure.SignatureExpire"
    );
    assert_eq!(
        code(tc3_check("Basic x", NOW, body)),
        "AuthFailure.InvalidAuthorization"
    );
}

fn v2_params(
    nonce: &str,
    ts: i64,
    method: Option<v2::SignatureMethod>,
    key: &str,
) -> Vec<(String, String)> {
    let mut map: BTreeMap<String, String> = [
        ("Action", "GetCdbTaskInfo"),
        ("Region", "ap-guangzhou"),
        ("Nonce", nonce),
        ("SecretId", DEFAULT_TENCENT_SECRET_ID),
        ("jobId", "560"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    map.insert("Timestamp".into(), ts.to_string());
    if let Some(m) = method {
        map.insert("SignatureMethod".into(), m.as_str().into());
    }
    let src = v2::source_string("GET", "localhost:9", "/v2/index.php", &map);
    let sig = v2::sign(key, method.unwrap_or(v2::SignatureMethod::HmacSha1), &src);
    map.insert("Signature".into(), sig);
    map.into_iter().collect()
}

fn v2_check(params: &[(String, String)], nonces: &mut NonceCache) -> Result<(), LegacyError> {
    verify_v2(
        &SimCredentials::default(),
        "GET",
        "localhost:9",
        "/v2/index.php",
        params,
        NOW,
        nonces,
    )
}

#[test]
fn v2_accepts_both_methods_and_rejects_replays() {
    let mut nonces = NonceCache::default();
    for (nonce, m) in [
        ("1", None),
        ("2", Some(v2::SignatureMethod::HmacSha1)),
        ("3", Some(v2::SignatureMethod::HmacSha256)),
    ] {
        let p = v2_params(nonce, NOW, m, DEFAULT_TENCENT_SECRET_KEY);
        assert_eq!(v2_check(&p, &mut nonces), Ok(()), "{m:?}");
    }
    let replay = v2_params("3", NOW, None, DEFAULT_TENCENT_SECRET_KEY);
    assert_eq!(v2_check(&replay, &mut nonces).unwrap_err().code, 4500);
    let stale = v2_params("4", NOW - 7201, None, DEFAULT_TENCENT_SECRET_KEY);
    assert_eq!(v2_check(&stale, &mut nonces).unwrap_err().code, 4500);
    let bad = v2_params("5", NOW, None, "wrong");
    assert_eq!(v2_check(&bad, &mut nonces).unwrap_err().code, 4100);
    // A badly signed request does not burn its nonce.
    let good = v2_params("5", NOW, None, DEFAULT_TENCENT_SECRET_KEY);
    assert_eq!(v2_check(&good, &mut nonces), Ok(()));
    let mut tampered = v2_params("6", NOW, None, DEFAULT_TENCENT_SECRET_KEY);
    for (k, v) in tampered.iter_mut() {
        if k == "jobId" {
            *v = "561".into();
        }
    }
    assert_eq!(v2_check(&tampered, &mut nonces).unwrap_err().code, 4100);
    let mut unknown = v2_params("7", NOW, None, DEFAULT_TENCENT_SECRET_KEY);
    for (k, v) in unknown.iter_mut() {
        if k == "SecretId" {
            *v = "AKIDother".into();
        }
    }
    assert_eq!(v2_check(&unknown, &mut nonces).unwrap_err().code, 4104);
    let missing: Vec<_> = good.into_iter().filter(|(k, _)| k != "Nonce").collect();
    assert_eq!(v2_check(&missing, &mut nonces).unwrap_err().code, 4000);
}

#[test]
fn nonce_cache_forgets_after_the_window() {
    let mut cache = NonceCache::default();
    assert!(cache.insert("a", "1", 0));
    assert!(!cache.insert("a", "1", 10));
    assert!(cache.insert("b", "1", 10));
    assert!(cache.insert("a", "1", V2_WINDOW_SECS + 1));
}

fn hw_headers(
    ak: &str,
    sk: &str,
    date: &str,
    path: &str,
    query: &[(String, String)],
) -> http::HeaderMap {
    let signed = vec![
        ("host".to_string(), "127.0.0.1:8086".to_string()),
        ("x-sdk-date".to_string(), date.to_string()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    let req = hw::SignableRequest {
        method: "GET",
        path,
        query,
        headers: &signed,
        body: b"",
    };
    let mut headers = http::HeaderMap::new();
    for (k, v) in &signed {
        headers.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    headers.insert(
        "authorization",
        hw::authorization(ak, sk, &req, date).parse().unwrap(),
    );
    headers
}

#[test]
fn huawei_aksk_and_tokens() {
    let query = vec![("id".to_string(), "job-1".to_string())];
    let date = jiff::Timestamp::from_second(NOW)
        .unwrap()
        .strftime(hw::DATE_FORMAT)
        .to_string();
    let check = |headers: &http::HeaderMap, path: &str| {
        verify_huawei(
            &SimCredentials::default(),
            &HuaweiInput {
                method: "GET",
                path,
                query: &query,
                headers,
                body: b"",
            },
            NOW,
        )
    };
    let path = "/v3/p1/jobs";
    let good = hw_headers(DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_SK, &date, path, &query);
    assert_eq!(check(&good, path), Ok(()));
    let err = check(&good, "/v3/p2/jobs").unwrap_err();
    assert_eq!((err.status, err.code), (401, "APIGW.0301"));
    let wrong = hw_headers(DEFAULT_HUAWEI_AK, "nope", &date, path, &query);
    assert!(check(&wrong, path).is_err());
    let old_date = jiff::Timestamp::from_second(NOW - 901)
        .unwrap()
        .strftime(hw::DATE_FORMAT)
        .to_string();
    let stale = hw_headers(
        DEFAULT_HUAWEI_AK,
        DEFAULT_HUAWEI_SK,
        &old_date,
        path,
        &query,
    );
    assert!(check(&stale, path).unwrap_err().message.contains("expired"));
    let mut token = http::HeaderMap::new();
    token.insert("x-auth-token", DEFAULT_HUAWEI_TOKEN.parse().unwrap());
    assert_eq!(check(&token, path), Ok(()));
    token.insert("x-auth-token", "forged".parse().unwrap());
    assert!(check(&token, path).is_err());
    assert!(check(&http::HeaderMap::new(), path).is_err());
}

#[test]
fn debug_hides_secrets() {
    let shown = format!("{:?}", SimCredentials::default());
    assert!(!shown.contains(DEFAULT_TENCENT_SECRET_KEY), "{shown}");
    assert!(!shown.contains(DEFAULT_HUAWEI_SK), "{shown}");
    assert!(!shown.contains(DEFAULT_HUAWEI_TOKEN), "{shown}");
    assert!(shown.contains(DEFAULT_TENCENT_SECRET_ID));
}

#[test]
fn the_published_huawei_vector_passes_the_gateway_check() {
    let creds = SimCredentials {
        huawei: vec![KeyPair {
            id: "QTWAOYTTINDUT2QVKYUC".into(),
            secret: "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc".into(),
        }],
        ..SimCredentials::default()
    };
    let mut headers = http::HeaderMap::new();
    for (k, v) in [
        ("host", "service.region.example.com"),
        ("x-sdk-date", "20191115T033655Z"),
        ("content-type", "application/json"),
        ("authorization", "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"),
    ] {
        headers.insert(k, v.parse().unwrap());
    }
    let query = vec![
        ("limit".to_string(), "2".to_string()),
        (
            "marker".to_string(),
            "13551d6b-755d-4757-b956-536f674975c0".to_string(),
        ),
    ];
    let input = HuaweiInput {
        method: "GET",
        path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
        query: &query,
        headers: &headers,
        body: b"",
    };
    // 2019-11-15T03:36:55Z, the vector's X-Sdk-Date.
    assert_eq!(verify_huawei(&creds, &input, 1_573_789_015), Ok(()));
    let tampered = HuaweiInput {
        path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpc",
        ..input
    };
    assert_eq!(
        verify_huawei(&creds, &tampered, 1_573_789_015)
            .unwrap_err()
            .message,
        "Incorrect IAM authentication information: verify aksk signature fail"
    );
}

#[test]
fn extreme_timestamps_are_expired_not_a_panic() {
    for ts in [i64::MIN, i64::MAX] {
        let text = ts.to_string();
        let err = verify_tc3(
            &SimCredentials::default(),
            &Tc3Input {
                authorization: Some(&tc3_auth(
                    DEFAULT_TENCENT_SECRET_ID,
                    DEFAULT_TENCENT_SECRET_KEY,
                    "127.0.0.1:8086",
                    b"{}",
                    NOW,
                )),
                timestamp: Some(&text),
                host: Some("127.0.0.1:8086"),
                content_type: Some("application/json"),
                body: b"{}",
            },
            NOW,
        )
        .unwrap_err();
        assert_eq!(err.code, "AuthFailure.SignatureExpire", "{ts}");
        let mut params = v2_params("x", NOW, None, DEFAULT_TENCENT_SECRET_KEY);
        for (k, v) in params.iter_mut() {
            if k == "Timestamp" {
                *v = text.clone();
            }
        }
        let err = v2_check(&params, &mut NonceCache::default()).unwrap_err();
        assert_eq!(err.code, 4500, "{ts}");
    }
}
