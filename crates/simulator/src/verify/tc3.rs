//! Tencent Cloud API 3.0 `TC3-HMAC-SHA256`, as the "Signature v3" page describes it:
//!
//! ```text
//! CanonicalRequest = Method \n "/" \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n hex(sha256(payload))
//!   CanonicalHeaders: "key:value\n" per signed header, key and value lower-case and trimmed,
//!                     sorted by key; SignedHeaders: the keys joined by ";"
//! StringToSign     = "TC3-HMAC-SHA256" \n X-TC-Timestamp \n Date/Service/tc3_request \n hex(sha256(CanonicalRequest))
//! SecretDate       = HMAC-SHA256("TC3" + SecretKey, Date)      (Date: YYYY-MM-DD of the timestamp in UTC)
//! SecretService    = HMAC-SHA256(SecretDate, Service)
//! SecretSigning    = HMAC-SHA256(SecretService, "tc3_request")
//! Signature        = hex(HMAC-SHA256(SecretSigning, StringToSign))
//! Authorization    = "TC3-HMAC-SHA256 Credential=" SecretId "/" Date "/" Service "/tc3_request, SignedHeaders=" .. ", Signature=" ..
//! ```

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{authorization_params, hex_lower, hmac, sha256_hex, Hash};

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
const SCOPE_TERMINATOR: &str = "tc3_request";

/// What the signature covers, as the server received it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The canonical query string (empty for POST).
    pub query: &'a str,
    /// The signed headers as received (name, value), in any order and case.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
    pub service: &'a str,
    /// `X-TC-Timestamp`, Unix seconds.
    pub timestamp: i64,
}

/// `YYYY-MM-DD` of `timestamp` in UTC; `None` outside the years 0-9999.
pub fn utc_date(timestamp: i64) -> Option<String> {
    let date = Timestamp::from_second(timestamp)
        .ok()?
        .to_zoned(TimeZone::UTC)
        .date();
    (0..=9999)
        .contains(&date.year())
        .then(|| format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day()))
}

fn sorted_headers(req: &Request<'_>) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_lowercase()))
        .collect();
    headers.sort();
    headers
}

/// The `SignedHeaders` list for `req`.
pub fn signed_headers(req: &Request<'_>) -> String {
    sorted_headers(req)
        .into_iter()
        .map(|(k, _)| k)
        .collect::<Vec<_>>()
        .join(";")
}

pub fn canonical_request(req: &Request<'_>) -> String {
    let headers: String = sorted_headers(req)
        .iter()
        .map(|(k, v)| format!("{k}:{v}\n"))
        .collect();
    [
        req.method,
        "/",
        req.query,
        &headers,
        &signed_headers(req),
        &sha256_hex(req.payload),
    ]
    .join("\n")
}

pub fn string_to_sign(req: &Request<'_>) -> Option<String> {
    let date = utc_date(req.timestamp)?;
    Some(
        [
            ALGORITHM.to_string(),
            req.timestamp.to_string(),
            format!("{date}/{}/{SCOPE_TERMINATOR}", req.service),
            sha256_hex(canonical_request(req).as_bytes()),
        ]
        .join("\n"),
    )
}

/// The hex signature of `req` under `secret_key`; `None` when the timestamp has no date.
pub fn signature(secret_key: &str, req: &Request<'_>) -> Option<String> {
    let date = utc_date(req.timestamp)?;
    let secret_date = hmac(
        Hash::Sha256,
        format!("TC3{secret_key}").as_bytes(),
        date.as_bytes(),
    );
    let secret_service = hmac(Hash::Sha256, &secret_date, req.service.as_bytes());
    let secret_signing = hmac(Hash::Sha256, &secret_service, SCOPE_TERMINATOR.as_bytes());
    let to_sign = string_to_sign(req)?;
    Some(hex_lower(&hmac(
        Hash::Sha256,
        &secret_signing,
        to_sign.as_bytes(),
    )))
}

/// A received `Authorization` header, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    /// Lower-case header names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b,
/// Signature=hex` (parts in any order, each exactly once).
pub fn parse_authorization(header: &str) -> Option<Authorization> {
    let [credential, signed, signature] = authorization_params(
        header,
        ALGORITHM,
        ["Credential", "SignedHeaders", "Signature"],
    )?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [secret_id, date, service, SCOPE_TERMINATOR] = scope.as_slice() else {
        return None;
    };
    Some(Authorization {
        secret_id: secret_id.to_string(),
        date: date.to_string(),
        service: service.to_string(),
        signed_headers: signed.split(';').map(|h| h.trim().to_lowercase()).collect(),
        signature: signature.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// T3-A and T3-A' ("签名方法 v3", POST JSON).
    const T3A_PAYLOAD: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const T3A_HEADERS: &[(&str, &str)] = &[
        ("Host", "cvm.tencentcloudapi.com"),
        ("Content-Type", "application/json; charset=utf-8"),
    ];

    fn t3a() -> Request<'static> {
        Request {
            method: "POST",
            query: "",
            headers: T3A_HEADERS,
            payload: T3A_PAYLOAD.as_bytes(),
            service: "cvm",
            timestamp: 1551113065,
        }
    }

    #[test]
    fn t3a_published_vector() {
        let req = t3a();
        assert_eq!(
            canonical_request(&req),
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            string_to_sign(&req).unwrap(),
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", &req).unwrap(),
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        assert_eq!(
            signature("Gu5t9xGARNpq86cd98joQYCN3*******", &req).unwrap(),
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c",
            "T3-A': the masked key used literally"
        );
    }

    #[test]
    fn t3b_published_get_vector() {
        let headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("host", "cvm.tencentcloudapi.com"),
        ];
        let req = Request {
            method: "GET",
            query: "Limit=10&Offset=0",
            headers: &headers,
            payload: b"",
            service: "cvm",
            timestamp: 1539084154,
        };
        assert_eq!(
            string_to_sign(&req).unwrap(),
            "TC3-HMAC-SHA256\n1539084154\n2018-10-09/cvm/tc3_request\n91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7"
        );
        assert_eq!(
            signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", &req).unwrap(),
            "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474"
        );
    }

    #[test]
    fn the_scope_date_is_utc() {
        // 2019-02-25T16:44:25Z is already the 26th in Beijing.
        assert_eq!(utc_date(1551113065).as_deref(), Some("2019-02-25"));
        assert_eq!(utc_date(0).as_deref(), Some("1970-01-01"));
        assert_eq!(utc_date(i64::MAX), None);
    }

    #[test]
    fn parses_the_published_header() {
        let parsed = parse_authorization("TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168").unwrap();
        assert_eq!(
            parsed,
            Authorization {
                secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE".into(),
                date: "2019-02-25".into(),
                service: "cvm".into(),
                signed_headers: vec!["content-type".into(), "host".into()],
                signature: "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
                    .into(),
            }
        );
        for bad in [
            "Basic abc",
            "TC3-HMAC-SHA256Credential=a/b/c/tc3_request, SignedHeaders=host, Signature=x",
            "TC3-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=x",
            "TC3-HMAC-SHA256 Credential=a/b/c/other, SignedHeaders=host, Signature=x",
            "TC3-HMAC-SHA256 Credential=a/b/c/tc3_request, Signature=x",
            "TC3-HMAC-SHA256 Credential=a/b/c/tc3_request, SignedHeaders=host, Signature=x, Signature=y",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }
}
