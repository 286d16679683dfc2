//! Pure object-metadata rules: what create and update do to `metadata`, status isolation
//! between the main resource and `/status`, when `generation` moves, and no-op detection.

use serde_json::{Map, Value};

use super::resources::ResourceDef;

/// Fields only the server sets; client values are dropped on create and kept from the stored
/// object on update.
const SERVER_FIELDS: [&str; 6] = [
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The current time as the API server writes timestamps (RFC 3339, seconds, UTC).
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random RFC 4122 version-4 UID.
pub fn new_uid() -> String {
    let bits: u128 = (rand::random::<u128>() & !(0xF000u128 << 64) & !(0xC000u128 << 48))
        | (0x4000u128 << 64)
        | (0x8000u128 << 48);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Five random characters from the alphabet the real server uses for `generateName`.
pub fn name_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// `metadata` as a mutable map, creating it if needed. `None` if the object is no object.
pub fn metadata_mut(object: &mut Value) -> Option<&mut Map<String, Value>> {
    let map = object.as_object_mut()?;
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut()
}

/// `metadata.<field>` as a string.
pub fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object["metadata"][field].as_str()
}

/// Sets `apiVersion` and `kind` for `def` at `version`.
pub fn set_type(object: &mut Value, def: &ResourceDef, version: &str) {
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), def.api_version(version).into());
        map.insert("kind".into(), def.kind.clone().into());
    }
}

/// Prepares a create body: type fields, namespace, server fields and (for resources with a
/// status subresource) status dropped. Name assignment is the store's job.
pub fn prepare_create(
    def: &ResourceDef,
    version: &str,
    mut object: Value,
    namespace: Option<&str>,
) -> Value {
    set_type(&mut object, def, version);
    normalize_secret(def, &mut object);
    if def.status_subresource {
        if let Some(map) = object.as_object_mut() {
            map.remove("status");
        }
    }
    if let Some(meta) = metadata_mut(&mut object) {
        for field in SERVER_FIELDS {
            meta.remove(field);
        }
        meta.remove("managedFields");
        match namespace {
            Some(ns) => meta.insert("namespace".into(), ns.into()),
            None => meta.remove("namespace"),
        };
    }
    object
}

/// What the real server does to a Secret on every write: `stringData` entries are base64
/// encoded into `data` (overriding it) and `stringData` is dropped.
pub fn normalize_secret(def: &ResourceDef, object: &mut Value) {
    use base64::Engine;
    if !(def.group.is_empty() && def.plural == "secrets") {
        return;
    }
    let Some(map) = object.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = map.remove("stringData") else {
        return;
    };
    let data = map
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    if let Some(data) = data.as_object_mut() {
        for (key, value) in string_data {
            let text = value.as_str().unwrap_or_default();
            data.insert(
                key,
                base64::engine::general_purpose::STANDARD
                    .encode(text)
                    .into(),
            );
        }
    }
}

/// Whether `generation` must move from `old` to `new`: `spec` changed, or, for objects
/// without a spec, anything other than metadata and status changed.
pub fn spec_changed(old: &Value, new: &Value) -> bool {
    if old.get("spec").is_some() || new.get("spec").is_some() {
        return old.get("spec") != new.get("spec");
    }
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            for key in ["metadata", "status", "apiVersion", "kind"] {
                map.remove(key);
            }
        }
        v
    };
    strip(old) != strip(new)
}

/// The object an update (PUT or patch) would store, before the resourceVersion bump.
///
/// A `/status` write keeps everything of `old` but `.status`; a main write keeps `old`'s
/// `.status` when the resource has a status subresource. Server-owned metadata always comes
/// from `old`; `generation` moves when [`spec_changed`].
pub fn merge_update(
    def: &ResourceDef,
    version: &str,
    old: &Value,
    new: Value,
    status_write: bool,
) -> Value {
    let mut result = if status_write {
        let mut result = old.clone();
        if let Some(map) = result.as_object_mut() {
            match new.get("status") {
                Some(status) => map.insert("status".into(), status.clone()),
                None => map.remove("status"),
            };
        }
        result
    } else {
        let mut result = new;
        if def.status_subresource {
            if let Some(map) = result.as_object_mut() {
                match old.get("status") {
                    Some(status) => map.insert("status".into(), status.clone()),
                    None => map.remove("status"),
                };
            }
        }
        result
    };
    set_type(&mut result, def, version);
    normalize_secret(def, &mut result);
    let old_generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
    let generation = if spec_changed(old, &result) {
        old_generation + 1
    } else {
        old_generation
    };
    if let Some(meta) = metadata_mut(&mut result) {
        meta.remove("managedFields");
        for field in SERVER_FIELDS.iter().chain(&["name", "namespace"]) {
            match old["metadata"].get(*field) {
                Some(value) => meta.insert(field.to_string(), value.clone()),
                None => meta.remove(*field),
            };
        }
        meta.insert("generation".into(), generation.into());
    }
    result
}

