//! The gateway checks in order, on requests signed with the verifier's own arithmetic (the
//! client's signer is checked against it in `tests/properties` and `tests/providers`).

use http::{HeaderMap, HeaderValue};

use super::*;
use crate::auth::{KeyPair, TemporaryKey};

const NOW: i64 = 1_714_550_400; // 2024-05-01T08:00:00Z
const DATE: &str = "2024-05-01T08:00:00Z";

fn creds() -> SimCredentials {
    SimCredentials {
        alibaba: vec![KeyPair {
            id: "AK".into(),
            secret: "SK".into(),
        }],
        alibaba_temporary: vec![TemporaryKey {
            id: "STS.AK".into(),
            secret: "STS-SK".into(),
            token: "tok".into(),
        }],
        ..SimCredentials::default()
    }
}

struct Req {
    headers: HeaderMap,
    query: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A signed request; `edit` changes headers after signing.
fn signed(id: &str, secret: &str, nonce: &str, token: Option<&str>, date: &str) -> Req {
    let query = vec![("RegionId".to_string(), "cn-hangzhou".to_string())];
    let empty = sha256_hex(b"");
    let mut list = vec![
        ("host".to_string(), "127.0.0.1:9".to_string()),
        (
            "x-acs-action".to_string(),
            "DescribeHistoryTasks".to_string(),
        ),
        ("x-acs-version".to_string(), "2014-08-15".to_string()),
        ("x-acs-date".to_string(), date.to_string()),
        ("x-acs-signature-nonce".to_string(), nonce.to_string()),
        ("x-acs-content-sha256".to_string(), empty.clone()),
    ];
    if let Some(t) = token {
        list.push(("x-acs-security-token".to_string(), t.to_string()));
    }
    let sig = acs3::signature(
        secret,
        &acs3::Request {
            method: "POST",
            path: "/",
            query: &query,
            headers: &list,
            payload_hash: &empty,
        },
    );
    let names: Vec<&str> = {
        let mut n: Vec<&str> = list.iter().map(|(k, _)| k.as_str()).collect();
        n.sort();
        n
    };
    let mut headers = HeaderMap::new();
    for (k, v) in &list {
        headers.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let auth = format!(
        "ACS3-HMAC-SHA256 Credential={id},SignedHeaders={},Signature={sig}",
        names.join(";")
    );
    headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
    Req {
        headers,
        query,
        body: Vec::new(),
    }
}

fn check(req: &Req, nonces: &mut NonceCache) -> Result<(), AlibabaError> {
    verify_alibaba(
        &creds(),
        &AlibabaInput {
            method: "POST",
            path: "/",
            query: &req.query,
            headers: &req.headers,
            host: "127.0.0.1:9",
            body: &req.body,
        },
        NOW,
        nonces,
    )
}

fn code(r: Result<(), AlibabaError>) -> (u16, &'static str) {
    let e = r.unwrap_err();
    (e.status, e.code)
}

#[test]
fn a_signed_request_passes_once() {
    let mut nonces = NonceCache::default();
    let req = signed("AK", "SK", "n1", None, DATE);
    assert_eq!(check(&req, &mut nonces), Ok(()));
    assert_eq!(code(check(&req, &mut nonces)), (400, "SignatureNonceUsed"));
    let sts = signed("STS.AK", "STS-SK", "n2", Some("tok"), DATE);
    assert_eq!(check(&sts, &mut nonces), Ok(()));
}

#[test]
fn each_check_has_its_code() {
    let mut nonces = NonceCache::default();
    let mut n = 0;
    let mut nonce = || {
        n += 1;
        format!("n{n}")
    };
    assert_eq!(
        code(check(
            &signed("nobody", "SK", &nonce(), None, DATE),
            &mut nonces
        )),
        (404, "InvalidAccessKeyId.NotFound")
    );
    assert_eq!(
        code(check(
            &signed("AK", "wrong", &nonce(), None, DATE),
            &mut nonces
        )),
        (400, "SignatureDoesNotMatch")
    );
    assert_eq!(
        code(check(
            &signed("AK", "SK", &nonce(), None, "2024-05-01T08:16:00Z"),
            &mut nonces
        )),
        (400, "IllegalTimestamp")
    );
    assert_eq!(
        code(check(
            &signed("AK", "SK", &nonce(), None, "2024-05-01 08:00:00"),
            &mut nonces
        )),
        (400, "IllegalTimestamp")
    );
    assert_eq!(
        check(
            &signed("AK", "SK", &nonce(), None, "2024-05-01T07:46:00Z"),
            &mut nonces
        ),
        Ok(()),
        "14 minutes off is inside the window"
    );
    assert_eq!(
        code(check(
            &signed("STS.AK", "STS-SK", &nonce(), None, DATE),
            &mut nonces
        )),
        (400, "MissingSecurityToken")
    );
    assert_eq!(
        code(check(
            &signed("STS.AK", "STS-SK", &nonce(), Some("other"), DATE),
            &mut nonces
        )),
        (400, "InvalidSecurityToken.MismatchWithAccessKey")
    );
    assert_eq!(
        code(check(
            &signed("AK", "SK", &nonce(), Some("tok"), DATE),
            &mut nonces
        )),
        (400, "InvalidSecurityToken.MismatchWithAccessKey")
    );
    let mut body = signed("AK", "SK", &nonce(), None, DATE);
    body.body = b"x=1".to_vec();
    assert_eq!(
        code(check(&body, &mut nonces)),
        (400, "SignatureDoesNotMatch")
    );
    let mut tampered = signed("AK", "SK", &nonce(), None, DATE);
    tampered.query[0].1 = "cn-beijing".into();
    assert_eq!(
        code(check(&tampered, &mut nonces)),
        (400, "SignatureDoesNotMatch")
    );
}

#[test]
fn missing_and_unsigned_pieces_are_incomplete() {
    let mut nonces = NonceCache::default();
    let mut no_auth = signed("AK", "SK", "a", None, DATE);
    no_auth.headers.remove("authorization");
    assert_eq!(
        code(check(&no_auth, &mut nonces)),
        (400, "IncompleteSignature")
    );
    let mut bad_auth = signed("AK", "SK", "b", None, DATE);
    bad_auth.headers.insert(
        "authorization",
        HeaderValue::from_static("ACS3-HMAC-SHA256 x"),
    );
    assert_eq!(
        code(check(&bad_auth, &mut nonces)),
        (400, "IncompleteSignature")
    );
    for name in [
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ] {
        let mut missing = signed("AK", "SK", "c", None, DATE);
        missing.headers.remove(name);
        assert_eq!(
            code(check(&missing, &mut nonces)),
            (400, "IncompleteSignature"),
            "{name}"
        );
    }
    let mut extra = signed("AK", "SK", "d", None, DATE);
    extra
        .headers
        .insert("x-acs-extra", HeaderValue::from_static("unsigned"));
    assert_eq!(
        code(check(&extra, &mut nonces)),
        (400, "IncompleteSignature")
    );
}
