//! The provider implementations wired into `run` and `track`.

use std::sync::Arc;

use crate::providers::http::{HttpClient, HttpOptions};
use crate::providers::{Provider, ProviderSet};

/// Every real provider client, sharing one HTTP client.
pub fn standard(options: &HttpOptions) -> Result<Arc<dyn Provider>, String> {
    let _http = HttpClient::new(options)?;
    Ok(Arc::new(ProviderSet::new()))
}
