//! Reading job credentials from the referenced Secret, with a short-lived cache.
//!
//! Reading the Secret on every poll would be one API server GET per job-poll (over 300/s
//! for 10,000 jobs at 30 s). Jobs that share a Secret therefore reuse one read for
//! `--secret-cache-ttl` (5 s by default; 0 reads every poll), and polls that miss the
//! cache together wait for one GET. A credential the provider
//! rejects is never served from the cache: the reconciler re-reads the Secret and, if it
//! was rotated, polls again at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use super::error::Error;
use crate::api::{CloudDbJob, CredentialsSecretRef, ProviderKind, WorkloadIdentity};
use crate::providers::identity::FederatedIdentity;
use crate::providers::Credentials;

/// Decoded Secret data.
type SecretData = Arc<BTreeMap<String, Vec<u8>>>;

/// A configuration problem to report in status: (reason, message).
pub type Blocked = (&'static str, String);

/// The reason of a Secret the apiserver refuses to give the controller.
pub const SECRET_FORBIDDEN: &str = "SecretForbidden";

/// Where a resource's credentials come from: its provider and exactly one of a Secret and
/// a workload identity (with the region and project an identity exchange needs).
#[derive(Clone, Copy, Debug)]
pub struct CredentialSource<'a> {
    pub provider: ProviderKind,
    pub secret_ref: Option<&'a CredentialsSecretRef>,
    pub identity: Option<&'a WorkloadIdentity>,
    pub region: Option<&'a str>,
    pub project_id: Option<&'a str>,
}

/// A Secret by namespace and name: what the cache and its reads are keyed by.
type SecretKey = (String, String);

/// Reads Secrets for the reconciler; cheap to share.
#[derive(Debug, Default)]
pub struct SecretReader {
    ttl: Duration,
    cache: Mutex<HashMap<SecretKey, (Timestamp, SecretData)>>,
    /// One read at a time per Secret: the jobs of a poll round that miss the cache together
    /// wait for one GET instead of each making their own (hundreds per round at scale).
    reads: Mutex<HashMap<SecretKey, Arc<tokio::sync::Mutex<()>>>>,
}

impl SecretReader {
    /// `ttl` zero reads the Secret on every poll.
    pub fn new(ttl: Duration) -> Self {
        SecretReader {
            ttl,
            ..Default::default()
        }
    }

    /// The job's credentials. `Ok(Err(..))` is a configuration problem to report in
    /// status; `Err(..)` is an API failure to retry.
    pub async fn credentials(
        &self,
        client: &Client,
        job: &CloudDbJob,
        namespace: &str,
        now: Timestamp,
    ) -> Result<Result<Credentials, Blocked>, Error> {
        let spec = &job.spec;
        let source = CredentialSource {
            provider: spec.provider,
            secret_ref: spec.credentials_secret_ref.as_ref(),
            identity: spec.identity.as_ref(),
            region: spec.region.as_deref(),
            project_id: spec.project_id.as_deref(),
        };
        self.credentials_for(client, &source, namespace, now).await
    }

    /// The credentials `source` names, read in `namespace` (a CloudDbJob's or a
    /// CloudDbInstance's: both follow the same rules). The cache is keyed by namespace and
    /// Secret name, so two namespaces never share a read.
    pub async fn credentials_for(
        &self,
        client: &Client,
        source: &CredentialSource<'_>,
        namespace: &str,
        now: Timestamp,
    ) -> Result<Result<Credentials, Blocked>, Error> {
        let secret_ref = match (source.secret_ref, source.identity) {
            (Some(secret_ref), None) => secret_ref,
            // Workload identity: exchanged for temporary credentials by the provider chain
            // (`identity::FederatedProvider`); nothing to read here.
            (None, Some(identity)) => {
                return Ok(FederatedIdentity::new(
                    source.provider,
                    namespace,
                    identity,
                    source.region,
                    source.project_id,
                )
                .map(Credentials::Federated)
                .map_err(|message| ("InvalidSpec", message)))
            }
            _ => {
                return Ok(Err((
                    "InvalidSpec",
                    "set exactly one of spec.credentialsSecretRef and spec.identity".into(),
                )))
            }
        };
        let data = match self.read(client, namespace, &secret_ref.name, now).await? {
            Ok(data) => data,
            Err(blocked) => return Ok(Err(blocked)),
        };
        Ok(
            Credentials::from_secret_data(source.provider, secret_ref, &data)
                .map_err(|e| ("SecretKeyMissing", e.to_string())),
        )
    }

