//! Alibaba Cloud V3 request signing, `ACS3-HMAC-SHA256`.
//!
//! ```text
//! CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(sha256(body))
//!   CanonicalQuery:   RFC 3986-encoded name=value pairs sorted by name, joined by "&"
//!   CanonicalHeaders: "name:value\n" per signed header (name lower-case, value trimmed), sorted
//! StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
//! Signature        = hex(HMAC-SHA256(AccessKeySecret, StringToSign))
//! Authorization    = "ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<names>,Signature=<hex>"
//! ```
//!
//! No official Rust signer exists; these pure functions are tested byte for byte against the
//! published vector and, by `tests/properties/decoders.rs`, against the simulator's
//! independent verifier (`simulator::verify::acs3`).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::encoding::percent_encode;

/// The algorithm name in the `Authorization` header and the string to sign.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";
/// `x-acs-date` format: ISO 8601 in UTC.
pub const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Lower-case hex SHA-256 of `data` (also the `x-acs-content-sha256` value).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// The parts of a request the signature covers.
#[derive(Clone, Copy, Debug)]
pub struct SignableRequest<'a> {
    pub method: &'a str,
    /// The percent-encoded path as sent (`/` for RPC APIs).
    pub path: &'a str,
    /// Query parameters, unencoded, in any order.
    pub query: &'a [(String, String)],
    /// Signed headers (name, value), in any order and case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The canonical query string: every name and value RFC 3986-encoded (`%20` for a space,
/// `~` kept), sorted by encoded name then value. This is also the query the client sends.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn sorted_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    out.sort();
    out
}

/// `SignedHeaders`: the lower-case header names, sorted, joined by `;`.
pub fn signed_headers(headers: &[(String, String)]) -> String {
    sorted_headers(headers)
        .into_iter()
        .map(|(k, _)| k)
        .collect::<Vec<_>>()
        .join(";")
}

/// The canonical request.
pub fn canonical_request(req: &SignableRequest<'_>) -> String {
    let headers: String = sorted_headers(req.headers)
        .iter()
        .map(|(k, v)| format!("{k}:{v}\n"))
        .collect();
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        req.path,
        canonical_query(req.query),
        headers,
        signed_headers(req.headers),
        sha256_hex(req.body)
    )
}

/// The string to sign.
pub fn string_to_sign(req: &SignableRequest<'_>) -> String {
    format!(
        "{ALGORITHM}\n{}",
        sha256_hex(canonical_request(req).as_bytes())
    )
}

/// The lower-case hex signature.
pub fn signature(secret: &str, req: &SignableRequest<'_>) -> String {
    hex::encode(hmac_sha256(
        secret.as_bytes(),
        string_to_sign(req).as_bytes(),
    ))
}

/// The `Authorization` header value.
pub fn authorization(access_key_id: &str, secret: &str, req: &SignableRequest<'_>) -> String {
    format!(
        "{ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={}",
        signed_headers(req.headers),
        signature(secret, req)
    )
}

/// The signature in an `Authorization` header this module built (to scrub it from errors).
pub fn signature_of(authorization: &str) -> Option<&str> {
    authorization
        .rsplit_once("Signature=")
        .map(|(_, s)| s.trim())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The published V3 example (ECS RunInstances, POST with the parameters in the query).
    #[test]
    fn published_vector() {
        let empty = sha256_hex(b"");
        let query = pairs(&[
            ("RegionId", "cn-shanghai"),
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
        ]);
        let headers = pairs(&[
            ("x-acs-version", "2014-05-26"),
            ("host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-date", "2023-10-26T10:22:32Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ("x-acs-content-sha256", &empty),
        ]);
        let req = SignableRequest {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            body: b"",
        };
        assert_eq!(
            canonical_query(&query),
            "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
        );
        assert_eq!(
            sha256_hex(canonical_request(&req).as_bytes()),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            signature("YourAccessKeySecret", &req),
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        let auth = authorization("YourAccessKeyId", "YourAccessKeySecret", &req);
        assert_eq!(
            auth,
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;\
             x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        assert_eq!(
            signature_of(&auth),
            Some("06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0")
        );
    }

    #[test]
    fn query_encoding_is_rfc_3986() {
        let query = pairs(&[("b", "a b~*+/"), ("a", "é"), ("TaskId", "t-1,t-2")]);
        assert_eq!(
            canonical_query(&query),
            "TaskId=t-1%2Ct-2&a=%C3%A9&b=a%20b~%2A%2B%2F"
        );
        assert_eq!(canonical_query(&[]), "");
    }

    #[test]
    fn every_signed_part_changes_the_signature() {
        let query = pairs(&[("RegionId", "cn-hangzhou")]);
        let headers = pairs(&[("host", "rds.aliyuncs.com"), ("x-acs-date", "d")]);
        let base = SignableRequest {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let sig = signature("k", &base);
        let other_query = pairs(&[("RegionId", "cn-beijing")]);
        let other_headers = pairs(&[("host", "rds.aliyuncs.com"), ("x-acs-date", "e")]);
        for changed in [
            SignableRequest {
                method: "GET",
                ..base
            },
            SignableRequest {
                path: "/x/",
                ..base
            },
            SignableRequest {
                query: &other_query,
                ..base
            },
            SignableRequest {
                headers: &other_headers,
                ..base
            },
            SignableRequest { body: b"x", ..base },
        ] {
            assert_ne!(signature("k", &changed), sig, "{changed:?}");
        }
        assert_ne!(signature("k2", &base), sig);
    }
}
