//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`), as the "Signature Version 4 signing
//! process" pages describe it, for services other than S3:
//!
//! ```text
//! CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//!   CanonicalURI:      the absolute path, dot segments removed, each segment URI-encoded
//!                      (again: non-S3 services encode the already-encoded path twice)
//!   CanonicalQuery:    name=value pairs, each URI-encoded, sorted by name then value
//!   CanonicalHeaders:  "name:value\n" per signed header, names lower-case, values trimmed
//!                      with inner runs of blanks folded to one, repeated headers joined by ","
//!   HashedPayload:     hex(sha256(body)) (or the x-amz-content-sha256 value, when sent)
//! StringToSign     = "AWS4-HMAC-SHA256" \n X-Amz-Date \n Date/Region/Service/aws4_request \n hex(sha256(CanonicalRequest))
//! kDate = HMAC("AWS4" + SecretKey, Date); kRegion = HMAC(kDate, Region)
//! kService = HMAC(kRegion, Service); kSigning = HMAC(kService, "aws4_request")
//! Signature        = hex(HMAC(kSigning, StringToSign))
//! Authorization    = "AWS4-HMAC-SHA256 Credential=" KeyId "/" Scope ", SignedHeaders=" .. ", Signature=" ..
//! ```

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::{authorization_params, hex_lower, hmac, sha256_hex, Hash};
use clouddb_providers::encoding::percent_encode;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";

/// What the signature covers, as the server received it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// The signed headers: lower-case name and every received value of that header.
    pub headers: &'a [(String, Vec<String>)],
    /// Hex SHA-256 of the payload.
    pub payload_hash: &'a str,
}

/// The scope of a signature: `Date/Region/Service/aws4_request`.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// `YYYYMMDD`.
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl Scope<'_> {
    pub fn text(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }
}

/// The path with `.` and `..` segments resolved and empty segments dropped (a trailing
/// slash kept), each segment encoded once more.
pub fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out: String = segments
        .iter()
        .map(|s| format!("/{}", percent_encode(s)))
        .collect();
    if out.is_empty() || (path.ends_with('/') && !out.ends_with('/')) {
        out.push('/');
    }
    out
}

/// The canonical query string of a raw query.
pub fn canonical_query(query: &str) -> String {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_encode(&decode(k)), percent_encode(&decode(v)))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn fold_blanks(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `SignedHeaders`: the names, sorted, joined by `;`.
pub fn signed_headers(req: &Request<'_>) -> String {
    let mut names: Vec<String> = req.headers.iter().map(|(k, _)| k.to_lowercase()).collect();
    names.sort();
    names.join(";")
}

pub fn canonical_request(req: &Request<'_>) -> String {
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, values)| {
            let joined = values
                .iter()
                .map(|v| fold_blanks(v))
                .collect::<Vec<_>>()
                .join(",");
            (k.to_lowercase(), joined)
        })
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    [
        req.method.to_string(),
        canonical_uri(req.path),
        canonical_query(req.query),
        canonical_headers,
        signed_headers(req),
        req.payload_hash.to_string(),
    ]
    .join("\n")
}

pub fn string_to_sign(amz_date: &str, scope: &Scope<'_>, req: &Request<'_>) -> String {
    [
        ALGORITHM.to_string(),
        amz_date.to_string(),
        scope.text(),
        sha256_hex(canonical_request(req).as_bytes()),
    ]
    .join("\n")
}

/// The hex signature of `req` under `secret_key`.
pub fn signature(secret_key: &str, amz_date: &str, scope: &Scope<'_>, req: &Request<'_>) -> String {
    let k_date = hmac(
        Hash::Sha256,
        format!("AWS4{secret_key}").as_bytes(),
        scope.date.as_bytes(),
    );
    let k_region = hmac(Hash::Sha256, &k_date, scope.region.as_bytes());
    let k_service = hmac(Hash::Sha256, &k_region, scope.service.as_bytes());
    let k_signing = hmac(Hash::Sha256, &k_service, TERMINATOR.as_bytes());
    hex_lower(&hmac(
        Hash::Sha256,
        &k_signing,
        string_to_sign(amz_date, scope, req).as_bytes(),
    ))
}

