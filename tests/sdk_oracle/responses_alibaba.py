"""Alibaba Cloud `DescribeHistoryTasks`: responses from the rds20140815 / polardb20170801 models.

A `DescribeHistoryTasksResponseBody` is filled through the model's `from_map` (every member
its `__init__` types, values from the member comments where they list any), serialized with
`to_map`, and read back with a fresh model's `from_map`, what the SDK's client does with the
JSON body (`DescribeHistoryTasksResponse.from_map({"body": ...})`). `validate()` runs on both.

Required-only: the models mark nothing required (`validate()` checks no member), so the
minimal body is `RequestId` plus one item with the `TaskId` the operator looks for.
Times are `yyyy-MM-ddTHH:mm:ssZ` in UTC (the models' member comments).
"""

import inspect
import json
import re
import typing

from alibabacloud_polardb20170801 import models as polardb
from alibabacloud_rds20140815 import models as rds

from responses_common import END, START, case, sweep, utc

PROVIDER = "alibaba"
JOB_ID = "t-83br18hloy3faf1234"
REQUEST_ID = "6C3B2F6E-1D2A-4B5C-8D9E-0F1A2B3C4D5E"
APIS = {"rds": rds, "polardb": polardb}


def init_members(cls):
    """(python name, annotation text) of each `__init__` parameter."""
    sig = inspect.signature(cls.__init__)
    return [(n, str(p.annotation)) for n, p in sig.parameters.items() if n != "self"]


def documented_statuses(cls):
    """The values listed in the comment above `self.status = status`."""
    src = inspect.getsource(cls.__init__)
    block = re.search(r"((?:\n\s*#[^\n]*)+)\n\s*self\.status = status", src).group(1)
    return re.findall(r"#\s*[-*]\s*\**(\w+)\**\s*:", block)


def wire_names(cls):
    """python name -> wire name, from `to_map` of an instance with every member set."""
    names = {}
    for line in inspect.getsource(cls.to_map).splitlines():
        m = re.search(r"result\['(\w+)'\] = self\.(\w+)", line)
        if m:
            names[m.group(2)] = m.group(1)
    return names


def item(package, status, required_only):
    cls = package.DescribeHistoryTasksResponseBodyItems
    wire = wire_names(cls)
    values = {
        "task_id": JOB_ID,
        "task_type": "MinorVersionUpgrade",
        "status": status,
        "progress": 37.5,
        "remain_time": 420,
        "start_time": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": END.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "current_step_name": "exec_task",
        "instance_id": "rm-uf6wjk5xxxxxxx",
        "instance_name": "orders-db",
        "db_type": "MySQL",
        "task_detail": json.dumps({"targetMinorVersion": "rds_20240731"}),
        "action_info": json.dumps({"steps": []}),
        "caller_source": "User",
    }
    out = {}
    for name, annotation in init_members(cls):
        if required_only and name != "task_id":
            continue
        if name in values:
            value = values[name]
        elif "int" in annotation:
            value = 3
        elif "float" in annotation:
            value = 1.5
        else:
            value = f"{name}-value"
        out[wire[name]] = value
    return out


def build(api, required_only, status="Running"):
    package = APIS[api]
    body_cls = package.DescribeHistoryTasksResponseBody
    page = {"RequestId": REQUEST_ID, "Items": [item(package, status, required_only)]}
    if not required_only:
        # `TotalCount` is an int for RDS and a string for PolarDB: the model's own type.
        total = typing.get_type_hints(body_cls.__init__).get("total_count")
        page.update(PageNumber=1, PageSize=30, TotalCount=total(1) if total else 1)
    model = body_cls().from_map(page)
    model.validate()
    body = json.dumps(model.to_map())
    read = body_cls().from_map(json.loads(body))
    read.validate()
    task = read.items[0]
    assert task.task_id == JOB_ID
    detail = {}
    if task.remain_time is not None:
        detail["remaining_seconds"] = task.remain_time
    if task.task_type is not None:
        detail["task_type"] = task.task_type
    expected = {
        "status": task.status,
        "progress": task.progress,
        "start": utc(task.start_time),
        "end": utc(task.end_time),
        "instance_ids": [task.instance_id] if task.instance_id else [],
        "detail": detail,
    }
    return body, "application/json", expected


def cases():
    out = []
    for api, package in APIS.items():
        for variant, required_only in (("full", False), ("required", True)):
            body, content_type, expected = build(api, required_only)
            out.append(case(PROVIDER, api, variant, JOB_ID, body, content_type, expected))
        values = documented_statuses(package.DescribeHistoryTasksResponseBodyItems)
        assert values, f"no documented statuses for {api}"
        out += sweep(PROVIDER, api, JOB_ID, values, lambda v, api=api: build(api, False, v))
    return out
