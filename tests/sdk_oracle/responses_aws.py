"""AWS RDS (Query API 2014-10-31): responses built from botocore's output shapes.

For each operation the output shape is walked to a value tree (every member, or only the
shape's `required` members plus the job's identifier: RDS's shapes require none, and
without the identifier a listed job cannot be told apart), rendered as the query
protocol's XML (`<OpResponse><OpResult>...`, list members under their `locationName` or
`member`, timestamps ISO 8601), and parsed back with botocore's own `QueryParser`: what the
SDK reads is the expected value.
"""

import re
from datetime import datetime
from xml.sax.saxutils import escape

import botocore.session
from botocore.parsers import create_parser

from responses_common import END, OTHER, START, case, sweep, utc

MODEL = botocore.session.get_session().get_service_model("rds")
XMLNS = f"http://rds.amazonaws.com/doc/{MODEL.api_version}/"

# api -> (operation, list member of the result, identifier member, job ID).
APIS = {
    "export-task": ("DescribeExportTasks", "ExportTasks", "ExportTaskIdentifier", "export-0a1b2c"),
    "db-snapshot": ("DescribeDBSnapshots", "DBSnapshots", "DBSnapshotIdentifier", "snap-db-0a1b2c"),
    "cluster-snapshot": (
        "DescribeDBClusterSnapshots",
        "DBClusterSnapshots",
        "DBClusterSnapshotIdentifier",
        "snap-cluster-0a1b2c",
    ),
    "blue-green": (
        "DescribeBlueGreenDeployments",
        "BlueGreenDeployments",
        "BlueGreenDeploymentIdentifier",
        "bgd-0a1b2c3d4e5f6789",
    ),
    "blue-green-switchover": (
        "DescribeBlueGreenDeployments",
        "BlueGreenDeployments",
        "BlueGreenDeploymentIdentifier",
        "bgd-9f8e7d6c5b4a3210",
    ),
}

# A running job in the "full" variant, so progress is the provider's own (a done job is
# 100 by rule). Values are the documented ones (see `documented_statuses`).
RUNNING = {
    "export-task": "IN_PROGRESS",
    "db-snapshot": "creating",
    "cluster-snapshot": "creating",
    "blue-green": "PROVISIONING",
    "blue-green-switchover": "SWITCHOVER_IN_PROGRESS",
}

# Values for members whose generic filler value would be implausible ("Shape.Member").
OVERRIDES = {
    "ExportTask.PercentProgress": 37,
    "ExportTask.TaskStartTime": START,
    "ExportTask.TaskEndTime": END,
    "ExportTask.SourceArn": "arn:aws:rds:eu-central-1:123456789012:snapshot:snap-src",
    "ExportTask.S3Bucket": "export-bucket",
    "ExportTask.SourceType": "SNAPSHOT",
    "DBSnapshot.PercentProgress": 41,
    "DBSnapshot.SnapshotCreateTime": START,
    "DBSnapshot.DBInstanceIdentifier": "db-instance-1",
    "DBSnapshot.SnapshotType": "manual",
    "DBSnapshot.Engine": "postgres",
    "DBClusterSnapshot.PercentProgress": 43,
    "DBClusterSnapshot.SnapshotCreateTime": START,
    "DBClusterSnapshot.DBClusterIdentifier": "aurora-cluster-1",
    "DBClusterSnapshot.SnapshotType": "manual",
    "DBClusterSnapshot.Engine": "aurora-postgresql",
    "BlueGreenDeployment.CreateTime": START,
    "BlueGreenDeployment.DeleteTime": END,
    "BlueGreenDeployment.Source": "arn:aws:rds:eu-central-1:123456789012:db:blue-db",
    "BlueGreenDeployment.Target": "arn:aws:rds:eu-central-1:123456789012:db:green-db",
    "BlueGreenDeployment.Tasks": [
        {"Name": "CREATING_READ_REPLICA_OF_SOURCE", "Status": "COMPLETED"},
        {"Name": "DB_ENGINE_VERSION_UPGRADE", "Status": "IN_PROGRESS"},
        {"Name": "CONFIGURE_BACKUPS", "Status": "PENDING"},
    ],
    "BlueGreenDeployment.SwitchoverDetails": [
        {
            "SourceMember": "arn:aws:rds:eu-central-1:123456789012:db:blue-db",
            "TargetMember": "arn:aws:rds:eu-central-1:123456789012:db:green-db",
            "Status": "SWITCHOVER_COMPLETED",
        },
        {
            "SourceMember": "arn:aws:rds:eu-central-1:123456789012:db:blue-db-replica",
            "TargetMember": "arn:aws:rds:eu-central-1:123456789012:db:green-db-replica",
            "Status": "SWITCHOVER_IN_PROGRESS",
        },
    ],
}


PROVIDER = "aws"


def documented_statuses(shape_name):
    """The status values the model's documentation lists: the first `<code>` of each `<li>`."""
    doc = MODEL.shape_for(shape_name).members["Status"].documentation
    return re.findall(r"<li>\s*<p>\s*<code>([^<]+)</code>", doc)


