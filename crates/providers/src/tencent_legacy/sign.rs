//! Tencent Cloud API 2.0 request signing (HmacSHA1 / HmacSHA256 over the sorted query).
//!
//! Pure functions used by the client to sign; tested against the published vectors L2-A,
//! L2-B and L2-C (and the API 3.0 "v1" vector V1-A, same algorithm), and against the
//! simulator's independent verifier (`simulator::verify::v2`) by `tests/properties/decoders.rs`.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// The `SignatureMethod` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureMethod {
    HmacSha1,
    HmacSha256,
}

impl SignatureMethod {
    /// The parameter value as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha1 => "HmacSHA1",
            SignatureMethod::HmacSha256 => "HmacSHA256",
        }
    }

    /// Only `HmacSHA256` selects SHA-256; anything else, or no parameter, means HmacSHA1.
    pub fn from_param(value: Option<&str>) -> Self {
        match value {
            Some("HmacSHA256") => SignatureMethod::HmacSha256,
            _ => SignatureMethod::HmacSha1,
        }
    }
}

/// The source string: `METHOD + host + path + "?" + k=v&...` with keys sorted by byte value,
/// raw (not URL-encoded) values, and `_` in keys written as `.`. `Signature` is excluded.
pub fn source_string(
    method: &str,
    host: &str,
    path: &str,
    params: &BTreeMap<String, String>,
) -> String {
    // Re-key first: replacing `_` can change the sort order.
    let normalized: BTreeMap<String, &str> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| (k.replace('_', "."), v.as_str()))
        .collect();
    let query = normalized
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!("{method}{host}{path}?{query}")
}

/// `base64(HMAC(secret_key, source))`, not yet URL-encoded.
pub fn sign(secret_key: &str, method: SignatureMethod, source: &str) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    match method {
        SignatureMethod::HmacSha1 => {
            let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret_key.as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
            mac.update(source.as_bytes());
            engine.encode(mac.finalize().into_bytes())
        }
        SignatureMethod::HmacSha256 => {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key.as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
            mac.update(source.as_bytes());
            engine.encode(mac.finalize().into_bytes())
        }
    }
}

/// Constant-time comparison of two signatures.
pub fn signatures_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const L2_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA";
    const L2_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA";

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn l2a_hmac_sha1_without_signature_method() {
        let p = params(&[
            ("Action", "DescribeInstances"),
            ("Nonce", "11886"),
            ("Region", "gz"),
            ("SecretId", L2_ID),
            ("Timestamp", "1465185768"),
            ("instanceIds.0", "ins-09dx96dg"),
            ("limit", "20"),
            ("offset", "0"),
        ]);
        let src = source_string("GET", "cvm.api.qcloud.com", "/v2/index.php", &p);
        assert_eq!(src, "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886&Region=gz&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1465185768&instanceIds.0=ins-09dx96dg&limit=20&offset=0");
        let sig = sign(L2_KEY, SignatureMethod::from_param(None), &src);
        assert_eq!(sig, "NSI3UqqD99b/UJb4tbG/xZpRW64=");
        let encoded =
            percent_encoding::utf8_percent_encode(&sig, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        assert_eq!(encoded, "NSI3UqqD99b%2FUJb4tbG%2FxZpRW64%3D");
    }

    fn l2bc(method: &str) -> String {
        let p = params(&[
            ("Action", "DescribeInstances"),
            ("InstanceIds_0", "ins-09dx96dg"),
            ("Nonce", "11886"),
            ("Region", "ap-guangzhou"),
            ("SecretId", L2_ID),
            ("SignatureMethod", method),
            ("Timestamp", "1465185768"),
            ("Signature", "ignored"),
        ]);
        source_string("GET", "cvm.api.qcloud.com", "/v2/index.php", &p)
    }

    #[test]
    fn l2b_hmac_sha256() {
        let src = l2bc("HmacSHA256");
        assert_eq!(src, "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Nonce=11886&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&SignatureMethod=HmacSHA256&Timestamp=1465185768");
        assert_eq!(
            sign(
                L2_KEY,
                SignatureMethod::from_param(Some("HmacSHA256")),
                &src
            ),
            "0EEm/HtGRr/VJXTAD9tYMth1Bzm3lLHz5RCDv1GdM8s="
        );
    }

    #[test]
    fn l2c_hmac_sha1_explicit() {
        let src = l2bc("HmacSHA1");
        assert_eq!(
            sign(L2_KEY, SignatureMethod::from_param(Some("HmacSHA1")), &src),
            "nPVnY6njQmwQ8ciqbPl5Qe+Oru4="
        );
    }

    #[test]
    fn v1a_api3_query_signature_same_algorithm() {
        let p = params(&[
            ("Action", "DescribeInstances"),
            ("InstanceIds.0", "ins-09dx96dg"),
            ("Limit", "20"),
            ("Nonce", "11886"),
            ("Offset", "0"),
            ("Region", "ap-guangzhou"),
            ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"),
            ("Timestamp", "1465185768"),
            ("Version", "2017-03-12"),
        ]);
        let src = source_string("GET", "cvm.tencentcloudapi.com", "/", &p);
        assert_eq!(
            sign(
                "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
                SignatureMethod::HmacSha1,
                &src
            ),
            "EliP9YW3pW28FpsEdkXt/+WcGeI="
        );
    }

    #[test]
    fn constant_time_compare() {
        assert!(signatures_match("abc", "abc"));
        assert!(!signatures_match("abc", "abd"));
        assert!(!signatures_match("abc", "abcd"));
    }
}
