"""Tencent Cloud API 3.0 (cdb 2017-03-20): responses from tencentcloud-sdk-python-cdb's models.

A response object is filled through the model's own `_deserialize` (every member the
model's docstring types, or only what every API 3.0 answer carries), serialized as the API
3.0 envelope `{"Response": {...}}`, and read back the way the SDK's client does: the
`Response` object handed to a fresh model's `_deserialize`. The SDK warns about members the
model does not know; that warning is an error here, so every body holds model members only.

Required-only: the models mark nothing required (members that may be null say so in their
docstring; none of these do), so the minimal answer is `RequestId` (always returned) plus,
for DescribeTasks, one item with the `JobId` the operator looks for.

Times are zone-less `YYYY-MM-DD HH:MM:SS`; Tencent documents them as Beijing time (UTC+8).
Legacy API 2.0 (`tencent-legacy`) has no SDK and is not covered here.
"""

import json
import re
import warnings

from tencentcloud.cdb.v20170320 import models

from responses_common import CHINA, END, START, case, sweep, utc

REQUEST_ID = "6f2b1c3e-8a4d-4e5f-9a0b-1c2d3e4f5a6b"
JOB_ID = 4711
ASYNC_ID = "20250304-7f3c-4a2b-9c1d-0e5f6a7b8c9d"


PROVIDER = "tencent"


def member_types(cls):
    """Members and their docstring types (`:type Name: T`) of a model class."""
    doc = cls.__init__.__doc__ or ""
    return dict(re.findall(r":type (\w+): ([^\n]+)", doc))


def documented_values(cls, member):
    """The quoted status values a member's docstring lists, or the `NAME：` items of its
    HTML list."""
    doc = getattr(cls, member).__doc__ or ""
    values = re.findall(r'^"([A-Z_ ]+)"', doc, re.M) or re.findall(r"<li>([A-Z_]+)：", doc)
    return values


def beijing(dt):
    return dt.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def fill(cls, overrides):
    """Every member of `cls`, type-correct, with `overrides` by member name."""
    out = {}
    for member, kind in member_types(cls).items():
        if member == "RequestId":
            out[member] = REQUEST_ID
        elif member in overrides:
            out[member] = overrides[member]
        elif kind == "int":
            out[member] = 3
        elif kind == "str":
            out[member] = f"{member.lower()}-value"
        elif kind == "list of str":
            out[member] = [f"{member.lower()}-1"]
        elif kind.startswith("list of "):
            out[member] = [fill(getattr(models, kind[len("list of "):]), {})]
        else:
            raise AssertionError(f"{cls.__name__}.{member}: untyped {kind}")
    return out


def sdk_read(cls, body):
    """What the SDK reads: the `Response` object through `_deserialize`, warnings fatal."""
    response = json.loads(body)["Response"]
    model = cls()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model._deserialize(response)
    return model


def tasks(required_only, status="RUNNING"):
    if required_only:
        response = {"Items": [{"JobId": JOB_ID}], "RequestId": REQUEST_ID}
    else:
        item = fill(
            models.TaskDetail,
            {
                "Code": 0,
                "Message": "upgrade in progress",
                "JobId": JOB_ID,
                "Progress": 45,
                "TaskStatus": status,
                "TaskType": "UPGRADE MASTER",
                "StartTime": beijing(START),
                "EndTime": beijing(END),
                "InstanceIds": ["cdb-3kwa9wv0"],
                "AsyncRequestId": ASYNC_ID,
                "TaskAttachInfo": [{"AttachKey": "FastUpgradeStatus", "AttachValue": "1"}],
            },
        )
        response = fill(models.DescribeTasksResponse, {"TotalCount": 1, "Items": [item]})
    body = json.dumps({"Response": response})
    read = sdk_read(models.DescribeTasksResponse, body)
    task = read.Items[0]
    assert read.RequestId == REQUEST_ID
    expected = {
        "status": task.TaskStatus,
        "progress": task.Progress,
        "start": utc(task.StartTime, CHINA),
        "end": utc(task.EndTime, CHINA),
        "job_id": str(task.JobId),
        "instance_ids": task.InstanceIds or [],
        "detail": {"task_type": task.TaskType} if task.TaskType else {},
    }
    return body, "application/json", expected


def async_request(required_only, status="RUNNING"):
    if required_only:
        response = {"RequestId": REQUEST_ID}
    else:
        response = fill(
            models.DescribeAsyncRequestInfoResponse,
            {"Status": status, "Info": "the request is being processed"},
        )
    body = json.dumps({"Response": response})
    read = sdk_read(models.DescribeAsyncRequestInfoResponse, body)
    expected = {
        "status": read.Status,
        "job_id": ASYNC_ID,
        "detail": {"info": read.Info} if read.Info else {},
    }
    return body, "application/json", expected


def cases():
    out = []
    for api, build, job_id, values in (
        ("DescribeTasks", tasks, str(JOB_ID), documented_values(models.TaskDetail, "TaskStatus")),
        (
            "DescribeAsyncRequestInfo",
            async_request,
            ASYNC_ID,
            documented_values(models.DescribeAsyncRequestInfoResponse, "Status"),
        ),
    ):
        assert values, f"no documented statuses for {api}"
        for variant, required_only in (("full", False), ("required", True)):
            body, content_type, expected = build(required_only)
            out.append(case(PROVIDER, api, variant, job_id, body, content_type, expected))
        out += sweep(PROVIDER, api, job_id, values, lambda v, build=build: build(False, v))
    return out
