//! The comparison of the operator's exchange with a library's: the requests as received,
//! then what each side read from the answers. Every difference is a message; the only
//! ones tolerated are listed here, each with its reason (and in the test's doc).

use std::collections::BTreeMap;

use super::proxy::{Seen, EXPIRES_IN};

/// Headers a library sends that carry nothing of the exchange: its telemetry (library,
/// version, OS, correlation IDs). The operator sends none of them; the token endpoints
/// document them as optional.
const LIBRARY_TELEMETRY: [&str; 13] = [
    "x-goog-api-client",
    "x-client-sku",
    "x-client-ver",
    "x-client-os",
    "x-client-cpu",
    "x-client-current-telemetry",
    "x-client-last-telemetry",
    "client-request-id",
    "x-ms-client-request-id",
    "return-client-request-id",
    "x-app-name",
    "x-app-ver",
    "x-ms-lib-capability",
];

/// Form fields only MSAL sends: `client_info=1` (its `ConfidentialClientApplication` puts it
/// in every token request, asking Entra for a user account's home ID for MSAL's cache); a
/// client-credentials grant has no user, and azure-identity's `WorkloadIdentityCredential`
/// leaves it out too.
const MSAL_ONLY_FIELDS: [&str; 1] = ["client_info"];

/// Transport headers either side may send, each its own way (HTTP clients differ).
const TRANSPORT: [&str; 6] = [
    "host",
    "content-length",
    "user-agent",
    "accept",
    "accept-encoding",
    "connection",
];

/// What one side read from the answers: the token and its expiry (Unix seconds).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub token: String,
    pub expiry: f64,
}

/// Entra's tenant discovery (`GET {authority}/{tenant}/v2.0/.well-known/openid-configuration`):
/// MSAL reads the token endpoint from it before the first exchange; the
/// operator (like azure-identity) builds the same documented v2 endpoint itself.
fn is_discovery(seen: &Seen) -> bool {
    seen.method == "GET" && seen.path.contains("/.well-known/openid-configuration")
}

/// A request MSAL sent (its `x-client-sku` header names it).
fn is_msal(seen: &Seen) -> bool {
    seen.header("x-client-sku")
        .is_some_and(|sku| sku.to_ascii_lowercase().starts_with("msal"))
}