/// `metadata.finalizers`, empty if absent.
pub fn finalizers(object: &Value) -> Vec<String> {
    object["metadata"]["finalizers"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a deletion is pending (deletionTimestamp set).
pub fn is_deleting(object: &Value) -> bool {
    object["metadata"]["deletionTimestamp"].is_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(status_subresource: bool) -> ResourceDef {
        let mut def = super::super::resources::builtins()
            .into_iter()
            .find(|d| d.plural == "secrets")
            .unwrap();
        def.status_subresource = status_subresource;
        def
    }

    trait WithPlural {
        fn clone_with_plural(&self, plural: &str) -> ResourceDef;
    }

    impl WithPlural for ResourceDef {
        fn clone_with_plural(&self, plural: &str) -> ResourceDef {
            ResourceDef {
                plural: plural.into(),
                ..self.clone()
            }
        }
    }

    fn stored() -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "namespace": "ns", "uid": "u", "resourceVersion": "5", "generation": 2, "creationTimestamp": "t"}, "spec": {"a": 1}, "status": {"phase": "Running"}})
    }

    #[test]
    fn uids_are_version_4() {
        let uid = new_uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(&uid[14..15], "4");
        assert!(["8", "9", "a", "b"].contains(&&uid[19..20]), "{uid}");
        assert_ne!(new_uid(), uid);
        assert_eq!(name_suffix().len(), 5);
    }

    #[test]
    fn create_drops_server_fields_and_status() {
        let body = json!({"metadata": {"name": "x", "uid": "client", "resourceVersion": "9"}, "spec": {}, "status": {"x": 1}});
        let out = prepare_create(&def(true), "v1", body, Some("ns"));
        assert_eq!(out["metadata"], json!({"name": "x", "namespace": "ns"}));
        assert!(out.get("status").is_none());
        assert_eq!(out["kind"], "Secret");
    }

    #[test]
    fn status_write_changes_only_status() {
        let new = json!({"metadata": {"name": "x", "labels": {"a": "b"}}, "spec": {"a": 2}, "status": {"phase": "Done"}});
        let out = merge_update(&def(true), "v1", &stored(), new, true);
        assert_eq!(out["spec"], json!({"a": 1}));
        assert_eq!(out["status"], json!({"phase": "Done"}));
        assert_eq!(out["metadata"]["generation"], 2);
        assert!(out["metadata"].get("labels").is_none());
    }

    #[test]
    fn main_write_keeps_status_and_bumps_generation_on_spec_change() {
        let new = json!({"metadata": {"name": "x", "uid": "evil", "generation": 40}, "spec": {"a": 2}, "status": {"phase": "Hacked"}});
        let out = merge_update(&def(true), "v1", &stored(), new, false);
        assert_eq!(out["status"], json!({"phase": "Running"}));
        assert_eq!(out["metadata"]["generation"], 3);
        assert_eq!(out["metadata"]["uid"], "u");
        let new = json!({"metadata": {"name": "x", "labels": {"a": "b"}}, "spec": {"a": 1}});
        let out = merge_update(&def(true), "v1", &stored(), new, false);
        assert_eq!(
            out["metadata"]["generation"], 2,
            "a label change does not bump generation"
        );
        let unchanged = merge_update(&def(true), "v1", &stored(), stored(), false);
        assert_eq!(unchanged, stored());
    }

    #[test]
    fn secret_string_data_becomes_base64_data() {
        let secrets = super::super::resources::builtins()
            .into_iter()
            .find(|d| d.plural == "secrets")
            .unwrap();
        let body = json!({"metadata": {"name": "s"}, "data": {"a": "eA==", "b": "eQ=="}, "stringData": {"b": "hi"}});
        let out = prepare_create(&secrets, "v1", body, Some("ns"));
        assert_eq!(out["data"], json!({"a": "eA==", "b": "aGk="}));
        assert!(out.get("stringData").is_none());
        let mut other = json!({"stringData": {"b": "hi"}});
        normalize_secret(&def(false).clone_with_plural("configmaps"), &mut other);
        assert!(other.get("stringData").is_some());
    }

    #[test]
    fn without_status_subresource_status_is_writable_and_specless_objects_use_data() {
        let new = json!({"metadata": {"name": "x"}, "spec": {"a": 1}, "status": {"phase": "Done"}});
        let out = merge_update(&def(false), "v1", &stored(), new, false);
        assert_eq!(out["status"]["phase"], "Done");
        assert!(spec_changed(
            &json!({"data": {"k": "a"}}),
            &json!({"data": {"k": "b"}})
        ));
        assert!(!spec_changed(
            &json!({"data": {}, "metadata": {"a": 1}}),
            &json!({"data": {}})
        ));
    }
}
