//! `verify_aws` against requests signed by the client's signer (`aws-sigv4`), tampered,
//! stale, mis-scoped and STS requests.

use super::*;
use clouddb_providers::aws::sign as sigv4_client;

const NOW: i64 = 1_700_000_000;
const HOST: &str = "127.0.0.1:8086";
const BODY: &[u8] =
    b"Action=DescribeDBSnapshots&Version=2014-10-31&DBSnapshotIdentifier=orders-before-upgrade";
const CT: &str = "application/x-www-form-urlencoded; charset=utf-8";

struct Signing<'a> {
    key_id: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    region: &'a str,
    service: &'a str,
    at: i64,
    host: &'a str,
    content_sha256: bool,
}

fn signing() -> Signing<'static> {
    Signing {
        key_id: DEFAULT_AWS_ACCESS_KEY_ID,
        secret: DEFAULT_AWS_SECRET_ACCESS_KEY,
        token: None,
        region: "us-east-1",
        service: "rds",
        at: NOW,
        host: HOST,
        content_sha256: false,
    }
}

/// The request headers a client would send.
fn headers(s: &Signing<'_>) -> http::HeaderMap {
    let uri = format!("http://{}/", s.host);
    let signed = sigv4_client::sign(
        &sigv4_client::Request {
            method: "POST",
            uri: &uri,
            headers: &[("content-type", CT), ("host", s.host)],
            body: BODY,
            region: s.region,
            service: s.service,
            time: jiff::Timestamp::from_second(s.at).unwrap(),
            content_sha256: s.content_sha256,
        },
        s.key_id,
        s.secret,
        s.token,
    )
    .unwrap();
    let mut map = http::HeaderMap::new();
    map.insert("host", s.host.parse().unwrap());
    map.insert("content-type", CT.parse().unwrap());
    for (k, v) in signed.headers {
        map.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    map
}

fn check_with(
    creds: &SimCredentials,
    headers: &http::HeaderMap,
    body: &[u8],
    region: Option<&str>,
) -> Result<(), AwsError> {
    verify_aws(
        creds,
        &AwsInput {
            method: "POST",
            path: "/",
            query: "",
            headers,
            body,
            region,
        },
        NOW,
    )
}

fn check(s: &Signing<'_>) -> Result<(), AwsError> {
    check_with(&SimCredentials::default(), &headers(s), BODY, None)
}

fn code(r: Result<(), AwsError>) -> (u16, &'static str) {
    let e = r.unwrap_err();
    (e.status, e.code)
}

#[test]
fn a_correct_signature_passes() {
    check(&signing()).unwrap();
    check(&Signing {
        content_sha256: true,
        ..signing()
    })
    .unwrap();
    check(&Signing {
        region: "cn-north-1",
        ..signing()
    })
    .unwrap();
}

#[test]
fn wrong_keys_and_signatures() {
    assert_eq!(
        code(check(&Signing {
            secret: "not-the-secret",
            ..signing()
        })),
        (403, "SignatureDoesNotMatch")
    );
    assert_eq!(
        code(check(&Signing {
            key_id: "AKIAUNKNOWN000000000",
            ..signing()
        })),
        (403, "InvalidClientTokenId")
    );
    let tampered = check_with(
        &SimCredentials::default(),
        &headers(&signing()),
        b"Action=DescribeDBSnapshots&Version=2014-10-31&DBSnapshotIdentifier=other",
        None,
    );
    assert_eq!(code(tampered), (403, "SignatureDoesNotMatch"));
    let mut other_host = headers(&signing());
    other_host.insert("host", "127.0.0.1:9999".parse().unwrap());
    assert_eq!(
        code(check_with(
            &SimCredentials::default(),
            &other_host,
            BODY,
            None
        )),
        (403, "SignatureDoesNotMatch")
    );
}

#[test]
fn stale_and_future_dates_are_expired_signatures() {
    let stale = check(&Signing {
        at: NOW - AWS_WINDOW_SECS - 1,
        ..signing()
    })
    .unwrap_err();
    assert_eq!((stale.status, stale.code), (403, "SignatureDoesNotMatch"));
    assert!(
        stale.message.starts_with("Signature expired: "),
        "{}",
        stale.message
    );
    assert!(stale.message.ends_with("- 5 min.)"), "{}", stale.message);
    let future = check(&Signing {
        at: NOW + AWS_WINDOW_SECS + 1,
        ..signing()
    })
    .unwrap_err();
    assert!(
        future.message.starts_with("Signature not yet current"),
        "{}",
        future.message
    );
    check(&Signing {
        at: NOW - AWS_WINDOW_SECS,
        ..signing()
    })
    .unwrap();
}

#[test]
fn the_scope_must_name_rds_and_a_valid_region() {
    let service = check(&Signing {
        service: "ec2",
        ..signing()
    })
    .unwrap_err();
    assert_eq!(service.code, "SignatureDoesNotMatch");
    assert!(service.message.contains("'rds'"), "{}", service.message);
    let region = check(&Signing {
        region: "moon-1",
        ..signing()
    })
    .unwrap_err();
    assert!(
        region.message.contains("valid region"),
        "{}",
        region.message
    );
    // An endpoint that names its region accepts only that one.
    let host = "rds.eu-west-1.amazonaws.com";
    let eu = headers(&Signing {
        region: "eu-west-1",
        host,
        ..signing()
    });
    check_with(&SimCredentials::default(), &eu, BODY, Some("eu-west-1")).unwrap();
    let us = headers(&Signing {
        region: "us-east-1",
        host,
        ..signing()
    });
    assert_eq!(
        code(check_with(
            &SimCredentials::default(),
            &us,
            BODY,
            Some("eu-west-1")
        )),
        (403, "SignatureDoesNotMatch")
    );
}

#[test]
fn sts_keys_need_their_token() {
    let creds = SimCredentials {
        aws_temporary: vec![TemporaryKey {
            id: "ASIASIMULATOR0000000".into(),
            secret: "TemporarySecret/000000000000000000000000".into(),
            token: "FwoGZXIvYXdzEXAMPLETOKEN".into(),
        }],
        ..SimCredentials::default()
    };
    let temp = Signing {
        key_id: "ASIASIMULATOR0000000",
        secret: "TemporarySecret/000000000000000000000000",
        token: Some("FwoGZXIvYXdzEXAMPLETOKEN"),
        ..signing()
    };
    check_with(&creds, &headers(&temp), BODY, None).unwrap();
    for token in [None, Some("FwoGZXIvYXdzOTHERTOKEN")] {
        let h = headers(&Signing { token, ..temp });
        assert_eq!(
            code(check_with(&creds, &h, BODY, None)),
            (403, "InvalidClientTokenId"),
            "{token:?}"
        );
    }
    // A long-term key presented with a token.
    let h = headers(&Signing {
        token: Some("FwoGZXIvYXdzEXAMPLETOKEN"),
        ..signing()
    });
    assert_eq!(
        code(check_with(&creds, &h, BODY, None)),
        (403, "InvalidClientTokenId")
    );
}

#[test]
fn malformed_authorization_and_payload_hash() {
    let mut h = headers(&signing());
    h.remove("authorization");
    assert_eq!(
        code(check_with(&SimCredentials::default(), &h, BODY, None)),
        (403, "MissingAuthenticationToken")
    );
    h.insert("authorization", "AWS4-HMAC-SHA256 garbage".parse().unwrap());
    assert_eq!(
        code(check_with(&SimCredentials::default(), &h, BODY, None)),
        (400, "IncompleteSignature")
    );
    let mut h = headers(&signing());
    h.remove("x-amz-date");
    assert_eq!(
        code(check_with(&SimCredentials::default(), &h, BODY, None)),
        (400, "IncompleteSignature")
    );
    let signed_hash = headers(&Signing {
        content_sha256: true,
        ..signing()
    });
    assert_eq!(
        code(check_with(
            &SimCredentials::default(),
            &signed_hash,
            b"Action=Other",
            None
        )),
        (400, "XAmzContentSHA256Mismatch")
    );
}

#[test]
fn errors_never_echo_the_secret() {
    for s in [
        Signing {
            secret: "x",
            ..signing()
        },
        Signing { at: 0, ..signing() },
    ] {
        let e = check(&s).unwrap_err();
        assert!(!e.message.contains(DEFAULT_AWS_SECRET_ACCESS_KEY), "{e:?}");
    }
}
