//! A recording HTTPS proxy for the token exchanges: it accepts `CONNECT host:443`, ends TLS
//! itself with a certificate of a fresh test CA for the clouds' real token hosts, records
//! each request (method, path, headers, body as received) and answers it as the cloud
//! would. Both sides reach it the same way (`HTTPS_PROXY`), so both name the real hosts
//! (`sts.googleapis.com`, `login.microsoftonline.us`, ...) and neither needs a test-only
//! endpoint override: the hosts each side picks are compared too.
//!
//! Written here, not in `sdk_capture.rs` (absent when this was written): that capture server
//! is a plain-HTTP endpoint, while MSAL insists on an `https` authority and the sovereign
//! clouds are selected by the authority's host name.

use std::sync::{Arc, Mutex};

use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// The hosts the test CA's certificate is valid for: every token host of the compared
/// exchanges.
pub const HOSTS: [&str; 5] = [
    "sts.googleapis.com",
    "iamcredentials.googleapis.com",
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
];

/// Lifetime (`expires_in`) of every OAuth answer: not a round hour, so a side that ignored
/// it and assumed a default would show.
pub const EXPIRES_IN: i64 = 3517;
/// How far ahead the impersonated token's `expireTime` lies (within the federated token's
/// lifetime, so no cap applies).
pub const IMPERSONATED_SECS: i64 = 2711;

/// One request as the proxy received it, with its answer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Seen {
    /// The `CONNECT` target (host without port).
    pub host: String,
    pub method: String,
    pub path: String,
    /// Header names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: u16,
    pub answer: String,
    /// When it was answered (Unix seconds): relative lifetimes are counted from here.
    pub at: f64,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The decoded form fields of a form body.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
}

/// The test CA (its PEM, for the clients to trust) and the server side of TLS.
#[derive(Clone)]
pub struct TestCa {
    pub ca_pem: String,
    acceptor: TlsAcceptor,
}

impl TestCa {
    pub fn new() -> TestCa {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        // Distinct names: OpenSSL takes a leaf named like its issuer for self-signed.
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "sdk-token-exchanges test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params =
            CertificateParams::new(HOSTS.iter().map(|h| h.to_string()).collect::<Vec<_>>())
                .unwrap();
        leaf_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, HOSTS[0]);
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf_params.use_authority_key_identifier_extension = true;
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // No ALPN: both sides then speak HTTP/1.1, which this proxy parses.
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .unwrap();
        TestCa {
            ca_pem: ca.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }
}

/// A running proxy: its `http://127.0.0.1:<port>` URL and what it has seen.
pub struct Proxy {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    pub async fn start(ca: &TestCa) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (acceptor, record) = (ca.acceptor.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, record) = (acceptor.clone(), record.clone());
                tokio::spawn(async move {
                    if let Some(seen) = tunnel(tcp, acceptor).await {
                        record.lock().unwrap().push(seen);
                    }
                });
            }
        });
        Proxy { url, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Reads a request head (request line and headers), one byte at a time on the bare TCP
/// stream so that nothing of the TLS handshake that follows a `CONNECT` is swallowed.
async fn read_head<R: AsyncRead + Unpin>(stream: &mut R) -> Option<Vec<String>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8(head).ok()?;
    Some(
        text.split("\r\n")
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
    )
}

/// One tunnel: `CONNECT`, TLS, one request, one answer (`connection: close`).
async fn tunnel(mut tcp: TcpStream, acceptor: TlsAcceptor) -> Option<Seen> {
    let head = read_head(&mut tcp).await?;
    let mut parts = head.first()?.split_whitespace();
    let (verb, target) = (parts.next()?, parts.next()?);
    if verb != "CONNECT" {
        let _ = tcp
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            .await;
        return None;
    }
    let host = target
        .rsplit_once(':')
        .map_or(target, |(h, _)| h)
        .to_string();
    tcp.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .ok()?;
    let tls = acceptor.accept(tcp).await.ok()?;
    let mut tls = BufReader::new(tls);
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if tls.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    let mut request_line = lines.first()?.split_whitespace();
    let (method, path) = (request_line.next()?.to_string(), request_line.next()?);
    let headers: Vec<(String, String)> = lines[1..]
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    tls.read_exact(&mut body).await.ok()?;
    let mut seen = Seen {
        host,
        method,
        path: path.to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        status: 0,
        answer: String::new(),
        at: jiff::Timestamp::now().as_millisecond() as f64 / 1000.0,
    };
    let (status, answer) = answer(&seen);
    (seen.status, seen.answer) = (status, answer.clone());
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let mut tls = tls.into_inner();
    tls.write_all(response.as_bytes()).await.ok()?;
    let _ = tls.shutdown().await;
    Some(seen)
}

/// What the cloud answers: a valid token (named after the host, so a side that read
/// another answer shows), Entra's tenant discovery document, or 404.
fn answer(req: &Seen) -> (u16, String) {
    let host = req.host.as_str();
    let path = req.path.split('?').next().unwrap_or_default();
    let ok = |v: serde_json::Value| (200, v.to_string());
    match (host, req.method.as_str()) {
        ("sts.googleapis.com", "POST") if path == "/v1/token" => ok(serde_json::json!({
            "access_token": "ya29.federated-token-from-sts",
            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "token_type": "Bearer",
            "expires_in": EXPIRES_IN,
        })),
        ("iamcredentials.googleapis.com", "POST") if path.ends_with(":generateAccessToken") => {
            let expire = jiff::Timestamp::now()
                .checked_add(jiff::SignedDuration::from_secs(IMPERSONATED_SECS))
                .unwrap()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            ok(serde_json::json!({"accessToken": "ya29.impersonated-token", "expireTime": expire}))
        }
        (_, "GET") if path.ends_with("/v2.0/.well-known/openid-configuration") => {
            // Entra's tenant discovery document: the endpoints on the same host.
            let tenant = path.trim_start_matches('/').split('/').next().unwrap_or("");
            let base = format!("https://{host}/{tenant}");
            ok(serde_json::json!({
                "token_endpoint": format!("{base}/oauth2/v2.0/token"),
                "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
                "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
                "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
                "issuer": format!("{base}/v2.0"),
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "tenant_region_scope": "NA",
            }))
        }
        (_, "POST") if path.ends_with("/oauth2/v2.0/token") => ok(serde_json::json!({
            "token_type": "Bearer",
            "expires_in": EXPIRES_IN,
            "ext_expires_in": EXPIRES_IN,
            "access_token": format!("eyJ0eXAiOiJKV1QifQ.arm-token-of.{host}"),
        })),
        _ => (
            404,
            serde_json::json!({"error": "not_found", "error_description": "no such endpoint"})
                .to_string(),
        ),
    }
}
