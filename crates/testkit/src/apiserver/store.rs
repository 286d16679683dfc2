//! The object store: one global resourceVersion counter, objects as JSON per resource, the
//! retained event log watches resume from, fault hooks and counters. All of it lives behind
//! one mutex (see `mod.rs`); every method here runs with that lock held, so a write and the
//! broadcast of its event are atomic with respect to watch subscription.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::controllers::{is_crd, set_server_status};
use super::errors::ApiError;
pub use super::events::{Event, EventKind, WatchMsg};
use super::meta;
use super::patch::{apply_patch, PatchKind};
use super::resources::{self, Registry, ResourceDef, ResourceKey};
use super::selectors::{FieldSelector, LabelSelector};
use super::stats::ApiStats;

/// Read/write request context: which resource, at which version, in which namespace.
pub struct Target<'a> {
    /// The resource.
    pub def: &'a ResourceDef,
    /// The version the client addressed (used for `apiVersion` on answers).
    pub version: &'a str,
    /// Namespace, for namespaced resources addressed in a namespace.
    pub namespace: Option<&'a str>,
}

impl Target<'_> {
    fn ns_key(&self) -> String {
        self.namespace.unwrap_or_default().to_string()
    }
}

type Objects = BTreeMap<(String, String), Value>;

/// The whole server state.
pub struct Store {
    /// Served resources.
    pub registry: Registry,
    /// The last committed resourceVersion.
    pub rv: u64,
    objects: BTreeMap<ResourceKey, Objects>,
    log: VecDeque<Arc<Event>>,
    /// Resuming a watch from a resourceVersion below this answers 410 Gone.
    pub compacted: u64,
    retained: usize,
    /// Change feed for open watches.
    pub tx: broadcast::Sender<WatchMsg>,
    /// Counters.
    pub stats: ApiStats,
    conflicts: BTreeMap<String, u64>,
}

fn with_version(mut object: Value, def: &ResourceDef, version: &str) -> Value {
    meta::set_type(&mut object, def, version);
    object
}

