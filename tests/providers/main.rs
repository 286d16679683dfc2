//! Provider clients over HTTP against local servers: Alibaba Cloud, AWS, Azure, Huawei and Tencent
//! API 2.0 clients, response limits, TLS verification, and the batching provider.

mod alibaba_http;
mod aws_http;
mod azure_http;
mod batching;
mod gcp_http;
mod huawei_http;
mod identity_http;
mod provider_http_limits;
mod tencent_legacy_http;
mod tls;
