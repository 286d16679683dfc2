//! Dispatches each job to the implementation of its provider.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::{Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError};
use clouddb_api::ProviderKind;

/// One [`Provider`] per [`ProviderKind`]; itself a `Provider` that routes by `target.provider`.
#[derive(Clone, Default)]
pub struct ProviderSet {
    providers: HashMap<ProviderKind, Arc<dyn Provider>>,
}

impl ProviderSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the implementation for `kind`.
    pub fn with(mut self, kind: ProviderKind, provider: Arc<dyn Provider>) -> Self {
        self.providers.insert(kind, provider);
        self
    }
}

#[async_trait]
impl Provider for ProviderSet {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        match self.providers.get(&target.provider) {
            Some(p) => p.observe(target, credentials).await,
            None => Err(ProviderError::permanent(
                ErrorReason::UnsupportedProvider,
                "UnsupportedProvider",
                format!(
                    "provider {} is not available in this build",
                    target.provider
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::SecretString;
    use crate::scripted::ScriptedProvider;
    use clouddb_api::JobPhase;

    #[tokio::test]
    async fn routes_by_provider_kind() {
        let scripted = Arc::new(ScriptedProvider::new());
        scripted.script(
            "7",
            vec![Ok(JobObservation {
                phase: Some(JobPhase::Running),
                ..Default::default()
            })],
        );
        let set = ProviderSet::new().with(ProviderKind::Tencent, scripted.clone());
        let creds = Credentials::Tencent {
            secret_id: "id".into(),
            secret_key: SecretString::new("k"),
            token: None,
        };
        let target = JobTarget::new(
            ProviderKind::Tencent,
            None,
            "7",
            Some("ap-guangzhou"),
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            set.observe(&target, &creds).await.unwrap().phase,
            Some(JobPhase::Running)
        );
        assert_eq!(scripted.calls(), 1);
        let other = JobTarget::new(
            ProviderKind::TencentLegacy,
            None,
            "7",
            Some("gz"),
            None,
            None,
            None,
        )
        .unwrap();
        let err = set.observe(&other, &creds).await.unwrap_err();
        assert!(err.is_permanent());
        assert_eq!(scripted.calls(), 1);
    }
}
