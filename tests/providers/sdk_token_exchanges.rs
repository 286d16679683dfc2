//! The Google Cloud and Azure workload-identity exchanges checked against the official auth
//! libraries (issue 29): for the same inputs (a projected ServiceAccount token file, the
//! pool provider, the service account to impersonate, the tenant and client ID, the
//! sovereign cloud), the operator's exchange (`identity::gcp::exchange`,
//! `identity::azure::exchange`, the real HTTP client) and the library's
//! (`tests/sdk_oracle/token_exchanges.py` in the pinned venv of `scripts/sdk-venv.sh`:
//! google-auth's `identity_pool.Credentials`, MSAL's `ConfidentialClientApplication` with a
//! `client_assertion`, azure-identity's `WorkloadIdentityCredential`) are sent through a
//! recording HTTPS proxy (`proxy.rs`) that answers as the clouds do. Both sides name the
//! real hosts, so the proxy sees which host each picked, then method, path, the relevant
//! headers and every form or JSON field; then what each read from the answers (token,
//! expiry).
//!
//! Cases: Google without impersonation (STS scope: Cloud SQL's `sqlservice.admin` only, the
//! narrowest the operator needs) and with it (STS `iam`, the narrowest `generateAccessToken`
//! accepts, as google-auth asks; the impersonated token `sqlservice.admin`); Azure in the
//! public, US Government and China clouds, each against MSAL and azure-identity. The
//! cloud's authority host and ARM endpoint come from the SDKs' data
//! (`AzureAuthorityHosts`, azure-mgmt-core's `get_arm_endpoints`); the libraries ask for
//! that ARM resource + `/.default`, and the operator, given only the authority, must too.
//!
//! Differences allowed, and why:
//! - the libraries' telemetry headers (`x-goog-api-client`, MSAL's `x-client-*`,
//!   `client-request-id`, ...) and transport headers (user agent, accept, length): they
//!   carry nothing of the exchange;
//! - Entra tenant discovery: MSAL first `GET
//!   {authority}/{tenant}/v2.0/.well-known/openid-configuration` for the token endpoint; the
//!   operator builds that documented endpoint itself, as azure-identity does;
//! - google-auth's `"delegates": null` in `generateAccessToken`: null is "no delegates",
//!   which the operator says by leaving the member out;
//! - a `content-type` parameter (`charset`): only the media type is compared;
//! - the US Government ARM scope: azure-mgmt-core asks for
//!   `https://management.core.usgovcloudapi.net/.default` (the classic identifier URI of
//!   the same ARM application); the operator, like the libraries here, asks for the ARM
//!   endpoint's own (`https://management.usgovcloudapi.net/.default`), which ARM accepts
//!   and issue 29 asks for. Any other cloud must match azure-mgmt-core exactly.
//!
//! The operator's half runs in a child process (this test binary, the ignored
//! `operator_side_child`) with `HTTPS_PROXY` set: reqwest reads the proxy from the
//! environment, which must not change under the other tests of this process. The venv
//! must exist: the test fails, never skips, when `scripts/sdk-venv.sh` cannot create it.

mod compare;
mod proxy;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use clouddb_job_operator::api::{ProviderKind, WorkloadIdentity};
use clouddb_job_operator::providers::clock::system_clock;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::identity::{self, FederatedIdentity, StsEndpoints};
use clouddb_job_operator::providers::Credentials;

use crate::sdk_capture::{self, root};
use compare::{compare_answers, compare_requests, Outcome};
use proxy::{Proxy, Seen, TestCa};

const POOL_PROVIDER: &str =
    "projects/123456789012/locations/global/workloadIdentityPools/k8s-pool/providers/cluster-1";
const GOOGLE_SA: &str = "db-tracker@orders-prod.iam.gserviceaccount.com";
const SQL_SCOPE: &str = "https://www.googleapis.com/auth/sqlservice.admin";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "00000000-0000-0000-0000-00000000c11e";
/// A projected ServiceAccount token's shape (its content matters to no side here).
const SA_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJpc3MiOiJodHRwczovL2s4cy5leGFtcGxlIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OnRlYW0tYTpkYi10cmFja2VyIn0.c2ln";
const CHILD_ENV: &str = "SDK_TOKEN_EXCHANGE_CHILD";

