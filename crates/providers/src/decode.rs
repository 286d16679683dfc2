//! Lenient decoding shared by the provider models: providers send numbers as strings,
//! `""` for absent numbers, nulls for missing fields, and zone-less local times.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// Accepts a JSON number, a numeric string, `""` or `null`. Non-numeric text is `None`
/// rather than an error: one odd field must not make a whole job unreadable.
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?
        .as_ref()
        .and_then(value_to_i64))
}

/// Accepts a string, a number or a bool (as text), `null` or missing. Empty strings are `None`.
pub fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?
        .as_ref()
        .and_then(value_to_string))
}

/// A finite number, as a JSON number or numeric text; anything else is `None`.
pub fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(match value {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().trim_end_matches('%').trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite()))
}

/// Decodes a 2xx body that must be one JSON object of shape `T`. Anything else (truncated
/// JSON, an HTML page from a proxy, an array) is a transient `MalformedResponse` naming
/// `provider`: a broken answer is retried, never read as a job state.
pub fn json_object<T: serde::de::DeserializeOwned>(
    body: &[u8],
    provider: &str,
) -> Result<T, crate::ProviderError> {
    let malformed = |what: String| crate::ProviderError::transient("MalformedResponse", what);
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        malformed(format!(
            "{provider} returned a response that is not the expected JSON: {e}"
        ))
    })?;
    if !value.is_object() {
        return Err(malformed(format!(
            "{provider} returned a response that is not a JSON object"
        )));
    }
    serde_json::from_value(value).map_err(|e| {
        malformed(format!(
            "{provider} returned a response of an unexpected shape: {e}"
        ))
    })
}

/// Accepts an array, a single object (wrapped into a one-element array) or `null`.
pub fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(de::Error::custom))
            .collect(),
        Some(v @ Value::Object(_)) => serde_json::from_value(v)
            .map(|one| vec![one])
            .map_err(de::Error::custom),
        Some(_) => Ok(Vec::new()),
    }
}

/// Like [`one_or_many`], but skipping what does not fit: the objects of an array that
/// decode as `T` (other items dropped), a single object, or nothing for any other value.
pub fn one_or_many_lenient<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter(Value::is_object)
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        Some(v @ Value::Object(_)) => serde_json::from_value(v).ok().into_iter().collect(),
        _ => Vec::new(),
    })
}

/// An object that may be `null`, missing, or of the wrong JSON type (then `None`); an
/// object that does not fit `T` is `None` too, so one odd field cannot fail a response.
pub fn lenient_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Option::<Value>::deserialize(d)? {
        Some(v @ Value::Object(_)) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

/// A list of strings that may be `null`, contain nulls, or contain numbers.
pub fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => items.iter().filter_map(value_to_string).collect(),
        Some(other) => value_to_string(&other).into_iter().collect(),
        None => Vec::new(),
    })
}

pub fn value_to_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        // Quantities written as `"45.5"` truncate like the number `45.5` does.
        Value::String(s) => parse_i64(s).or_else(|| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

pub fn value_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parses an integer written as text, allowing surrounding blanks and a `.0` fraction.
///
/// A value with a non-zero fraction (`"2.5"`) is not an integer and is `None`: status codes
/// go through here, and truncating `"0.5"` to `0` would read an undocumented status as a
/// documented (possibly terminal) one.
pub fn parse_i64(s: &str) -> Option<i64> {
    let t = s.trim();
    t.parse::<i64>().ok().or_else(|| {
        t.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e18)
            .map(|f| f as i64)
    })
}

/// Parses a progress value (`45`, `"45"`, `"45%"`, `" 45.5 % "`) and clamps it to 0-100.
pub fn parse_progress(s: &str) -> Option<u8> {
    let t = s.trim().trim_end_matches('%').trim();
    if t.is_empty() {
        return None;
    }
    let f: f64 = t.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    Some(f.clamp(0.0, 100.0).floor() as u8)
}

/// A float percentage (`45.5`) floored and clamped to 0-100; `None` when not finite.
pub fn progress_percent(p: f64) -> Option<u8> {
    p.is_finite().then(|| p.clamp(0.0, 100.0).floor() as u8)
}

pub fn clamp_progress(p: i64) -> u8 {
    p.clamp(0, 100) as u8
}

/// China Standard Time, the zone of Tencent's zone-less timestamps.
pub const CHINA_OFFSET_HOURS: i8 = 8;

/// Parses a zone-less `YYYY-MM-DD HH:MM:SS` time in the given UTC offset (Tencent uses
/// UTC+08:00). Empty strings and zero dates (`0000-00-00 00:00:00`) are `None`.
pub fn parse_local_time(s: &str, offset_hours: i8) -> Option<Timestamp> {
    let t = s.trim();
    if t.is_empty() || t.starts_with("0000-00-00") {
        return None;
    }
    let dt: DateTime = t.replacen(' ', "T", 1).parse().ok()?;
    let tz = TimeZone::fixed(Offset::constant(offset_hours));
    dt.to_zoned(tz).ok().map(|z| z.timestamp())
}

/// Parses a Tencent time (`2017-06-27 15:05:33`, UTC+08:00) or an RFC 3339 time.
pub fn parse_tencent_time(s: &str) -> Option<Timestamp> {
    let t = s.trim();
    t.parse::<Timestamp>()
        .ok()
        .or_else(|| parse_local_time(t, CHINA_OFFSET_HOURS))
}

