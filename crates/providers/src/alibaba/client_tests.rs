use super::*;
use crate::credentials::SecretString;
use crate::redact::MAX_MESSAGE_CHARS;
use clouddb_api::ProviderKind;

fn target(
    api: Option<&str>,
    region: &str,
    instance: Option<&str>,
    endpoint: Option<&str>,
) -> JobTarget {
    JobTarget::new(
        ProviderKind::Alibaba,
        api,
        "t-83br18hloy3faf0s1",
        Some(region),
        instance,
        None,
        endpoint,
    )
    .unwrap()
}

fn creds(token: Option<&str>) -> Credentials {
    Credentials::Alibaba {
        access_key_id: "LTAIexample".into(),
        access_key_secret: SecretString::new("secret-value-1234"),
        security_token: token.map(SecretString::new),
    }
}

fn now() -> Timestamp {
    "2024-05-01T08:00:00Z".parse().unwrap()
}

#[test]
fn rds_request_is_a_signed_post_with_the_window_in_the_query() {
    let t = target(None, "cn-hangzhou", Some("rm-uf6wjk5x"), None);
    let p = AlibabaProvider::prepare(&t, &creds(None), now(), 1, "nonce-1").unwrap();
    assert_eq!(
        p.url.as_str(),
        "https://rds.aliyuncs.com/?FromStartTime=2024-04-01T08%3A00%3A00Z&InstanceId=rm-uf6wjk5x\
         &PageNumber=1&PageSize=10&RegionId=cn-hangzhou&TaskId=t-83br18hloy3faf0s1\
         &ToStartTime=2024-05-01T09%3A00%3A00Z"
    );
    assert_eq!(p.header("x-acs-action"), Some("DescribeHistoryTasks"));
    assert_eq!(p.header("x-acs-version"), Some("2014-08-15"));
    assert_eq!(p.header("x-acs-date"), Some("2024-05-01T08:00:00Z"));
    assert_eq!(p.header("x-acs-signature-nonce"), Some("nonce-1"));
    assert_eq!(
        p.header("x-acs-content-sha256"),
        Some(sign::sha256_hex(b"").as_str())
    );
    assert_eq!(p.header("x-acs-security-token"), None);
    assert_eq!(
        p.header("host"),
        None,
        "the HTTP client sets Host from the URL"
    );
    let auth = p.header("authorization").unwrap();
    assert!(
        auth.starts_with(
            "ACS3-HMAC-SHA256 Credential=LTAIexample,SignedHeaders=host;x-acs-action;\
             x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
        ),
        "{auth}"
    );
    // The signature is over exactly what is sent.
    let query: Vec<(String, String)> = p.url.query_pairs().into_owned().collect();
    let mut signed: Vec<(String, String)> = p
        .headers
        .iter()
        .filter(|(k, _)| k.starts_with("x-acs-"))
        .cloned()
        .collect();
    signed.push(("host".into(), "rds.aliyuncs.com".into()));
    let expected = sign::signature(
        "secret-value-1234",
        &SignableRequest {
            method: "POST",
            path: "/",
            query: &query,
            headers: &signed,
            body: b"",
        },
    );
    assert_eq!(sign::signature_of(auth), Some(expected.as_str()));
}

#[test]
fn polardb_token_and_endpoint_override() {
    let t = target(
        Some("polardb"),
        "cn-shenzhen",
        None,
        Some("http://127.0.0.1:8443/prefix"),
    );
    let p = AlibabaProvider::prepare(&t, &creds(Some("sts-token")), now(), 2, "n").unwrap();
    assert_eq!(p.url.host_str(), Some("127.0.0.1"));
    assert_eq!(p.url.path(), "/prefix/");
    assert!(p.url.query().unwrap().contains("PageNumber=2"));
    assert!(!p.url.query().unwrap().contains("InstanceId"));
    assert_eq!(p.header("x-acs-version"), Some("2017-08-01"));
    assert_eq!(p.header("x-acs-security-token"), Some("sts-token"));
    assert!(p
        .header("authorization")
        .unwrap()
        .contains("x-acs-security-token;x-acs-signature-nonce"));
    let shown = format!("{p:?}");
    assert!(
        !shown.contains("sts-token") && !shown.contains("Signature="),
        "{shown}"
    );
    let default = AlibabaProvider::prepare(
        &target(Some("polardb"), "cn-shenzhen", None, None),
        &creds(None),
        now(),
        1,
        "n",
    )
    .unwrap();
    assert_eq!(
        default.url.host_str(),
        Some("polardb.cn-shenzhen.aliyuncs.com")
    );
}

