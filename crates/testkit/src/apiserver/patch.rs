//! The four patch flavours, as pure functions from (current object, patch body) to the
//! patched object. The result still goes through the ordinary update pipeline (status
//! isolation, generation, no-op detection).
//!
//! Simplifications, documented because tests may meet them:
//! - strategic merge patch is treated as a JSON merge patch after dropping `$`-directives
//!   (`$patch`, `$setElementOrder/...`, `$retainKeys`, ...): lists are replaced, not merged
//!   by key. Exact for custom resources, approximate for built-ins;
//! - server-side apply does not track field ownership: the applied object is deep-merged
//!   into the current one (maps merge, lists and scalars are replaced), there are never
//!   field-manager conflicts, fields a manager stops applying are not removed, and
//!   `managedFields` is not maintained. For a `/status` apply the applied `.status`
//!   replaces the current one wholesale.

use serde_json::Value;

use super::errors::ApiError;

/// Which patch flavour a request carries (from its `Content-Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchKind {
    /// Maps a `Content-Type` header value to a patch kind.
    pub fn from_content_type(content_type: &str) -> Result<Self, ApiError> {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/json-patch+json" => Ok(PatchKind::Json),
            "application/merge-patch+json" => Ok(PatchKind::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(PatchKind::Apply),
            _ => Err(ApiError::unsupported_media_type(content_type)),
        }
    }
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid patch body: {e}")))
}

/// Parses an apply body (YAML, of which JSON is a subset) into JSON.
pub fn parse_apply_body(body: &[u8]) -> Result<Value, ApiError> {
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::bad_request("apply body is not UTF-8"))?;
    let value: Value = serde_norway::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("invalid apply body: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request("apply body must be an object"));
    }
    Ok(value)
}

fn strip_directives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with('$'));
            map.values_mut().for_each(strip_directives);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

/// Deep merge used by the simplified server-side apply: maps merge, everything else replaces.
pub fn deep_merge(target: &mut Value, applied: &Value) {
    match (target, applied) {
        (Value::Object(target), Value::Object(applied)) => {
            for (key, value) in applied {
                match target.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        deep_merge(existing, value)
                    }
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, applied) => *target = applied.clone(),
    }
}

/// Applies a JSON patch, refusing the one input shape the `json-patch` crate panics on
/// (`move` from an array's `-` position).
fn json_patch(current: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let ops: json_patch::Patch = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
    for op in &ops.0 {
        if let json_patch::PatchOperation::Move(m) = op {
            if m.from.as_str().ends_with("/-") {
                return Err(ApiError::invalid(
                    "",
                    "",
                    "",
                    "move from \"-\" is not allowed",
                ));
            }
        }
    }
    let mut doc = current.clone();
    json_patch::patch(&mut doc, &ops.0).map_err(|e| {
        ApiError::invalid(
            "",
            "",
            "",
            format!("the JSON patch could not be applied: {e}"),
        )
    })?;
    Ok(doc)
}

/// Applies a patch of `kind` to `current`. `status_write` selects the `/status` flavour of
/// server-side apply.
pub fn apply_patch(
    kind: PatchKind,
    current: &Value,
    body: &[u8],
    status_write: bool,
) -> Result<Value, ApiError> {
    match kind {
        PatchKind::Json => json_patch(current, body),
        PatchKind::Merge | PatchKind::Strategic => {
            let mut patch = parse_json(body)?;
            if kind == PatchKind::Strategic {
                strip_directives(&mut patch);
            }
            if !patch.is_object() {
                return Err(ApiError::bad_request("a merge patch must be a JSON object"));
            }
            let mut doc = current.clone();
            json_patch::merge(&mut doc, &patch);
            Ok(doc)
        }
        PatchKind::Apply => {
            let applied = parse_apply_body(body)?;
            let mut doc = current.clone();
            if status_write {
                if let Some(map) = doc.as_object_mut() {
                    match applied.get("status") {
                        Some(status) => map.insert("status".into(), status.clone()),
                        None => map.remove("status"),
                    };
                }
            } else {
                deep_merge(&mut doc, &applied);
            }
            Ok(doc)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn current() -> Value {
        json!({"metadata": {"name": "x", "labels": {"a": "1"}}, "spec": {"jobId": "1", "tags": ["a", "b"]}, "status": {"phase": "Running", "progress": 10}})
    }

    #[test]
    fn content_types_map_to_kinds() {
        assert_eq!(
            PatchKind::from_content_type("application/merge-patch+json").unwrap(),
            PatchKind::Merge
        );
        assert_eq!(
            PatchKind::from_content_type("application/apply-patch+yaml; charset=utf-8").unwrap(),
            PatchKind::Apply
        );
        assert_eq!(
            PatchKind::from_content_type("text/plain").unwrap_err().code,
            415
        );
    }

    #[test]
    fn merge_patch_sets_and_removes() {
        let out = apply_patch(
            PatchKind::Merge,
            &current(),
            br#"{"metadata":{"labels":{"a":null,"b":"2"}}}"#,
            false,
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"b": "2"}));
        assert_eq!(out["spec"], current()["spec"]);
    }

    #[test]
    fn strategic_patch_drops_directives() {
        let out = apply_patch(
            PatchKind::Strategic,
            &current(),
            br#"{"$setElementOrder/tags":[],"spec":{"tags":["c"],"$retainKeys":["x"]}}"#,
            false,
        )
        .unwrap();
        assert_eq!(out["spec"], json!({"jobId": "1", "tags": ["c"]}));
    }

    #[test]
    fn json_patch_ops_and_failed_tests() {
        let out = apply_patch(
            PatchKind::Json,
            &current(),
            br#"[{"op":"replace","path":"/spec/jobId","value":"2"}]"#,
            false,
        )
        .unwrap();
        assert_eq!(out["spec"]["jobId"], "2");
        let err = apply_patch(
            PatchKind::Json,
            &current(),
            br#"[{"op":"test","path":"/spec/jobId","value":"9"}]"#,
            false,
        )
        .unwrap_err();
        assert_eq!(err.code, 422);
        let err = apply_patch(
            PatchKind::Json,
            &json!({"a": []}),
            br#"[{"op":"move","from":"/a/-","path":"/b"}]"#,
            false,
        )
        .unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            apply_patch(PatchKind::Json, &current(), b"{}", false)
                .unwrap_err()
                .code,
            400
        );
    }

    #[test]
    fn apply_merges_main_and_replaces_status() {
        let out =
            apply_patch(PatchKind::Apply, &current(), b"spec:\n  tags: [z]\n", false).unwrap();
        assert_eq!(out["spec"], json!({"jobId": "1", "tags": ["z"]}));
        let out = apply_patch(
            PatchKind::Apply,
            &current(),
            br#"{"spec":{"jobId":"9"},"status":{"phase":"Succeeded"}}"#,
            true,
        )
        .unwrap();
        assert_eq!(out["status"], json!({"phase": "Succeeded"}));
        assert_eq!(
            out["spec"]["jobId"], "1",
            "a status apply only takes the applied status"
        );
        assert_eq!(
            apply_patch(PatchKind::Apply, &current(), b"- a\n", false)
                .unwrap_err()
                .code,
            400
        );
    }
}
