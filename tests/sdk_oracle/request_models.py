"""The official SDKs' models of requests, read for tests/sdk_oracle/verify_requests.py.

Each function takes what the SDK itself knows (its service model, request classes, client
code) and either answers a question about it (members, types, required ones) or has the SDK
build the request for given values, without any network: botocore's validator and query
serializer, the Tencent client with its transport replaced, Huawei's `_http_info`, the Tea
client with `DaraCore.do_action` replaced, googleapiclient's lazy `HttpRequest`, google-auth's
STS client and MSAL with recording transports.
"""

import base64
import inspect
import json
import re
from unittest import mock
from urllib.parse import parse_qsl, urlsplit


class Mismatch(Exception):
    pass


class Sent(Exception):
    """Raised by a recording transport once the SDK has built its request."""


def near(name, names):
    """A hint when `name` differs from a model name only by case."""
    hits = [n for n in names if n.lower() == name.lower() and n != name]
    return f" (the model spells it {hits[0]!r})" if hits else ""


def compare(what, ours, sdk, ignore=()):
    """Parameter sets (name -> value) must be equal, less the names in `ignore`."""
    ours = {k: v for k, v in ours.items() if k not in ignore}
    sdk = {k: v for k, v in sdk.items() if k not in ignore}
    problems = []
    for k in sorted(set(ours) | set(sdk)):
        if k not in sdk:
            problems.append(f"client sends {k}={ours[k]!r}, the SDK does not{near(k, sdk)}")
        elif k not in ours:
            problems.append(f"the SDK sends {k}={sdk[k]!r}, the client does not{near(k, ours)}")
        elif str(ours[k]) != str(sdk[k]):
            problems.append(f"{k}: client {ours[k]!r}, SDK {sdk[k]!r}")
    if problems:
        raise Mismatch(f"{what}: " + "; ".join(problems))


# --- A captured request ----------------------------------------------------------------


class Request:
    def __init__(self, raw):
        self.raw = raw
        self.inputs = raw.get("inputs") or {}
        self.method = raw["method"]
        parts = urlsplit(raw["url"])
        self.host = parts.netloc
        self.path = parts.path or "/"
        self.query = parse_qsl(parts.query, keep_blank_values=True)
        self.headers = [(k.lower(), v) for k, v in raw["headers"]]
        self.body = base64.b64decode(raw["body_b64"])

    def header(self, name):
        values = [v for k, v in self.headers if k == name.lower()]
        return values[0] if values else None

    def pairs(self, pairs, what):
        out = dict(pairs)
        if len(out) != len(pairs):
            raise Mismatch(f"a {what} parameter is repeated")
        return out

    def query_params(self):
        return self.pairs(self.query, "query")

    def form(self):
        media = (self.header("content-type") or "").split(";")[0].strip()
        if media != "application/x-www-form-urlencoded":
            raise Mismatch(f"content type {media!r}, not a form")
        return self.pairs(parse_qsl(self.body.decode(), keep_blank_values=True), "form")

    def json(self):
        media = (self.header("content-type") or "").split(";")[0].strip()
        if media != "application/json":
            raise Mismatch(f"content type {media!r}, not JSON")
        return json.loads(self.body)


def expect(what, ours, model):
    if ours != model:
        raise Mismatch(f"{what}: client {ours!r}, SDK model {model!r}")


def carries(what, ours, wanted):
    """The parameter naming the job (or identity) must carry the value it was given."""
    if ours != wanted:
        raise Mismatch(f"{what} must carry {wanted!r} (given by the job or identity), "
                       f"the client sends {ours!r}")


# --- AWS: botocore service-2 models, query protocol ---------------------------------------

_SESSION = None


def aws_model(service):
    global _SESSION
    import botocore.session

    _SESSION = _SESSION or botocore.session.get_session()
    return _SESSION.get_service_model(service)


def aws_typed(shape, params):
    """The form values converted to the members' types, lists and structures rebuilt from
    the query protocol's dotted names (`Filters.Filter.1.Values.Value.2`); unknown members
    and misnamed list items are mismatches."""
    typed, nested = {}, {}
    for name, value in params.items():
        head, dot, rest = name.partition(".")
        member = shape.members.get(head)
        if member is None:
            raise Mismatch(f"{head} is not a member of {shape.name}{near(head, shape.members)}")
        if dot:
            nested.setdefault(head, {})[rest] = value
        else:
            typed[head] = aws_scalar(member, head, value)
    for head, flat in nested.items():
        typed[head] = aws_nested(shape.members[head], flat, head)
    return typed


