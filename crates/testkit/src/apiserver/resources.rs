//! The resource types the fake server serves: built-ins plus those registered by CRDs.

use std::collections::BTreeMap;

use serde_json::Value;

/// One `additionalPrinterColumns` entry of a CRD, used for `kubectl get` tables.
#[derive(Clone, Debug, PartialEq)]
pub struct PrinterColumn {
    /// Column header.
    pub name: String,
    /// OpenAPI type: `string`, `integer`, `date`, ...
    pub type_: String,
    /// OpenAPI format, if any.
    pub format: String,
    /// Column description.
    pub description: String,
    /// 0 for the default view, higher for `-o wide`.
    pub priority: i64,
    /// Simple JSONPath (`.spec.jobId`) evaluated against each object.
    pub json_path: String,
}

/// A served resource type: everything discovery and the handlers need to know about it.
///
/// Objects are stored per `(group, plural)`, independent of version: a CRD with several
/// served versions serves the same objects under each (no conversion), and status
/// subresource and printer columns come from the first served version.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDef {
    /// API group; empty for the core group.
    pub group: String,
    /// Served versions; the first is the preferred one.
    pub versions: Vec<String>,
    /// Plural name used in paths.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Kind of single objects.
    pub kind: String,
    /// Kind of lists.
    pub list_kind: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Short names (`cdbjob`).
    pub short_names: Vec<String>,
    /// Categories (`all`, `clouddb`).
    pub categories: Vec<String>,
    /// Whether `/status` is a subresource (main writes then ignore `.status`).
    pub status_subresource: bool,
    /// CRD printer columns.
    pub printer_columns: Vec<PrinterColumn>,
    /// Registered by a CRD (and removed when that CRD is deleted).
    pub from_crd: bool,
}

impl ResourceDef {
    /// `apiVersion` for objects of this resource at `version`.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    /// The storage key of this resource.
    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            group: self.group.clone(),
            plural: self.plural.clone(),
        }
    }
}

/// Identifies a resource type independent of version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKey {
    /// API group; empty for core.
    pub group: String,
    /// Plural name.
    pub plural: String,
}

fn builtin(
    group: &str,
    version: &str,
    plural: &str,
    kind: &str,
    namespaced: bool,
    short_names: &[&str],
    status_subresource: bool,
) -> ResourceDef {
    ResourceDef {
        group: group.into(),
        versions: vec![version.into()],
        plural: plural.into(),
        singular: kind.to_ascii_lowercase(),
        kind: kind.into(),
        list_kind: format!("{kind}List"),
        namespaced,
        short_names: short_names.iter().map(|s| s.to_string()).collect(),
        categories: Vec::new(),
        status_subresource,
        printer_columns: Vec::new(),
        from_crd: false,
    }
}

