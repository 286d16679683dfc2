//! HTTP entry point: one fallback handler that routes by path, maps method + path to a
//! Kubernetes verb, counts it, and calls the store, discovery, table or watch code.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::discovery;
use super::errors::ApiError;
use super::paging::{self, ContinueToken};
use super::patch::PatchKind;
use super::resources::ResourceDef;
use super::route::{self, ResourcePath, Route};
use super::selectors::{FieldSelector, LabelSelector};
use super::store::Target;
use super::table::{self, IncludeObject};
use super::watch::{self, WatchRequest};
use super::Shared;

fn json_response(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

fn query_map(uri: &Uri) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn flag(query: &BTreeMap<String, String>, key: &str) -> bool {
    matches!(
        query.get(key).map(String::as_str),
        Some("1" | "true" | "True")
    )
}

/// The axum handler for every request.
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let result = match route::parse(&path) {
        Some(Route::Version) => Ok(ok(&discovery::version())),
        Some(Route::Health) => Ok((StatusCode::OK, "ok").into_response()),
        Some(Route::CoreVersions) => Ok(ok(&discovery::core_versions(&shared.addr.to_string()))),
        Some(Route::Groups) => Ok(ok(&discovery::group_list(&shared.lock().registry))),
        Some(Route::Group(group)) => discovery::group(&shared.lock().registry, &group)
            .map(|g| ok(&g))
            .ok_or_else(|| ApiError::no_route(&path)),
        Some(Route::Discovery { group, version }) => {
            discovery::resource_list(&shared.lock().registry, &group, &version)
                .map(|g| ok(&g))
                .ok_or_else(|| ApiError::no_route(&path))
        }
        Some(Route::Resource(rp)) => resource(shared, method, &uri, &headers, &body, rp),
        None => Err(ApiError::no_route(&path)),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let value: Value = if content_type.contains("yaml") {
        let text =
            std::str::from_utf8(body).map_err(|_| ApiError::bad_request("body is not UTF-8"))?;
        serde_norway::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("invalid YAML body: {e}")))?
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?
    };
    Ok(value)
}

struct Selectors {
    labels: LabelSelector,
    fields: FieldSelector,
}

fn selectors(query: &BTreeMap<String, String>) -> Result<Selectors, ApiError> {
    let labels = LabelSelector::parse(
        query
            .get("labelSelector")
            .map(String::as_str)
            .unwrap_or_default(),
    )
    .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
    let fields = FieldSelector::parse(
        query
            .get("fieldSelector")
            .map(String::as_str)
            .unwrap_or_default(),
    )
    .map_err(ApiError::bad_request)?;
    Ok(Selectors { labels, fields })
}

fn verb(
    method: &Method,
    rp: &ResourcePath,
    query: &BTreeMap<String, String>,
) -> Result<&'static str, ApiError> {
    let named = rp.name.is_some();
    Ok(match (method.as_str(), named) {
        ("GET", true) => "get",
        ("GET", false) if flag(query, "watch") => "watch",
        ("GET", false) => "list",
        ("POST", false) => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        (m, _) => {
            return Err(ApiError::method_not_allowed(format!(
                "{m} is not supported on {}",
                rp.plural
            )))
        }
    })
}

