use super::*;

#[test]
fn builtins_parse_and_cover_every_api() {
    let all: Vec<JobSpec> = Scenario::builtins()
        .unwrap()
        .iter()
        .flat_map(|s| s.resolved_jobs())
        .collect();
    for provider in [
        ProviderKind::Tencent,
        ProviderKind::TencentLegacy,
        ProviderKind::Huawei,
        ProviderKind::Alibaba,
        ProviderKind::Aws,
    ] {
        for api in provider.apis() {
            assert!(
                all.iter().any(|j| j.provider == provider && j.api() == api),
                "no built-in job for {provider} {api}"
            );
        }
    }
    assert!(all.iter().any(|j| j.shape == Some(Shape::Seed)));
}

#[test]
fn rejects_bad_jobs() {
    let bad = [
        "jobs: [{provider: tencent, jobId: abc, timeline: [{after: 0s, status: RUNNING}]}]",
        "jobs: [{provider: tencent, jobId: '1', timeline: []}]",
        "jobs: [{provider: huawei, api: DescribeTasks, jobId: x, timeline: [{after: 0s, status: RUNNING}]}]",
        "jobs: [{provider: huawei, jobId: x, timeline: [{after: 5s, status: RUNNING}, {after: 1s, status: FAILED}]}]",
        "jobs: [{provider: huawei, jobId: x, timeline: [{after: soon, status: RUNNING}]}]",
        "jobs: [{provider: huawei, jobId: x, colour: red, timeline: [{after: 0s, status: RUNNING}]}]",
    ];
    for text in bad {
        assert!(Scenario::from_yaml(text).is_err(), "{text}");
    }
}

#[test]
fn scenario_defaults_apply_to_jobs() {
    let s = Scenario::from_yaml(
        "shape: seed\nclock: first-request\njobs:\n- {provider: tencent, jobId: '7', type: import, timeline: [{after: 0s, status: PENDING}]}\n",
    )
    .unwrap();
    let job = &s.resolved_jobs()[0];
    assert_eq!(job.shape, Some(Shape::Seed));
    assert_eq!(job.clock, Some(ClockStart::FirstRequest));
    assert_eq!(job.kind, TaskKind::Import);
    assert_eq!(job.timeline[0].status, Phase::Initial);
    assert_eq!(job.display_name(), "import_instance");
}