/// One operator exchange: Google (with or without impersonation) or an Azure cloud.
#[derive(Clone, Copy, Debug)]
enum Exchange {
    Google { impersonate: bool },
    Azure { cloud: &'static str },
}

impl Exchange {
    const ALL: [Exchange; 5] = [
        Exchange::Google { impersonate: false },
        Exchange::Google { impersonate: true },
        Exchange::Azure { cloud: "public" },
        Exchange::Azure {
            cloud: "usgovernment",
        },
        Exchange::Azure { cloud: "china" },
    ];

    fn name(self) -> String {
        match self {
            Exchange::Google { impersonate: false } => "gcp-federated".into(),
            Exchange::Google { impersonate: true } => "gcp-impersonated".into(),
            Exchange::Azure { cloud } => format!("azure-{cloud}"),
        }
    }

    fn libraries(self) -> &'static [&'static str] {
        match self {
            Exchange::Google { .. } => &["google-auth"],
            Exchange::Azure { .. } => &["msal", "azure-identity"],
        }
    }
}

/// The pinned venv's Python, from the shared oracle helpers (which fail, never skip, when
/// `scripts/sdk-venv.sh` cannot create it); off the runtime's threads, as it may install.
async fn sdk_python() -> PathBuf {
    tokio::task::spawn_blocking(sdk_capture::sdk_python)
        .await
        .unwrap()
}

/// The identity a job spec gives, resolved as the controller resolves it.
fn federated(exchange: Exchange) -> FederatedIdentity {
    let (kind, spec) = match exchange {
        Exchange::Google { impersonate } => (
            ProviderKind::Gcp,
            json!({"serviceAccountName": "db-tracker", "oidcProvider": POOL_PROVIDER,
                   "googleServiceAccount": impersonate.then_some(GOOGLE_SA)}),
        ),
        Exchange::Azure { .. } => (
            ProviderKind::Azure,
            json!({"serviceAccountName": "db-tracker", "tenantId": TENANT, "clientId": CLIENT_ID}),
        ),
    };
    let spec: WorkloadIdentity = serde_json::from_value(spec).unwrap();
    FederatedIdentity::new(kind, "team-a", &spec, Some("eastus"), Some("orders-prod")).unwrap()
}

/// The operator's half, in the child: the exchange as `FederatedProvider` makes it (the
/// installer's `--sts-endpoint azure=` authority for Azure, Google's own endpoints), with the
/// token file's content as the ServiceAccount token. Writes the token and expiry it read.
#[tokio::test]
#[ignore = "the operator's half of every_exchange_matches_the_official_library, which runs it \
            in a child process with HTTPS_PROXY set"]
async fn operator_side_child() {
    let spec = std::env::var(CHILD_ENV)
        .expect("run only by every_exchange_matches_the_official_library, which sets the case");
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let ca = std::fs::read(spec["ca"].as_str().unwrap()).unwrap();
    let http = HttpClient::new(&HttpOptions {
        extra_ca_pem: Some(ca),
        ..Default::default()
    })
    .unwrap();
    let token = std::fs::read_to_string(spec["token_file"].as_str().unwrap()).unwrap();
    let token = SecretString::new(token);
    let exchange = Exchange::ALL[spec["exchange"].as_u64().unwrap() as usize];
    let id = federated(exchange);
    let clock = system_clock();
    let result = match exchange {
        Exchange::Google { .. } => {
            identity::gcp::exchange(&http, &StsEndpoints::default(), &id, &token, &clock).await
        }
        Exchange::Azure { .. } => {
            let authority = format!("azure=https://{}", spec["authority"].as_str().unwrap());
            let endpoints = StsEndpoints::parse([authority.as_str()]).unwrap();
            let endpoint = identity::azure::endpoint(&id, &endpoints).unwrap();
            identity::azure::exchange(&http, &endpoint, &id, &token, &clock).await
        }
    };
    let expiring = result.expect("the operator's exchange succeeds");
    let Credentials::Bearer(bearer) = &expiring.value else {
        panic!("a bearer token, not {:?}", expiring.value);
    };
    let out = json!({
        "token": bearer.expose(),
        "expiry": expiring.expires_at.as_millisecond() as f64 / 1000.0,
    });
    std::fs::write(spec["out"].as_str().unwrap(), out.to_string()).unwrap();
}

