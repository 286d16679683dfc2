//! Tencent API 2.0 signatures (and the API 3.0 "signature v1", the same algorithm), as the
//! "Generate Signature String" page describes them:
//!
//! ```text
//! source    = METHOD + host + path + "?" + join("&", key=value)   over every parameter but
//!             Signature, sorted by key (byte order), values raw (not URL-encoded), and "_"
//!             in a key written as "."
//! Signature = base64(HMAC-SHA256(SecretKey, source)) when SignatureMethod=HmacSHA256,
//!             base64(HMAC-SHA1(SecretKey, source)) otherwise (absent or any other value)
//! ```

use base64::Engine;

use super::{hmac, Hash};

/// The HMAC a request's `SignatureMethod` parameter selects.
pub fn hash_for(signature_method: Option<&str>) -> Hash {
    if signature_method == Some("HmacSHA256") {
        Hash::Sha256
    } else {
        Hash::Sha1
    }
}

/// The source string of a request with decoded query `params`.
pub fn source(method: &str, host: &str, path: &str, params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, &str)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.replace('_', "."), v.as_str()))
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{method}{host}{path}?{}", query.join("&"))
}

/// `base64(HMAC(secret_key, source))`, before URL-encoding.
pub fn signature(secret_key: &str, hash: Hash, source: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac(
        hash,
        secret_key.as_bytes(),
        source.as_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::pairs;
    use super::*;

    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA";
    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA";

    #[test]
    fn l2a_published_vector_hmac_sha1_by_default() {
        // Given out of order: the sort is by byte value, upper case first.
        let params = pairs(&[
            ("limit", "20"),
            ("offset", "0"),
            ("instanceIds.0", "ins-09dx96dg"),
            ("Action", "DescribeInstances"),
            ("Nonce", "11886"),
            ("Region", "gz"),
            ("SecretId", ID),
            ("Timestamp", "1465185768"),
            ("Signature", "NSI3UqqD99b/UJb4tbG/xZpRW64="),
        ]);
        let src = source("GET", "cvm.api.qcloud.com", "/v2/index.php", &params);
        assert_eq!(src, "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886&Region=gz&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1465185768&instanceIds.0=ins-09dx96dg&limit=20&offset=0");
        assert_eq!(
            signature(KEY, hash_for(None), &src),
            "NSI3UqqD99b/UJb4tbG/xZpRW64="
        );
    }

    fn l2bc(method: &str) -> String {
        let params = pairs(&[
            ("Action", "DescribeInstances"),
            ("InstanceIds_0", "ins-09dx96dg"),
            ("Nonce", "11886"),
            ("Region", "ap-guangzhou"),
            ("SecretId", ID),
            ("SignatureMethod", method),
            ("Timestamp", "1465185768"),
        ]);
        source("GET", "cvm.api.qcloud.com", "/v2/index.php", &params)
    }

    #[test]
    fn l2b_published_vector_hmac_sha256() {
        let src = l2bc("HmacSHA256");
        assert_eq!(src, "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Nonce=11886&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&SignatureMethod=HmacSHA256&Timestamp=1465185768");
        assert_eq!(
            signature(KEY, hash_for(Some("HmacSHA256")), &src),
            "0EEm/HtGRr/VJXTAD9tYMth1Bzm3lLHz5RCDv1GdM8s="
        );
    }

    #[test]
    fn l2c_published_vector_explicit_hmac_sha1() {
        let src = l2bc("HmacSHA1");
        assert_eq!(
            signature(KEY, hash_for(Some("HmacSHA1")), &src),
            "nPVnY6njQmwQ8ciqbPl5Qe+Oru4="
        );
    }

    #[test]
    fn v1a_published_vector_api3_query_signature() {
        let params = pairs(&[
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
        let src = source("GET", "cvm.tencentcloudapi.com", "/", &params);
        assert_eq!(src, "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12");
        assert_eq!(
            signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", Hash::Sha1, &src),
            "EliP9YW3pW28FpsEdkXt/+WcGeI="
        );
    }

    #[test]
    fn only_hmac_sha256_selects_sha256() {
        assert_eq!(hash_for(Some("HmacSHA256")), Hash::Sha256);
        for other in [None, Some("HmacSHA1"), Some("hmacsha256"), Some("")] {
            assert_eq!(hash_for(other), Hash::Sha1, "{other:?}");
        }
    }
}
