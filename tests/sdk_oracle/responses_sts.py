"""The STS token-exchange answers, built from the official SDKs' response models (issue 29).

Run through `build_responses.py sts` by tests/providers/sdk_sts_responses.rs. One JSON line
per answer:

  {"provider", "exchange", "variant", "status", "headers": [[name, value]], "body",
   "content_type", "expected": null | {"access_key_id", "secret", "session_token",
   "expires_at"}}

- aws: STS `AssumeRoleWithWebIdentity` (botocore's output shape, query XML, parsed back by
  botocore's `QueryParser`, as responses_aws does for RDS).
- alibaba: STS `AssumeRoleWithOIDC` (alibabacloud_sts20150401's response body, `to_map`
  then a fresh model's `from_map`).
- tencent: STS `AssumeRoleWithWebIdentity` 2018-08-13 (tencentcloud-sdk-python-sts models,
  the API 3.0 envelope's `Response` through `_deserialize`, warnings fatal).
- huawei: IAM `CreateTokenWithIdToken` (`POST /v3.0/OS-AUTH/id-token/tokens`, what
  identity/huawei.rs calls): the token is the `X-Subject-Token` header, the expiry
  `token.expires_at`; read back by the IAM client's own `sync_response_handler`, with the
  response headers the operation declares. `access_key_id` and `secret` are null.

Variants: `full` (every member of the model), `required` (the model's required members plus
the credentials the exchange exists for: no model requires them; where the model marks
nothing, the members the SDK's own credential provider reads), `bare` (only what the model
requires: a valid answer without credentials, which the SDK reads as none, so `expected`
is null and the operator must refuse it without panicking), and for Tencent
`expiration-only` (the text `Expiration` without `ExpiredTime`).

The credentials are made up, in the shapes the clouds use (base64 alphabet with `+ / =`).
The expiry is what the SDK read, normalized to UTC with Python's datetime
(`responses_common.utc`), never a value of the operator's code.
"""

import base64
import hashlib
import inspect
import json
import re
import warnings
from datetime import datetime, timezone

import botocore.session
import huaweicloudsdkiam.v3 as iam
import requests
from alibabacloud_sts20150401 import models as alibaba_sts
from botocore.parsers import create_parser
from huaweicloudsdkiam.v3.iam_client import IamClient
from tencentcloud.sts.v20180813 import models as tencent_sts

import responses_alibaba
import responses_aws
import responses_tencent
from responses_common import utc

# Not START/END/OTHER of the job answers: a client reading another time field gets another
# instant. With milliseconds where the provider's format has a fraction.
EXPIRES = datetime(2025, 3, 4, 6, 6, 7, 123000, tzinfo=timezone.utc)
WHOLE = EXPIRES.replace(microsecond=0)
REQUEST_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def blob(seed, length):
    """`length` made-up characters of the base64 alphabet, `+`, `/` and `=` included."""
    out, block = "", seed.encode()
    while len(out) < length:
        block = hashlib.sha256(block).digest()
        out += base64.b64encode(block).decode()
    return (out[: length - 2] + "+/") if length > 2 else out[:length]


def creds(provider):
    """Made-up (key id, secret, session token) for `provider`."""
    return (
        {"aws": "ASIA", "alibaba": "STS.", "tencent": "AKID"}.get(provider, "")
        + hashlib.sha256(f"{provider}-id".encode()).hexdigest()[:16].upper(),
        blob(provider + "-secret", 40),
        blob(provider + "-token", 1200) + "==",
    )


def line(provider, exchange, variant, body, content_type, expected, status=200, headers=()):
    return {
        "provider": provider,
        "exchange": exchange,
        "variant": variant,
        "status": status,
        "headers": [list(h) for h in headers],
        "body": body,
        "content_type": content_type,
        "expected": expected,
    }


def read(key_id, secret, token, expires):
    return {"access_key_id": key_id, "secret": secret, "session_token": token,
            "expires_at": expires}


# --- AWS ---------------------------------------------------------------------------------

STS = botocore.session.get_session().get_service_model("sts")
AWS_OP = "AssumeRoleWithWebIdentity"


def aws(variant):
    op = STS.operation_model(AWS_OP)
    output = op.output_shape
    key_id, secret, token = creds("aws")
    keep = set() if variant == "bare" else {f"{output.name}.Credentials"}
    result = responses_aws.fill(output, keep, variant != "full")
    if variant != "bare":
        result["Credentials"] = {"AccessKeyId": key_id, "SecretAccessKey": secret,
                                 "SessionToken": token, "Expiration": EXPIRES}
    wrapper = output.serialization["resultWrapper"]
    xml = (
        f'<{AWS_OP}Response xmlns="{STS.metadata["xmlNamespace"]}">'
        f"{responses_aws.render(output, result, wrapper)}"
        f"<ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata>"
        f"</{AWS_OP}Response>"
    )
    if variant == "required":
        # Whole seconds, as STS sends them (the API reference's `2019-11-09T13:34:41Z`).
        xml = xml.replace(".123Z</Expiration>", "Z</Expiration>")
    parsed = create_parser(STS.protocol).parse(
        {"body": xml.encode(), "headers": {}, "status_code": 200}, output
    )
    c = parsed.get("Credentials")
    expected = c and read(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"],
                          utc(c["Expiration"]))
    return line("aws", AWS_OP, variant, xml, "text/xml", expected)


# --- Alibaba -----------------------------------------------------------------------------


def dara_fill(cls, values):
    """Every member of a Dara model as its wire JSON, nested models by their annotation."""
    wire = responses_alibaba.wire_names(cls)
    out = {}
    for name, annotation in responses_alibaba.init_members(cls):
        if name in values:
            out[wire[name]] = values[name]
        elif annotation.startswith("main_models."):
            nested = getattr(alibaba_sts, annotation[len("main_models."):])
            out[wire[name]] = dara_fill(nested, values)
        else:
            out[wire[name]] = f"{name}-value"
    return out


