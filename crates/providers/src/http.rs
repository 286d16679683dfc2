//! The HTTP client every provider uses: verified TLS (rustls with the Mozilla roots plus an
//! optional extra CA bundle), no redirects (a redirect could carry a signed request to
//! another host), timeouts on everything, and a cap on response size.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::ProviderError;

/// Client settings; the defaults suit every provider.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Whole-request timeout (connect, send, and read the body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Larger responses are rejected, not buffered.
    pub max_response_bytes: usize,
    /// Extra trusted CA certificates (PEM), e.g. for a private deployment or a TLS proxy.
    pub extra_ca_pem: Option<Vec<u8>>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: 4 * 1024 * 1024,
            extra_ca_pem: None,
        }
    }
}

/// A response read in full (up to the size cap).
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Retry-After` in seconds, when the server sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(3600)))
    }
}

/// The `Host` header for an endpoint: the host plus a non-default port. This is what the
/// HTTP client sends, and so what every provider must sign.
pub fn host_header(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// Shared, cheaply cloneable HTTP client.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    max_response_bytes: usize,
}

impl HttpClient {
    pub fn new(options: &HttpOptions) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = &options.extra_ca_pem {
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("extra CA bundle: bad PEM: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("extra CA bundle: bad certificate: {e}"))?;
                added += 1;
            }
            if added == 0 {
                return Err("extra CA bundle contains no certificate".into());
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let inner = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("clouddb-job-operator/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("HTTP client setup: {e}"))?;
        Ok(HttpClient {
            inner,
            max_response_bytes: options.max_response_bytes,
        })
    }

    /// The underlying client, to build requests with.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// Sends a request and reads the body up to the cap. Network failures, timeouts and
    /// oversized bodies are transient errors; HTTP status codes are left to the caller.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<HttpResponse, ProviderError> {
        let response = request.send().await.map_err(network_error)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(len) = response.content_length() {
            if len > self.max_response_bytes as u64 {
                return Err(too_large(self.max_response_bytes));
            }
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(network_error)? {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(too_large(self.max_response_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn too_large(limit: usize) -> ProviderError {
    ProviderError::transient(
        "ResponseTooLarge",
        format!("provider response exceeded {limit} bytes and was discarded"),
    )
}

/// Describes a transport failure without echoing the URL (which may carry a signature).
fn network_error(e: reqwest::Error) -> ProviderError {
    let kind = if e.is_timeout() {
        "Timeout"
    } else if e.is_connect() {
        "ConnectFailed"
    } else if e.is_body() || e.is_decode() {
        "ResponseInterrupted"
    } else {
        "NetworkError"
    };
    let mut detail = String::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    let message = if detail.is_empty() {
        format!("{kind} talking to the provider")
    } else {
        format!("{kind} talking to the provider: {detail}")
    };
    ProviderError::transient(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_default_roots() {
        assert!(HttpClient::new(&HttpOptions::default()).is_ok());
    }

    #[test]
    fn rejects_a_bundle_without_certificates() {
        let options = HttpOptions {
            extra_ca_pem: Some(b"not a certificate".to_vec()),
            ..Default::default()
        };
        assert!(HttpClient::new(&options)
            .unwrap_err()
            .contains("no certificate"));
    }

    #[tokio::test]
    async fn oversized_responses_are_rejected() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "x".repeat(4096) }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = HttpClient::new(&HttpOptions {
            max_response_bytes: 1024,
            ..Default::default()
        })
        .unwrap();
        let err = client
            .send(client.reqwest().get(format!("http://{addr}/")))
            .await
            .unwrap_err();
        assert_eq!(err.code, "ResponseTooLarge");
        let ok = HttpClient::new(&HttpOptions::default()).unwrap();
        let resp = ok
            .send(ok.reqwest().get(format!("http://{addr}/")))
            .await
            .unwrap();
        assert_eq!(resp.body.len(), 4096);
    }

    #[tokio::test]
    async fn connection_refused_is_transient() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = HttpClient::new(&HttpOptions::default()).unwrap();
        let err = client
            .send(
                client
                    .reqwest()
                    .get(format!("http://{addr}/?Signature=secret")),
            )
            .await
            .unwrap_err();
        assert_eq!(err.class, crate::ErrorClass::Transient);
        assert!(!err.message.contains("Signature=secret"), "{}", err.message);
    }
}
