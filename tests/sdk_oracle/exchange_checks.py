"""The checks of the workload-identity exchanges (tests/sdk_oracle/verify_requests.py):
AWS and Alibaba Cloud STS, Tencent Cloud STS, Huawei Cloud IAM, Google STS and IAM
Credentials, Microsoft Entra ID.
"""

import re
from urllib.parse import unquote

import request_models as sdk
from api_checks import check_aws_query, check_tc3, check_tea
from request_models import Mismatch, carries, compare, expect, near


def exchange_aws(req):
    params = check_aws_query(req, "sts", "AssumeRoleWithWebIdentity")
    carries("RoleArn", params.get("RoleArn"), req.inputs["role_arn"])
    carries("WebIdentityToken", params.get("WebIdentityToken"), req.inputs["token"])


def exchange_alibaba(req):
    import alibabacloud_sts20150401.client as client
    from alibabacloud_sts20150401.models import AssumeRoleWithOIDCRequest as model

    query = req.query_params()
    # RPC style: the gateway reads parameters from the query or the form body alike; the
    # client keeps the token out of the URL. The common parameters are the RPC protocol's.
    common = {k: query.pop(k, None) for k in ("Action", "Format", "Version", "Timestamp")}
    merged = dict(query)
    for name, value in req.form().items():
        if name in merged:
            raise Mismatch(f"{name} both in the query and the body")
        merged[name] = value
    built = check_tea(req, client, model, "assume_role_with_oidcwith_options", merged)
    expect("method", req.method, built.method)
    expect("path", req.path, built.pathname)
    expect("Action", common["Action"], built.query["Action"])
    expect("Version", common["Version"], built.query["Version"])
    # The SDK writes `json`; the API reference `JSON`: the gateway takes either.
    expect("Format", (common["Format"] or "").lower(), built.query["Format"].lower())
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", common["Timestamp"] or ""):
        raise Mismatch(f"Timestamp {common['Timestamp']!r} is not the RPC format")
    sdk_params = {k: v for k, v in built.query.items()
                  if k not in ("Action", "Format", "Version", "Timestamp", "SignatureNonce")}
    compare("the Tea client's parameters for the same request", merged, sdk_params)
    carries("RoleArn", merged.get("RoleArn"), req.inputs["role_arn"])
    carries("OIDCProviderArn", merged.get("OIDCProviderArn"), req.inputs["oidc_provider"])
    carries("OIDCToken", merged.get("OIDCToken"), req.inputs["token"])


def exchange_tencent(req):
    from tencentcloud.sts.v20180813 import models, sts_client

    action, body = check_tc3(req, sts_client.StsClient, models)
    expect("action", action, "AssumeRoleWithWebIdentity")
    carries("ProviderId", body.get("ProviderId"), req.inputs["oidc_provider"])
    carries("RoleArn", body.get("RoleArn"), req.inputs["role_arn"])
    carries("WebIdentityToken", body.get("WebIdentityToken"), req.inputs["token"])


def exchange_huawei(req):
    from huaweicloudsdkiam.v3 import model as models
    from huaweicloudsdkiam.v3.iam_client import IamClient

    request_cls = models.CreateTokenWithIdTokenRequest
    body = req.json()
    sdk.huawei_check_body(body, "GetIdTokenRequestBody", models)
    idp = req.header("x-idp-id")
    info = IamClient._create_token_with_id_token_http_info(request_cls(x_idp_id=idp, body=body))
    expect("method", req.method, info["method"])
    expect("path", req.path, info["resource_path"])
    names = {k.lower() for k in info["header_params"]}
    for name in sdk.huawei_required(request_cls):
        wire = request_cls.attribute_map[name]
        if wire != "body" and wire.lower() not in {k for k, _ in req.headers}:
            raise Mismatch(f"required header {wire} missing")
    for name, _ in req.headers:
        if name.startswith("x-") and name not in names:
            raise Mismatch(f"header {name!r} is not one the SDK sends{near(name, names)}")
    carries("X-Idp-Id", idp, req.inputs["oidc_provider"])
    carries("auth.id_token.id", body["auth"]["id_token"]["id"], req.inputs["token"])
    carries("auth.scope.project.id", body["auth"]["scope"]["project"]["id"],
           req.inputs["project_id"])


def camel(snake):
    head, *rest = snake.split("_")
    return head + "".join(w.title() for w in rest)


def exchange_gcp(req):
    if req.raw["step"] == 0:
        # STS: the RFC 8693 form, whose fields the discovery document models in camelCase.
        doc = sdk.discovery("sts", "v1")
        method = sdk.discovery_method(doc, "v1.token")
        expect("method", req.method, method["httpMethod"])
        expect("path", req.path, "/" + method["path"])
        schema = doc["schemas"][method["request"]["$ref"]]["properties"]
        form = req.form()
        for name in form:
            if camel(name) not in schema or name != name.lower():
                raise Mismatch(f"{name!r} is not a field of the STS exchange")
        for name, spec in schema.items():
            if spec.get("description", "").startswith("Required.") and not any(
                    camel(k) == name for k in form):
                raise Mismatch(f"required field {name} missing")
        compare("google-auth's STS form for the same exchange", form, sdk.google_sts_form(form))
        carries("subject_token", form.get("subject_token"), req.inputs["token"])
        return
    doc = sdk.discovery("iamcredentials", "v1")
    method = sdk.discovery_method(doc, "projects.serviceAccounts.generateAccessToken")
    expect("method", req.method, method["httpMethod"])
    name_spec = method["parameters"]["name"]
    match = re.fullmatch(r"/v1/(.+):generateAccessToken", unquote(req.path))
    if not match or not re.match(name_spec["pattern"], match.group(1)):
        raise Mismatch(f"path {req.path!r} does not fit {method['path']!r}")
    carries("service account", match.group(1),
           f"projects/-/serviceAccounts/{req.inputs['google_service_account']}")
    schema = doc["schemas"][method["request"]["$ref"]]["properties"]
    body = req.json()
    for key, value in body.items():
        spec = schema.get(key)
        if spec is None:
            raise Mismatch(f"{key!r} is not a field of {method['request']['$ref']}"
                           f"{near(key, schema)}")
        if spec["type"] == "array" and not all(isinstance(v, str) for v in value or [None]):
            raise Mismatch(f"{key} is not an array of strings")
        if spec["type"] == "string" and not isinstance(value, str):
            raise Mismatch(f"{key} is not a string")
        if spec.get("format") == "google-duration" and not re.fullmatch(r"\d+(\.\d+)?s", value):
            raise Mismatch(f"{key}={value!r} is not a google-duration")
    if "scope" not in body:
        raise Mismatch("scope missing: generateAccessToken requires it")


def exchange_azure(req):
    expect("method", req.method, "POST")
    inputs = req.inputs
    form = req.form()
    path, sdk_form = sdk.msal_client_assertion_form(
        inputs["tenant_id"], inputs["client_id"], inputs["token"], form.get("scope", ""))
    expect("path", req.path, path)
    # MSAL's telemetry and its client_info opt-in are not parameters of the grant.
    compare("MSAL's form for the same grant", form, sdk_form,
            ignore={"client_info", "x-client-sku", "x-client-ver", "x-client-os",
                    "x-client-cpu", "x-client-current-telemetry", "x-client-last-telemetry"})
    carries("client_assertion", form.get("client_assertion"), inputs["token"])


EXCHANGE_CHECKS = {
    "aws": exchange_aws,
    "alibaba": exchange_alibaba,
    "tencent": exchange_tencent,
    "huawei": exchange_huawei,
    "gcp": exchange_gcp,
    "azure": exchange_azure,
}
