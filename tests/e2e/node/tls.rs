//! An HTTPS front for the provider simulator on the test node's host address, so that the
//! operator's pods reach it the way they reach a cloud: `https://`, with a certificate they
//! verify. The operator refuses `http://` anywhere but on loopback (a pod's loopback is its
//! own), and the simulator listens on loopback only; this front terminates TLS on
//! `TESTENV_NODE_IP` and forwards the bytes to the simulator unchanged (the Host header the
//! clients signed included). Its CA reaches the pods as the chart's `extraCA` bundle, as a
//! private endpoint behind a TLS proxy would.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rcgen::{CertificateParams, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// A fresh CA and a serving certificate for one IP address.
pub struct FrontCert {
    pub ca_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl FrontCert {
    pub fn generate(ip: IpAddr) -> FrontCert {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "clouddb e2e simulator front CA");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().expect("serving key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("serving params");
        params.subject_alt_names = vec![SanType::IpAddress(ip)];
        let cert = params
            .signed_by(&key, &issuer)
            .expect("serving certificate");
        FrontCert {
            ca_pem: ca.pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

/// The running front; stops on drop.
pub struct TlsFront {
    /// `https://IP:PORT`: the jobs' endpoint.
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsFront {
    /// Listens on `ip` (a free port) and forwards every connection to `target`.
    pub async fn start(cert: &FrontCert, ip: IpAddr, target: SocketAddr) -> TlsFront {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.cert_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_der.clone())),
            )
            .expect("serving certificate");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .await
            .unwrap_or_else(|e| panic!("listening on {ip} (is the test node up?): {e}"));
        let addr = listener.local_addr().expect("bound address");
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut upstream) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                });
            }
        });
        TlsFront {
            url: format!("https://{addr}"),
            task,
        }
    }
}
