//! Provider clients over HTTP against local servers: Alibaba Cloud, AWS, Azure, Huawei and Tencent
//! API 2.0 clients, response limits, TLS verification, the batching provider, and every
//! signed request checked with the clouds' official SDK signers (`sdk_signatures`) and its
//! parameters with their service models (`sdk_requests`), and SDK-built responses decoded
//! as the SDKs read them (`sdk_responses`; the STS token-exchange answers in
//! `sdk_sts_responses`).

mod alibaba_http;
mod alibaba_list_http;
mod aws_batch_http;
mod aws_http;
mod aws_list_http;
mod azure_http;
mod batching;
mod gcp_http;
mod gcp_list_http;
mod huawei_http;
mod huawei_list_http;
mod identity_http;
mod provider_http_limits;
mod sdk_capture;
mod sdk_requests;
mod sdk_responses;
mod sdk_signatures;
mod sdk_sts_responses;
mod sdk_token_exchanges;
mod tencent_legacy_http;
mod tencent_list_http;
mod tls;

/// Serves `app` on a loopback port; returns its address. One place for the test servers of
/// every module here.
pub(crate) async fn serve_app(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}