impl Store {
    /// A store with the built-in resources, the usual namespaces and, if `clouddbjobs_crd`
    /// is given, that CRD created and registered.
    pub fn new(retained: usize, clouddbjobs_crd: Option<Value>) -> Self {
        let capacity = retained.clamp(1024, 65536);
        let (tx, _) = broadcast::channel(capacity);
        let mut store = Store {
            registry: Registry::with_builtins(),
            rv: 1,
            objects: BTreeMap::new(),
            log: VecDeque::new(),
            compacted: 0,
            retained: retained.max(1),
            tx,
            stats: ApiStats::default(),
            conflicts: BTreeMap::new(),
        };
        if let Some(ns_def) = store.registry.lookup("", "v1", "namespaces").cloned() {
            for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
                let target = Target {
                    def: &ns_def,
                    version: "v1",
                    namespace: None,
                };
                let _ = store.create(&target, json!({"metadata": {"name": ns}}), false);
            }
        }
        if let (Some(crd), Some(crd_def)) = (
            clouddbjobs_crd,
            store
                .registry
                .lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
                .cloned(),
        ) {
            let target = Target {
                def: &crd_def,
                version: "v1",
                namespace: None,
            };
            if let Err(e) = store.create(&target, crd, false) {
                tracing::warn!(error = %e.message, "fake apiserver: pre-registering the CRD failed");
            }
        }
        // Bootstrap writes are not traffic.
        store.stats = ApiStats::default();
        store
    }

    fn bucket(&mut self, key: &ResourceKey) -> &mut Objects {
        self.objects.entry(key.clone()).or_default()
    }

    fn emit(&mut self, kind: EventKind, resource: ResourceKey, object: Value, prev: Option<Value>) {
        let event = Arc::new(Event {
            rv: self.rv,
            resource,
            kind,
            object,
            prev,
        });
        self.log.push_back(event.clone());
        while self.log.len() > self.retained {
            if let Some(old) = self.log.pop_front() {
                self.compacted = old.rv;
            }
        }
        let _ = self.tx.send(WatchMsg::Event(event));
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Makes the next `n` updates/patches/deletes of `resource` (a plural, or `"*"` for
    /// any) answer 409 Conflict.
    pub fn inject_conflicts(&mut self, resource: &str, n: u64) {
        *self.conflicts.entry(resource.to_string()).or_insert(0) += n;
    }

    fn take_injected_conflict(&mut self, plural: &str) -> bool {
        for key in [plural, "*"] {
            if let Some(n) = self.conflicts.get_mut(key) {
                if *n > 0 {
                    *n -= 1;
                    return true;
                }
            }
        }
        false
    }

    fn conflict(&mut self, target: &Target, name: &str) -> ApiError {
        self.stats.conflicts += 1;
        ApiError::conflict(&target.def.group, &target.def.plural, name)
    }

    /// Drops the event log and bumps the resourceVersion so that every watch resume from an
    /// earlier version answers 410 Gone, and closes every open watch.
    pub fn expire_watches(&mut self) {
        self.next_rv();
        self.log.clear();
        self.compacted = self.rv;
        let _ = self.tx.send(WatchMsg::Expire);
    }

    /// Events of `resource` after `rv`, or `Err(oldest retained)` when `rv` is too old.
    pub fn events_since(&self, resource: &ResourceKey, rv: u64) -> Result<Vec<Arc<Event>>, u64> {
        if rv < self.compacted {
            return Err(self.compacted);
        }
        Ok(self
            .log
            .iter()
            .filter(|e| e.rv > rv && &e.resource == resource)
            .cloned()
            .collect())
    }

    /// One object.
    pub fn get(&self, target: &Target, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&target.def.key())
            .and_then(|b| b.get(&(target.ns_key(), name.to_string())))
            .map(|o| with_version(o.clone(), target.def, target.version))
            .ok_or_else(|| ApiError::not_found(&target.def.group, &target.def.plural, name))
    }

    /// Matching objects, sorted by namespace and name. `target.namespace == None` on a
    /// namespaced resource lists all namespaces.
    pub fn list(
        &self,
        target: &Target,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Vec<Value> {
        self.list_page(target, labels, fields, None, None).0
    }

    /// One page of a list: at most `limit` matching objects after the key `after`, and
    /// the key of the last one if more may follow.
    pub fn list_page(
        &self,
        target: &Target,
        labels: &LabelSelector,
        fields: &FieldSelector,
        after: Option<&(String, String)>,
        limit: Option<usize>,
    ) -> (Vec<Value>, Option<(String, String)>) {
        use std::ops::Bound;
        let Some(bucket) = self.objects.get(&target.def.key()) else {
            return (Vec::new(), None);
        };
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut matching = bucket
            .range((start, Bound::Unbounded))
            .filter(|((ns, _), _)| target.namespace.is_none_or(|want| want == ns))
            .filter(|(_, o)| labels.matches(o) && fields.matches(o));
        let limit = limit.unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut last = None;
        for (key, object) in matching.by_ref().take(limit) {
            items.push(with_version(object.clone(), target.def, target.version));
            last = Some(key);
        }
        let more = matching.next().is_some();
        (items, last.filter(|_| more).cloned())
    }

    /// POST: creates an object (409 AlreadyExists if the name is taken).
    pub fn create(
        &mut self,
        target: &Target,
        body: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let def = target.def;
        if !body.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        if let (Some(path_ns), Some(body_ns)) =
            (target.namespace, meta::meta_str(&body, "namespace"))
        {
            if !body_ns.is_empty() && body_ns != path_ns {
                return Err(ApiError::bad_request(format!(
                    "the namespace of the provided object ({body_ns}) does not match the namespace sent on the request ({path_ns})"
                )));
            }
        }
        let mut object = meta::prepare_create(def, target.version, body, target.namespace);
        let given = meta::meta_str(&object, "name")
            .unwrap_or_default()
            .to_string();
        let name = if !given.is_empty() {
            given
        } else if let Some(prefix) =
            meta::meta_str(&object, "generateName").filter(|p| !p.is_empty())
        {
            let prefix = prefix.to_string();
            let bucket = self.bucket(&def.key());
            let mut name = format!("{prefix}{}", meta::name_suffix());
            while bucket.contains_key(&(target.ns_key(), name.clone())) {
                name = format!("{prefix}{}", meta::name_suffix());
            }
            name
        } else {
            return Err(ApiError::invalid(&def.group, &def.plural, "", format!(
                "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                def.kind
            )));
        };
        let key = (target.ns_key(), name.clone());
        if self.bucket(&def.key()).contains_key(&key) {
            return Err(ApiError::already_exists(&def.group, &def.plural, &name));
        }
        let crd_def = if is_crd(def) {
            let parsed =
                resources::from_crd(&json!({"metadata": {"name": name}, "spec": object["spec"]}))
                    .map_err(|e| {
                    ApiError::invalid(
                        &def.group,
                        &def.plural,
                        &name,
                        format!("{} \"{name}\" is invalid: {e}", def.kind),
                    )
                })?;
            Some(parsed)
        } else {
            None
        };
        let created = meta::now();
        if let Some(m) = meta::metadata_mut(&mut object) {
            m.insert("name".into(), name.clone().into());
            m.insert("uid".into(), meta::new_uid().into());
            m.insert("generation".into(), 1.into());
            m.insert("creationTimestamp".into(), created.into());
        }
        set_server_status(def, &mut object);
        if dry_run {
            return Ok(object);
        }
        let rv = self.next_rv();
        if let Some(m) = meta::metadata_mut(&mut object) {
            m.insert("resourceVersion".into(), rv.to_string().into());
        }
        self.bucket(&def.key()).insert(key, object.clone());
        if let Some(crd_def) = crd_def {
            self.registry.insert(crd_def);
        }
        self.stats.writes += 1;
        self.emit(EventKind::Added, def.key(), object.clone(), None);
        Ok(object)
    }

    /// PUT: replaces an object (409 Conflict on a stale `metadata.resourceVersion`).
    pub fn update(
        &mut self,
        target: &Target,
        name: &str,
        body: Value,
        status_write: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        match meta::meta_str(&body, "name") {
            Some(n) if n == name => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({}) does not match the name on the URL ({name})",
                    other.unwrap_or_default()
                )))
            }
        }
        let old = self.get(target, name)?;
        if self.take_injected_conflict(&target.def.plural) {
            return Err(self.conflict(target, name));
        }
        self.commit_update(target, name, old, body, status_write, dry_run)
    }

    /// PATCH in any flavour. Server-side apply to a missing object creates it.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        target: &Target,
        name: &str,
        kind: PatchKind,
        body: &[u8],
        status_write: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let old = match self.get(target, name) {
            Ok(old) => old,
            Err(e) if kind == PatchKind::Apply && !status_write && e.code == 404 => {
                let mut applied = super::patch::parse_apply_body(body)?;
                if let Some(m) = meta::metadata_mut(&mut applied) {
                    m.insert("name".into(), name.into());
                }
                return self.create(target, applied, dry_run);
            }
            Err(e) => return Err(e),
        };
        if self.take_injected_conflict(&target.def.plural) {
            return Err(self.conflict(target, name));
        }
        let candidate = apply_patch(kind, &old, body, status_write).map_err(|mut e| {
            if e.code == 422 {
                e.details = Some(
                    json!({"name": name, "group": target.def.group, "kind": target.def.plural}),
                );
            }
            e
        })?;
        if meta::meta_str(&candidate, "name") != Some(name) {
            return Err(ApiError::bad_request(
                "a patch may not change metadata.name",
            ));
        }
        self.commit_update(target, name, old, candidate, status_write, dry_run)
    }

    fn commit_update(
        &mut self,
        target: &Target,
        name: &str,
        old: Value,
        new: Value,
        status_write: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let def = target.def;
        let old_rv = meta::meta_str(&old, "resourceVersion")
            .unwrap_or_default()
            .to_string();
        if let Some(want) = meta::meta_str(&new, "resourceVersion").filter(|rv| !rv.is_empty()) {
            if want != old_rv {
                return Err(self.conflict(target, name));
            }
        }
        let mut merged = meta::merge_update(def, target.version, &old, new, status_write);
        let crd_def = if is_crd(def) && !status_write {
            let parsed = resources::from_crd(&merged).map_err(|e| {
                ApiError::invalid(
                    &def.group,
                    &def.plural,
                    name,
                    format!("{} \"{name}\" is invalid: {e}", def.kind),
                )
            })?;
            set_server_status(def, &mut merged);
            Some(parsed)
        } else {
            None
        };
        if merged == old {
            self.stats.noop_writes += 1;
            return Ok(old);
        }
        if dry_run {
            return Ok(merged);
        }
        let rv = self.next_rv();
        if let Some(m) = meta::metadata_mut(&mut merged) {
            m.insert("resourceVersion".into(), rv.to_string().into());
        }
        self.stats.writes += 1;
        if status_write {
            self.stats.status_writes += 1;
        }
        let key = (target.ns_key(), name.to_string());
        if meta::is_deleting(&merged) && meta::finalizers(&merged).is_empty() {
            self.bucket(&def.key()).remove(&key);
            self.emit(EventKind::Deleted, def.key(), merged.clone(), Some(old));
            self.after_delete(def, &merged);
            return Ok(merged);
        }
        self.bucket(&def.key()).insert(key, merged.clone());
        if let Some(crd_def) = crd_def {
            self.registry.insert(crd_def);
        }
        self.emit(EventKind::Modified, def.key(), merged.clone(), Some(old));
        Ok(merged)
    }

    /// DELETE: removes an object, or, while it has finalizers, marks it with a
    /// `deletionTimestamp` (the last finalizer's removal then deletes it).
    pub fn delete(
        &mut self,
        target: &Target,
        name: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let def = target.def;
        let old = self.get(target, name)?;
        if self.take_injected_conflict(&def.plural) {
            return Err(self.conflict(target, name));
        }
        let mut object = old.clone();
        let has_finalizers = !meta::finalizers(&old).is_empty();
        if has_finalizers && meta::is_deleting(&old) {
            return Ok(old);
        }
        if has_finalizers {
            if let Some(m) = meta::metadata_mut(&mut object) {
                m.insert("deletionTimestamp".into(), meta::now().into());
                m.insert("deletionGracePeriodSeconds".into(), 0.into());
            }
        }
        if dry_run {
            return Ok(object);
        }
        let rv = self.next_rv();
        if let Some(m) = meta::metadata_mut(&mut object) {
            m.insert("resourceVersion".into(), rv.to_string().into());
        }
        self.stats.writes += 1;
        let key = (target.ns_key(), name.to_string());
        if has_finalizers {
            self.bucket(&def.key()).insert(key, object.clone());
            self.emit(EventKind::Modified, def.key(), object.clone(), Some(old));
        } else {
            self.bucket(&def.key()).remove(&key);
            self.emit(EventKind::Deleted, def.key(), object.clone(), Some(old));
            self.after_delete(def, &object);
        }
        Ok(object)
    }

    /// Deleting a CRD unregisters its resource and deletes its objects (with events).
    fn after_delete(&mut self, def: &ResourceDef, object: &Value) {
        if !is_crd(def) {
            return;
        }
        let Ok(removed) = resources::from_crd(object) else {
            return;
        };
        let key = removed.key();
        self.registry.remove(&key);
        let objects = self.objects.remove(&key).unwrap_or_default();
        for (_, mut obj) in objects {
            let rv = self.next_rv();
            if let Some(m) = meta::metadata_mut(&mut obj) {
                m.insert("resourceVersion".into(), rv.to_string().into());
            }
            self.emit(EventKind::Deleted, key.clone(), obj, None);
        }
    }
}
