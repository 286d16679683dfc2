"""Google Cloud SQL and Azure: responses from the discovery document and the ARM poller.

Google (`cloudsql`): the `Operation` schema of the Cloud SQL Admin v1 discovery document
bundled with google-api-python-client, walked through its `$ref`s (every property; enums
take a documented value), read back with the client library's own `JsonModel.deserialize`.
The document marks no property required; the minimal answer is `kind` (documented as always
`sql#operation`) and `name`, the operation asked for. Times are RFC 3339 UTC.

Azure (`postgresql-flexible`, `mysql-flexible`): the Azure-AsyncOperation status resource
(ARM common-types `OperationStatusResult`: `status` required; `id`, `name`, `resourceId`,
`percentComplete`, `startTime`, `endTime`, `operations`, `error` optional), read by
azure-mgmt-core's `AzureAsyncOperationPolling.get_status` (which raises when `status` is
absent, so the minimal body is `{"status": ...}`) and classified with azure-core's own
`_finished` / `_failed`. The poller reads nothing else; the other members are read from the
JSON as `_as_json` decodes it.
"""

import json
import os

import googleapiclient
from azure.core.polling import base_polling
from azure.mgmt.core.polling.arm_polling import AzureAsyncOperationPolling
from googleapiclient.model import JsonModel

from responses_common import END, OTHER, START, case, sweep, utc

GCP_JOB = "8d2f5a1c-3b4e-4f60-9a7b-1c2d00000042"
AZURE_JOB = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
SQLADMIN = json.load(
    open(
        os.path.join(
            os.path.dirname(googleapiclient.__file__),
            "discovery_cache/documents/sqladmin.v1.json",
        )
    )
)
SCHEMAS = SQLADMIN["schemas"]

GCP_VALUES = {
    "kind": "sql#operation",
    "name": GCP_JOB,
    "operationType": "UPDATE",
    "insertTime": OTHER,
    "startTime": START,
    "endTime": END,
    "targetId": "orders-db",
    "targetProject": "my-project",
    "user": "ops@example.com",
}


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def fill_schema(schema, depth=0, name=None):
    """A value for a discovery schema: every property, `$ref`s followed to depth 4."""
    if "$ref" in schema:
        if depth > 4:
            return {}
        return fill_schema(SCHEMAS[schema["$ref"]], depth + 1)
    kind = schema.get("type")
    if kind == "object":
        if "properties" in schema:
            return {
                k: fill_schema(v, depth, k) for k, v in schema["properties"].items()
            }
        return {"key": fill_schema(schema.get("additionalProperties", {"type": "string"}), depth)}
    if kind == "array":
        return [fill_schema(schema["items"], depth)]
    if kind == "boolean":
        return True
    if kind == "integer":
        return 3
    if kind == "number":
        return 1.5
    if schema.get("format") == "google-datetime":
        return rfc3339(OTHER)
    if schema.get("format") in ("int64", "uint64"):
        return "12345"
    if "enum" in schema:
        return schema["enum"][-1]
    return f"{name or 'value'}-text"


def gcp(required_only, status="RUNNING"):
    op = SCHEMAS["Operation"]
    if required_only:
        body = {"kind": "sql#operation", "name": GCP_JOB}
    else:
        body = fill_schema(op)
        for key, value in GCP_VALUES.items():
            body[key] = rfc3339(value) if hasattr(value, "strftime") else value
        body["status"] = status
        assert status in op["properties"]["status"]["enum"], status
    text = json.dumps(body)
    read = JsonModel().deserialize(text)
    expected = {
        "status": read.get("status"),
        "start": utc(read.get("startTime")),
        "end": utc(read.get("endTime")),
        "instance_ids": [read["targetId"]] if read.get("targetId") else [],
        "detail": {"task_type": read["operationType"]} if "operationType" in read else {},
    }
    return text, "application/json", expected


class _Response:
    """The part of an azure-core HTTP response the poller reads."""

    def __init__(self, body):
        self.content = body.encode()
        self.headers = {"content-type": "application/json"}
        self.status_code = 200

    def text(self, encoding=None):
        return self.content.decode()


class _PipelineResponse:
    def __init__(self, body):
        self.http_response = _Response(body)


def azure(api, required_only, status="InProgress"):
    sub = "/subscriptions/00000000-0000-0000-0000-000000000000"
    namespace = {
        "postgresql-flexible": "Microsoft.DBforPostgreSQL",
        "mysql-flexible": "Microsoft.DBforMySQL",
    }[api]
    op_id = f"{sub}/providers/{namespace}/locations/westeurope/azureAsyncOperation/{AZURE_JOB}"
    if required_only:
        body = {"status": status}
    else:
        error = {"code": "InternalServerError", "message": "step 2 of 3 is retrying",
                 "target": "server-1", "details": [{"code": "Retrying", "message": "retrying"}],
                 "additionalInfo": [{"type": "PolicyViolation", "info": {"k": "v"}}]}
        body = {
            "id": op_id,
            "resourceId": f"{sub}/resourceGroups/rg/providers/{namespace}/flexibleServers/server-1",
            "name": AZURE_JOB,
            "status": status,
            "percentComplete": 62.5,
            "startTime": rfc3339(START).replace("Z", "0000Z"),
            "endTime": rfc3339(END).replace("Z", "0000Z"),
            "operations": [{"id": op_id + "-sub", "name": "sub", "status": "Succeeded"}],
            "error": error,
        }
    text = json.dumps(body)
    sdk_status = AzureAsyncOperationPolling().get_status(_PipelineResponse(text))
    read = base_polling._as_json(_Response(text))
    detail = {
        "sdk_finished": base_polling._finished(sdk_status),
        "sdk_failed": base_polling._failed(sdk_status),
    }
    if "name" in read:
        detail["operation_name"] = read["name"]
    if "error" in read:
        detail["error_code"] = read["error"]["code"]
    expected = {
        "status": sdk_status,
        "progress": read.get("percentComplete"),
        "start": utc(read.get("startTime")),
        "end": utc(read.get("endTime")),
        "detail": detail,
    }
    return text, "application/json", expected


AZURE_STATUSES = ["InProgress", "Succeeded", "Failed", "Canceled"]


def cases():
    out = []
    for variant, required_only in (("full", False), ("required", True)):
        body, content_type, expected = gcp(required_only)
        out.append(case("gcp", "cloudsql", variant, GCP_JOB, body, content_type, expected))
    values = SCHEMAS["Operation"]["properties"]["status"]["enum"]
    out += sweep("gcp", "cloudsql", GCP_JOB, values, lambda v: gcp(False, v))
    for api in ("postgresql-flexible", "mysql-flexible"):
        for variant, required_only in (("full", False), ("required", True)):
            body, content_type, expected = azure(api, required_only)
            out.append(case("azure", api, variant, AZURE_JOB, body, content_type, expected))
        # The poller's terminal values (azure-core's `_FINISHED`) and its running default.
        assert set(s.lower() for s in AZURE_STATUSES[1:]) == set(base_polling._FINISHED)
        out += sweep(
            "azure", api, AZURE_JOB, AZURE_STATUSES, lambda v, api=api: azure(api, False, v)
        )
    return out
