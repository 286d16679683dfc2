//! Fault injection rules: what goes wrong (an HTTP 5xx, a slow answer, a reset connection,
//! broken JSON, throttling, a job that is not visible yet) and when (request numbers, the
//! first N requests or T seconds, a seeded probability). Matching is pure; the server applies
//! the chosen fault.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use clouddb_api::ProviderKind;
use clouddb_providers::duration::{format_duration, parse_duration};

/// What goes wrong.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    /// An HTTP error status (`status`, default 503) with a short text body.
    Status,
    /// Answer normally after `delay` (default 3s).
    Slow,
    /// Answer after `delay` (default 120s), longer than any client timeout.
    Timeout,
    /// Drop the connection (TCP reset) without a response.
    Reset,
    /// A 200 response whose body is not JSON.
    Malformed,
    /// A 200 response whose JSON body is cut in half.
    Truncated,
    /// The provider's throttling error (Tencent `RequestLimitExceeded`, API 2.0 4400,
    /// Huawei 429 + `Retry-After`).
    Throttle,
    /// The job is not found (as if not yet visible).
    Unknown,
}

/// Request numbers `from..=to` (1-based), written `3`, `3-5` or `3-`.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum RequestRange {
    One(u64),
    Text(String),
}

impl RequestRange {
    /// The inclusive bounds.
    pub fn bounds(&self) -> Result<(u64, u64), String> {
        let text = match self {
            RequestRange::One(n) => return Ok((*n, *n)),
            RequestRange::Text(t) => t.trim(),
        };
        let num = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("bad request range {text:?}"))
        };
        match text.split_once('-') {
            None => num(text).map(|n| (n, n)),
            Some((a, "")) => Ok((num(a)?, u64::MAX)),
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if b < a {
                    return Err(format!("bad request range {text:?}"));
                }
                Ok((a, b))
            }
        }
    }
}

/// One fault rule. All the triggers given must hold; a rule without triggers always fires.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    pub fault: FaultKind,
    /// HTTP status for `status` faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Delay for `slow` and `timeout` faults.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_duration"
    )]
    pub delay: Option<Duration>,
    /// `Retry-After` seconds for Huawei throttling (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Trigger: request numbers (counted per job for job rules, globally otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<RequestRange>,
    /// Trigger: the first N requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_requests: Option<u64>,
    /// Trigger: the first T (real time since the job's clock, or the simulator, started).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_duration"
    )]
    pub first_seconds: Option<Duration>,
    /// Trigger: with this probability (seeded RNG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Global rules only: restrict to one provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderKind>,
    /// Global rules only: restrict to one job ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

/// What a request looks like to the fault matcher.
#[derive(Clone, Copy, Debug)]
pub struct FaultContext<'a> {
    /// 1-based request number in the rule's scope.
    pub request_no: u64,
    /// Real time since the scope's clock started.
    pub elapsed: Duration,
    pub provider: Option<ProviderKind>,
    pub job_id: Option<&'a str>,
}

impl FaultRule {
    /// A rule that always fires.
    pub fn always(fault: FaultKind) -> Self {
        FaultRule {
            fault,
            status: None,
            delay: None,
            retry_after: None,
            requests: None,
            first_requests: None,
            first_seconds: None,
            probability: None,
            provider: None,
            job_id: None,
        }
    }

