//! Huawei Cloud APIG AK/SK request signing, `SDK-HMAC-SHA256`.
//!
//! Pure functions used by the client to sign; tested against the published vector H-A, and
//! against the simulator's independent verifier (`simulator::verify::huawei`) by
//! `tests/properties/decoders.rs`. Unlike TC3/SigV4 there is no key derivation: the SK signs
//! directly.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The `X-Sdk-Date` header format, UTC.
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The parts of a request that the signature covers.
#[derive(Clone, Debug)]
pub struct SignableRequest<'a> {
    pub method: &'a str,
    /// Decoded path, e.g. `/v3/0483b6b1/jobs`.
    pub path: &'a str,
    /// Decoded query pairs, in any order.
    pub query: &'a [(String, String)],
    /// Headers to sign (name, value), in any order and case. Must include `host` and
    /// `x-sdk-date`.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// RFC 3986 unreserved characters are kept; everything else is `%XY` (upper-case hex).
fn encode(s: &str) -> String {
    crate::encoding::percent_encode(s)
}

/// Path with each segment encoded and a trailing `/` (the signing rule, even when the
/// request itself has none).
pub fn canonical_uri(path: &str) -> String {
    let encoded = path.split('/').map(encode).collect::<Vec<_>>().join("/");
    let mut uri = if encoded.starts_with('/') {
        encoded
    } else {
        format!("/{encoded}")
    };
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Query pairs sorted by encoded key then value, `k=` kept for empty values.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> =
        query.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn normalized_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    out.sort();
    out
}

/// `content-type;host;x-sdk-date` style list of the signed header names.
pub fn signed_headers(headers: &[(String, String)]) -> String {
    normalized_headers(headers)
        .into_iter()
        .map(|(k, _)| k)
        .collect::<Vec<_>>()
        .join(";")
}

/// The canonical request.
pub fn canonical_request(req: &SignableRequest<'_>) -> String {
    let headers = normalized_headers(req.headers);
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(req.path),
        canonical_query(req.query),
        canonical_headers,
        signed_headers(req.headers),
        hex::encode(Sha256::digest(req.body))
    )
}

/// The string to sign for a request dated `sdk_date` (`YYYYMMDDTHHMMSSZ`).
pub fn string_to_sign(req: &SignableRequest<'_>, sdk_date: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request(req).as_bytes()))
    )
}

/// Hex `HMAC_SHA256(SK, StringToSign)`.
pub fn signature(sk: &str, string_to_sign: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(sk.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The full `Authorization` header value.
pub fn authorization(ak: &str, sk: &str, req: &SignableRequest<'_>, sdk_date: &str) -> String {
    format!(
        "{ALGORITHM} Access={ak}, SignedHeaders={}, Signature={}",
        signed_headers(req.headers),
        signature(sk, &string_to_sign(req, sdk_date))
    )
}

/// The parts of a received `Authorization` header (for verification).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub access: String,
    /// Lower-case signed header names.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`.
pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let rest = header.trim().strip_prefix(ALGORITHM)?.trim_start();
    let (mut access, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k.trim() {
            "Access" => access = Some(v.trim().to_string()),
            "SignedHeaders" => signed = Some(v.trim().to_string()),
            "Signature" => sig = Some(v.trim().to_string()),
            _ => return None,
        }
    }
    Some(ParsedAuthorization {
        access: access?,
        signed_headers: signed?
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect(),
        signature: sig?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ha_headers() -> Vec<(String, String)> {
        vec![
            ("Host".into(), "service.region.example.com".into()),
            ("X-Sdk-Date".into(), "20191115T033655Z".into()),
            ("Content-Type".into(), "application/json".into()),
        ]
    }

    fn ha_query() -> Vec<(String, String)> {
        vec![
            (
                "marker".into(),
                "13551d6b-755d-4757-b956-536f674975c0".into(),
            ),
            ("limit".into(), "2".into()),
        ]
    }

    #[test]
    fn ha_published_vector() {
        let headers = ha_headers();
        let query = ha_query();
        let req = SignableRequest {
            method: "GET",
            path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
            query: &query,
            headers: &headers,
            body: b"",
        };
        assert_eq!(canonical_request(&req), "GET\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\nlimit=2&marker=13551d6b-755d-4757-b956-536f674975c0\ncontent-type:application/json\nhost:service.region.example.com\nx-sdk-date:20191115T033655Z\n\ncontent-type;host;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(string_to_sign(&req, "20191115T033655Z"), "SDK-HMAC-SHA256\n20191115T033655Z\nb25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a");
        assert_eq!(
            authorization("QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", &req, "20191115T033655Z"),
            "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
    }

    #[test]
    fn uri_and_query_encoding_rules() {
        assert_eq!(canonical_uri("/v3/p/jobs"), "/v3/p/jobs/");
        assert_eq!(canonical_uri("/v3/p/jobs/"), "/v3/p/jobs/");
        assert_eq!(canonical_uri("/a b/c"), "/a%20b/c/");
        let q = vec![
            ("id".to_string(), "a b/c".to_string()),
            ("e".to_string(), String::new()),
        ];
        assert_eq!(canonical_query(&q), "e=&id=a%20b%2Fc");
    }

    #[test]
    fn parses_what_it_writes() {
        let headers = ha_headers();
        let query = ha_query();
        let req = SignableRequest {
            method: "GET",
            path: "/v1/x",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let header = authorization("AK", "SK", &req, "20191115T033655Z");
        let parsed = parse_authorization(&header).unwrap();
        assert_eq!(parsed.access, "AK");
        assert_eq!(
            parsed.signed_headers,
            vec!["content-type", "host", "x-sdk-date"]
        );
        assert_eq!(parsed.signature.len(), 64);
        assert_eq!(parse_authorization("SDK-HMAC-SHA256 Access=AK"), None);
    }
}
