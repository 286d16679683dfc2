//! Request paths → what they address. Pure, so the path grammar is tested without HTTP.

/// A resource request path, decomposed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePath {
    /// API group; empty for core (`/api/v1`).
    pub group: String,
    /// API version.
    pub version: String,
    /// Namespace from `/namespaces/{ns}/...`, if any.
    pub namespace: Option<String>,
    /// Plural resource name.
    pub plural: String,
    /// Object name, if addressed.
    pub name: Option<String>,
    /// Subresource (`status`), if addressed.
    pub subresource: Option<String>,
}

/// What a path addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/readyz`, `/livez`.
    Health,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    Discovery {
        /// Group (empty for core).
        group: String,
        /// Version.
        version: String,
    },
    /// Anything below a group version.
    Resource(ResourcePath),
}

fn resource(group: &str, version: &str, rest: &[&str]) -> Option<Route> {
    let mut rest = rest;
    let mut namespace = None;
    if rest.first() == Some(&"namespaces")
        && rest.len() >= 3
        && !["status", "finalize"].contains(&rest[2])
    {
        namespace = Some(rest[1].to_string());
        rest = &rest[2..];
    }
    let (plural, name, subresource) = match rest {
        [plural] => (plural, None, None),
        [plural, name] => (plural, Some(name), None),
        [plural, name, sub] => (plural, Some(name), Some(sub)),
        _ => return None,
    };
    if plural.is_empty() || name.is_some_and(|n| n.is_empty()) {
        return None;
    }
    Some(Route::Resource(ResourcePath {
        group: group.to_string(),
        version: version.to_string(),
        namespace,
        plural: plural.to_string(),
        name: name.map(|n| n.to_string()),
        subresource: subresource.map(|s| s.to_string()),
    }))
}

/// Parses a request path (without query).
pub fn parse(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path
        .trim_end_matches('/')
        .trim_start_matches('/')
        .split('/')
        .collect();
    match segments.as_slice() {
        ["version"] => Some(Route::Version),
        ["healthz"] | ["readyz"] | ["livez"] => Some(Route::Health),
        ["api"] => Some(Route::CoreVersions),
        ["api", version] => Some(Route::Discovery {
            group: String::new(),
            version: version.to_string(),
        }),
        ["api", version, rest @ ..] => resource("", version, rest),
        ["apis"] => Some(Route::Groups),
        ["apis", group] => Some(Route::Group(group.to_string())),
        ["apis", group, version] => Some(Route::Discovery {
            group: group.to_string(),
            version: version.to_string(),
        }),
        ["apis", group, version, rest @ ..] => resource(group, version, rest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse(path) {
            Some(Route::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn discovery_paths() {
        assert_eq!(parse("/version"), Some(Route::Version));
        assert_eq!(parse("/api"), Some(Route::CoreVersions));
        assert_eq!(parse("/apis/"), Some(Route::Groups));
        assert_eq!(
            parse("/apis/clouddb.io"),
            Some(Route::Group("clouddb.io".into()))
        );
        assert_eq!(
            parse("/apis/clouddb.io/v1alpha1"),
            Some(Route::Discovery {
                group: "clouddb.io".into(),
                version: "v1alpha1".into()
            })
        );
        assert_eq!(parse("/openapi/v2"), None);
    }

    #[test]
    fn namespaced_and_cluster_paths() {
        let r = res("/apis/clouddb.io/v1alpha1/namespaces/ns/clouddbjobs/x/status");
        assert_eq!(r.namespace.as_deref(), Some("ns"));
        assert_eq!(r.plural, "clouddbjobs");
        assert_eq!(r.name.as_deref(), Some("x"));
        assert_eq!(r.subresource.as_deref(), Some("status"));
        let r = res("/apis/clouddb.io/v1alpha1/clouddbjobs");
        assert_eq!((r.namespace, r.name), (None, None));
        let r = res("/api/v1/namespaces/ns/secrets");
        assert_eq!(
            (r.group.as_str(), r.namespace.as_deref(), r.plural.as_str()),
            ("", Some("ns"), "secrets")
        );
    }

    #[test]
    fn the_namespaces_resource_itself() {
        let r = res("/api/v1/namespaces/foo");
        assert_eq!(
            (r.plural.as_str(), r.name.as_deref(), r.namespace),
            ("namespaces", Some("foo"), None)
        );
        let r = res("/api/v1/namespaces/foo/status");
        assert_eq!(r.subresource.as_deref(), Some("status"));
        assert_eq!(r.plural, "namespaces");
        assert_eq!(parse("/api/v1/namespaces/a/b/c/d/e"), None);
    }
}
