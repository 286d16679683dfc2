//! Tencent Cloud API 3.0 request signing, `TC3-HMAC-SHA256`.
//!
//! Pure functions used by the client to sign. Tested byte for byte against the published
//! vectors, and against the simulator's independent verifier (`simulator::verify::tc3`) by
//! `tests/properties/decoders.rs`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name in the `Authorization` header and string to sign.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The only signed headers this client uses (Tencent's recommended set).
pub const SIGNED_HEADERS: &str = "content-type;host";

/// The parts of a request that the signature covers.
#[derive(Clone, Debug)]
pub struct Tc3Request<'a> {
    pub method: &'a str,
    /// Host header value, e.g. `cdb.tencentcloudapi.com`.
    pub host: &'a str,
    /// Canonical query string (GET); empty for POST.
    pub query: &'a str,
    pub content_type: &'a str,
    pub payload: &'a [u8],
    /// Service name, the first label of the host (`cdb`).
    pub service: &'a str,
    /// `X-TC-Timestamp`, seconds since the epoch.
    pub timestamp: i64,
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// `YYYY-MM-DD` of the timestamp in UTC (not Beijing time: the doc warns about this).
pub fn utc_date(timestamp: i64) -> String {
    jiff::Timestamp::from_second(timestamp)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| "1970-01-01".to_string())
}

/// The canonical request (method, URI `/`, query, signed headers, payload hash).
pub fn canonical_request(req: &Tc3Request<'_>) -> String {
    format!(
        "{}\n/\n{}\ncontent-type:{}\nhost:{}\n\n{}\n{}",
        req.method,
        req.query,
        req.content_type.trim().to_ascii_lowercase(),
        req.host.trim().to_ascii_lowercase(),
        SIGNED_HEADERS,
        sha256_hex(req.payload)
    )
}

/// The credential scope `<date>/<service>/tc3_request`.
pub fn credential_scope(req: &Tc3Request<'_>) -> String {
    format!("{}/{}/tc3_request", utc_date(req.timestamp), req.service)
}

/// The string to sign.
pub fn string_to_sign(req: &Tc3Request<'_>) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        req.timestamp,
        credential_scope(req),
        sha256_hex(canonical_request(req).as_bytes())
    )
}

/// The hex signature.
pub fn signature(secret_key: &str, req: &Tc3Request<'_>) -> String {
    let secret_date = hmac_sha256(
        format!("TC3{secret_key}").as_bytes(),
        utc_date(req.timestamp).as_bytes(),
    );
    let secret_service = hmac_sha256(&secret_date, req.service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    hex::encode(hmac_sha256(&secret_signing, string_to_sign(req).as_bytes()))
}

/// The full `Authorization` header value.
pub fn authorization(secret_id: &str, secret_key: &str, req: &Tc3Request<'_>) -> String {
    format!(
        "{ALGORITHM} Credential={secret_id}/{}, SignedHeaders={SIGNED_HEADERS}, Signature={}",
        credential_scope(req),
        signature(secret_key, req)
    )
}

/// The parts of a received `Authorization` header (for verification).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    pub signed_headers: String,
    pub signature: String,
}

/// Parses `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=..., Signature=...`.
pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let rest = header.trim().strip_prefix(ALGORITHM)?.trim_start();
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k.trim() {
            "Credential" => credential = Some(v.trim()),
            "SignedHeaders" => signed_headers = Some(v.trim()),
            "Signature" => signature = Some(v.trim()),
            _ => return None,
        }
    }
    let mut scope = credential?.split('/');
    let secret_id = scope.next()?.to_string();
    let date = scope.next()?.to_string();
    let service = scope.next()?.to_string();
    if scope.next()? != "tc3_request" || scope.next().is_some() {
        return None;
    }
    Some(ParsedAuthorization {
        secret_id,
        date,
        service,
        signed_headers: signed_headers?.to_string(),
        signature: signature?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const T3A_PAYLOAD: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

    fn t3a() -> Tc3Request<'static> {
        Tc3Request {
            method: "POST",
            host: "cvm.tencentcloudapi.com",
            query: "",
            content_type: "application/json; charset=utf-8",
            payload: T3A_PAYLOAD.as_bytes(),
            service: "cvm",
            timestamp: 1551113065,
        }
    }

    #[test]
    fn t3a_published_vector() {
        let req = t3a();
        assert_eq!(T3A_PAYLOAD.len(), 86);
        assert_eq!(
            sha256_hex(req.payload),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(canonical_request(&req), "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
        assert_eq!(
            sha256_hex(canonical_request(&req).as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(string_to_sign(&req), "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
        assert_eq!(
            signature(KEY, &req),
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        assert_eq!(authorization(ID, KEY, &req), "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
    }

    #[test]
    fn t3a_prime_masked_key_vector() {
        let req = t3a();
        assert_eq!(
            authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******", &req),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
    }

    #[test]
    fn t3b_get_vector() {
        let req = Tc3Request {
            method: "GET",
            host: "cvm.tencentcloudapi.com",
            query: "Limit=10&Offset=0",
            content_type: "application/x-www-form-urlencoded",
            payload: b"",
            service: "cvm",
            timestamp: 1539084154,
        };
        assert_eq!(string_to_sign(&req), "TC3-HMAC-SHA256\n1539084154\n2018-10-09/cvm/tc3_request\n91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7");
        assert_eq!(authorization(ID, KEY, &req), "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2018-10-09/cvm/tc3_request, SignedHeaders=content-type;host, Signature=5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474");
    }

    #[test]
    fn the_date_is_utc_not_beijing() {
        // 2019-02-25T16:44:25Z is already 2019-02-26 in Beijing.
        assert_eq!(utc_date(1551113065), "2019-02-25");
    }

    #[test]
    fn parses_what_it_writes() {
        let header = authorization(ID, KEY, &t3a());
        let parsed = parse_authorization(&header).unwrap();
        assert_eq!(parsed.secret_id, ID);
        assert_eq!(parsed.date, "2019-02-25");
        assert_eq!(parsed.service, "cvm");
        assert_eq!(parsed.signed_headers, SIGNED_HEADERS);
        assert_eq!(parsed.signature, signature(KEY, &t3a()));
        assert_eq!(parse_authorization("Basic abc"), None);
        assert_eq!(
            parse_authorization("TC3-HMAC-SHA256 Credential=a/b, Signature=x"),
            None
        );
    }
}
