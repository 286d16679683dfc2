//! The workload-identity wrapper (`identity::FederatedProvider`) against a local AWS STS:
//! one TokenRequest and one exchange per identity for many polls, temporary credentials
//! handed to the real provider, a revoked credential exchanged again once and silently,
//! refusals passed on with their reason, other credentials untouched.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::clock::system_clock;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::identity::{
    FederatedIdentity, FederatedProvider, ServiceAccountTokens, StsEndpoints,
};
use clouddb_job_operator::providers::{
    Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError,
};

/// The local STS: answers each exchange with fresh credentials (numbered), or refuses.
#[derive(Default)]
struct Sts {
    exchanges: AtomicUsize,
    refuse: Mutex<Option<(u16, &'static str)>>,
    forms: Mutex<Vec<String>>,
}

async fn sts(State(sts): State<Arc<Sts>>, body: Bytes) -> impl IntoResponse {
    sts.forms
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&body).into_owned());
    if let Some((status, code)) = *sts.refuse.lock().unwrap() {
        // Echoes the token it was sent, as a careless gateway might: it must not get through.
        let token = url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "WebIdentityToken")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let body = format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity with {token}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>");
        return (StatusCode::from_u16(status).unwrap(), body);
    }
    let n = sts.exchanges.fetch_add(1, Ordering::SeqCst) + 1;
    let expires = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ");
    let body = format!(
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><SessionToken>token-{n}</SessionToken><SecretAccessKey>secret-{n}</SecretAccessKey><Expiration>{expires}</Expiration><AccessKeyId>ASIA{n}</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
    );
    (StatusCode::OK, body)
}

/// ServiceAccount tokens from a counter; `missing` names a ServiceAccount that does not exist.
#[derive(Default)]
struct Tokens {
    issued: AtomicUsize,
}

#[async_trait]
impl ServiceAccountTokens for Tokens {
    async fn token(
        &self,
        namespace: &str,
        name: &str,
        audience: &str,
        lifetime: Duration,
    ) -> Result<SecretString, ProviderError> {
        assert_eq!(audience, "sts.amazonaws.com");
        assert_eq!(lifetime, Duration::from_secs(600));
        if name == "missing" {
            return Err(ProviderError::permanent(
                ErrorReason::ServiceAccountNotFound,
                "ServiceAccountNotFound",
                format!("ServiceAccount {name:?} not found in namespace {namespace:?}"),
            ));
        }
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(SecretString::new(format!(
            "sa-token-{namespace}-{name}-{n}"
        )))
    }
}

/// The provider behind the wrapper: records the credentials it was given; refuses the
/// access key IDs listed in `revoked`.
#[derive(Default)]
struct Recording {
    seen: Mutex<Vec<Credentials>>,
    revoked: Mutex<Vec<String>>,
}

#[async_trait]
impl Provider for Recording {
    async fn observe(
        &self,
        _target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        self.seen.lock().unwrap().push(credentials.clone());
        if let Credentials::Aws { access_key_id, .. } = credentials {
            if self.revoked.lock().unwrap().contains(access_key_id) {
                return Err(ProviderError::permanent(
                    ErrorReason::AuthenticationFailed,
                    "ExpiredToken",
                    "The security token included in the request is expired",
                ));
            }
        }
        Ok(JobObservation {
            phase: Some(JobPhase::Running),
            ..Default::default()
        })
    }
}

struct Setup {
    provider: FederatedProvider,
    sts: Arc<Sts>,
    tokens: Arc<Tokens>,
    inner: Arc<Recording>,
}