/// The built-in resources the operator and kubectl use.
pub fn builtins() -> Vec<ResourceDef> {
    let mut crd = builtin(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        false,
        &["crd", "crds"],
        true,
    );
    crd.categories = vec!["api-extensions".into()];
    vec![
        builtin("", "v1", "namespaces", "Namespace", false, &["ns"], true),
        builtin("", "v1", "secrets", "Secret", true, &[], false),
        builtin("", "v1", "configmaps", "ConfigMap", true, &["cm"], false),
        builtin("", "v1", "events", "Event", true, &["ev"], false),
        builtin(
            "events.k8s.io",
            "v1",
            "events",
            "Event",
            true,
            &["ev"],
            false,
        ),
        builtin(
            "coordination.k8s.io",
            "v1",
            "leases",
            "Lease",
            true,
            &[],
            false,
        ),
        crd,
    ]
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// Reads a `CustomResourceDefinition` object (as JSON) into the resource it registers.
pub fn from_crd(crd: &Value) -> Result<ResourceDef, String> {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let group = text(&spec["group"]);
    let plural = text(&names["plural"]);
    let kind = text(&names["kind"]);
    if group.is_empty() || plural.is_empty() || kind.is_empty() {
        return Err("spec.group, spec.names.plural and spec.names.kind are required".into());
    }
    let expected_name = format!("{plural}.{group}");
    if crd["metadata"]["name"].as_str() != Some(expected_name.as_str()) {
        return Err(format!(
            "metadata.name: must be spec.names.plural+\".\"+spec.group ({expected_name})"
        ));
    }
    let served: Vec<&Value> = spec["versions"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter(|v| v["served"].as_bool() != Some(false))
                .collect()
        })
        .unwrap_or_default();
    let first = served
        .first()
        .ok_or("spec.versions: at least one served version is required")?;
    let versions: Vec<String> = served.iter().map(|v| text(&v["name"])).collect();
    if versions.iter().any(String::is_empty) {
        return Err("spec.versions[].name is required".into());
    }
    let printer_columns = first["additionalPrinterColumns"]
        .as_array()
        .map(|cols| {
            cols.iter()
                .map(|c| PrinterColumn {
                    name: text(&c["name"]),
                    type_: text(&c["type"]),
                    format: text(&c["format"]),
                    description: text(&c["description"]),
                    priority: c["priority"].as_i64().unwrap_or(0),
                    json_path: text(&c["jsonPath"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let singular = names["singular"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_ascii_lowercase());
    let list_kind = names["listKind"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{kind}List"));
    Ok(ResourceDef {
        group,
        versions,
        plural,
        singular,
        kind,
        list_kind,
        namespaced: spec["scope"].as_str() != Some("Cluster"),
        short_names: strings(&names["shortNames"]),
        categories: strings(&names["categories"]),
        status_subresource: first["subresources"]["status"].is_object(),
        printer_columns,
        from_crd: true,
    })
}

/// All served resources, keyed by `(group, plural)`.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    defs: BTreeMap<ResourceKey, ResourceDef>,
}

impl Registry {
    /// A registry holding the built-ins.
    pub fn with_builtins() -> Self {
        let mut registry = Registry::default();
        for def in builtins() {
            registry.insert(def);
        }
        registry
    }

    /// Adds or replaces a resource.
    pub fn insert(&mut self, def: ResourceDef) {
        self.defs.insert(def.key(), def);
    }

    /// Removes a resource (when its CRD is deleted).
    pub fn remove(&mut self, key: &ResourceKey) -> Option<ResourceDef> {
        self.defs.remove(key)
    }

    /// The resource served at `group/version/plural`, if any.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceDef> {
        let key = ResourceKey {
            group: group.to_string(),
            plural: plural.to_string(),
        };
        self.defs
            .get(&key)
            .filter(|def| def.versions.iter().any(|v| v == version))
    }

    /// Every resource.
    pub fn all(&self) -> impl Iterator<Item = &ResourceDef> {
        self.defs.values()
    }

    /// Groups (excluding core) with their versions, preferred first, sorted by group name
    /// with built-in groups in a stable order.
    pub fn groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for def in self.defs.values().filter(|d| !d.group.is_empty()) {
            let versions = groups.entry(def.group.clone()).or_default();
            for v in &def.versions {
                if !versions.contains(v) {
                    versions.push(v.clone());
                }
            }
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    #[test]
    fn the_clouddbjob_crd_registers_a_namespaced_resource_with_status() {
        let crd = serde_json::to_value(clouddb_api::CloudDbJob::crd()).unwrap();
        let def = from_crd(&crd).unwrap();
        assert_eq!(def.group, "clouddb.io");
        assert_eq!(def.versions, vec!["v1alpha1".to_string()]);
        assert_eq!(def.plural, "clouddbjobs");
        assert_eq!(def.kind, "CloudDbJob");
        assert!(def.namespaced);
        assert!(def.status_subresource);
        assert!(def.short_names.contains(&"cdbjob".to_string()));
        assert!(def
            .printer_columns
            .iter()
            .any(|c| c.json_path == ".spec.jobId"));
    }

    #[test]
    fn a_crd_whose_name_does_not_match_is_rejected() {
        let mut crd = serde_json::to_value(clouddb_api::CloudDbJob::crd()).unwrap();
        crd["metadata"]["name"] = "wrong".into();
        assert!(from_crd(&crd).is_err());
    }

    #[test]
    fn lookup_checks_the_version() {
        let registry = Registry::with_builtins();
        assert!(registry.lookup("", "v1", "secrets").is_some());
        assert!(registry.lookup("", "v2", "secrets").is_none());
        assert!(registry.groups().contains_key("coordination.k8s.io"));
        assert!(!registry.groups().contains_key(""));
    }
}
