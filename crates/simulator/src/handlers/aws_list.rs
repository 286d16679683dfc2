//! The AWS RDS calls discovery makes, beside the job describes of `aws.rs`:
//! `DescribeDBInstances` (an instance any AWS job or announced maintenance names, else
//! 404 `DBInstanceNotFound`), `DescribePendingMaintenanceActions` (filter `db-instance-id`,
//! from the scenarios' `maintenance`), the instance filters of `DescribeDBSnapshots`
//! (`DBInstanceIdentifier`) and `DescribeBlueGreenDeployments` (filter `source`), and
//! `MaxRecords`/`Marker` paging of every list (the marker is the next offset), and the
//! identifier filters of the job describes (`db-snapshot-id`, `db-cluster-snapshot-id`,
//! `export-task-identifier`, `blue-green-deployment-identifier`) with several values, as
//! batched polls send them: unknown filter names and more than 100 values are refused as
//! RDS refuses them.

use jiff::Timestamp;

use crate::render::aws::{ACCOUNT, REGION};
use crate::state::SimState;
use clouddb_api::ProviderKind;

/// The values of filter `name` in a Query API form (`Filters.Filter.N.Name` and
/// `Filters.Filter.N.Values.Value.M`).
pub(crate) fn filter_values(form: &[(String, String)], name: &str) -> Option<Vec<String>> {
    let n = form.iter().find_map(|(k, v)| {
        let index = k.strip_prefix("Filters.Filter.")?.strip_suffix(".Name")?;
        (v.trim() == name).then(|| index.to_string())
    })?;
    let prefix = format!("Filters.Filter.{n}.Values.Value.");
    Some(
        form.iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v.trim().to_string())
            .collect(),
    )
}

/// The ARN RDS gives a DB instance (in the rendered account and region).
pub(crate) fn instance_arn(instance: &str) -> String {
    format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:{instance}")
}

/// The instance an identifier or ARN names.
pub(crate) fn instance_of(id_or_arn: &str) -> &str {
    id_or_arn.rsplit(":db:").next().unwrap_or(id_or_arn)
}

/// Whether any AWS job or announced maintenance names the instance.
pub(crate) fn known_instance(st: &SimState, instance: &str) -> bool {
    let same = |i: &str| i.eq_ignore_ascii_case(instance);
    st.jobs.iter().any(|j| {
        j.spec.provider == ProviderKind::Aws
            && (j.spec.instance_id.as_deref().is_some_and(same)
                || j.spec.detail.instance_ids.iter().any(|i| same(i)))
    }) || st
        .maintenance
        .iter()
        .any(|m| m.provider == ProviderKind::Aws && same(&m.instance_id))
}

/// `MaxRecords` (20-100, default 100) and `Marker` (an offset) of a form; `Err` with the
/// message RDS gives for an out-of-range value.
pub(crate) fn paging(form: &[(String, String)]) -> Result<(usize, usize), String> {
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
    let max = match get("MaxRecords") {
        None => 100,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (20..=100).contains(&n) => n,
            _ => {
                return Err(format!(
                    "Invalid value {v} for MaxRecords. Must be between 20 and 100"
                ))
            }
        },
    };
    let offset = match get("Marker") {
        None | Some("") => 0,
        Some(m) => m.parse().map_err(|_| format!("Invalid Marker {m}"))?,
    };
    Ok((max, offset))
}

/// One page of `items` from `offset`, and the `<Marker>` element when more follow.
pub(crate) fn page(items: Vec<String>, (max, offset): (usize, usize)) -> (Vec<String>, String) {
    let total = items.len();
    let shown: Vec<String> = items.into_iter().skip(offset).take(max).collect();
    let next = offset.saturating_add(max);
    let marker = if next < total {
        format!("<Marker>{next}</Marker>")
    } else {
        String::new()
    };
    (shown, marker)
}