/// Runs the operator's exchange in a child process through `proxy`.
async fn run_operator(exchange: Exchange, proxy: &Proxy, dir: &Path, authority: &str) -> Outcome {
    let index = Exchange::ALL
        .iter()
        .position(|e| e.name() == exchange.name())
        .unwrap();
    let out = dir.join(format!("operator-{}.json", exchange.name()));
    let spec = json!({
        "exchange": index,
        "ca": dir.join("ca.pem"),
        "token_file": dir.join("token"),
        "authority": authority,
        "out": out,
    });
    let child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "sdk_token_exchanges::operator_side_child",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, spec.to_string())
        .env("HTTPS_PROXY", &proxy.url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success() && stdout.contains("1 passed"),
        "{}: the operator's exchange failed:\n{stdout}\n{}",
        exchange.name(),
        String::from_utf8_lossy(&child.stderr)
    );
    let v: Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    Outcome {
        token: v["token"].as_str().unwrap().into(),
        expiry: v["expiry"].as_f64().unwrap(),
    }
}

/// One library run per (exchange, library): its proxy and the case line for the oracle.
struct LibraryCase {
    exchange: Exchange,
    library: &'static str,
    proxy: Proxy,
}

impl LibraryCase {
    fn name(&self) -> String {
        format!("{} {}", self.exchange.name(), self.library)
    }

    fn line(&self, dir: &Path) -> Value {
        let mut case = json!({
            "name": self.name(),
            "library": self.library,
            "proxy": self.proxy.url,
            "token_file": dir.join("token"),
        });
        match self.exchange {
            Exchange::Google { impersonate } => {
                case["audience"] = identity::gcp::audience(POOL_PROVIDER).into();
                case["scopes"] = json!([SQL_SCOPE]);
                case["email"] = json!(impersonate.then_some(GOOGLE_SA));
            }
            Exchange::Azure { cloud } => {
                case["cloud"] = cloud.into();
                case["tenant"] = TENANT.into();
                case["client_id"] = CLIENT_ID.into();
            }
        }
        case
    }
}

/// Runs every library case in one oracle process; returns its per-case results.
async fn run_libraries(python: &Path, cases: &[LibraryCase], dir: &Path) -> Value {
    let lines: Vec<Value> = cases.iter().map(|c| c.line(dir)).collect();
    let input = dir.join("cases.json");
    let output = dir.join("results.json");
    std::fs::write(&input, json!({ "cases": lines }).to_string()).unwrap();
    let out = tokio::process::Command::new(python)
        .arg(root().join("tests/sdk_oracle/token_exchanges.py"))
        .args([&input, &output])
        .env("REQUESTS_CA_BUNDLE", dir.join("ca.pem"))
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("AZURE_AUTHORITY_HOST")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the official libraries' exchanges failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(output).unwrap()).unwrap()
}