async fn setup() -> Setup {
    let sts = Arc::new(Sts::default());
    let app = Router::new()
        .route("/", axum::routing::post(self::sts))
        .with_state(sts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let tokens = Arc::new(Tokens::default());
    let inner = Arc::new(Recording::default());
    let endpoints = StsEndpoints::parse([format!("aws=http://{addr}").as_str()]).unwrap();
    let provider = FederatedProvider::new(
        inner.clone(),
        tokens.clone(),
        HttpClient::new(&HttpOptions::default()).unwrap(),
        endpoints,
        system_clock(),
    );
    Setup {
        provider,
        sts,
        tokens,
        inner,
    }
}

fn identity(namespace: &str, account: &str) -> Credentials {
    Credentials::Federated(FederatedIdentity {
        provider: ProviderKind::Aws,
        namespace: namespace.into(),
        service_account: account.into(),
        role_arn: Some("arn:aws:iam::123456789012:role/reader".into()),
        oidc_provider: None,
        audience: "sts.amazonaws.com".into(),
        region: Some("us-east-1".into()),
        project_id: None,
        tenant_id: None,
        client_id: None,
        google_service_account: None,
    })
}

fn target() -> JobTarget {
    JobTarget::new(
        ProviderKind::Aws,
        None,
        "export-1",
        Some("us-east-1"),
        None,
        None,
        None,
    )
    .unwrap()
}

#[tokio::test]
async fn many_polls_of_one_identity_cost_one_token_and_one_exchange() {
    let s = setup().await;
    let creds = identity("team-a", "reader");
    for _ in 0..20 {
        assert!(s.provider.observe(&target(), &creds).await.is_ok());
    }
    assert_eq!(s.tokens.issued.load(Ordering::SeqCst), 1);
    assert_eq!(s.sts.exchanges.load(Ordering::SeqCst), 1);
    assert_eq!(s.provider.exchanges(), 1);
    // The real provider only ever saw the temporary credentials.
    let seen = s.inner.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 20);
    assert!(seen.iter().all(|c| matches!(
        c,
        Credentials::Aws { access_key_id, session_token: Some(_), .. } if access_key_id == "ASIA1"
    )));
    // The exchange named the role, a session naming the ServiceAccount, and its token.
    let form = s.sts.forms.lock().unwrap()[0].clone();
    assert!(form.contains("Action=AssumeRoleWithWebIdentity"), "{form}");
    assert!(
        form.contains("RoleSessionName=clouddb.team-a.reader"),
        "{form}"
    );
    assert!(
        form.contains("WebIdentityToken=sa-token-team-a-reader-1"),
        "{form}"
    );
    // Another namespace's ServiceAccount of the same name is another identity.
    s.provider
        .observe(&target(), &identity("team-b", "reader"))
        .await
        .unwrap();
    assert_eq!(s.sts.exchanges.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_revoked_credential_is_exchanged_again_once_silently() {
    let s = setup().await;
    let creds = identity("team-a", "reader");
    s.provider.observe(&target(), &creds).await.unwrap();
    s.inner.revoked.lock().unwrap().push("ASIA1".into());
    // The poll succeeds: ASIA1 refused, exchanged again, ASIA2 accepted.
    s.provider.observe(&target(), &creds).await.unwrap();
    assert_eq!(s.sts.exchanges.load(Ordering::SeqCst), 2);
    let last = s.inner.seen.lock().unwrap().last().cloned().unwrap();
    assert!(matches!(last, Credentials::Aws { access_key_id, .. } if access_key_id == "ASIA2"));
    // Still refused after the fresh exchange: the error surfaces (once, not in a loop).
    s.inner.revoked.lock().unwrap().push("ASIA2".into());
    s.inner.revoked.lock().unwrap().push("ASIA3".into());
    let err = s.provider.observe(&target(), &creds).await.unwrap_err();
    assert_eq!(err.reason, ErrorReason::AuthenticationFailed);
    assert_eq!(s.sts.exchanges.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn refusals_reach_the_job_with_their_reason_and_cache_nothing() {
    let s = setup().await;
    *s.sts.refuse.lock().unwrap() = Some((403, "AccessDenied"));
    let err = s
        .provider
        .observe(&target(), &identity("team-a", "reader"))
        .await
        .unwrap_err();
    assert_eq!(err.reason, ErrorReason::AccessDenied);
    assert!(err.message.contains("trust policy"), "{}", err.message);
    assert!(!err.message.contains("sa-token"), "{}", err.message);
    assert!(s.inner.seen.lock().unwrap().is_empty(), "no provider call");
    // Fixed on the cloud side: the next poll exchanges again.
    *s.sts.refuse.lock().unwrap() = None;
    s.provider
        .observe(&target(), &identity("team-a", "reader"))
        .await
        .unwrap();
    let missing = s
        .provider
        .observe(&target(), &identity("team-a", "missing"))
        .await
        .unwrap_err();
    assert_eq!(missing.reason, ErrorReason::ServiceAccountNotFound);
}

#[tokio::test]
async fn stored_keys_pass_through_untouched() {
    let s = setup().await;
    let keys = Credentials::Aws {
        access_key_id: "AKIAEXAMPLE".into(),
        secret_access_key: SecretString::new("secret"),
        session_token: None,
    };
    s.provider.observe(&target(), &keys).await.unwrap();
    assert_eq!(s.inner.seen.lock().unwrap()[0], keys);
    assert_eq!(s.tokens.issued.load(Ordering::SeqCst), 0);
    assert_eq!(s.sts.exchanges.load(Ordering::SeqCst), 0);
}
