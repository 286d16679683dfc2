//! The simulator's own signature arithmetic, written from each provider's published
//! algorithm description and sharing no code with the client signers in
//! [`clouddb_providers`]: a signing bug in the client then shows up as a rejected request
//! instead of hiding on both sides. Each algorithm is tested on the published vectors.
//!
//! - [`tc3`]: Tencent Cloud API 3.0, `TC3-HMAC-SHA256`.
//! - [`v2`]: Tencent API 2.0 (and API 3.0 "v1"), HmacSHA256/HmacSHA1 over the sorted query.
//! - [`huawei`]: Huawei Cloud APIG, `SDK-HMAC-SHA256`.
//! - [`acs3`]: Alibaba Cloud V3, `ACS3-HMAC-SHA256`.
//! - [`sigv4`]: AWS Signature Version 4, `AWS4-HMAC-SHA256`.
//!
//! Only the RFC 3986 percent-encoding set is shared with the clients
//! ([`clouddb_providers::encoding`], itself pinned by its own test).

pub mod acs3;
pub mod huawei;
pub mod jwt;
pub mod sigv4;
pub mod tc3;
pub mod v2;

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The hash under an HMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
}

/// `HMAC-<hash>(key, message)`.
pub fn hmac(hash: Hash, key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length (longer ones are hashed), so keying cannot fail.
    match hash {
        Hash::Sha1 => {
            let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        Hash::Sha256 => {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
    }
}

/// Lower-case hex of `bytes`.
pub fn hex_lower(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex_lower(&Sha256::digest(data))
}

/// Equality that takes the same time wherever the first difference is (for signatures and
/// tokens).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The values of an `Authorization` header `<algorithm> name=value, name=value, ...`, in
/// the order of `names`; `None` unless every one of `names` is given exactly once and
/// nothing else is.
pub fn authorization_params<'a, const N: usize>(
    header: &'a str,
    algorithm: &str,
    names: [&str; N],
) -> Option<[&'a str; N]> {
    let params = header.trim().strip_prefix(algorithm)?;
    if !params.starts_with(' ') {
        return None;
    }
    let mut values = [None; N];
    for part in params.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        let slot = names.iter().position(|n| *n == name.trim())?;
        if values[slot].replace(value.trim()).is_some() {
            return None;
        }
    }
    let mut found = [""; N];
    for (out, value) in found.iter_mut().zip(values) {
        *out = value?;
    }
    Some(found)
}

/// Owned `(name, value)` pairs, for the tests' query and header lists.
#[cfg(test)]
fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_and_rfc_2202() {
        // RFC 4231 test case 2 and RFC 2202 test case 2 (key "Jefe").
        let msg = b"what do ya want for nothing?";
        assert_eq!(
            hex_lower(&hmac(Hash::Sha256, b"Jefe", msg)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex_lower(&hmac(Hash::Sha1, b"Jefe", msg)),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn authorization_params_are_each_given_exactly_once() {
        let names = ["A", "B"];
        assert_eq!(
            authorization_params(" X B = 2 , A=1 ", "X", names),
            Some(["1", "2"])
        );
        for bad in [
            "X A=1",
            "XA=1, B=2",
            "Y A=1, B=2",
            "X A=1, B=2, C=3",
            "X A=1, B=2, A=3",
            "X A=1, B",
            "X ",
        ] {
            assert_eq!(authorization_params(bad, "X", names), None, "{bad}");
        }
    }

    #[test]
    fn same_compares_whole_strings() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
        assert!(same("", ""));
    }
}