/// Parses an ISO 8601 time with an offset in any of the forms providers send:
/// `2018-08-06T10:41:14+0800`, `+08:00`, `Z`, with or without fractional seconds.
pub fn parse_offset_time(s: &str) -> Option<Timestamp> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%z",
    ] {
        if let Ok(z) = jiff::fmt::strtime::parse(fmt, t).and_then(|p| p.to_timestamp()) {
            return Some(z);
        }
    }
    None
}

/// A normalized `jobType` for a provider's free-form task name: the type of the first
/// `(keywords, type)` row with a keyword inside the name (compared lower-case, without
/// spaces, `_` and `-`); `other` when none matches.
pub fn job_type_by_keyword(name: &str, table: &[(&[&str], &'static str)]) -> &'static str {
    let key: String = name
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    table
        .iter()
        .find(|(words, _)| words.iter().any(|w| key.contains(w)))
        .map(|(_, t)| *t)
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "lenient_i64")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "lenient_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "lenient_strings")]
        list: Vec<String>,
        #[serde(default, deserialize_with = "one_or_many")]
        many: Vec<Value>,
    }

    fn probe(v: Value) -> Probe {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn numbers_from_numbers_strings_blanks_and_nulls() {
        assert_eq!(probe(json!({"n": 5})).n, Some(5));
        assert_eq!(probe(json!({"n": "47258"})).n, Some(47258));
        assert_eq!(probe(json!({"n": " 7 "})).n, Some(7));
        assert_eq!(probe(json!({"n": ""})).n, None);
        assert_eq!(probe(json!({"n": null})).n, None);
        assert_eq!(probe(json!({})).n, None);
        assert_eq!(probe(json!({"n": "abc"})).n, None);
        assert_eq!(probe(json!({"n": 2.0})).n, Some(2));
    }

    #[test]
    fn strings_from_strings_and_numbers() {
        assert_eq!(probe(json!({"s": 100003})).s.as_deref(), Some("100003"));
        assert_eq!(probe(json!({"s": "  x "})).s.as_deref(), Some("x"));
        assert_eq!(probe(json!({"s": ""})).s, None);
        assert_eq!(probe(json!({"list": ["a", null, 3]})).list, vec!["a", "3"]);
        assert_eq!(probe(json!({"list": null})).list, Vec::<String>::new());
    }

    #[test]
    fn one_or_many_accepts_object_or_array() {
        assert_eq!(probe(json!({"many": {"a": 1}})).many.len(), 1);
        assert_eq!(probe(json!({"many": [{"a": 1}, {"a": 2}]})).many.len(), 2);
        assert_eq!(probe(json!({"many": null})).many.len(), 0);
    }

    #[test]
    fn only_integral_text_is_an_integer() {
        assert_eq!(parse_i64(" 2.0 "), Some(2));
        assert_eq!(parse_i64("-7"), Some(-7));
        // Regression: "0.5" and "2.7" used to truncate to the statuses 0 and 2.
        assert_eq!(parse_i64("0.5"), None);
        assert_eq!(parse_i64("2.7"), None);
        assert_eq!(parse_i64("1e300"), None);
        // Quantities still truncate, as JSON numbers do.
        assert_eq!(probe(json!({"n": "45.5"})).n, Some(45));
        assert_eq!(probe(json!({"n": 45.5})).n, Some(45));
    }

    #[test]
    fn progress_forms() {
        assert_eq!(parse_progress("60%"), Some(60));
        assert_eq!(parse_progress(" 45.7 % "), Some(45));
        assert_eq!(parse_progress("150"), Some(100));
        assert_eq!(parse_progress("-3"), Some(0));
        assert_eq!(parse_progress(""), None);
        assert_eq!(parse_progress("NaN"), None);
        assert_eq!(parse_progress("x%"), None);
    }

    #[test]
    fn tencent_times_are_utc_plus_8() {
        let ts = parse_tencent_time("2017-06-27 15:05:33").unwrap();
        assert_eq!(ts.to_string(), "2017-06-27T07:05:33Z");
        assert_eq!(parse_tencent_time("0000-00-00 00:00:00"), None);
        assert_eq!(parse_tencent_time(""), None);
        assert_eq!(parse_tencent_time("garbage"), None);
        assert_eq!(
            parse_tencent_time("2017-06-27T07:05:33Z")
                .unwrap()
                .to_string(),
            "2017-06-27T07:05:33Z"
        );
    }

    #[test]
    fn offset_times_in_every_form() {
        let want = "2018-08-06T02:41:14Z";
        for s in [
            "2018-08-06T10:41:14+0800",
            "2018-08-06T10:41:14+08:00",
            "2018-08-06T02:41:14Z",
            "2018-08-06T02:41:14+0000",
            "2018-08-06T10:41:14.000+0800",
        ] {
            assert_eq!(
                parse_offset_time(s).map(|t| t.to_string()).as_deref(),
                Some(want),
                "{s}"
            );
        }
        assert_eq!(parse_offset_time(""), None);
        assert_eq!(parse_offset_time("2018-08-06"), None);
    }
}