/// `<DBInstances>` with the one instance.
pub(crate) fn db_instances(instance: &str) -> String {
    format!(
        "<DBInstances><DBInstance><DBInstanceIdentifier>{}</DBInstanceIdentifier>\
         <DBInstanceArn>{}</DBInstanceArn><DBInstanceStatus>available</DBInstanceStatus>\
         </DBInstance></DBInstances>",
        quick_xml::escape::escape(instance),
        quick_xml::escape::escape(instance_arn(instance)),
    )
}

/// `<ResourcePendingMaintenanceActions>` items for the instances named, dates from
/// `started`.
pub(crate) fn pending_actions(
    st: &SimState,
    instances: &[String],
    started: Timestamp,
) -> Vec<String> {
    let date = |d: Option<std::time::Duration>| {
        d.and_then(|d| jiff::SignedDuration::try_from(d).ok())
            .and_then(|d| started.checked_add(d).ok())
            .map(crate::render::aws::aws_time)
    };
    let el = |name: &str, v: &str| format!("<{name}>{}</{name}>", quick_xml::escape::escape(v));
    let mut out = Vec::new();
    for instance in instances {
        let actions: String = st
            .maintenance
            .iter()
            .filter(|m| {
                m.provider == ProviderKind::Aws && m.instance_id.eq_ignore_ascii_case(instance)
            })
            .map(|m| {
                let mut x = String::from("<PendingMaintenanceAction>");
                x += &el("Action", &m.action);
                if let Some(d) = date(m.apply_after) {
                    x += &el("CurrentApplyDate", &d);
                }
                if let Some(d) = date(m.forced_after) {
                    x += &el("ForcedApplyDate", &d);
                }
                if let Some(d) = &m.description {
                    x += &el("Description", d);
                }
                x + "</PendingMaintenanceAction>"
            })
            .collect();
        if !actions.is_empty() {
            out.push(format!(
                "<ResourcePendingMaintenanceActions>{}<PendingMaintenanceActionDetails>{actions}\
                 </PendingMaintenanceActionDetails></ResourcePendingMaintenanceActions>",
                el("ResourceIdentifier", &instance_arn(instance))
            ));
        }
    }
    out
}

/// The identifier filter of a job action and every filter name the action takes (RDS
/// service model 2014-10-31).
pub(crate) fn filters(action: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match action {
        "DescribeExportTasks" => (
            "export-task-identifier",
            &[
                "export-task-identifier",
                "s3-bucket",
                "source-arn",
                "status",
            ],
        ),
        "DescribeDBSnapshots" => (
            "db-snapshot-id",
            &[
                "db-instance-id",
                "db-snapshot-id",
                "dbi-resource-id",
                "snapshot-type",
                "engine",
            ],
        ),
        "DescribeDBClusterSnapshots" => (
            "db-cluster-snapshot-id",
            &[
                "db-cluster-id",
                "db-cluster-snapshot-id",
                "snapshot-type",
                "engine",
            ],
        ),
        "DescribeBlueGreenDeployments" => (
            "blue-green-deployment-identifier",
            &[
                "blue-green-deployment-identifier",
                "blue-green-deployment-name",
                "source",
                "target",
            ],
        ),
        _ => return None,
    })
}

/// The most values RDS takes in one filter.
pub const MAX_FILTER_VALUES: usize = 100;

/// Whether a job ID is among the identifiers a request names (case-insensitively).
pub(crate) fn named(job_id: &str, (id, values): &(Option<String>, Option<Vec<String>>)) -> bool {
    id.as_ref().is_none_or(|id| job_id.eq_ignore_ascii_case(id))
        && values
            .as_ref()
            .is_none_or(|v| v.iter().any(|v| job_id.eq_ignore_ascii_case(v)))
}