/// A received `Authorization` header, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    /// Lower-case header names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/SERVICE/aws4_request,
/// SignedHeaders=a;b, Signature=hex` (parts in any order, each exactly once).
pub fn parse_authorization(header: &str) -> Option<Authorization> {
    let [credential, signed, signature] = authorization_params(
        header,
        ALGORITHM,
        ["Credential", "SignedHeaders", "Signature"],
    )?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, TERMINATOR] = scope.as_slice() else {
        return None;
    };
    if key_id.is_empty() || signed.is_empty() || signature.is_empty() {
        return None;
    }
    Some(Authorization {
        key_id: key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers: signed.split(';').map(|h| h.trim().to_lowercase()).collect(),
        signature: signature.to_string(),
    })
}

/// Unix seconds of an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`, UTC).
pub fn parse_amz_date(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.len() != 16 || !t.ends_with('Z') {
        return None;
    }
    let dt: DateTime = jiff::fmt::strtime::parse("%Y%m%dT%H%M%S", &t[..15])
        .ok()?
        .to_datetime()
        .ok()?;
    dt.to_zoned(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// `YYYYMMDDTHHMMSSZ` of Unix seconds (for messages).
pub fn format_amz_date(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default()
}

/// Whether `region` is shaped like an AWS region name (`us-east-1`, `cn-north-1`,
/// `us-gov-west-1`).
pub fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const EMPTY_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn headers(list: &[(&str, &str)]) -> Vec<(String, Vec<String>)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect()
    }

    const SCOPE: Scope<'static> = Scope {
        date: "20150830",
        region: "us-east-1",
        service: "service",
    };

    #[test]
    fn get_vanilla_published_vector() {
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        let req = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &h,
            payload_hash: EMPTY_HASH,
        };
        assert_eq!(
            canonical_request(&req),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            string_to_sign("20150830T123600Z", &SCOPE, &req),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        assert_eq!(
            signature(SECRET, "20150830T123600Z", &SCOPE, &req),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn post_x_www_form_urlencoded_published_vector() {
        let payload_hash = sha256_hex(b"Param1=value1");
        let h = headers(&[
            ("content-type", "application/x-www-form-urlencoded"),
            ("host", "example.amazonaws.com"),
            ("content-length", "13"),
            ("x-amz-date", "20150830T123600Z"),
            ("x-amz-content-sha256", &payload_hash),
        ]);
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &h,
            payload_hash: &payload_hash,
        };
        assert_eq!(
            signed_headers(&req),
            "content-length;content-type;host;x-amz-content-sha256;x-amz-date"
        );
        assert_eq!(
            signature(SECRET, "20150830T123600Z", &SCOPE, &req),
            "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"
        );
    }

    #[test]
    fn suite_vectors_for_values_query_and_paths() {
        // get-header-value-trim: values trimmed, inner blanks folded.
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("my-header1", " value1"),
            ("my-header2", " \"a   b   c\""),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        let req = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &h,
            payload_hash: EMPTY_HASH,
        };
        assert_eq!(
            signature(SECRET, "20150830T123600Z", &SCOPE, &req),
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
        );
        // get-vanilla-query-order-key-case: sorted by name, then value.
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        let req = Request {
            method: "GET",
            path: "/",
            query: "Param2=value2&Param1=value1",
            headers: &h,
            payload_hash: EMPTY_HASH,
        };
        assert_eq!(
            signature(SECRET, "20150830T123600Z", &SCOPE, &req),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
        assert_eq!(canonical_uri("/example/.."), "/");
        assert_eq!(canonical_uri("/a/./b/../c/"), "/a/c/");
        assert_eq!(canonical_uri("/prefix%20x"), "/prefix%2520x");
    }

    #[test]
    fn parses_the_authorization_header() {
        let parsed = parse_authorization("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31").unwrap();
        assert_eq!(parsed.key_id, "AKIDEXAMPLE");
        assert_eq!(
            (
                parsed.date.as_str(),
                parsed.region.as_str(),
                parsed.service.as_str()
            ),
            ("20150830", "us-east-1", "service")
        );
        assert_eq!(parsed.signed_headers, vec!["host", "x-amz-date"]);
        for bad in [
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/service, SignedHeaders=host, Signature=x",
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/service/other, SignedHeaders=host, Signature=x",
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/service/aws4_request, Signature=x",
            "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=x",
            "AWS3-HMAC-SHA256 Credential=A/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=x",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }

    #[test]
    fn region_names() {
        for ok in ["us-east-1", "cn-north-1", "us-gov-west-1", "ap-southeast-2"] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "useast1",
            "us-east-x",
            "US-EAST-1",
            "u-east-1",
            "us--1",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn amz_dates() {
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(format_amz_date(1_440_938_160), "20150830T123600Z");
        for bad in [
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20151330T123600Z",
            "",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }
}
