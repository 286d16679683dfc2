"""The checks of the provider APIs' requests (tests/sdk_oracle/verify_requests.py).

Each takes one captured request (`request_models.Request`) and raises `Mismatch` where it
leaves the SDK's model of the operation, or where the SDK builds the same call otherwise.
"""

import json
import re
from urllib.parse import parse_qsl, unquote, urlsplit

import request_models as sdk
from request_models import Mismatch, carries, compare, expect, near


# --- AWS RDS and STS (botocore, query protocol) --------------------------------------------

# The SDK call that tracks each API, and the member naming the job (RDS API reference).
AWS_CALLS = {
    "export-task": ("DescribeExportTasks", "ExportTaskIdentifier"),
    "db-snapshot": ("DescribeDBSnapshots", "DBSnapshotIdentifier"),
    "cluster-snapshot": ("DescribeDBClusterSnapshots", "DBClusterSnapshotIdentifier"),
    "blue-green": ("DescribeBlueGreenDeployments", "BlueGreenDeploymentIdentifier"),
    "blue-green-switchover": ("DescribeBlueGreenDeployments", "BlueGreenDeploymentIdentifier"),
}


def check_aws_query(req, service, action):
    model = sdk.aws_model(service)
    params = req.form() if req.body else req.query_params()
    if req.body and req.query:
        raise Mismatch("parameters in both the query and the body")
    expect("Action", params.pop("Action", None), action)
    expect("Version", params.pop("Version", None), model.api_version)
    op = model.operation_model(action)
    expect("method", req.method, op.http["method"])
    expect("path", req.path, op.http["requestUri"])
    typed = sdk.aws_typed(op.input_shape, params)
    _, built = sdk.aws_build(service, action, typed)
    body = {k: str(v) for k, v in built["body"].items()}
    compare("botocore's body for the same parameters", dict(params, Action=action,
            Version=model.api_version), body)
    return params


# The identifier filter of each batched describe (RDS API reference); botocore's model
# documents each one in the operation's `Filters` member.
AWS_BATCH_FILTERS = {
    "db-snapshot": "db-snapshot-id",
    "cluster-snapshot": "db-cluster-snapshot-id",
    "export-task": "export-task-identifier",
    "blue-green": "blue-green-deployment-identifier",
}


def check_aws(req):
    action, member = AWS_CALLS[req.raw["api"]]
    params = check_aws_query(req, "rds", action)
    if req.raw.get("batched"):
        check_aws_batch(req, action, params)
        return
    carries(member, params.get(member), req.inputs["job_id"])


def check_aws_batch(req, action, params):
    """One identifier filter naming every job, and nothing else that narrows the answer."""
    name = AWS_BATCH_FILTERS[req.raw["api"]]
    filters = sdk.aws_model("rds").operation_model(action).input_shape.members["Filters"]
    if f"<code>{name}</code>" not in filters.documentation:
        raise Mismatch(f"{action}: botocore does not document the filter {name!r}")
    expect("Filters.Filter.1.Name", params.get("Filters.Filter.1.Name"), name)
    values = sorted(v for k, v in params.items() if k.startswith("Filters.Filter.1.Values.Value."))
    expect("the filter's values", values, sorted(req.inputs["job_ids"]))
    # Paging (`MaxRecords`, `Marker`) is the one paging loop's; anything else would narrow
    # the answer to fewer jobs than the filter names.
    extra = sorted(k for k in params
                   if not k.startswith("Filters.Filter.1.") and k not in ("MaxRecords", "Marker"))
    if extra:
        raise Mismatch(f"{action}: parameters besides the filter narrow the answer: {extra}")


# --- Tencent Cloud API 3.0 (request model classes) -----------------------------------------


def check_tc3(req, client_cls, models):
    action = req.header("x-tc-action")
    expect("X-TC-Version", req.header("x-tc-version"), client_cls._apiVersion)
    expect("method", req.method, "POST")
    expect("path", req.path, "/")
    if not callable(getattr(client_cls, action or "", None)):
        raise Mismatch(f"{action!r} is not an action of {client_cls.__name__}")
    model_cls = getattr(models, f"{action}Request")
    members = sdk.tencent_members(model_cls)
    body = req.json()
    for name, value in body.items():
        if name not in members:
            raise Mismatch(f"{name} is not a member of {model_cls.__name__}{near(name, members)}")
        if not sdk.tencent_type_ok(value, members[name]):
            raise Mismatch(f"{name}={value!r} is not of type {members[name]!r}")
    model = model_cls()
    model._deserialize(body)
    built = sdk.tencent_build(client_cls, req.host, req.header("x-tc-region"), action, model)
    compare("the SDK client's body for the same model", body, json.loads(built.data))
    return action, body


def check_tencent(req):
    from tencentcloud.cdb.v20170320 import cdb_client, models

    action, body = check_tc3(req, cdb_client.CdbClient, models)
    inputs = req.inputs
    # The job's parameter (the SDK marks none required): DescribeTasks is filtered by the
    # instance only and pages; DescribeAsyncRequestInfo names the request.
    if req.raw["api"] == "DescribeAsyncRequestInfo":
        expect("action", action, "DescribeAsyncRequestInfo")
        carries("AsyncRequestId", body.get("AsyncRequestId"), inputs["job_id"])
    else:
        expect("action", action, "DescribeTasks")
        carries("InstanceId", body.get("InstanceId"), inputs.get("instance_id"))


