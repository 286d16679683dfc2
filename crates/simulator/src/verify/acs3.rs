//! Alibaba Cloud V3 signature, `ACS3-HMAC-SHA256`, as the "V3 request body & signature
//! mechanism" page describes it:
//!
//! ```text
//! CanonicalRequest = HTTPRequestMethod \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedRequestPayload
//!   CanonicalQueryString: each name and value RFC 3986-encoded, sorted by name, "name=value" joined by "&"
//!   CanonicalHeaders:     "name:value\n" per signed header, name lower-case, value trimmed, sorted by name
//!   HashedRequestPayload: the x-acs-content-sha256 value, hex(sha256(body))
//! StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
//! Signature        = hex(HMAC-SHA256(AccessKeySecret, StringToSign))
//! Authorization    = "ACS3-HMAC-SHA256 Credential=" AccessKeyId ",SignedHeaders=" names ",Signature=" hex
//! ```
//!
//! The server side: what it recomputes from a request as received.

use std::collections::BTreeMap;

use clouddb_providers::encoding::percent_encode;

use super::{authorization_params, hex_lower, hmac, sha256_hex, Hash};

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// A received `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// Lower-case names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=a;b,Signature=..`; `None` when a
/// part is missing, repeated or empty.
pub fn parse_authorization(header: &str) -> Option<Authorization> {
    let [id, names, signature] = authorization_params(
        header,
        ALGORITHM,
        ["Credential", "SignedHeaders", "Signature"],
    )?;
    let signed_headers: Vec<String> = names
        .split(';')
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    if id.is_empty() || signature.is_empty() || signed_headers.iter().any(String::is_empty) {
        return None;
    }
    Some(Authorization {
        access_key_id: id.to_string(),
        signed_headers,
        signature: signature.to_string(),
    })
}

/// What the signature covers, as received.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded), `/` for RPC APIs.
    pub path: &'a str,
    /// Decoded query pairs, in any order.
    pub query: &'a [(String, String)],
    /// The signed headers (name, value) as received.
    pub headers: &'a [(String, String)],
    /// The payload hash the request claims (`x-acs-content-sha256`).
    pub payload_hash: &'a str,
}

/// The canonical query string of decoded `pairs`.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    // Sorted by encoded name (then value), not as "name=value" strings: "a" comes before
    // "a1" although "a1=" sorts before "a=".
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn canonical_request(req: &Request<'_>) -> String {
    let headers: BTreeMap<String, String> = req
        .headers
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let names: Vec<&str> = headers.keys().map(String::as_str).collect();
    [
        req.method,
        req.path,
        &canonical_query(req.query),
        &canonical_headers,
        &names.join(";"),
        req.payload_hash,
    ]
    .join("\n")
}

pub fn string_to_sign(req: &Request<'_>) -> String {
    format!(
        "{ALGORITHM}\n{}",
        sha256_hex(canonical_request(req).as_bytes())
    )
}

/// The hex signature of `req` under `secret`.
pub fn signature(secret: &str, req: &Request<'_>) -> String {
    hex_lower(&hmac(
        Hash::Sha256,
        secret.as_bytes(),
        string_to_sign(req).as_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::pairs;
    use super::*;

    #[test]
    fn published_vector() {
        let empty = sha256_hex(b"");
        let query = pairs(&[
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
            ("RegionId", "cn-shanghai"),
        ]);
        let headers = pairs(&[
            ("host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-content-sha256", &empty),
            ("x-acs-date", "2023-10-26T10:22:32Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ("x-acs-version", "2014-05-26"),
        ]);
        let req = Request {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            payload_hash: &empty,
        };
        assert_eq!(
            sha256_hex(canonical_request(&req).as_bytes()),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            signature("YourAccessKeySecret", &req),
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    #[test]
    fn query_is_sorted_by_name() {
        let q = pairs(&[("a1", "x"), ("a", "y z"), ("B", "~*")]);
        assert_eq!(canonical_query(&q), "B=~%2A&a=y%20z&a1=x");
    }

    #[test]
    fn authorization_headers() {
        let a = parse_authorization(
            "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;X-Acs-Date,Signature=abc",
        )
        .unwrap();
        assert_eq!(a.access_key_id, "AK");
        assert_eq!(a.signed_headers, ["host", "x-acs-date"]);
        assert_eq!(a.signature, "abc");
        for bad in [
            "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host",
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=abc",
            "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;;x,Signature=abc",
            "TC3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=abc",
            "",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }
}