def aws_scalar(shape, name, value):
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(value)
        if kind == "boolean":
            if value not in ("true", "false"):
                raise ValueError(value)
            return value == "true"
        if kind in ("string", "timestamp"):
            return value
    except ValueError:
        raise Mismatch(f"{name}={value!r} is not a {kind} ({shape.name})") from None
    raise Mismatch(f"{name}: a {kind} member, sent as one flat value")


def aws_nested(shape, flat, path):
    """A list (`<name>.<item name>.N...`, or `<name>.N...` when flattened) or a structure
    (`<name>.<member>...`) from its dotted keys below `path`."""
    if shape.type_name == "structure":
        return aws_typed(shape, flat)
    if shape.type_name != "list":
        raise Mismatch(f"{path}: a {shape.type_name} member, sent with dotted names")
    item = shape.member
    location = None if shape.serialization.get("flattened") else (
        item.serialization.get("name") or "member")
    items = {}
    for key, value in flat.items():
        if location is not None:
            head, _, key = key.partition(".")
            if head != location:
                raise Mismatch(f"{path}.{head}: the items of {path} are {path}.{location}.N")
        index, _, rest = key.partition(".")
        if not index.isdigit() or int(index) < 1:
            raise Mismatch(f"{path}: item index {index!r} is not 1, 2, ...")
        items.setdefault(int(index), {})[rest] = value
    if sorted(items) != list(range(1, len(items) + 1)):
        raise Mismatch(f"{path}: item indexes {sorted(items)} are not 1..{len(items)}")
    values = []
    for index in sorted(items):
        parts = items[index]
        where = f"{path}.{index}"
        if list(parts) == [""]:
            values.append(aws_scalar(item, where, parts[""]))
        elif "" in parts:
            raise Mismatch(f"{where}: both a value and members")
        else:
            values.append(aws_nested(item, parts, where))
    return values


def aws_build(service, action, typed):
    """botocore's own request: its validator (required, types, ranges) and serializer."""
    from botocore.serialize import create_serializer
    from botocore.validate import ParamValidator

    model = aws_model(service)
    op = model.operation_model(action)
    report = ParamValidator().validate(typed, op.input_shape)
    if report.has_errors():
        raise Mismatch(f"botocore rejects the parameters: {report.generate_report()}")
    request = create_serializer(model.metadata["protocol"]).serialize_to_request(typed, op)
    return op, request


# --- Tencent Cloud API 3.0: request model classes and the client --------------------------


def tencent_members(model_cls):
    """Member name -> documented type (`:type X: int`) of a request model."""
    doc = inspect.getdoc(model_cls.__init__) or ""
    types = dict(re.findall(r":type (\w+): ([^\n]+)", doc))
    return {name[1:]: types.get(name[1:], "?") for name in vars(model_cls())}


def tencent_type_ok(value, kind):
    if kind.startswith("list of "):
        return isinstance(value, list) and all(tencent_type_ok(v, kind[8:]) for v in value)
    return {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
    }.get(kind, lambda v: isinstance(v, dict))(value)


def tencent_build(client_cls, host, region, action, model):
    """The body the SDK client sends for `model` (its transport replaced)."""
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    profile = ClientProfile(httpProfile=HttpProfile(endpoint=host))
    client = client_cls(credential.Credential("id", "key"), region, profile)
    seen = []

    def send(req):
        seen.append(req)
        raise Sent()

    with mock.patch.object(client.request, "send_request", send):
        try:
            getattr(client, action)(model)
        except Exception:
            pass
    if not seen:
        raise Mismatch(f"the SDK client sent no {action} request")
    return seen[0]


# --- Huawei Cloud: request classes and _http_info ------------------------------------------


def huawei_required(cls):
    """Attributes its constructor sets unconditionally: the generator's required ones."""
    source = inspect.getsource(cls.__init__)
    return {a for a in cls.openapi_types if re.search(rf"^\s{{8}}self\.{a} = {a}$", source, re.M)}


def huawei_check_body(value, cls_name, module, where="body"):
    """A JSON body against the nested request models: names, types, required members."""
    cls = getattr(module, cls_name)
    if not isinstance(value, dict):
        raise Mismatch(f"{where} is not an object ({cls_name})")
    wire = {v: k for k, v in cls.attribute_map.items()}
    for key, item in value.items():
        if key not in wire:
            raise Mismatch(f"{where}.{key} is not a member of {cls_name}{near(key, wire)}")
        kind = cls.openapi_types[wire[key]]
        if kind == "str":
            if not isinstance(item, str):
                raise Mismatch(f"{where}.{key} is not a string")
        elif kind in ("int", "bool", "float") or kind.startswith("list["):
            pass
        else:
            huawei_check_body(item, kind, module, f"{where}.{key}")
    for attr in huawei_required(cls):
        if cls.attribute_map[attr] not in value:
            raise Mismatch(f"{where} lacks {cls.attribute_map[attr]}, required by {cls_name}")


