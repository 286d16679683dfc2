//! The rendered JSON of the built-ins has the documents' shape: the same field names with
//! the same JSON types (examples copied from the provider documents in the seeds).

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::*;
use crate::scenario::{Scenario, Shape};
use crate::timeline::state_at;
use clouddb_api::ProviderKind;

/// Field names and JSON types, recursively (arrays by their first element).
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("null"),
    }
}

/// Renders a built-in job in its final state with `f`.
fn render_final(provider: ProviderKind, job_id: &str, f: fn(&RenderJob<'_>) -> Value) -> Value {
    render_at(provider, job_id, Duration::from_secs(86_400), None, f)
}

fn render_at(
    provider: ProviderKind,
    job_id: &str,
    at: Duration,
    shape_override: Option<Shape>,
    f: fn(&RenderJob<'_>) -> Value,
) -> Value {
    let mut job = Scenario::builtins()
        .unwrap()
        .iter()
        .flat_map(|s| s.resolved_jobs())
        .find(|j| j.provider == provider && j.job_id == job_id)
        .unwrap_or_else(|| panic!("no built-in job {job_id}"));
    if shape_override.is_some() {
        job.shape = shape_override;
    }
    let state = state_at(&job.timeline, at).unwrap();
    let start = Timestamp::from_second(1_498_547_133).unwrap();
    let end = state.ended.map(|e| {
        start
            .checked_add(jiff::SignedDuration::from_secs(e.as_secs() as i64))
            .unwrap()
    });
    f(&RenderJob {
        job: &job,
        state: &state,
        start,
        end,
    })
}

#[test]
fn describe_tasks_seed_shape_matches_the_seed_items() {
    let t = ProviderKind::Tencent;
    let seed_items = [
        (
            "915964",
            json!({"Status":2,"Code":0,"Data":[{"InstanceId":"cdb-gt70m8aa","Character_set_server":"utf8","Lower_case_table_names":"0","Vport":3306}],"JobId":15964,"StartTime":"2017-06-27 15:05:33","Progress":100,"Message":"初始化实例成功","EndTime":"2017-06-27 15:06:36","Type":6}),
        ),
        (
            "951788",
            json!({"Status":3,"Code":-5003,"Data":[{"Code":3,"InstanceId":"cdb-atjl8gns","StartTime":"2017-07-21 17:19:30","Databases":[{"Message":"dial tcp :0: connection refused","Code":3,"Database":"clear_test"}],"Message":"dial tcp :0: connection refused","EndTime":"2017-07-21 17:19:31"}],"JobId":51788,"StartTime":"2017-07-21 17:19:30","Progress":0,"Message":"","EndTime":"2017-07-21 17:19:31","Type":2}),
        ),
        (
            "915967",
            json!({"Status":2,"Code":0,"Data":[{"InstanceId":"cdb-gt70m8aa","Before":{"SlaveZoneFirst":160002,"MasterZone":160002,"Memory":1000,"DeployMode":"","Volume":50,"ProtectMode":"","SlaveZoneSecond":"","EngineVersion":"5.6","CdbType":"CUSTOM"},"After":{"SlaveZoneFirst":160002,"MasterZone":160002,"Memory":2000,"DeployMode":"","Volume":100,"ProtectMode":"","SlaveZoneSecond":"","EngineVersion":"5.6","CdbType":"CUSTOM"},"DealName":"20170627160000060843141595228010"}],"JobId":15967,"StartTime":"2017-06-27 15:13:52","Progress":100,"Message":"实例升级任务完成","EndTime":"2017-06-27 15:16:57","Type":11}),
        ),
        (
            "915969",
            json!({"Status":2,"Code":0,"Data":[{"InstanceId":"","Parameters":[{"Message":"ok","Code":0,"Name":"back_log","OldValue":"210","CurrentValue":"2"}]}],"JobId":15969,"StartTime":"2017-06-27 16:33:40","Progress":100,"Message":"设置参数成功","EndTime":"2017-06-27 16:34:25","Type":5}),
        ),
        (
            "915970",
            json!({"Status":3,"Code":3,"Data":[{"InstanceId":"","Database":"test","CostTime":0,"FileSize":"12","FileName":"skyler.sql"}],"JobId":15970,"StartTime":"2017-06-27 16:46:52","Progress":5,"Message":"x","EndTime":"2017-06-27 16:47:23","Type":3}),
        ),
        (
            "951695",
            json!({"Status":2,"Code":0,"Data":[{"Status":2,"Code":0,"InstanceId":"cdb-ewgjla5w","Databases":[{"DatabaseName":"test","NewDatabaseName":"test_bak"}],"Progress":100,"Message":"回档成功","RollbackTime":"2017-04-06 16:00:00","DatabaseTables":[{"Tables":[{"TableName":"monitor_alarm","NewTableName":"monitor_alarm_bak_1"}],"Database":"monitor_master"}]}],"JobId":51695,"StartTime":"2017-04-06 20:42:59","Progress":100,"Message":"所有实例回档成功","EndTime":"2017-04-06 20:45:03","Type":10}),
        ),
    ];
    for (id, seed) in seed_items {
        let item = render_final(t, id, tencent::seed_item);
        assert_eq!(shape(&item), shape(&seed), "job {id}: {item}");
        assert_eq!(item["Type"], seed["Type"], "job {id}");
        assert_eq!(item["Status"], seed["Status"], "job {id}");
        assert_eq!(item["Progress"], seed["Progress"], "job {id}");
    }
    // The real-shape built-ins render in the seed shape too.
    let item = render_at(
        t,
        "15967",
        Duration::from_secs(999),
        Some(Shape::Seed),
        tencent::seed_item,
    );
    assert_eq!(item["Data"][0]["Before"]["SlaveZoneSecond"], "");
    assert_eq!(item["Data"][0]["After"]["Memory"], 2000);
}

#[test]
fn describe_tasks_real_shape() {
    let real = json!({"Code":0,"Message":"","JobId":1,"Progress":100,"TaskStatus":"SUCCEED","TaskType":"UPGRADE MASTER","StartTime":"s","EndTime":"s","InstanceIds":["cdb-1"],"AsyncRequestId":"a","TaskAttachInfo":[{"AttachKey":"FastUpgradeStatus","AttachValue":"1"}]});
    let t = ProviderKind::Tencent;
    let item = render_final(t, "15974", tencent::real_item);
    assert_eq!(shape(&item), shape(&real), "{item}");
    assert_eq!(item["TaskAttachInfo"][0]["AttachValue"], "1");
    let failed = render_final(t, "15971", tencent::real_item);
    assert_eq!(failed["TaskStatus"], "FAILED");
    assert_eq!(failed["TaskType"], "IMPORT DATA");
    assert_eq!(failed["Code"], 3);
    let running = render_at(
        t,
        "15967",
        Duration::from_secs(25),
        None,
        tencent::real_item,
    );
    assert_eq!(running["TaskStatus"], "RUNNING");
    assert_eq!(running["Progress"], 50);
    assert_eq!(running["EndTime"], TENCENT_ZERO_TIME);
    assert_eq!(running["StartTime"], "2017-06-27 15:05:33");
    let killed = render_final(t, "15980", tencent::real_item);
    assert_eq!(killed["TaskStatus"], "KILLED");
    let asynchronous = render_final(t, "9e8f2c3a-5d7b-4f61-9c2e-1a2b3c4d5e6f", |j| {
        tencent::async_request_info(j, "rid")
    });
    assert_eq!(
        asynchronous,
        json!({"Response": {"Status": "SUCCESS", "Info": "success", "RequestId": "rid"}})
    );
}

#[test]
fn api2_matches_the_seed_examples() {
    let l = ProviderKind::TencentLegacy;
    let task = render_final(l, "560", tencent_legacy::task_info);
    assert_eq!(
        task,
        json!({"code":"0","message":"","codeDesc":"Success","data":{"status":"0","functionName":"qcloud_apply","uInstanceIds":["cdb-d1rqa7bj"]}})
    );
    assert_eq!(
        render_final(l, "561", tencent_legacy::task_info)["data"]["status"],
        "1"
    );
    let upgrade_seed = json!({"code":0,"message":"","codeDesc":"Success","data":{"code":"0","message":"success","jobId":"47258","type":"11","status":"2","progress":"100","startTime":"2017-02-13 15:14:31","endTime":"2017-02-13 15:18:32","detail":[{"cdbInstanceId":"cdb-pdn63pw5","dealName":"","before":{"memory":1000,"volume":35,"engineVersion":"5.5","protectMode":"","deployMode":"","masterZone":100003,"slaveZoneFirst":100003,"slaveZoneSecond":"","cdbType":""},"after":{"memory":1000,"volume":40,"engineVersion":"5.5","protectMode":"","deployMode":"","masterZone":100003,"slaveZoneFirst":100003,"slaveZoneSecond":100003,"cdbType":""}}]}});
    let upgrade = render_final(l, "47258", tencent_legacy::upgrade_job_info);
    assert_eq!(shape(&upgrade), shape(&upgrade_seed), "{upgrade}");
    assert_eq!(upgrade["data"]["detail"], upgrade_seed["data"]["detail"]);
    let running = render_at(
        l,
        "47258",
        Duration::from_secs(25),
        None,
        tencent_legacy::upgrade_job_info,
    );
    assert_eq!(running["data"]["status"], "0");
    assert_eq!(running["data"]["progress"], "50");
    let rollback_seed = json!({"code":"0","message":"","data":{"jobInfo":{"jobId":"12782","type":"10","status":"2","progress":"100","code":"0","message":"所有实例回档成功","starttime":"2016-05-11 17:58:29","endtime":"2016-05-11 18:00:02","detail":[{"instanceid":"2629265e-11ec-11e6-abea-0819a6d0fc09","instancename":"cdb154047","strategy":"full","rollbacktime":"2016-05-10 17:57:56","type":"nopriv","operator":"909619400","dbs":[{"dbname":"test","newname":"test_bak"}]}]},"taskDetail":[{"taskInfo":{"instanceid":"2629265e-11ec-11e6-abea-0819a6d0fc09","instancename":"cdb154047","strategy":"full","rollbacktime":"2016-05-10 17:57:56","type":"nopriv","operator":"909619400","dbs":[{"dbname":"test","newname":"test_bak"}]},"taskid":"105","workid":"311396","status":"2","progress":"100","code":"0","message":"回档成功","starttime":"2016-05-11 17:59:01","endtime":"2016-05-11 18:00:02"}]}});
    let rollback = render_final(l, "12782", tencent_legacy::rollback_job_task);
    assert_eq!(shape(&rollback), shape(&rollback_seed), "{rollback}");
    assert_eq!(
        rollback["data"]["jobInfo"]["detail"],
        rollback_seed["data"]["jobInfo"]["detail"]
    );
}

#[test]
fn huawei_matches_the_seed_example() {
    let h = ProviderKind::Huawei;
    let seed = json!({ "job": { "id": "31b8ae23-c687-4d80-b7b4-42a66c9bb886", "name": "RestartGaussDBInstance", "status": "Completed", "created": "2018-08-06T10:41:14+0000", "ended": "2018-08-06T16:41:14+0000", "process": "", "instance": { "id": "a48e43ff268f4c0e879652d65e63d0fbin01", "name": "DO-NOT-TOUCH-mgr2-gaussdb" }, "entities": {} } });
    let job = render_final(h, "31b8ae23-c687-4d80-b7b4-42a66c9bb886", huawei::job);
    assert_eq!(shape(&job), shape(&seed), "{job}");
    assert_eq!(job["job"]["instance"], seed["job"]["instance"]);
    assert_eq!(job["job"]["created"], "2017-06-27T15:05:33+0800");
    let running = render_at(
        h,
        "7a1d4c6e-2b3f-4a5e-9c8d-1e2f3a4b5c6d",
        Duration::from_secs(12),
        None,
        huawei::job,
    );
    assert_eq!(running["job"]["status"], "Running");
    assert_eq!(running["job"]["process"], "60%");
    assert!(running["job"].get("ended").is_none());
    let failed = render_final(h, "3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8b0c1e", huawei::job);
    assert_eq!(failed["job"]["status"], "Failed");
    assert_eq!(
        failed["job"]["fail_reason"],
        "resize failed: insufficient resources"
    );
    assert_eq!(failed["job"]["entities"]["volume"]["new_size"], 100);
    let pending = render_at(
        h,
        "5b7d9f1a-3c5e-4a7b-9d1f-3a5c7e9b1d3f",
        Duration::from_secs(1),
        None,
        huawei::job,
    );
    assert_eq!(pending["job"]["status"], "Pending");
    assert_eq!(
        huawei::status("rds", crate::scenario::Phase::Initial),
        "Running"
    );
}