    /// The Secret's data: cached, or read by one GET that concurrent misses wait for.
    async fn read(
        &self,
        client: &Client,
        namespace: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<Result<SecretData, Blocked>, Error> {
        if let Some(data) = self.cached(namespace, name, now) {
            return Ok(Ok(data));
        }
        if !self.caches() {
            return fetch(client, namespace, name).await;
        }
        let key = (namespace.to_string(), name.to_string());
        let gate = {
            let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
            reads.entry(key.clone()).or_default().clone()
        };
        let result = {
            let _turn = gate.lock().await;
            // A read that finished while this one waited is as good as its own.
            match self.cached(namespace, name, now) {
                Some(data) => Ok(Ok(data)),
                None => {
                    let read = fetch(client, namespace, name).await;
                    if let Ok(Ok(data)) = &read {
                        self.store(namespace, name, now, data.clone());
                    }
                    read
                }
            }
        };
        drop(gate);
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        // The last one out removes the gate, so that deleted Secrets do not accumulate.
        if reads.get(&key).is_some_and(|g| Arc::strong_count(g) == 1) {
            reads.remove(&key);
        }
        result
    }

    /// Whether reads are cached at all.
    pub fn caches(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// Forgets a Secret, e.g. after the provider rejected its credentials, so the next poll
    /// reads the current value.
    pub fn invalidate(&self, namespace: &str, name: &str) {
        self.lock()
            .remove(&(namespace.to_string(), name.to_string()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SecretKey, (Timestamp, SecretData)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached(&self, namespace: &str, name: &str, now: Timestamp) -> Option<SecretData> {
        if self.ttl.is_zero() {
            return None;
        }
        let cache = self.lock();
        let (read_at, data) = cache.get(&(namespace.to_string(), name.to_string()))?;
        // Read after `now` (by a concurrent poll this one waited for): fresh.
        let age = Duration::try_from(now.duration_since(*read_at)).unwrap_or_default();
        (age < self.ttl).then(|| data.clone())
    }

    fn store(&self, namespace: &str, name: &str, now: Timestamp, data: SecretData) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self.lock();
        // Drop expired entries now and then so deleted Secrets do not accumulate.
        if cache.len() > 1024 {
            let ttl = self.ttl;
            cache.retain(|_, (at, _)| {
                Duration::try_from(now.duration_since(*at)).is_ok_and(|age| age < ttl)
            });
        }
        cache.insert((namespace.to_string(), name.to_string()), (now, data));
    }
}

async fn fetch(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<Result<SecretData, Blocked>, Error> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = match secrets.get_opt(name).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Ok(Err((
                "SecretNotFound",
                format!("Secret {name:?} not found in namespace {namespace:?}"),
            )))
        }
        Err(kube::Error::Api(status)) if status.code == 403 => {
            return Ok(Err((
                SECRET_FORBIDDEN,
                format!(
                    "the controller may not read Secret {name:?} in namespace {namespace:?} (check its RBAC)"
                ),
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let data: BTreeMap<String, Vec<u8>> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .chain(
            secret
                .string_data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes())),
        )
        .collect();
    Ok(Ok(Arc::new(data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn data() -> SecretData {
        Arc::new(BTreeMap::from([("secretId".to_string(), b"id".to_vec())]))
    }

    #[test]
    fn a_zero_ttl_never_caches() {
        let r = SecretReader::default();
        r.store("ns", "s", ts("2026-01-01T00:00:00Z"), data());
        assert!(r.cached("ns", "s", ts("2026-01-01T00:00:00Z")).is_none());
    }

    #[test]
    fn entries_expire_and_can_be_invalidated() {
        let r = SecretReader::new(Duration::from_secs(5));
        r.store("ns", "s", ts("2026-01-01T00:00:00Z"), data());
        assert!(r.cached("ns", "s", ts("2026-01-01T00:00:04Z")).is_some());
        assert!(r.cached("ns", "s", ts("2026-01-01T00:00:05Z")).is_none());
        assert!(r.cached("other", "s", ts("2026-01-01T00:00:01Z")).is_none());
        r.invalidate("ns", "s");
        assert!(r.cached("ns", "s", ts("2026-01-01T00:00:01Z")).is_none());
    }
}