# --- Alibaba Cloud: Tea request models and clients -----------------------------------------


def alibaba_fields(model_cls):
    """Wire name -> (field, type, required) of a Tea request model, from its source."""
    sig = inspect.signature(model_cls.__init__)
    source = inspect.getsource(model_cls.__init__)
    fields = {}
    for name, p in list(sig.parameters.items())[1:]:
        wire = list(model_cls(**{name: 1}).to_map())
        block = re.search(rf"((?:\s*#[^\n]*\n)*)\s*self\.{name} = {name}\b", source)
        comment = block.group(1) if block else ""
        required = "This parameter is required." in comment
        # A time documented as `yyyy-MM-ddTHH:mm:ssZ` (UTC) is typed `str`: its format too.
        kind = "utc-time" if "yyyy-MM-ddTHH:mm:ssZ" in comment else str(p.annotation)
        fields[wire[0]] = (name, kind, required)
    return fields


def alibaba_build(client_module, method, model):
    """The request the Tea client builds for `model` (DaraCore.do_action replaced)."""
    from alibabacloud_tea_openapi.utils_models import Config
    from darabonba.runtime import RuntimeOptions

    config = Config(access_key_id="id", access_key_secret="secret", endpoint="127.0.0.1",
                    protocol="http", region_id="cn-hangzhou")
    client = client_module.Client(config)
    seen = []

    def do_action(request, runtime=None):
        seen.append(request)
        raise Sent()

    with mock.patch("alibabacloud_tea_openapi.client.DaraCore.do_action", do_action):
        try:
            getattr(client, method)(model, RuntimeOptions(autoretry=False))
        except Exception:
            pass
    if not seen:
        raise Mismatch(f"the SDK client built no request for {method}")
    return seen[0]


# --- Google: discovery documents, google-auth ----------------------------------------------


def discovery(name, version):
    import googleapiclient
    import os

    path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache",
                        "documents", f"{name}.{version}.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def discovery_method(doc, dotted):
    node = doc
    *resources, method = dotted.split(".")
    for r in resources:
        node = node["resources"][r]
    return node["methods"][method]


def google_sql_request(project, operation):
    """googleapiclient's own request for sqladmin v1 operations.get (lazy: never sent)."""
    import httplib2
    from googleapiclient.discovery import build

    service = build("sqladmin", "v1", http=httplib2.Http(), static_discovery=True)
    return service.operations().get(project=project, operation=operation)


def google_sts_form(fields):
    """The form google-auth's STS client sends for the same exchange."""
    from google.oauth2 import sts

    seen = []

    def request(url, method, headers, body):
        seen.append(dict(parse_qsl(body.decode(), keep_blank_values=True)))
        raise Sent()

    try:
        sts.Client("https://sts.googleapis.com/v1/token").exchange_token(
            request,
            grant_type=fields.get("grant_type"),
            subject_token=fields.get("subject_token"),
            subject_token_type=fields.get("subject_token_type"),
            audience=fields.get("audience"),
            scopes=(fields.get("scope") or "").split() or None,
            requested_token_type=fields.get("requested_token_type"),
        )
    except Sent:
        pass
    return seen[0]


# --- Azure: MSAL's client-credentials request ----------------------------------------------


def msal_client_assertion_form(tenant, client_id, assertion, scope):
    """The form MSAL posts for a client-credentials grant with a client assertion."""
    import msal

    authority = f"https://login.microsoftonline.com/{tenant}"
    seen = []

    class Response:
        def __init__(self, status, body):
            self.status_code, self.text, self.headers = status, json.dumps(body), {}

        def raise_for_status(self):
            pass

    class Http:
        def get(self, url, **kwargs):
            return Response(200, {
                "token_endpoint": f"{authority}/oauth2/v2.0/token",
                "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
                "issuer": f"{authority}/v2.0",
            })

        def post(self, url, data=None, headers=None, **kwargs):
            seen.append((urlsplit(url).path, dict(data or {})))
            return Response(400, {"error": "invalid_client"})

        def close(self):
            pass

    app = msal.ConfidentialClientApplication(
        client_id, client_credential={"client_assertion": assertion}, authority=authority,
        http_client=Http(), instance_discovery=False)
    app.acquire_token_for_client([scope])
    if not seen:
        raise Mismatch("MSAL sent no token request")
    return seen[-1]
