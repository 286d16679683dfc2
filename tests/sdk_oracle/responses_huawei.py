"""Huawei Cloud task-center jobs: responses from huaweicloudsdkrds / huaweicloudsdkgaussdb.

`rds` is RDS `ListJobInfo` (`ListJobInfoResponse`, `GET /v3/{project_id}/jobs`), `taurusdb`
is TaurusDB `ShowGaussMySqlJobInfo` (`ShowGaussMySqlJobInfoResponse`, same path on the
TaurusDB host). `taurusdb-legacy` (`/mysql/v3/{project_id}/jobs`) has no operation in the
current SDK; it answers with the same job document, so it is built from the TaurusDB model.

The body is walked from the model's `openapi_types` / `attribute_map` (every member, or the
required ones: those the generated `__init__` assigns unconditionally; `GetJobInfoDetail`
requires `id`, `name`, `status`, `created` and `instance`), and read back with the SDK
client's own `deserialize` (what `sync_response_handler` does with an HTTP answer).

Times are `yyyy-mm-ddThh:mm:ss+0800`: the models document the `Z` of their format as the
zone offset ("Z指时区偏移量，例如北京时间偏移显示为+0800").
"""

import inspect
import json
import re
import warnings

import huaweicloudsdkgaussdb.v3 as gaussdb
import huaweicloudsdkrds.v3 as rds
from huaweicloudsdkgaussdb.v3.gaussdb_client import GaussDBClient
from huaweicloudsdkrds.v3.rds_client import RdsClient

from responses_common import CHINA, END, START, case, sweep, utc

PROVIDER = "huawei"
JOB_ID = "2b7b1b1e-4c3a-4a0e-9a9e-6f1d2c3b4a50"
INSTANCE_ID = "a48e43ff268f4c0e879652d65e63d0fbin01"

# api -> (model package, client class, response class, job class).
APIS = {
    "rds": (rds, RdsClient, "ListJobInfoResponse", "GetJobInfoResponseBodyJob"),
    "taurusdb": (gaussdb, GaussDBClient, "ShowGaussMySqlJobInfoResponse", "GetJobInfoDetail"),
    "taurusdb-legacy": (
        gaussdb, GaussDBClient, "ShowGaussMySqlJobInfoResponse", "GetJobInfoDetail"
    ),
}


def required(cls):
    """Members the generated `__init__` assigns unconditionally (the spec's required ones)."""
    src = inspect.getsource(cls.__init__)
    return set(re.findall(r"^        self\.(\w+) = \1$", src, re.M))


def documented_statuses(cls):
    doc = cls.__init__.__doc__ or ""
    line = re.search(r":param status:([^\n]+)", doc).group(1)
    return re.findall(r"值为“(\w+)”", line)


def offset_time(dt):
    return dt.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M:%S%z")


JOB_VALUES = {
    "id": JOB_ID,
    "name": "RestartGaussDBInstance",
    "status": "Running",
    "created": offset_time(START),
    "ended": offset_time(END),
    "process": "60%",
    "fail_reason": "none so far",
}


def fill(package, cls_name, required_only, values):
    """A JSON object for model `cls_name`: its wire names (`attribute_map`) and types."""
    cls = getattr(package, cls_name)
    keep = required(cls)
    out = {}
    for attr, kind in cls.openapi_types.items():
        if required_only and attr not in keep:
            continue
        wire = cls.attribute_map[attr]
        if attr in values:
            out[wire] = values[attr]
        elif kind == "str":
            out[wire] = f"{attr}-value"
        elif kind == "int":
            out[wire] = 3
        elif kind == "bool":
            out[wire] = True
        elif kind == "list[str]":
            out[wire] = [f"{attr}-1"]
        elif kind.startswith("list["):
            out[wire] = [fill(package, kind[5:-1], required_only, {})]
        elif hasattr(package, kind):
            sub = {"id": INSTANCE_ID, "name": "db-1"} if attr == "instance" else {}
            out[wire] = fill(package, kind, required_only, sub)
        else:
            raise AssertionError(f"{cls_name}.{attr}: unhandled type {kind}")
    return out


class _Answer:
    """The part of a `requests` response the SDK's `deserialize` reads."""

    def __init__(self, body):
        self.text = body
        self.content = body.encode()
        self.headers = {"Content-Type": "application/json"}
        self.status_code = 200


def sdk_read(client_class, response_type, body):
    client = client_class()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return client.deserialize(_Answer(body), response_type, None)


def build(api, required_only, status=None):
    package, client_class, response_type, job_class = APIS[api]
    values = dict(JOB_VALUES, status=status or JOB_VALUES["status"])
    if required_only:
        values = {k: v for k, v in values.items() if k in ("id", "name", "status", "created")}
    job = fill(package, job_class, required_only, values)
    body = json.dumps({"job": job})
    read = sdk_read(client_class, response_type, body).job
    assert read is not None and read.id == JOB_ID, read
    instance = read.instance
    expected = {
        "status": read.status,
        "progress": read.process or None,
        "start": utc(read.created),
        "end": utc(read.ended),
        "instance_ids": [instance.id] if instance is not None and instance.id else [],
        "detail": {"task_type": read.name} if read.name else {},
    }
    return body, "application/json", expected


def cases():
    out = []
    for api, (package, _, _, job_class) in APIS.items():
        for variant, required_only in (("full", False), ("required", True)):
            body, content_type, expected = build(api, required_only)
            out.append(case(PROVIDER, api, variant, JOB_ID, body, content_type, expected))
        values = documented_statuses(getattr(package, job_class))
        assert values, f"no documented statuses for {job_class}"
        out += sweep(PROVIDER, api, JOB_ID, values, lambda v, api=api: build(api, False, v))
    return out
