//! Removing secrets from text a server or the transport controls (error messages, codes,
//! request IDs), in every form a secret travels in or may be echoed back as: as is,
//! percent-encoded (a query string, a URL in an error page) and base64.

use base64::Engine;

const REDACTED: &str = "[REDACTED]";

/// Request headers for a `Debug` view: each header named in `secret_names` (any case) shows
/// `[REDACTED]` instead of its value.
pub fn redacted_headers<'a>(
    headers: &'a [(String, String)],
    secret_names: &[&str],
) -> Vec<(&'a str, &'a str)> {
    headers
        .iter()
        .map(|(k, v)| {
            let secret = secret_names.iter().any(|n| k.eq_ignore_ascii_case(n));
            (k.as_str(), if secret { REDACTED } else { v.as_str() })
        })
        .collect()
}

/// Longest server-controlled text kept in an error, in characters.
pub const MAX_MESSAGE_CHARS: usize = 512;

/// The one sanitizing step of the signing clients: removes the caller's secrets
/// (`credentials.secrets()`) and the request's `signed` parts (its signature and
/// `Authorization` header) in every form [`redact`] knows from every server-controlled part
/// of an error (message, code, request ID), cuts an echoed `Authorization` header from its
/// `authorization_prefix` on, and bounds each to [`MAX_MESSAGE_CHARS`].
pub fn sanitize_error(
    mut error: crate::ProviderError,
    credentials: &crate::Credentials,
    signed: &[&str],
    authorization_prefix: &str,
) -> crate::ProviderError {
    let mut secrets = credentials.secrets();
    secrets.extend(signed);
    // Shorter values are not secrets worth the false positives (a 3-character token
    // would redact ordinary words).
    secrets.retain(|s| s.len() >= 4);
    let clean = |text: &str| -> String {
        let mut text = redact(text, &secrets);
        if let Some(start) = text.find(authorization_prefix) {
            text.truncate(start);
            text.push_str("[Authorization redacted]");
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            text = text.chars().take(MAX_MESSAGE_CHARS).collect::<String>() + "…";
        }
        text
    };
    error.message = clean(&error.message);
    error.code = clean(&error.code);
    error.request_id = error.request_id.as_deref().map(clean);
    error
}

/// The forms of `secret` a server might echo: itself, RFC 3986 percent-encoded (as API 2.0
/// sends its values), form-urlencoded (space as `+`), and base64 in the standard and
/// URL-safe alphabets (unpadded, so a padded copy is caught too). Longest first, without
/// repeats.
pub fn forms(secret: &str) -> Vec<String> {
    let engines = [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let mut out: Vec<String> = vec![
        secret.to_string(),
        crate::encoding::percent_encode(secret),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ];
    out.extend(engines.iter().map(|e| e.encode(secret)));
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

/// `text` with every form of every non-empty secret replaced by `[REDACTED]`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        for form in forms(secret) {
            if out.contains(&form) {
                out = out.replace(&form, REDACTED);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_headers_hide_the_named_ones_in_any_case() {
        let headers = vec![
            (
                "Authorization".to_string(),
                "ACS3-HMAC-SHA256 sig".to_string(),
            ),
            ("x-acs-date".to_string(), "2026-11-30T00:00:00Z".to_string()),
            ("X-ACS-Security-Token".to_string(), "tok".to_string()),
        ];
        assert_eq!(
            redacted_headers(&headers, &["authorization", "x-acs-security-token"]),
            [
                ("Authorization", "[REDACTED]"),
                ("x-acs-date", "2026-11-30T00:00:00Z"),
                ("X-ACS-Security-Token", "[REDACTED]"),
            ]
        );
    }

    #[test]
    fn every_form_is_listed_once_longest_first() {
        assert_eq!(
            forms("a b/+="),
            ["a%20b%2F%2B%3D", "a+b%2F%2B%3D", "YSBiLys9", "a b/+="]
        );
        assert_eq!(
            forms("tok?>~"),
            [
                "tok%3F%3E%7E",
                "tok%3F%3E~",
                "dG9rPz5+",
                "dG9rPz5-",
                "tok?>~"
            ]
        );
    }

    #[test]
    fn every_form_is_redacted() {
        let text = "raw tok?>~ rfc tok%3F%3E~ form tok%3F%3E%7E b64 dG9rPz5+ padded dG9rPz5+== \
                    url dG9rPz5- key k1";
        assert_eq!(
            redact(text, &["tok?>~", "k1", ""]),
            "raw [REDACTED] rfc [REDACTED] form [REDACTED] b64 [REDACTED] padded [REDACTED]== \
             url [REDACTED] key [REDACTED]"
        );
    }
}
