//! What the real cluster's controllers would do to an object right after a write, done
//! synchronously: CRDs become Established, namespaces Active.

use serde_json::{json, Value};

use super::resources::ResourceDef;

/// Whether `def` is `customresourcedefinitions.apiextensions.k8s.io`.
pub fn is_crd(def: &ResourceDef) -> bool {
    def.group == "apiextensions.k8s.io" && def.plural == "customresourcedefinitions"
}

/// Status the real server's controllers would set right away: CRDs are Established with
/// their names accepted, namespaces are Active. Deterministic (transition time is the
/// creation time) so re-applying an unchanged CRD stays a no-op.
pub fn set_server_status(def: &ResourceDef, object: &mut Value) {
    let Some(map) = object.as_object_mut() else {
        return;
    };
    if is_crd(def) {
        let since = map
            .get("metadata")
            .and_then(|m| m.get("creationTimestamp"))
            .cloned()
            .unwrap_or(Value::Null);
        let names = map
            .get("spec")
            .map(|s| s["names"].clone())
            .unwrap_or(Value::Null);
        let versions: Vec<Value> = map
            .get("spec")
            .and_then(|s| s["versions"].as_array())
            .map(|v| v.iter().map(|v| v["name"].clone()).collect())
            .unwrap_or_default();
        let condition = |type_: &str, reason: &str, message: &str| json!({"type": type_, "status": "True", "lastTransitionTime": since, "reason": reason, "message": message});
        map.insert(
            "status".into(),
            json!({
                "acceptedNames": names,
                "storedVersions": versions,
                "conditions": [
                    condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                    condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                ],
            }),
        );
    } else if def.group.is_empty() && def.plural == "namespaces" && !map.contains_key("status") {
        map.insert("status".into(), json!({"phase": "Active"}));
    }
}