# --- Tencent CDB API 2.0: no SDK model; the common parameters as the SDK writes them -------


def check_tencent_legacy(req):
    from unittest import mock

    from tencentcloud.cdb.v20170320.cdb_client import CdbClient
    from tencentcloud.common import credential
    from tencentcloud.common.http.request import RequestInternal
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    expect("method", req.method, "GET")
    params = req.query_params()
    expect("Action", params.get("Action"), req.raw["api"])
    token = params.get("Token")
    # The SDK's own HmacSHA256 GET request (its API 2.0-style signing path) for the same
    # call: the common parameters' names and casing.
    profile = ClientProfile(signMethod=params.get("SignatureMethod", "HmacSHA1"),
                            httpProfile=HttpProfile(endpoint=req.host, reqMethod="GET"))
    client = CdbClient(credential.Credential(params.get("SecretId"), "key", token),
                       req.inputs["region"], profile)
    built = RequestInternal(req.host, "GET", req.path, header={})
    with mock.patch("tencentcloud.common.abstract_client.time.time", return_value=0):
        client._build_req_inter(req.raw["api"], {"jobId": req.inputs["job_id"]}, built)
    sdk_params = dict(parse_qsl(urlsplit(built.uri).query or built.data or "",
                                keep_blank_values=True))
    # API 3.0 only: the API version, the SDK's own tag and the error language.
    common = set(sdk_params) - {"Version", "RequestClient", "Language", "jobId"}
    ours = set(params) - {"jobId"}
    for name in sorted(ours - common):
        raise Mismatch(f"common parameter {name!r} is not one the SDK sends{near(name, common)}")
    for name in sorted(common - ours):
        raise Mismatch(f"the SDK sends common parameter {name!r}, the client does not")
    for name in ("Timestamp", "Nonce"):
        if not params[name].isdigit():
            raise Mismatch(f"{name}={params[name]!r} is not an integer")
    if params["SignatureMethod"] not in ("HmacSHA1", "HmacSHA256"):
        raise Mismatch(f"SignatureMethod {params['SignatureMethod']!r}")
    carries("Region", params["Region"], req.inputs["region"])
    # `jobId` is API 2.0's documented name; no SDK models API 2.0, so only its value is checked.
    carries("jobId", params.get("jobId"), req.inputs["job_id"])


# --- Huawei Cloud RDS and TaurusDB (request classes, _http_info) ---------------------------

HUAWEI_AUTH_HEADERS = {"x-project-id", "x-sdk-date", "authorization", "x-auth-token"}


def huawei_op(api):
    if api == "rds":
        from huaweicloudsdkrds.v3 import RdsClient, ListJobInfoRequest

        return RdsClient._list_job_info_http_info, ListJobInfoRequest, ""
    from huaweicloudsdkgaussdb.v3 import GaussDBClient, ShowGaussMySqlJobInfoRequest

    # taurusdb-legacy: the historical `/mysql/v3` prefix of the same operation, which the
    # SDK no longer models; everything after the prefix is checked against TaurusDB's.
    prefix = "/mysql" if api == "taurusdb-legacy" else ""
    return GaussDBClient._show_gauss_my_sql_job_info_http_info, ShowGaussMySqlJobInfoRequest, prefix


def check_huawei(req):
    http_info, request_cls, prefix = huawei_op(req.raw["api"])
    wire = {v: k for k, v in request_cls.attribute_map.items()}
    full = http_info(request_cls(**{a: "x" for a in request_cls.openapi_types}))
    query_names = {k for k, _ in full["query_params"]}
    header_names = {k.lower() for k in full["header_params"]}
    params = req.query_params()
    for name in params:
        if name not in query_names:
            raise Mismatch(f"query parameter {name!r} is not one of {request_cls.__name__}'s"
                           f"{near(name, query_names)}")
    for attr in sdk.huawei_required(request_cls):
        name = request_cls.attribute_map[attr]
        if name in query_names and name not in params:
            raise Mismatch(f"required query parameter {name!r} missing")
    info = http_info(request_cls(**{wire[k]: v for k, v in params.items()}))
    expect("method", req.method, info["method"])
    template = prefix + info["resource_path"]
    expect("path", unquote(req.path), template.format(project_id=req.inputs["project_id"]))
    compare("the SDK's query for the same request", params, dict(info["query_params"]))
    for name, _ in req.headers:
        if name.startswith("x-") and name not in header_names | HUAWEI_AUTH_HEADERS:
            raise Mismatch(f"header {name!r} is not one the SDK sends")
    expect("Content-Type", req.header("content-type"), info["header_params"]["Content-Type"])
    carries("id", params.get("id"), req.inputs["job_id"])


# --- Alibaba Cloud RDS and PolarDB (Tea request models and clients) ------------------------