/// The Azure cloud's values from the SDK data the oracle reported, checked against the
/// operator's cloud setting for that authority; returns the authority host.
fn check_azure_cloud(cloud: &str, sdk: &Value, failures: &mut Vec<String>) -> String {
    let authority = sdk["authority_host"].as_str().unwrap().to_string();
    let endpoints = StsEndpoints::parse([format!("azure=https://{authority}").as_str()]).unwrap();
    let ours = identity::azure::cloud(&endpoints);
    let arm = sdk["resource_manager"]
        .as_str()
        .unwrap()
        .trim_end_matches('/');
    if ours.arm_host() != arm {
        failures.push(format!(
            "azure-{cloud}: the operator calls ARM at {}, the SDK's cloud at {arm}",
            ours.arm_host()
        ));
    }
    let sdk_scope = sdk["credential_scopes"][0].as_str().unwrap();
    let documented = cloud == "usgovernment"
        && sdk_scope == "https://management.core.usgovcloudapi.net/.default";
    if ours.arm_scope() != sdk_scope && !documented {
        failures.push(format!(
            "azure-{cloud}: the operator's scope {} is not azure-mgmt-core's {sdk_scope}",
            ours.arm_scope()
        ));
    }
    authority
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exchange_matches_the_official_library() {
    let python = sdk_python().await;
    let dir = std::env::temp_dir().join(format!("sdk-token-exchanges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = TestCa::new();
    std::fs::write(dir.join("ca.pem"), &ca.ca_pem).unwrap();
    // As the kubelet projects it: no trailing newline.
    std::fs::write(dir.join("token"), SA_TOKEN).unwrap();

    let mut cases = Vec::new();
    for exchange in Exchange::ALL {
        for &library in exchange.libraries() {
            let proxy = Proxy::start(&ca).await;
            cases.push(LibraryCase {
                exchange,
                library,
                proxy,
            });
        }
    }
    let results = run_libraries(&python, &cases, &dir).await;

    let mut failures = Vec::new();
    let mut compared = 0;
    for exchange in Exchange::ALL {
        let mine: Vec<&LibraryCase> = cases
            .iter()
            .filter(|c| c.exchange.name() == exchange.name())
            .collect();
        let authority = match exchange {
            Exchange::Azure { cloud } => {
                let sdk = &results[mine[0].name()]["cloud"];
                check_azure_cloud(cloud, sdk, &mut failures)
            }
            Exchange::Google { .. } => String::new(),
        };
        let proxy = Proxy::start(&ca).await;
        let ours = run_operator(exchange, &proxy, &dir, &authority).await;
        let our_seen = proxy.seen();
        for case in mine {
            let lib_seen = case.proxy.seen();
            let result = &results[case.name()];
            let lib = Outcome {
                token: result["token"].as_str().unwrap_or_default().into(),
                expiry: result["expiry"].as_f64().unwrap_or_default(),
            };
            let mut found = compare_requests(&our_seen, &lib_seen);
            if let (Some(o), Some(l)) = (our_seen.last(), lib_seen.last()) {
                found.extend(compare_answers(&ours, o, &lib, l));
            }
            // Every exchange sends the token file's token, on both sides.
            for seen in our_seen.iter().chain(&lib_seen) {
                let form = seen.form();
                let sent = form
                    .iter()
                    .find(|(k, _)| k == "subject_token" || k == "client_assertion");
                let exchange = seen.method == "POST" && seen.path.ends_with("token");
                if exchange && sent.map(|(_, v)| v.as_str()) != Some(SA_TOKEN) {
                    found.push(format!("{} did not send the token file's token", seen.host));
                }
            }
            println!(
                "{}: operator {} request(s), library {} (with discovery): {} difference(s)",
                case.name(),
                our_seen.len(),
                lib_seen.len(),
                found.len()
            );
            failures.extend(found.into_iter().map(|f| format!("{}: {f}", case.name())));
            compared += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(compared, 8, "2 Google and 6 Azure comparisons");
    assert!(
        failures.is_empty(),
        "the operator's exchanges differ from the official libraries':\n{}",
        failures.join("\n")
    );
}

/// The comparison itself can fail: a request with a wrong `grant_type`, one with another
/// cloud's scope, and a different token read are each reported.
#[test]
fn the_comparison_reports_a_changed_field_and_a_misread_answer() {
    let seen = |body: &str| Seen {
        host: "login.microsoftonline.us".into(),
        method: "POST".into(),
        path: format!("/{TENANT}/oauth2/v2.0/token"),
        headers: vec![
            ("host".into(), "login.microsoftonline.us".into()),
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
        ],
        body: body.into(),
        status: 200,
        answer: json!({"access_token": "t", "expires_in": proxy::EXPIRES_IN}).to_string(),
        at: 1000.0,
    };
    let good = seen(
        "grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.usgovcloudapi.net%2F.default",
    );
    assert!(compare_requests(std::slice::from_ref(&good), std::slice::from_ref(&good)).is_empty());
    let grant =
        seen("grant_type=password&scope=https%3A%2F%2Fmanagement.usgovcloudapi.net%2F.default");
    let found = compare_requests(&[grant], std::slice::from_ref(&good));
    assert!(
        found.iter().any(|f| f.contains("\"grant_type\"")),
        "{found:?}"
    );
    let public =
        seen("grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default");
    let found = compare_requests(&[public], std::slice::from_ref(&good));
    assert!(found.iter().any(|f| f.contains("\"scope\"")), "{found:?}");
    let read = |token: &str, expiry: f64| Outcome {
        token: token.into(),
        expiry,
    };
    let right = read("t", 1000.0 + proxy::EXPIRES_IN as f64);
    assert!(compare_answers(&right, &good, &right, &good).is_empty());
    let found = compare_answers(&read("t", 1000.0 + 3600.0), &good, &right, &good);
    assert!(found.iter().any(|f| f.contains("expiry")), "{found:?}");
}