    /// Checks values serde accepts but the simulator cannot use.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(range) = &self.requests {
            range.bounds()?;
        }
        if let Some(p) = self.probability {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("probability {p} is not within 0..1"));
            }
        }
        if let Some(s) = self.status {
            if !(400..=599).contains(&s) {
                return Err(format!("status {s} is not an HTTP error status"));
            }
        }
        Ok(())
    }

    /// The HTTP status of a `status` fault.
    pub fn http_status(&self) -> u16 {
        self.status.unwrap_or(503)
    }

    /// The delay of a `slow` or `timeout` fault.
    pub fn sleep(&self) -> Duration {
        match (self.delay, self.fault) {
            (Some(d), _) => d,
            (None, FaultKind::Timeout) => Duration::from_secs(120),
            (None, _) => Duration::from_secs(3),
        }
    }

    /// A short description for the request log (`status 503`, `slow 3s`, `reset`).
    pub fn label(&self) -> String {
        match self.fault {
            FaultKind::Status => format!("status {}", self.http_status()),
            FaultKind::Slow => format!("slow {}", format_duration(self.sleep())),
            FaultKind::Timeout => format!("timeout {}", format_duration(self.sleep())),
            FaultKind::Reset => "reset".into(),
            FaultKind::Malformed => "malformed".into(),
            FaultKind::Truncated => "truncated".into(),
            FaultKind::Throttle => "throttle".into(),
            FaultKind::Unknown => "unknown".into(),
        }
    }

    /// Whether the deterministic triggers hold (the probability is drawn separately).
    fn triggers_hold(&self, ctx: &FaultContext<'_>) -> bool {
        if self.provider.is_some_and(|p| Some(p) != ctx.provider) {
            return false;
        }
        if let Some(job) = &self.job_id {
            if ctx.job_id != Some(job.as_str()) {
                return false;
            }
        }
        if let Some(range) = &self.requests {
            match range.bounds() {
                Ok((a, b)) if (a..=b).contains(&ctx.request_no) => {}
                _ => return false,
            }
        }
        if self.first_requests.is_some_and(|n| ctx.request_no > n) {
            return false;
        }
        if self.first_seconds.is_some_and(|t| ctx.elapsed >= t) {
            return false;
        }
        true
    }
}

/// The first rule that fires for this request. `draw` yields uniform numbers in `[0, 1)`
/// and is called only for rules whose other triggers hold, so a seeded generator gives the
/// same faults for the same request sequence.
pub fn choose<'r>(
    rules: &'r [FaultRule],
    ctx: &FaultContext<'_>,
    draw: &mut dyn FnMut() -> f64,
) -> Option<&'r FaultRule> {
    rules.iter().find(|rule| {
        rule.triggers_hold(ctx)
            && match rule.probability {
                None => true,
                Some(p) => draw() < p,
            }
    })
}

/// Parses the command-line form `KIND[=ARG][@TRIGGER,...]`, e.g. `503@3-5`, `slow=30s@p=0.5`,
/// `reset@first=2`, `throttle@for=10s,provider=huawei`, `unknown@job=15964,first=3`.
pub fn parse_flag(text: &str) -> Result<FaultRule, String> {
    let (head, triggers) = text.trim().split_once('@').unwrap_or((text.trim(), ""));
    let (kind, arg) = match head.split_once('=') {
        Some((k, a)) => (k.trim(), Some(a.trim())),
        None => (head.trim(), None),
    };
    let mut rule = if let Ok(code) = kind.parse::<u16>() {
        let mut r = FaultRule::always(FaultKind::Status);
        r.status = Some(code);
        r
    } else {
        let fault: FaultKind = serde_json::from_value(serde_json::Value::String(kind.into()))
            .map_err(|_| format!("fault {text:?}: unknown kind {kind:?}"))?;
        FaultRule::always(fault)
    };
    match (rule.fault, arg) {
        (_, None) => {}
        (FaultKind::Status, Some(a)) => {
            rule.status = Some(
                a.parse()
                    .map_err(|_| format!("fault {text:?}: bad status"))?,
            )
        }
        (FaultKind::Slow | FaultKind::Timeout, Some(a)) => {
            rule.delay = Some(parse_duration(a).map_err(|e| format!("fault {text:?}: {e}"))?)
        }
        (FaultKind::Throttle, Some(a)) => {
            rule.retry_after = Some(
                a.parse()
                    .map_err(|_| format!("fault {text:?}: bad Retry-After"))?,
            )
        }
        (_, Some(_)) => return Err(format!("fault {text:?}: {kind} takes no argument")),
    }
    for trigger in triggers.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let bad = |e: String| format!("fault {text:?}: {e}");
        match trigger.split_once('=') {
            None => rule.requests = Some(RequestRange::Text(trigger.into())),
            Some(("p", v)) => {
                rule.probability = Some(v.parse().map_err(|_| bad(format!("bad p {v:?}")))?)
            }
            Some(("first", v)) => {
                rule.first_requests = Some(v.parse().map_err(|_| bad(format!("bad first {v:?}")))?)
            }
            Some(("for", v)) => rule.first_seconds = Some(parse_duration(v).map_err(bad)?),
            Some(("provider", v)) => rule.provider = Some(v.parse().map_err(bad)?),
            Some(("job", v)) => rule.job_id = Some(v.to_string()),
            Some((k, _)) => return Err(bad(format!("unknown trigger {k:?}"))),
        }
    }
    rule.validate()
        .map_err(|e| format!("fault {text:?}: {e}"))?;
    Ok(rule)
}