def check_tea(req, client_module, model_cls, method, merged):
    """`merged`: the RPC parameters, from the query or the form body alike (RPC style)."""
    fields = sdk.alibaba_fields(model_cls)
    values = {}
    for name, value in merged.items():
        if name not in fields:
            raise Mismatch(f"{name} is not a member of {model_cls.__name__}{near(name, fields)}")
        attr, kind, _ = fields[name]
        if kind == "int":
            if not value.lstrip("-").isdigit():
                raise Mismatch(f"{name}={value!r} is not an integer")
            value = int(value)
        if kind == "utc-time" and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z", value):
            raise Mismatch(f"{name}={value!r} is not yyyy-MM-ddTHH:mm:ssZ")
        values[attr] = value
    for name, (_, _, required) in fields.items():
        if required and name not in merged:
            raise Mismatch(f"{name} missing: {model_cls.__name__} requires it")
    return sdk.alibaba_build(client_module, method, model_cls(**values))


def check_alibaba(req):
    if req.raw["api"] == "polardb":
        import alibabacloud_polardb20170801.client as client
        from alibabacloud_polardb20170801.models import DescribeHistoryTasksRequest as model
    else:
        import alibabacloud_rds20140815.client as client
        from alibabacloud_rds20140815.models import DescribeHistoryTasksRequest as model
    params = req.query_params()
    built = check_tea(req, client, model, "describe_history_tasks_with_options", params)
    expect("method", req.method, built.method)
    expect("path", req.path, built.pathname)
    for name in ("x-acs-action", "x-acs-version"):
        expect(name, req.header(name), built.headers.get(name))
    compare("the Tea client's query for the same request", params, built.query)
    carries("TaskId", params.get("TaskId"), req.inputs["job_id"])
    carries("RegionId", params.get("RegionId"), req.inputs["region"])
    carries("InstanceId", params.get("InstanceId"), req.inputs.get("instance_id"))


# --- Google Cloud SQL (discovery document) -------------------------------------------------


def check_gcp(req):
    doc = sdk.discovery("sqladmin", "v1")
    method = sdk.discovery_method(doc, "operations.get")
    expect("method", req.method, method["httpMethod"])
    built = sdk.google_sql_request(req.inputs["project_id"], req.inputs["job_id"])
    expect("method (googleapiclient)", req.method, built.method)
    ours = [unquote(s) for s in req.path.split("/")]
    theirs = [unquote(s) for s in urlsplit(built.uri).path.split("/")]
    expect("decoded path segments", ours, theirs)
    # The path against the template: every required parameter in its place.
    pattern = re.sub(r"\{\+?(\w+)\}", r"(?P<\1>[^/]+)", "/" + method["path"])
    match = re.fullmatch(pattern, req.path)
    if not match:
        raise Mismatch(f"path {req.path!r} does not fit {method['path']!r}")
    for name, spec in method["parameters"].items():
        if spec.get("required") and name not in match.groupdict():
            raise Mismatch(f"required parameter {name!r} not in the path")
    allowed = set(method["parameters"]) | set(doc.get("parameters", {}))
    for name, _ in req.query:
        if name not in allowed:
            raise Mismatch(f"query parameter {name!r} is not one sqladmin accepts")
    # googleapiclient adds `alt=json`, the document's default: the client may leave it out.
    sdk_query = dict(parse_qsl(urlsplit(built.uri).query))
    defaults = {k for k, v in sdk_query.items() if doc["parameters"].get(k, {}).get("default") == v}
    compare("googleapiclient's query", dict(req.query), sdk_query, ignore=defaults)


# --- Azure flexible servers: no SDK models the azureAsyncOperation resource ----------------

AZURE_NAMESPACES = {
    "postgresql-flexible": "Microsoft.DBforPostgreSQL",
    "mysql-flexible": "Microsoft.DBforMySQL",
}


def check_azure(req):
    from azure.mgmt.core.tools import parse_resource_id

    expect("method", req.method, "GET")
    # Parsed as sent (a `/` inside a segment stays encoded), each value then decoded.
    parts = {k: unquote(v) if isinstance(v, str) else v
             for k, v in parse_resource_id(req.path).items()}
    inputs = req.inputs
    carries("subscription", parts.get("subscription"), inputs["subscription_id"])
    expect("namespace", parts.get("namespace"), AZURE_NAMESPACES[req.raw["api"]])
    expect("type", parts.get("type"), "locations")
    carries("location", parts.get("name"), inputs["region"])
    expect("child type", parts.get("child_type_1"), "azureAsyncOperation")
    carries("operation", parts.get("child_name_1"), inputs["job_id"])
    names = [k for k, _ in req.query]
    expect("query parameters (ARM's api-version convention)", names, ["api-version"])
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", req.query_params()["api-version"]):
        raise Mismatch("api-version is not an ARM version")


API_CHECKS = {
    "aws": check_aws,
    "tencent": check_tencent,
    "tencent-legacy": check_tencent_legacy,
    "huawei": check_huawei,
    "alibaba": check_alibaba,
    "gcp": check_gcp,
    "azure": check_azure,
}
