//! The resolved description of one job to poll, shared by the controller and `track`.

use std::time::Duration;

use url::Url;

use crate::duration::parse_duration;
use clouddb_api::{
    CloudDbJobSpec, ProviderApi, ProviderKind, DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL,
};

/// Everything a provider call needs about the job, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobTarget {
    pub provider: ProviderKind,
    /// The API, defaulted from the provider when the spec leaves it out.
    pub api: ProviderApi,
    pub job_id: String,
    pub region: Option<String>,
    pub instance_id: Option<String>,
    pub project_id: Option<String>,
    /// The Azure subscription (required for `azure`).
    pub subscription_id: Option<String>,
    /// Endpoint override (scheme, host and optional port; a path prefix is kept).
    pub endpoint: Option<Url>,
}

/// Why a spec cannot be turned into a [`JobTarget`] (admission rules normally catch these;
/// the controller re-checks because CRDs can be installed without them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTarget(pub String);

impl JobTarget {
    /// Validates and resolves a spec.
    pub fn from_spec(spec: &CloudDbJobSpec) -> Result<Self, InvalidTarget> {
        Self::new(
            spec.provider,
            spec.api.as_deref(),
            &spec.job_id,
            spec.region.as_deref(),
            spec.instance_id.as_deref(),
            spec.project_id.as_deref(),
            spec.endpoint.as_deref(),
        )?
        .with_subscription_id(spec.subscription_id.as_deref())
    }

    /// Sets the Azure subscription, which Azure requires and no other provider takes.
    pub fn with_subscription_id(mut self, id: Option<&str>) -> Result<Self, InvalidTarget> {
        self.subscription_id = id
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from);
        match (self.provider, &self.subscription_id) {
            (ProviderKind::Azure, None) => Err(InvalidTarget(
                "subscriptionId is required for provider azure".into(),
            )),
            (ProviderKind::Azure, Some(_)) | (_, None) => Ok(self),
            (other, Some(_)) => Err(InvalidTarget(format!(
                "subscriptionId applies to provider azure only, not {other}"
            ))),
        }
    }

    /// Validates and resolves the parts of a target (also used by the `track` CLI).
    pub fn new(
        provider: ProviderKind,
        api: Option<&str>,
        job_id: &str,
        region: Option<&str>,
        instance_id: Option<&str>,
        project_id: Option<&str>,
        endpoint: Option<&str>,
    ) -> Result<Self, InvalidTarget> {
        let api = match api {
            None => ProviderApi::default_for(provider),
            Some(name) => ProviderApi::parse(provider, name).ok_or_else(|| {
                InvalidTarget(format!(
                    "api {name:?} does not belong to provider {provider}: expected one of {}",
                    provider.apis().join(", ")
                ))
            })?,
        };
        let job_id = job_id.trim();
        if job_id.is_empty() {
            return Err(InvalidTarget("jobId must not be empty".into()));
        }
        if api.takes_integer_job_id() && job_id.parse::<u64>().is_err() {
            return Err(InvalidTarget(format!(
                "jobId {job_id:?} must be an integer task ID for {provider} {api}"
            )));
        }
        let non_empty =
            |v: Option<&str>| v.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let region = non_empty(region);
        let project_id = non_empty(project_id);
        let endpoint = endpoint.map(parse_endpoint).transpose()?;
        match provider {
            ProviderKind::Tencent
            | ProviderKind::TencentLegacy
            | ProviderKind::Alibaba
            | ProviderKind::Aws
            | ProviderKind::Azure
                if region.is_none() =>
            {
                return Err(InvalidTarget(format!(
                    "region is required for provider {provider}"
                )));
            }
            ProviderKind::Huawei | ProviderKind::Gcp if project_id.is_none() => {
                return Err(InvalidTarget(format!(
                    "projectId is required for provider {provider}"
                )));
            }
            ProviderKind::Huawei if region.is_none() && endpoint.is_none() => {
                return Err(InvalidTarget(
                    "region is required for provider huawei unless endpoint is set".into(),
                ));
            }
            _ => {}
        }
        Ok(JobTarget {
            provider,
            api,
            job_id: job_id.to_string(),
            region,
            instance_id: non_empty(instance_id),
            project_id,
            subscription_id: None,
            endpoint,
        })
    }
}

/// The project a provider names in its URLs (Huawei Cloud, Google Cloud), trimmed: a job or
/// instance without one is refused before any call.
pub fn require_project_id(
    project_id: Option<&str>,
    provider: ProviderKind,
) -> Result<&str, crate::ProviderError> {
    project_id
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            crate::ProviderError::permanent(
                crate::ErrorReason::InvalidRequest,
                "MissingProjectId",
                format!("projectId is required for provider {}", provider.as_str()),
            )
        })
}

