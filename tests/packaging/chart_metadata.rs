//! The metadata chart indexes read from `Chart.yaml` (Artifact Hub's annotations) says what
//! the chart really ships: the CRD it installs, the image it deploys by default, examples
//! the CRD accepts, and changes of known kinds.

use serde_json::Value;

use crate::chart::{chart_dir, container, render};
use crate::common;
use crate::examples::{check, crd_validator};

/// `Chart.yaml`'s annotation `key`, parsed (each is a YAML document in a string).
fn annotation(key: &str) -> Value {
    let chart = common::read_yaml_stream(&chart_dir().join("Chart.yaml"));
    let text = chart[0]["annotations"][key]
        .as_str()
        .unwrap_or_else(|| panic!("Chart.yaml has no annotation {key}"));
    common::parse_yaml_stream(text)
        .into_iter()
        .next()
        .unwrap_or(Value::Null)
}

#[test]
fn artifact_hub_crds_name_the_crds_the_chart_installs() {
    let crds = annotation("artifacthub.io/crds");
    let listed = crds.as_array().expect("a list of CRDs");
    let instance_yaml =
        clouddb_job_operator::cli::crd::instance_crd_yaml().expect("CRD serializes");
    let generated = [
        common::generated_crd(),
        common::parse_yaml_stream(&instance_yaml).remove(0),
    ];
    assert_eq!(listed.len(), generated.len(), "{crds}");
    for (listed, generated) in listed.iter().zip(&generated) {
        let spec = &generated["spec"];
        assert_eq!(listed["name"], generated["metadata"]["name"]);
        assert_eq!(listed["kind"], spec["names"]["kind"]);
        assert_eq!(listed["version"], spec["versions"][0]["name"]);
    }
}

#[test]
fn artifact_hub_images_are_the_images_the_chart_deploys_by_default() {
    let images = annotation("artifacthub.io/images");
    let listed: Vec<&str> = images
        .as_array()
        .expect("a list of images")
        .iter()
        .map(|i| i["image"].as_str().unwrap_or_default())
        .collect();
    let deployed = container(&render(&[]))["image"].clone();
    assert_eq!(listed, [deployed.as_str().unwrap_or_default()], "{images}");
}

#[test]
fn artifact_hub_crd_examples_are_accepted_by_the_crd() {
    let examples = annotation("artifacthub.io/crdsExamples");
    let validator = crd_validator();
    let examples = examples.as_array().expect("a list of examples");
    assert!(!examples.is_empty());
    for example in examples {
        assert_eq!(example["kind"], "CloudDbJob", "{example}");
        let problems = check(&validator, example);
        assert!(problems.is_empty(), "{example}: {problems:?}");
    }
}

#[test]
fn artifact_hub_changes_have_known_kinds() {
    let changes = annotation("artifacthub.io/changes");
    let changes = changes.as_array().expect("a list of changes");
    assert!(!changes.is_empty());
    for change in changes {
        let kind = change["kind"].as_str().unwrap_or_default();
        assert!(
            [
                "added",
                "changed",
                "deprecated",
                "removed",
                "fixed",
                "security"
            ]
            .contains(&kind),
            "{change}"
        );
        assert!(change["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()));
    }
}
