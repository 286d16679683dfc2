//! `meta.k8s.io/v1 Table` answers for `kubectl get` (`Accept: ...;as=Table`), with a CRD's
//! `additionalPrinterColumns` or, for built-ins, Name and Age.

use serde_json::{json, Value};

use super::resources::{PrinterColumn, ResourceDef};

/// What each row carries as `object` (`?includeObject=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the query parameter.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

/// Kubernetes' `HumanDuration` (`45s`, `3m20s`, `5h`, `2d3h`, `400d`, `3y20d`), simplified.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let s = seconds.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    match s {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 => match s % 60 {
            0 => format!("{m}m"),
            rest => format!("{m}m{rest}s"),
        },
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 => match m % 60 {
            0 => format!("{h}h"),
            rest => format!("{h}h{rest}m"),
        },
        _ if h < 48 => format!("{h}h"),
        _ if h < 192 => match h % 24 {
            0 => format!("{d}d"),
            rest => format!("{d}d{rest}h"),
        },
        _ if d < 365 * 2 => format!("{d}d"),
        _ if d < 365 * 8 => match d % 365 {
            0 => format!("{}y", d / 365),
            rest => format!("{}y{rest}d", d / 365),
        },
        _ => format!("{}y", d / 365),
    }
}

fn lookup<'a>(object: &'a Value, json_path: &str) -> Option<&'a Value> {
    json_path
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim_start_matches('.')
        .split('.')
        .filter(|k| !k.is_empty())
        .try_fold(object, |node, key| node.get(key))
}

fn cell(column: &PrinterColumn, object: &Value, now: jiff::Timestamp) -> Value {
    let Some(value) = lookup(object, &column.json_path) else {
        return Value::Null;
    };
    if column.type_ == "date" {
        return match value
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        {
            Some(t) => human_duration(now.as_second() - t.as_second()).into(),
            None => value.clone(),
        };
    }
    value.clone()
}

fn columns(def: &ResourceDef) -> Vec<PrinterColumn> {
    if !def.printer_columns.is_empty() {
        return def.printer_columns.clone();
    }
    vec![PrinterColumn {
        name: "Age".into(),
        type_: "date".into(),
        format: String::new(),
        description: "CreationTimestamp is a timestamp representing the server time when this object was created.".into(),
        priority: 0,
        json_path: ".metadata.creationTimestamp".into(),
    }]
}

/// Renders objects as a Table.
pub fn render(
    def: &ResourceDef,
    objects: &[Value],
    resource_version: Option<String>,
    include: IncludeObject,
) -> Value {
    let now = jiff::Timestamp::now();
    let columns = columns(def);
    let mut definitions = vec![json!({
        "name": "Name", "type": "string", "format": "name", "priority": 0,
        "description": "Name must be unique within a namespace."
    })];
    definitions.extend(columns.iter().map(|c| {
        json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority})
    }));
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut cells = vec![object["metadata"]["name"].clone()];
            cells.extend(columns.iter().map(|c| cell(c, object, now)));
            let mut row = json!({"cells": cells});
            match include {
                IncludeObject::None => {}
                IncludeObject::Object => row["object"] = object.clone(),
                IncludeObject::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": object["metadata"],
                    })
                }
            }
            row
        })
        .collect();
    let mut metadata = json!({});
    if let Some(rv) = resource_version {
        metadata["resourceVersion"] = rv.into();
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": definitions, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    #[test]
    fn human_durations_match_kubectl_style() {
        for (secs, want) in [
            (5, "5s"),
            (119, "119s"),
            (200, "3m20s"),
            (600, "10m"),
            (4 * 3600, "4h"),
            (4 * 3600 + 60, "4h1m"),
            (30 * 3600, "30h"),
            (50 * 3600, "2d2h"),
            (400 * 86400, "400d"),
            (3 * 365 * 86400 + 86400, "3y1d"),
            (-5, "<invalid>"),
        ] {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }

    #[test]
    fn accept_header_detection() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
    }

    #[test]
    fn rows_use_the_crd_printer_columns() {
        let crd = serde_json::to_value(clouddb_api::CloudDbJob::crd()).unwrap();
        let def = super::super::resources::from_crd(&crd).unwrap();
        let object = json!({"metadata": {"name": "x", "creationTimestamp": "2020-01-01T00:00:00Z"}, "spec": {"provider": "tencent", "jobId": "42"}, "status": {"progress": 50}});
        let table = render(&def, &[object], Some("7".into()), IncludeObject::Metadata);
        let names: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(&names[..3], ["Name", "Provider", "Job"]);
        let cells = &table["rows"][0]["cells"];
        assert_eq!(cells[0], "x");
        assert_eq!(cells[2], "42");
        assert_eq!(cells[3], Value::Null);
        let progress = names.iter().position(|n| *n == "Progress").unwrap();
        assert_eq!(cells[progress], 50);
        let age = names.iter().position(|n| *n == "Age").unwrap();
        assert!(cells[age].as_str().unwrap().contains('y'), "{}", cells[age]);
        assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(table["metadata"]["resourceVersion"], "7");
    }
}