/// Parses an endpoint override: `https://` anywhere, `http://` only on loopback.
pub fn parse_endpoint(raw: &str) -> Result<Url, InvalidTarget> {
    let url = Url::parse(raw.trim())
        .map_err(|e| InvalidTarget(format!("endpoint {raw:?} is not a valid URL: {e}")))?;
    let host = url
        .host()
        .ok_or_else(|| InvalidTarget(format!("endpoint {raw:?} has no host")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(InvalidTarget("endpoint must not carry user info".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(InvalidTarget(format!(
            "endpoint {raw:?} must not have a query or fragment"
        )));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&host) => Ok(url),
        "http" => Err(InvalidTarget(format!(
            "endpoint {raw:?} uses http://, which is allowed only for loopback hosts; use https://"
        ))),
        other => Err(InvalidTarget(format!(
            "endpoint {raw:?} has unsupported scheme {other:?}; use https://"
        ))),
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// The spec's poll interval, defaulted and clamped to the minimum.
pub fn poll_interval(spec: &CloudDbJobSpec) -> Result<Duration, InvalidTarget> {
    match spec.poll_interval.as_deref() {
        None => Ok(DEFAULT_POLL_INTERVAL),
        Some(raw) => {
            let d = parse_duration(raw)
                .map_err(|e| InvalidTarget(format!("pollInterval {raw:?}: {e}")))?;
            if d < MIN_POLL_INTERVAL {
                return Err(InvalidTarget(format!(
                    "pollInterval {raw:?} is below the minimum of 1s"
                )));
            }
            Ok(d)
        }
    }
}

/// The spec's tracking timeout, if any.
pub fn tracking_timeout(spec: &CloudDbJobSpec) -> Result<Option<Duration>, InvalidTarget> {
    spec.timeout
        .as_deref()
        .map(|raw| {
            parse_duration(raw)
                .map_err(|e| InvalidTarget(format!("timeout {raw:?}: {e}")))
                .and_then(|d| {
                    if d.is_zero() {
                        Err(InvalidTarget("timeout must be greater than zero".into()))
                    } else {
                        Ok(d)
                    }
                })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tencent(api: Option<&str>, job: &str) -> Result<JobTarget, InvalidTarget> {
        JobTarget::new(
            ProviderKind::Tencent,
            api,
            job,
            Some("ap-guangzhou"),
            None,
            None,
            None,
        )
    }

    #[test]
    fn azure_needs_a_subscription_and_a_location_and_gcp_a_project() {
        let azure = |sub: Option<&str>| {
            JobTarget::new(
                ProviderKind::Azure,
                Some("mysql-flexible"),
                "op-1",
                Some("eastus"),
                None,
                None,
                None,
            )
            .and_then(|t| t.with_subscription_id(sub))
        };
        let sub = "00000000-0000-0000-0000-00000000000a";
        assert_eq!(
            azure(Some(sub)).unwrap().subscription_id.as_deref(),
            Some(sub)
        );
        assert!(azure(None)
            .unwrap_err()
            .0
            .contains("subscriptionId is required"));
        let no_location = JobTarget::new(ProviderKind::Azure, None, "op", None, None, None, None);
        assert!(no_location.unwrap_err().0.contains("region is required"));
        let gcp = JobTarget::new(ProviderKind::Gcp, None, "op", None, None, None, None);
        assert!(gcp
            .unwrap_err()
            .0
            .contains("projectId is required for provider gcp"));
        let gcp = JobTarget::new(ProviderKind::Gcp, None, "op", None, None, Some("p"), None);
        assert_eq!(gcp.unwrap().api, ProviderApi::CloudSql);
        let not_azure = JobTarget::new(ProviderKind::Gcp, None, "op", None, None, Some("p"), None)
            .unwrap()
            .with_subscription_id(Some(sub));
        assert!(not_azure.unwrap_err().0.contains("azure only"));
    }

    #[test]
    fn defaults_the_api_per_provider() {
        assert_eq!(tencent(None, "15964").unwrap().api, "DescribeTasks");
        let legacy = JobTarget::new(
            ProviderKind::TencentLegacy,
            None,
            "1",
            Some("gz"),
            None,
            None,
            None,
        );
        assert_eq!(legacy.unwrap().api, "GetCdbTaskInfo");
        let hw = JobTarget::new(
            ProviderKind::Huawei,
            None,
            "a-b",
            Some("cn-north-4"),
            None,
            Some("p"),
            None,
        );
        assert_eq!(hw.unwrap().api, "rds");
    }

    #[test]
    fn alibaba_and_aws_need_a_region_and_take_string_job_ids() {
        let alibaba = |api, region| {
            JobTarget::new(
                ProviderKind::Alibaba,
                api,
                "t-83br18hloy3faf",
                region,
                Some("rm-uf6wjk5xxxxxxx"),
                None,
                None,
            )
        };
        assert_eq!(
            alibaba(None, Some("cn-hangzhou")).unwrap().api,
            ProviderApi::AlibabaRds
        );
        assert_eq!(
            alibaba(Some("polardb"), Some("cn-hangzhou")).unwrap().api,
            ProviderApi::PolarDb
        );
        assert!(alibaba(None, None).unwrap_err().0.contains("region"));
        let aws = JobTarget::new(
            ProviderKind::Aws,
            Some("blue-green"),
            "bgd-1234567890abcdef",
            Some("us-east-1"),
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(aws.api, ProviderApi::BlueGreen);
        let err = JobTarget::new(
            ProviderKind::Aws,
            Some("rds"),
            "x",
            Some("us-east-1"),
            None,
            None,
            None,
        )
        .unwrap_err();
        assert!(err.0.contains("export-task, db-snapshot"), "{err}");
    }

    #[test]
    fn rejects_api_of_another_provider() {
        let err = tencent(Some("GetCdbTaskInfo"), "1").unwrap_err();
        assert!(
            err.0.contains("does not belong to provider tencent"),
            "{err}"
        );
    }

    #[test]
    fn tencent_task_ids_must_be_integers_but_async_request_ids_need_not() {
        assert!(tencent(None, "abc")
            .unwrap_err()
            .0
            .contains("must be an integer"));
        let async_request = tencent(Some("DescribeAsyncRequestInfo"), " f3ab-77 ").unwrap();
        assert_eq!(async_request.api, "DescribeAsyncRequestInfo");
        assert_eq!(
            async_request.job_id, "f3ab-77",
            "trimmed, otherwise as given"
        );
    }

    #[test]
    fn huawei_needs_project_and_region_or_endpoint() {
        let no_project =
            JobTarget::new(ProviderKind::Huawei, None, "j", Some("r"), None, None, None);
        assert!(no_project.unwrap_err().0.contains("projectId"));
        let no_region =
            JobTarget::new(ProviderKind::Huawei, None, "j", None, None, Some("p"), None);
        assert!(no_region.unwrap_err().0.contains("region"));
        let endpoint_only = JobTarget::new(
            ProviderKind::Huawei,
            None,
            "j",
            None,
            None,
            Some("p"),
            Some("https://gaussdb.example.com"),
        );
        let t = endpoint_only.unwrap();
        assert_eq!(
            t.endpoint.as_ref().map(Url::as_str),
            Some("https://gaussdb.example.com/")
        );
        assert_eq!((t.region, t.project_id.as_deref()), (None, Some("p")));
    }

    #[test]
    fn endpoint_scheme_rules() {
        // Accepted endpoints come back normalised: lower-case scheme and host, default port
        // dropped, a path prefix kept as given (the clients append their API path to it).
        for (raw, normalised) in [
            (
                "https://cdb.ap-shanghai-fsi.tencentcloudapi.com",
                "https://cdb.ap-shanghai-fsi.tencentcloudapi.com/",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
            ("http://[::1]:8080", "http://[::1]:8080/"),
            ("http://localhost:1", "http://localhost:1/"),
            ("http://LocalHost:80/", "http://localhost/"),
            (
                "  HTTPS://Gateway.Corp.Example:443/cdb/v3  ",
                "https://gateway.corp.example/cdb/v3",
            ),
            (
                "https://gateway.corp.example:8443/prefix/",
                "https://gateway.corp.example:8443/prefix/",
            ),
        ] {
            let url = parse_endpoint(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(url.as_str(), normalised, "{raw}");
        }
        let err = parse_endpoint("http://evil.example.com").unwrap_err();
        assert!(err.0.contains("only for loopback"), "{err}");
        assert!(parse_endpoint("ftp://x").unwrap_err().0.contains("scheme"));
        assert!(parse_endpoint("https://u:p@x.example.com").is_err());
        assert!(parse_endpoint("not a url").is_err());
    }

    #[test]
    fn poll_interval_defaults_and_floor() {
        let mut spec: CloudDbJobSpec = serde_json::from_value(serde_json::json!({
            "provider": "tencent", "jobId": "1", "region": "ap-guangzhou",
            "credentialsSecretRef": {"name": "s"}
        }))
        .unwrap();
        assert_eq!(poll_interval(&spec).unwrap(), DEFAULT_POLL_INTERVAL);
        spec.poll_interval = Some("500ms".into());
        assert!(poll_interval(&spec).unwrap_err().0.contains("minimum"));
        spec.poll_interval = Some("1m30s".into());
        assert_eq!(poll_interval(&spec).unwrap(), Duration::from_secs(90));
        spec.timeout = Some("0s".into());
        assert!(tracking_timeout(&spec).is_err());
        spec.timeout = Some("2h".into());
        assert_eq!(
            tracking_timeout(&spec).unwrap(),
            Some(Duration::from_secs(7200))
        );
    }
}