/// The refusal of a filter RDS would refuse: a name the action does not take, or more than
/// [`MAX_FILTER_VALUES`] unique values.
pub(crate) fn check_filters(form: &[(String, String)], action: &str) -> Result<(), String> {
    let Some((_, names)) = filters(action) else {
        return Ok(());
    };
    for (k, v) in form {
        let Some(index) = k
            .strip_prefix("Filters.Filter.")
            .and_then(|r| r.strip_suffix(".Name"))
        else {
            continue;
        };
        if !names.contains(&v.trim()) {
            return Err(format!("Unrecognized filter name: {}", v.trim()));
        }
        let prefix = format!("Filters.Filter.{index}.Values.Value.");
        let unique: std::collections::HashSet<String> = form
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
            .collect();
        if unique.len() > MAX_FILTER_VALUES {
            return Err(format!(
                "Only up to {MAX_FILTER_VALUES} unique filter values may be specified per filter."
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_and_paging_read_the_query_form() {
        let f = form(&[
            ("Filters.Filter.1.Name", "source"),
            (
                "Filters.Filter.1.Values.Value.1",
                "arn:aws:rds:us-east-1:1:db:a",
            ),
            ("Filters.Filter.2.Name", "other"),
            ("Filters.Filter.2.Values.Value.1", "x"),
            ("MaxRecords", "20"),
            ("Marker", "40"),
        ]);
        assert_eq!(
            filter_values(&f, "source").unwrap(),
            ["arn:aws:rds:us-east-1:1:db:a"]
        );
        assert_eq!(filter_values(&f, "target"), None);
        assert_eq!(paging(&f), Ok((20, 40)));
        assert!(paging(&form(&[("MaxRecords", "5")])).is_err());
        assert_eq!(instance_of("arn:aws:rds:us-east-1:1:db:a"), "a");
        let (shown, marker) = page((0..45).map(|i| i.to_string()).collect(), (20, 20));
        assert_eq!((shown.len(), marker.as_str()), (20, "<Marker>40</Marker>"));
        let (shown, marker) = page((0..45).map(|i| i.to_string()).collect(), (20, 40));
        assert_eq!((shown.len(), marker.as_str()), (5, ""));
    }

    #[test]
    fn identifier_filters_take_up_to_a_hundred_values_and_known_names_only() {
        let mut pairs = vec![(
            "Filters.Filter.1.Name".to_string(),
            "db-snapshot-id".to_string(),
        )];
        for n in 1..=100 {
            pairs.push((
                format!("Filters.Filter.1.Values.Value.{n}"),
                format!("s-{n}"),
            ));
        }
        assert_eq!(check_filters(&pairs, "DescribeDBSnapshots"), Ok(()));
        // The same value twice is one unique value.
        pairs.push(("Filters.Filter.1.Values.Value.101".into(), "S-1".into()));
        assert_eq!(check_filters(&pairs, "DescribeDBSnapshots"), Ok(()));
        pairs.push(("Filters.Filter.1.Values.Value.102".into(), "s-101".into()));
        assert!(check_filters(&pairs, "DescribeDBSnapshots")
            .unwrap_err()
            .starts_with("Only up to 100"));
        let wrong = form(&[("Filters.Filter.1.Name", "db-snapshot-id")]);
        assert!(check_filters(&wrong, "DescribeDBClusterSnapshots")
            .unwrap_err()
            .contains("Unrecognized filter name: db-snapshot-id"));
        for action in [
            "DescribeDBSnapshots",
            "DescribeDBClusterSnapshots",
            "DescribeExportTasks",
            "DescribeBlueGreenDeployments",
        ] {
            let (id_filter, names) = filters(action).unwrap();
            assert!(names.contains(&id_filter), "{action}");
        }
        let asked = (None, Some(vec!["A".to_string(), "b".to_string()]));
        assert!(named("a", &asked) && named("B", &asked) && !named("c", &asked));
        let both = (Some("a".to_string()), Some(vec!["b".to_string()]));
        assert!(!named("a", &both) && !named("b", &both), "both must match");
    }
}