#[test]
fn nonces_are_unique_and_other_credentials_are_refused() {
    let (a, b) = (new_nonce(), new_nonce());
    assert_ne!(a, b);
    assert_eq!(a.len(), 32);
    let tencent = Credentials::Tencent {
        secret_id: "id".into(),
        secret_key: SecretString::new("k"),
        token: None,
    };
    let e = AlibabaProvider::prepare(
        &target(None, "cn-hangzhou", None, None),
        &tencent,
        now(),
        1,
        "n",
    )
    .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
    assert!(e.is_permanent());
}

fn response(status: u16, body: &str, headers: &[(&'static str, &str)]) -> HttpResponse {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, v.parse().unwrap());
    }
    HttpResponse {
        status,
        headers: map,
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn pages_errors_and_garbage() {
    let id = "t-83br18hloy3faf0s1";
    let found = format!(
        r#"{{"RequestId":"r","PageNumber":1,"PageSize":10,"TotalCount":1,"Items":[{{"TaskId":"{id}","Status":"Running","Progress":10}}]}}"#
    );
    match interpret(&response(200, &found, &[]), id).unwrap() {
        PageOutcome::Found(obs) => assert_eq!(obs.progress, Some(10)),
        other => panic!("{other:?}"),
    }
    let empty = r#"{"RequestId":"r","PageNumber":1,"PageSize":10,"TotalCount":0,"Items":[]}"#;
    assert_eq!(
        interpret(&response(200, empty, &[]), id).unwrap(),
        PageOutcome::NotListed { more: false }
    );
    let others =
        r#"{"PageNumber":1,"PageSize":10,"TotalCount":"25","Items":[{"TaskId":"t-other"}]}"#;
    assert_eq!(
        interpret(&response(200, others, &[]), id).unwrap(),
        PageOutcome::NotListed { more: true }
    );
    let last = r#"{"PageNumber":3,"PageSize":10,"TotalCount":25,"Items":[{"TaskId":"t-other"}]}"#;
    assert_eq!(
        interpret(&response(200, last, &[]), id).unwrap(),
        PageOutcome::NotListed { more: false }
    );
    let throttled = r#"{"RequestId":"R9","Code":"Throttling.User","Message":"Request was denied due to user flow control."}"#;
    let e = interpret(
        &response(400, throttled, &[("x-acs-retry-after", "2500")]),
        id,
    )
    .unwrap_err();
    assert_eq!(e.class, crate::ErrorClass::Throttled);
    assert_eq!(e.retry_after, Some(std::time::Duration::from_millis(2500)));
    assert_eq!(e.request_id.as_deref(), Some("R9"));
    let e = interpret(&response(200, throttled, &[("x-acs-request-id", "H1")]), id).unwrap_err();
    assert_eq!(
        (e.class, e.request_id.as_deref()),
        (crate::ErrorClass::Throttled, Some("H1"))
    );
    for body in ["", "{\"Items\": [", "<html>"] {
        let e = interpret(&response(200, body, &[]), id).unwrap_err();
        assert_eq!(
            (e.class, e.code.as_str()),
            (crate::ErrorClass::Transient, "MalformedResponse")
        );
    }
    let e = interpret(&response(502, "<html>bad gateway</html>", &[]), id).unwrap_err();
    assert_eq!(e.class, crate::ErrorClass::Transient);
}

#[test]
fn secrets_never_reach_errors() {
    let c = creds(Some("sts-token-value"));
    let e = ProviderError::permanent(
        ErrorReason::AuthenticationFailed,
        "c-secret-value-1234",
        "bad secret-value-1234 sts-token-value; ACS3-HMAC-SHA256 Credential=LTAI,Signature=abcd1234",
    )
    .with_request_id(Some("sig-abcd1234".into()));
    let clean = sanitize(e, &c, &["abcd1234"]);
    let shown = clean.describe();
    for secret in ["secret-value-1234", "sts-token-value", "abcd1234"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert_eq!(clean.code, "c-[REDACTED]");
    assert!(
        clean.message.ends_with("[Authorization redacted]"),
        "{}",
        clean.message
    );
    let long = sanitize(ProviderError::transient("X", "y".repeat(5000)), &c, &[]);
    assert!(long.message.chars().count() <= MAX_MESSAGE_CHARS + 1);
}