def fill(shape, keep, required_only, name=None):
    """A value for `shape`: every member, or (required_only) the required ones and `keep`."""
    if name is not None and name in OVERRIDES:
        return OVERRIDES[name]
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for member, sub in shape.members.items():
            wanted = member in shape.required_members or f"{shape.name}.{member}" in keep
            if required_only and not wanted:
                continue
            out[member] = fill(sub, keep, required_only, f"{shape.name}.{member}")
        return out
    if kind == "list":
        return [fill(shape.member, keep, required_only)]
    if kind == "map":
        return {"key-1": fill(shape.value, keep, required_only)}
    if kind == "timestamp":
        return OTHER
    if kind == "boolean":
        return True
    if kind in ("integer", "long"):
        return 7
    if kind in ("double", "float"):
        return 1.5
    if getattr(shape, "enum", None):
        return shape.enum[0]
    member = (name or shape.name).split(".")[-1]
    return f"{member.lower()}-value"


def render(shape, value, tag):
    """`value` as the query protocol's XML element `tag`."""
    kind = shape.type_name
    if kind == "structure":
        inner = "".join(
            render(sub, value[m], sub.serialization.get("name", m))
            for m, sub in shape.members.items()
            if m in value
        )
        return f"<{tag}>{inner}</{tag}>"
    if kind == "list":
        item = shape.member.serialization.get("name", "member")
        inner = "".join(render(shape.member, v, item) for v in value)
        if shape.serialization.get("flattened"):
            return inner
        return f"<{tag}>{inner}</{tag}>"
    if kind == "map":
        inner = "".join(
            f"<entry>{render(shape.key, k, 'key')}{render(shape.value, v, 'value')}</entry>"
            for k, v in value.items()
        )
        return f"<{tag}>{inner}</{tag}>"
    if kind == "timestamp":
        text = value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    elif kind == "boolean":
        text = "true" if value else "false"
    else:
        text = str(value)
    return f"<{tag}>{escape(text)}</{tag}>"


def respond(operation, result):
    """The whole response document of `operation` with `result` as its `...Result`."""
    op = MODEL.operation_model(operation)
    wrapper = op.output_shape.serialization["resultWrapper"]
    inner = render(op.output_shape, result, wrapper)
    return (
        f'<{operation}Response xmlns="{XMLNS}">{inner}'
        f"<ResponseMetadata><RequestId>5d6e7f80-aaaa-bbbb-cccc-0123456789ab</RequestId>"
        f"</ResponseMetadata></{operation}Response>"
    )


def sdk_read(operation, xml):
    """What botocore reads from `xml`."""
    op = MODEL.operation_model(operation)
    parser = create_parser(MODEL.protocol)
    return parser.parse(
        {"body": xml.encode(), "headers": {}, "status_code": 200}, op.output_shape
    )


def expected_from(api, item):
    """The values the operator must read, from botocore's parsed item."""
    progress = item.get("PercentProgress")
    if api in ("export-task",):
        start, end, instances = item.get("TaskStartTime"), item.get("TaskEndTime"), []
    elif api == "db-snapshot":
        start, end = item.get("SnapshotCreateTime"), None
        instances = [item["DBInstanceIdentifier"]] if "DBInstanceIdentifier" in item else []
    elif api == "cluster-snapshot":
        start, end = item.get("SnapshotCreateTime"), None
        instances = [item["DBClusterIdentifier"]] if "DBClusterIdentifier" in item else []
    else:
        start, end, instances = item.get("CreateTime"), item.get("DeleteTime"), []
    detail = {}
    if "Tasks" in item:
        detail["tasks"] = [[t.get("Name"), t.get("Status")] for t in item["Tasks"]]
    for key, out in (("SourceArn", "source_arn"), ("S3Bucket", "s3_bucket"),
                     ("Source", "source_arn"), ("Target", "target_arn"),
                     ("SnapshotType", "snapshot_type"), ("Engine", "engine")):
        if key in item:
            detail[out] = item[key]
    for key in (k for k in item if isinstance(item[k], datetime)):
        assert item[key].tzinfo is not None, key
    return {
        "status": item.get("Status"),
        "progress": progress,
        "start": utc(start),
        "end": utc(end),
        "instance_ids": instances,
        "detail": detail,
    }


def build(api, required_only, status=None):
    operation, list_member, ident, job_id = APIS[api]
    op = MODEL.operation_model(operation)
    item_shape = op.output_shape.members[list_member].member
    keep = {f"{op.output_shape.name}.{list_member}", f"{item_shape.name}.{ident}"}
    result = fill(op.output_shape, keep, required_only)
    item = result[list_member][0]
    item[ident] = job_id
    if not required_only:
        item["Status"] = status or RUNNING[api]
    xml = respond(operation, result)
    parsed = sdk_read(operation, xml)
    read = parsed[list_member][0]
    assert read[ident] == job_id, read
    expected = expected_from(api, read)
    expected["job_id"] = read[ident]
    return xml, "text/xml", expected


def cases():
    out = []
    for api, (operation, list_member, _, job_id) in APIS.items():
        for variant, required_only in (("full", False), ("required", True)):
            body, content_type, expected = build(api, required_only)
            out.append(case(PROVIDER, api, variant, job_id, body, content_type, expected))
        item_shape = MODEL.operation_model(operation).output_shape.members[list_member].member
        values = documented_statuses(item_shape.name)
        assert values, f"no documented statuses for {item_shape.name}"
        out += sweep(PROVIDER, api, job_id, values, lambda v, api=api: build(api, False, v))
    return out
