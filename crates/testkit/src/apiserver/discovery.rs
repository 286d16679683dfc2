//! Discovery documents (`/version`, `/api`, `/api/v1`, `/apis`, `/apis/<g>/<v>`), built from
//! the registry. Only the legacy (unaggregated) format is served: clients asking for
//! `APIGroupDiscoveryList` get a plain `application/json` answer and fall back.

use serde_json::{json, Value};

use super::resources::{Registry, ResourceDef};

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-fake",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api`: the core group's versions.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_entry(group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

/// `/apis`: every non-core group.
pub fn group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .iter()
        .map(|(group, versions)| group_entry(group, versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`: one group, if served.
pub fn group(registry: &Registry, group: &str) -> Option<Value> {
    let groups = registry.groups();
    let versions = groups.get(group)?;
    let mut entry = group_entry(group, versions);
    if let Some(map) = entry.as_object_mut() {
        map.insert("kind".into(), "APIGroup".into());
        map.insert("apiVersion".into(), "v1".into());
    }
    Some(entry)
}

fn resource_entries(def: &ResourceDef) -> Vec<Value> {
    let mut main = json!({
        "name": def.plural,
        "singularName": def.singular,
        "namespaced": def.namespaced,
        "kind": def.kind,
        "verbs": VERBS,
    });
    if let Some(map) = main.as_object_mut() {
        if !def.short_names.is_empty() {
            map.insert("shortNames".into(), json!(def.short_names));
        }
        if !def.categories.is_empty() {
            map.insert("categories".into(), json!(def.categories));
        }
    }
    let mut entries = vec![main];
    if def.status_subresource {
        entries.push(json!({
            "name": format!("{}/status", def.plural),
            "singularName": "",
            "namespaced": def.namespaced,
            "kind": def.kind,
            "verbs": ["get", "patch", "update"],
        }));
    }
    entries
}

/// `/api/v1` or `/apis/<group>/<version>`: the resources served there, if any.
pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = registry
        .all()
        .filter(|d| d.group == group && d.versions.iter().any(|v| v == version))
        .flat_map(resource_entries)
        .collect();
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_list_has_the_builtin_groups_with_preferred_versions() {
        let list = group_list(&Registry::with_builtins());
        let names: Vec<&str> = list["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        for group in [
            "apiextensions.k8s.io",
            "coordination.k8s.io",
            "events.k8s.io",
        ] {
            assert!(names.contains(&group), "{group} missing from {names:?}");
        }
        assert_eq!(list["groups"][0]["preferredVersion"]["version"], "v1");
    }

    #[test]
    fn resource_list_includes_the_status_subresource() {
        let registry = Registry::with_builtins();
        let list = resource_list(&registry, "apiextensions.k8s.io", "v1").unwrap();
        let names: Vec<&str> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "customresourcedefinitions",
                "customresourcedefinitions/status"
            ]
        );
        assert_eq!(list["resources"][0]["shortNames"][0], "crd");
        assert!(resource_list(&registry, "clouddb.io", "v1alpha1").is_none());
    }
}