fn resource(
    shared: Arc<Shared>,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    rp: ResourcePath,
) -> Result<Response, ApiError> {
    let query = query_map(uri);
    let path = uri.path();
    let def: ResourceDef = shared
        .lock()
        .registry
        .lookup(&rp.group, &rp.version, &rp.plural)
        .cloned()
        .ok_or_else(|| ApiError::no_route(path))?;
    if (!def.namespaced && rp.namespace.is_some())
        || (def.namespaced && rp.namespace.is_none() && rp.name.is_some())
    {
        return Err(ApiError::no_route(path));
    }
    let status_write = match rp.subresource.as_deref() {
        None => false,
        Some("status") if def.status_subresource => true,
        Some(_) => return Err(ApiError::no_route(path)),
    };
    let verb = verb(&method, &rp, &query)?;
    let stat_resource = match &rp.subresource {
        Some(sub) => format!("{}/{sub}", def.plural),
        None => def.plural.clone(),
    };
    shared.lock().stats.record(verb, &stat_resource);
    let dry_run = query.contains_key("dryRun");
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let target = Target {
        def: &def,
        version: &rp.version,
        namespace: rp.namespace.as_deref(),
    };
    let name = rp.name.clone().unwrap_or_default();
    match verb {
        "get" => {
            let object = shared.lock().get(&target, &name)?;
            if table::wants_table(accept) {
                let include = IncludeObject::parse(query.get("includeObject").map(String::as_str));
                return Ok(ok(&table::render(&def, &[object], None, include)));
            }
            Ok(ok(&object))
        }
        "list" => {
            let sel = selectors(&query)?;
            let limit = paging::parse_limit(query.get("limit"))?;
            let token = match query.get("continue").filter(|c| !c.is_empty()) {
                Some(c) => Some(ContinueToken::decode(c)?),
                None => None,
            };
            let (items, rv, next) = {
                let store = shared.lock();
                let rv = match &token {
                    Some(t) => {
                        t.check_fresh(store.compacted)?;
                        t.rv
                    }
                    None => store.rv,
                };
                let after = token.as_ref().map(|t| &t.after);
                let (items, last) =
                    store.list_page(&target, &sel.labels, &sel.fields, after, limit);
                let next = last.map(|after| ContinueToken { rv, after }.encode());
                (items, rv.to_string(), next)
            };
            let mut list = if table::wants_table(accept) {
                let include = IncludeObject::parse(query.get("includeObject").map(String::as_str));
                table::render(&def, &items, Some(rv), include)
            } else {
                json!({
                    "apiVersion": def.api_version(&rp.version),
                    "kind": def.list_kind,
                    "metadata": {"resourceVersion": rv},
                    "items": items,
                })
            };
            if let (Some(next), Some(meta)) = (next, list.get_mut("metadata")) {
                meta["continue"] = json!(next);
            }
            Ok(ok(&list))
        }
        "watch" => {
            let sel = selectors(&query)?;
            let resource_version = match query.get("resourceVersion").map(String::as_str) {
                None | Some("") => None,
                Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!("invalid resourceVersion {rv:?}"))
                })?),
            };
            let timeout = query
                .get("timeoutSeconds")
                .and_then(|t| t.parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or(Duration::from_secs(1800));
            let request = WatchRequest {
                def: def.clone(),
                version: rp.version.clone(),
                namespace: rp.namespace.clone(),
                labels: sel.labels,
                fields: sel.fields,
                resource_version,
                send_initial_events: flag(&query, "sendInitialEvents"),
                bookmarks: flag(&query, "allowWatchBookmarks"),
                timeout,
                table: table::wants_table(accept)
                    .then(|| IncludeObject::parse(query.get("includeObject").map(String::as_str))),
            };
            Ok(watch::start(shared, request))
        }
        "create" => {
            if def.namespaced && rp.namespace.is_none() {
                return Err(ApiError::method_not_allowed(format!(
                    "create {} requires a namespace",
                    def.plural
                )));
            }
            let object = shared
                .lock()
                .create(&target, parse_body(headers, body)?, dry_run)?;
            Ok(json_response(StatusCode::CREATED, &object))
        }
        "update" => {
            let object = shared.lock().update(
                &target,
                &name,
                parse_body(headers, body)?,
                status_write,
                dry_run,
            )?;
            Ok(ok(&object))
        }
        "patch" => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let kind = PatchKind::from_content_type(content_type)?;
            if kind == PatchKind::Apply && query.get("fieldManager").is_none_or(|m| m.is_empty()) {
                return Err(ApiError::bad_request(
                    "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                ));
            }
            let mut store = shared.lock();
            let existed = store.get(&target, &name).is_ok();
            let object = store.patch(&target, &name, kind, body, status_write, dry_run)?;
            let code = if existed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(json_response(code, &object))
        }
        "delete" => {
            let object = shared.lock().delete(&target, &name, dry_run)?;
            Ok(ok(&object))
        }
        _ => {
            // deletecollection
            let sel = selectors(&query)?;
            let mut store = shared.lock();
            let names: Vec<(Option<String>, String)> = store
                .list(&target, &sel.labels, &sel.fields)
                .iter()
                .map(|o| {
                    (
                        o["metadata"]["namespace"].as_str().map(str::to_string),
                        o["metadata"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .collect();
            let mut items = Vec::new();
            for (ns, name) in names {
                let one = Target {
                    def: &def,
                    version: &rp.version,
                    namespace: ns.as_deref(),
                };
                items.push(store.delete(&one, &name, dry_run)?);
            }
            Ok(ok(&json!({
                "apiVersion": def.api_version(&rp.version),
                "kind": def.list_kind,
                "metadata": {"resourceVersion": store.rv.to_string()},
                "items": items,
            })))
        }
    }
}