def alibaba(variant):
    key_id, secret, token = creds("alibaba")
    credentials = {"AccessKeyId": key_id, "AccessKeySecret": secret, "SecurityToken": token,
                   # UTC (the model's comment), in the format alibabacloud_credentials'
                   # OIDC provider parses: `%Y-%m-%dT%H:%M:%SZ`.
                   "Expiration": WHOLE.strftime("%Y-%m-%dT%H:%M:%SZ")}
    body_cls = alibaba_sts.AssumeRoleWithOIDCResponseBody
    if variant == "full":
        page = dara_fill(body_cls, {"request_id": REQUEST_ID})
        page["Credentials"] = credentials
    else:
        # The models mark nothing required (`validate()` checks no member).
        page = {"RequestId": REQUEST_ID}
        if variant == "required":
            page["Credentials"] = credentials
    model = body_cls().from_map(page)
    model.validate()
    body = json.dumps(model.to_map())
    # What the SDK's client does with the JSON answer.
    answer = alibaba_sts.AssumeRoleWithOIDCResponse().from_map(
        {"headers": {}, "statusCode": 200, "body": json.loads(body)}
    )
    answer.validate()
    c = answer.body.credentials
    expected = c and read(c.access_key_id, c.access_key_secret, c.security_token,
                          utc(c.expiration))
    return line("alibaba", "AssumeRoleWithOIDC", variant, body, "application/json", expected)


# --- Tencent -----------------------------------------------------------------------------


def tencent(variant):
    key_id, secret, token = creds("tencent")
    response = {"RequestId": REQUEST_ID}
    if variant != "bare":
        types = responses_tencent.member_types(tencent_sts.Credentials)
        response["Credentials"] = dict(
            zip(["TmpSecretId", "TmpSecretKey", "Token"], [key_id, secret, token])
        )
        assert set(response["Credentials"]) == set(types), types
        if variant in ("full", "required"):
            # The SDK's own OIDC credential reads `ExpiredTime` (common/credential.py).
            response["ExpiredTime"] = int(WHOLE.timestamp())
        if variant in ("full", "expiration-only"):
            response["Expiration"] = WHOLE.strftime("%Y-%m-%dT%H:%M:%SZ")
    if variant == "full":
        wanted = set(responses_tencent.member_types(tencent_sts.AssumeRoleWithWebIdentityResponse))
        assert set(response) == wanted, (set(response), wanted)
    body = json.dumps({"Response": response})
    got = responses_tencent.sdk_read(tencent_sts.AssumeRoleWithWebIdentityResponse, body)
    c = got.Credentials
    expected = None
    if c is not None:
        by_int = got.ExpiredTime and utc(datetime.fromtimestamp(got.ExpiredTime, timezone.utc))
        by_text = utc(got.Expiration, timezone.utc) if got.Expiration else None
        if by_int and by_text:
            assert by_int == by_text, (by_int, by_text)
        expected = read(c.TmpSecretId, c.TmpSecretKey, c.Token, by_int or by_text)
    return line("tencent", "AssumeRoleWithWebIdentity", variant, body, "application/json",
                expected)


# --- Huawei ------------------------------------------------------------------------------


def required(cls):
    """Members the generated `__init__` assigns unconditionally (the spec's required ones)."""
    src = inspect.getsource(cls.__init__)
    return set(re.findall(r"^        self\.(\w+) = \1$", src, re.M))


def iam_fill(cls_name, required_only, values):
    """A JSON object for IAM model `cls_name` from its `openapi_types` / `attribute_map`."""
    cls = getattr(iam, cls_name)
    keep = required(cls)
    out = {}
    for attr, kind in cls.openapi_types.items():
        if required_only and attr not in keep:
            continue
        wire = cls.attribute_map[attr]
        item = kind[5:-1] if kind.startswith("list[") else kind
        if attr in values:
            value = values[attr]
        elif item == "str":
            value = f"{attr}-value"
        elif item == "object":
            value = {"id": f"{attr}-id"}
        else:
            value = iam_fill(item, required_only, {})
        out[wire] = [value] if kind.startswith("list[") and attr not in values else value
    return out


def huawei(variant):
    _, _, token = creds("huawei")
    http_info = IamClient._create_token_with_id_token_http_info(
        iam.CreateTokenWithIdTokenRequest()
    )
    if variant == "bare":
        document, headers = {}, []
    else:
        # `%Y-%m-%dT%H:%M:%S.%fZ`: the format huaweicloudsdkcore reads IAM expiries with.
        times = {"expires_at": EXPIRES.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                 "issued_at": EXPIRES.replace(day=3).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        document = {"token": iam_fill("ScopedTokenInfo", variant == "required", times)}
        headers = [("X-Subject-Token", token)]
    body = json.dumps(document)
    answer = requests.Response()
    answer.status_code = 201
    answer._content = body.encode()
    answer.encoding = "utf-8"
    answer.headers = requests.structures.CaseInsensitiveDict(
        [("Content-Type", "application/json;charset=UTF-8"), *headers]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = IamClient().sync_response_handler(
            answer, http_info["response_type"], http_info["response_headers"], None
        )
    expected = None
    if got.x_subject_token and got.token is not None:
        expected = read(None, None, got.x_subject_token, utc(got.token.expires_at))
    return line("huawei", "CreateTokenWithIdToken", variant, body, "application/json",
                expected, status=201, headers=headers)


def cases():
    out = []
    for build in (aws, alibaba, tencent, huawei):
        for variant in ("full", "required", "bare"):
            out.append(build(variant))
    out.append(tencent("expiration-only"))
    return out
