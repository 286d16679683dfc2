//! The provider implementations wired into `run`, `track` and `demo`.

use std::sync::Arc;

use crate::api::ProviderKind;
use crate::providers::http::{HttpClient, HttpOptions};
use crate::providers::huawei::HuaweiProvider;
use crate::providers::tencent::TencentProvider;
use crate::providers::tencent_legacy::TencentLegacyProvider;
use crate::providers::{Provider, ProviderSet};

/// Every real provider client, sharing one HTTP client (and its connection pool).
pub fn standard(options: &HttpOptions) -> Result<Arc<dyn Provider>, String> {
    let http = HttpClient::new(options)?;
    Ok(Arc::new(
        ProviderSet::new()
            .with(
                ProviderKind::Tencent,
                Arc::new(TencentProvider::new(http.clone())),
            )
            .with(
                ProviderKind::TencentLegacy,
                Arc::new(TencentLegacyProvider::new(http.clone())),
            )
            .with(ProviderKind::Huawei, Arc::new(HuaweiProvider::new(http))),
    ))
}
