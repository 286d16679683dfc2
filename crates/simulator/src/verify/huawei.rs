//! Huawei Cloud APIG `SDK-HMAC-SHA256`, as the API Request Signing Guide describes it:
//!
//! ```text
//! CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n hex(sha256(body))
//!   CanonicalURI:         each path segment RFC 3986-encoded, always ending in "/"
//!   CanonicalQueryString: names and values RFC 3986-encoded, sorted by name (then value),
//!                         "name=" kept for an empty value
//!   CanonicalHeaders:     "name:value\n" per signed header, name lower-case, value trimmed,
//!                         sorted by name; SignedHeaders: the names joined by ";"
//! StringToSign  = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(CanonicalRequest))
//! Signature     = hex(HMAC-SHA256(SK, StringToSign))          (no key derivation)
//! Authorization = "SDK-HMAC-SHA256 Access=" AK ", SignedHeaders=" .. ", Signature=" ..
//! ```

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::{authorization_params, hex_lower, hmac, sha256_hex, Hash};
use clouddb_providers::encoding::percent_encode;

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// What the signature covers, as the server received it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The decoded path.
    pub path: &'a str,
    /// The decoded query pairs, in any order.
    pub query: &'a [(String, String)],
    /// The signed headers as received (name, value), in any order and case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

fn canonical_uri(path: &str) -> String {
    let segments: Vec<String> = path.split('/').map(percent_encode).collect();
    let mut uri = segments.join("/");
    if !uri.starts_with('/') {
        uri.insert(0, '/');
    }
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    joined.join("&")
}

fn sorted_headers(headers: &[(String, String)]) -> Vec<(String, &str)> {
    let mut out: Vec<(String, &str)> = headers
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim()))
        .collect();
    out.sort();
    out
}

pub fn canonical_request(req: &Request<'_>) -> String {
    let headers = sorted_headers(req.headers);
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    [
        req.method.to_string(),
        canonical_uri(req.path),
        canonical_query(req.query),
        canonical_headers,
        names.join(";"),
        sha256_hex(req.body),
    ]
    .join("\n")
}

/// The string to sign of a request dated `sdk_date` (`X-Sdk-Date` as sent).
pub fn string_to_sign(req: &Request<'_>, sdk_date: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        sha256_hex(canonical_request(req).as_bytes())
    )
}

/// The hex signature of `req` under `sk`.
pub fn signature(sk: &str, req: &Request<'_>, sdk_date: &str) -> String {
    hex_lower(&hmac(
        Hash::Sha256,
        sk.as_bytes(),
        string_to_sign(req, sdk_date).as_bytes(),
    ))
}

/// Unix seconds of an `X-Sdk-Date` value (`YYYYMMDDTHHMMSSZ`, UTC).
pub fn parse_sdk_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let field = |range, max: i64| digits(range).filter(|v| *v <= max);
    let datetime = DateTime::new(
        i16::try_from(digits(0..4)?).ok()?,
        i8::try_from(field(4..6, 12)?).ok()?,
        i8::try_from(field(6..8, 31)?).ok()?,
        i8::try_from(field(9..11, 23)?).ok()?,
        i8::try_from(field(11..13, 59)?).ok()?,
        i8::try_from(field(13..15, 59)?).ok()?,
        0,
    )
    .ok()?;
    Some(
        datetime
            .to_zoned(TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second(),
    )
}

/// A received `Authorization` header, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub access: String,
    /// Lower-case header names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex` (parts in any
/// order, each exactly once).
pub fn parse_authorization(header: &str) -> Option<Authorization> {
    let [access, signed, signature] =
        authorization_params(header, ALGORITHM, ["Access", "SignedHeaders", "Signature"])?;
    Some(Authorization {
        access: access.to_string(),
        signed_headers: signed
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect(),
        signature: signature.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::pairs;
    use super::*;

    #[test]
    fn ha_published_vector() {
        let headers = pairs(&[
            ("Host", "service.region.example.com"),
            ("X-Sdk-Date", "20191115T033655Z"),
            ("Content-Type", "application/json"),
        ]);
        let query = pairs(&[
            ("marker", "13551d6b-755d-4757-b956-536f674975c0"),
            ("limit", "2"),
        ]);
        let req = Request {
            method: "GET",
            path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
            query: &query,
            headers: &headers,
            body: b"",
        };
        assert_eq!(
            canonical_request(&req),
            "GET\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\nlimit=2&marker=13551d6b-755d-4757-b956-536f674975c0\ncontent-type:application/json\nhost:service.region.example.com\nx-sdk-date:20191115T033655Z\n\ncontent-type;host;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            string_to_sign(&req, "20191115T033655Z"),
            "SDK-HMAC-SHA256\n20191115T033655Z\nb25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
        );
        assert_eq!(
            signature(
                "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
                &req,
                "20191115T033655Z"
            ),
            "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
        let parsed = parse_authorization("SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe").unwrap();
        assert_eq!(parsed.access, "QTWAOYTTINDUT2QVKYUC");
        assert_eq!(
            parsed.signed_headers,
            vec!["content-type", "host", "x-sdk-date"]
        );
        assert_eq!(
            parsed.signature,
            "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
    }

    #[test]
    fn uri_and_query_rules() {
        assert_eq!(canonical_uri("/v3/p/jobs"), "/v3/p/jobs/");
        assert_eq!(canonical_uri("/v3/p/jobs/"), "/v3/p/jobs/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a b/c~d"), "/a%20b/c~d/");
        let q = pairs(&[("id", "a b/c+d"), ("e", ""), ("E", "1")]);
        assert_eq!(canonical_query(&q), "E=1&e=&id=a%20b%2Fc%2Bd");
    }

    #[test]
    fn sdk_dates() {
        assert_eq!(parse_sdk_date("20191115T033655Z"), Some(1_573_789_015));
        assert_eq!(parse_sdk_date("19700101T000000Z"), Some(0));
        for bad in [
            "2019-11-15T03:36:55Z",
            "20191115T033655",
            "20191115 033655Z",
            "20191315T033655Z",
            "20190230T033655Z",
            "20191115T243655Z",
            "2019111+T033655Z",
            "",
        ] {
            assert_eq!(parse_sdk_date(bad), None, "{bad}");
        }
    }
}