/// The media type of a `content-type`, without parameters.
fn media_type(value: Option<&str>) -> Option<String> {
    value.map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

/// A body as name → value: form fields, or a JSON object's members (JSON `null` and `[]`
/// are "absent": google-auth sends `"delegates": null`, meaning none).
fn fields(seen: &Seen) -> Result<BTreeMap<String, String>, String> {
    match media_type(seen.header("content-type")).as_deref() {
        Some("application/x-www-form-urlencoded") => {
            let pairs = seen.form();
            let map: BTreeMap<_, _> = pairs.iter().cloned().collect();
            if map.len() != pairs.len() {
                return Err(format!("a form field is repeated: {pairs:?}"));
            }
            Ok(map)
        }
        Some("application/json") => {
            let value: serde_json::Value =
                serde_json::from_str(&seen.body).map_err(|e| format!("JSON body: {e}"))?;
            let object = value.as_object().ok_or("JSON body is not an object")?;
            Ok(object
                .iter()
                .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect())
        }
        other => Err(format!("unexpected content-type {other:?}")),
    }
}

/// Differences between the operator's requests and the library's, in order.
pub fn compare_requests(ours: &[Seen], lib: &[Seen]) -> Vec<String> {
    let lib: Vec<&Seen> = lib.iter().filter(|s| !is_discovery(s)).collect();
    let mut out = Vec::new();
    if ours.len() != lib.len() || ours.is_empty() {
        let list = |s: &[&Seen]| {
            s.iter()
                .map(|s| format!("{} https://{}{}", s.method, s.host, s.path))
                .collect::<Vec<_>>()
        };
        out.push(format!(
            "requests differ\n    operator: {:?}\n    library:  {:?}",
            list(&ours.iter().collect::<Vec<_>>()),
            list(&lib)
        ));
        return out;
    }
    for (n, (o, l)) in ours.iter().zip(lib).enumerate() {
        let mut differ = |what: String, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
            out.push(format!(
                "request {n}: {what} differs\n    operator: {a:?}\n    library:  {b:?}"
            ))
        };
        for (what, a, b) in [
            ("host", &o.host, &l.host),
            ("method", &o.method, &l.method),
            ("path", &o.path, &l.path),
        ] {
            if a != b {
                differ(what.into(), a, b);
            }
        }
        for side in [o, l] {
            if side.header("host") != Some(side.host.as_str()) {
                differ("Host header".into(), &side.header("host"), &side.host);
            }
        }
        let (ct_o, ct_l) = (
            media_type(o.header("content-type")),
            media_type(l.header("content-type")),
        );
        if ct_o != ct_l {
            differ("content-type".into(), &ct_o, &ct_l);
        }
        if o.header("authorization") != l.header("authorization") {
            differ(
                "authorization".into(),
                &o.header("authorization"),
                &l.header("authorization"),
            );
        }
        // No header on one side only, but transport and the library's telemetry.
        let names = |s: &Seen| s.headers.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        let (names_o, names_l) = (names(o), names(l));
        let only = |a: &[String], b: &[String], allowed: &[&str]| {
            a.iter()
                .filter(|k| !b.contains(k) && !TRANSPORT.contains(&k.as_str()))
                .filter(|k| !allowed.contains(&k.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        };
        let (extra_o, extra_l) = (
            only(&names_o, &names_l, &[]),
            only(&names_l, &names_o, &LIBRARY_TELEMETRY),
        );
        if !extra_o.is_empty() || !extra_l.is_empty() {
            differ("headers sent by one side only".into(), &extra_o, &extra_l);
        }
        match (fields(o), fields(l)) {
            (Ok(fo), Ok(fl)) => {
                let keys: std::collections::BTreeSet<&String> =
                    fo.keys().chain(fl.keys()).collect();
                for key in keys {
                    let msal_only =
                        !fo.contains_key(key) && MSAL_ONLY_FIELDS.contains(&key.as_str());
                    if fo.get(key) != fl.get(key) && !(msal_only && is_msal(l)) {
                        differ(format!("body field {key:?}"), &fo.get(key), &fl.get(key));
                    }
                }
            }
            (a, b) => differ("body".into(), &a, &b),
        }
    }
    out
}

/// The token of an answer: OAuth's `access_token` or IAM Credentials' `accessToken`.
fn answered_token(seen: &Seen) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(&seen.answer).ok()?;
    v.get("access_token")
        .or_else(|| v.get("accessToken"))
        .and_then(|t| t.as_str())
        .map(String::from)
}

/// The expiry an answer states (Unix seconds): `expireTime`, or `expires_in` from when it
/// was answered.
fn answered_expiry(seen: &Seen) -> Option<(f64, bool)> {
    let v: serde_json::Value = serde_json::from_str(&seen.answer).ok()?;
    if let Some(t) = v.get("expireTime").and_then(|t| t.as_str()) {
        let t: jiff::Timestamp = t.parse().ok()?;
        return Some((t.as_second() as f64, true));
    }
    let lifetime = v.get("expires_in")?.as_i64()?;
    assert_eq!(lifetime, EXPIRES_IN);
    Some((seen.at + lifetime as f64, false))
}

/// Differences in what each side read from its last answer: the same token, and the expiry
/// the answer states (exact for an absolute `expireTime`; a few seconds either way for a
/// relative `expires_in`, counted from each side's own clock reading).
pub fn compare_answers(
    ours: &Outcome,
    our_last: &Seen,
    lib: &Outcome,
    lib_last: &Seen,
) -> Vec<String> {
    let mut out = Vec::new();
    for (side, outcome, last) in [("operator", ours, our_last), ("library", lib, lib_last)] {
        let Some(token) = answered_token(last) else {
            out.push(format!(
                "{side}: its last answer has no token: {}",
                last.answer
            ));
            continue;
        };
        if outcome.token != token {
            out.push(format!(
                "{side} read token {:?}, answered {token:?}",
                outcome.token
            ));
        }
        let Some((expiry, absolute)) = answered_expiry(last) else {
            out.push(format!(
                "{side}: its last answer has no expiry: {}",
                last.answer
            ));
            continue;
        };
        let slack = if absolute { 0.5 } else { 5.0 };
        if (outcome.expiry - expiry).abs() > slack {
            out.push(format!(
                "{side} read expiry {:.1}, the answer says {expiry:.1} (±{slack}s)",
                outcome.expiry
            ));
        }
    }
    if ours.token != lib.token {
        out.push(format!(
            "the operator read token {:?}, the library {:?}",
            ours.token, lib.token
        ));
    }
    out
}