mod opt_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use clouddb_providers::duration::{format_duration, parse_duration};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| parse_duration(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(n: u64, secs: u64) -> FaultContext<'static> {
        FaultContext {
            request_no: n,
            elapsed: Duration::from_secs(secs),
            provider: Some(ProviderKind::Tencent),
            job_id: Some("15964"),
        }
    }

    fn never() -> f64 {
        1.0
    }

    #[test]
    fn request_ranges() {
        let rules = [parse_flag("503@3-5").unwrap()];
        let fired: Vec<u64> = (1..=7)
            .filter(|n| choose(&rules, &ctx(*n, 0), &mut never).is_some())
            .collect();
        assert_eq!(fired, vec![3, 4, 5]);
        assert_eq!(rules[0].label(), "status 503");
        assert_eq!(
            RequestRange::Text("4-".into()).bounds().unwrap(),
            (4, u64::MAX)
        );
        assert!(RequestRange::Text("5-3".into()).bounds().is_err());
    }

    #[test]
    fn first_requests_and_seconds() {
        let rules = [parse_flag("unknown@first=2").unwrap()];
        assert!(choose(&rules, &ctx(2, 0), &mut never).is_some());
        assert!(choose(&rules, &ctx(3, 0), &mut never).is_none());
        let rules = [parse_flag("throttle=7@for=10s").unwrap()];
        assert_eq!(rules[0].retry_after, Some(7));
        assert!(choose(&rules, &ctx(50, 9), &mut never).is_some());
        assert!(choose(&rules, &ctx(1, 10), &mut never).is_none());
    }

    #[test]
    fn probability_uses_the_draw_only_when_needed() {
        let rules = [
            parse_flag("reset@1").unwrap(),
            parse_flag("slow=2s@p=0.5").unwrap(),
        ];
        let mut draws = 0;
        let mut low = || {
            draws += 1;
            0.1
        };
        assert_eq!(
            choose(&rules, &ctx(1, 0), &mut low).map(|r| r.fault),
            Some(FaultKind::Reset)
        );
        assert_eq!(
            choose(&rules, &ctx(2, 0), &mut low).map(|r| r.sleep()),
            Some(Duration::from_secs(2))
        );
        assert_eq!(draws, 1);
        assert!(choose(&rules, &ctx(3, 0), &mut never).is_none());
    }

    #[test]
    fn filters_by_provider_and_job() {
        let rules = [parse_flag("truncated@provider=huawei").unwrap()];
        assert!(choose(&rules, &ctx(1, 0), &mut never).is_none());
        let rules = [parse_flag("malformed@job=15964").unwrap()];
        assert!(choose(&rules, &ctx(1, 0), &mut never).is_some());
        let mut other = ctx(1, 0);
        other.job_id = Some("1");
        assert!(choose(&rules, &other, &mut never).is_none());
    }

    #[test]
    fn rejects_bad_flags() {
        for bad in [
            "explode",
            "reset=3",
            "503@p=2",
            "slow=soon",
            "200",
            "503@when=now",
            "503@5-3",
        ] {
            assert!(parse_flag(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_flag("timeout").unwrap().sleep(),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn yaml_form() {
        let rule: FaultRule =
            serde_norway::from_str("{fault: status, status: 502, requests: 2, delay: 1s}").unwrap();
        assert_eq!(rule.requests.unwrap().bounds().unwrap(), (2, 2));
        assert_eq!(rule.delay, Some(Duration::from_secs(1)));
    }
}
