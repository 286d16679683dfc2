//! Azure's services as the simulator plays them, spoken to directly: the token endpoint's
//! checks of the form, the issued token's shape, and ARM's checks of the bearer token (missing,
//! unknown, expired), the api-version and the subscription, with its response headers.

use std::time::Duration;

use clouddb_job_operator::simulator::auth::{
    ARM_SCOPE, DEFAULT_AZURE_CLIENT_ID, DEFAULT_AZURE_CLIENT_SECRET, DEFAULT_AZURE_SUBSCRIPTION_ID,
    DEFAULT_AZURE_TENANT_ID,
};
use clouddb_job_operator::simulator::SimConfig;
use serde_json::Value;

use super::azure::{config, PG_JOB};
use super::*;

async fn send(req: reqwest::RequestBuilder) -> (u16, HeaderMapLite, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = resp.bytes().await.unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

type HeaderMapLite = Vec<(String, String)>;

fn header<'a>(headers: &'a HeaderMapLite, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_token_endpoint_and_arm_check_what_they_are_sent() {
    let sim = start(SimConfig {
        azure_token_lifetime: Duration::from_secs(1),
        ..config()
    })
    .await;
    let http = client(Duration::from_secs(5)).reqwest().clone();
    let token_url = format!("{}/{DEFAULT_AZURE_TENANT_ID}/oauth2/v2.0/token", sim.url());
    let form = |scope: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", DEFAULT_AZURE_CLIENT_ID)
            .append_pair("client_secret", DEFAULT_AZURE_CLIENT_SECRET)
            .append_pair("scope", scope)
            .finish()
    };
    let post = |body: String| {
        http.post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    let (status, _, body) = send(post(form("https://management.azure.com/"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    assert_eq!(body["error_codes"][0], 1002012);
    assert!(body["trace_id"].is_string() && body["correlation_id"].is_string());
    let (status, _, body) = send(post(form(ARM_SCOPE))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_u64()),
        (Some("Bearer"), Some(1))
    );
    let token = body["access_token"].as_str().unwrap().to_string();
    let status_url = format!(
        "{}/subscriptions/{DEFAULT_AZURE_SUBSCRIPTION_ID}/providers/Microsoft.DBforPostgreSQL/locations/westeurope/azureAsyncOperation/{PG_JOB}",
        sim.url()
    );
    let get = |query: &str, auth: Option<&str>| {
        let req = http.get(format!("{status_url}{query}"));
        match auth {
            Some(a) => req.header("authorization", a),
            None => req,
        }
    };
    let bearer = format!("Bearer {token}");
    let (status, headers, body) = send(get("?api-version=2024-08-01", None)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("AuthenticationFailed"))
    );
    assert!(header(&headers, "www-authenticate").is_some_and(|h| h.starts_with("Bearer ")));
    let (status, _, body) = send(get("?api-version=2024-08-01", Some("Bearer nope"))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );
    let (status, _, body) = send(get("", Some(&bearer))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("MissingApiVersionParameter"))
    );
    let (status, _, body) = send(get("?api-version=2023-12-30", Some(&bearer))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("InvalidApiVersionParameter"))
    );
    let (status, headers, body) = send(get("?api-version=2024-08-01", Some(&bearer))).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("InProgress")),
        "{body}"
    );
    assert!(header(&headers, "x-ms-request-id").is_some());
    assert!(header(&headers, "x-ms-correlation-request-id").is_some());
    assert!(header(&headers, "x-ms-ratelimit-remaining-subscription-reads").is_some());
    let bad_sub = status_url.replace(DEFAULT_AZURE_SUBSCRIPTION_ID, "not-a-guid");
    let (status, _, body) = send(
        http.get(format!("{bad_sub}?api-version=2024-08-01"))
            .header("authorization", &bearer),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("InvalidSubscriptionId"))
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, body) = send(get("?api-version=2024-08-01", Some(&bearer))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("ExpiredAuthenticationToken"))
    );
    assert!(
        !body.to_string().contains(&token),
        "ARM does not echo the token"
    );
    sim.shutdown().await;
}
