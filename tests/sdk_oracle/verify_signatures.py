#!/usr/bin/env python3
"""Re-signs captured requests with the clouds' official SDK signers and compares.

Usage: target/sdk-venv/bin/python tests/sdk_oracle/verify_signatures.py REQUESTS.jsonl

Run by tests/providers/sdk_signatures.rs in the venv of scripts/sdk-venv.sh (the SDKs pinned
in scripts/sdk-requirements.txt). Each input line is one request a provider client really
sent to a local capture server:

  {"family", "label", "region", "method", "url", "headers": [[name, value], ...],
   "body_b64", "key_id", "secret", "token"}

For each, the SDK's own signing code recomputes the signature over the request as received,
and the result must equal what the client sent, byte for byte (the whole `Authorization`
header, or the `Signature` parameter of Tencent API 2.0):

- tencent-tc3: `tencentcloud.common.abstract_client.AbstractClient._get_tc3_signature`
  (canonical request and TC3 key derivation of tencentcloud-sdk-python-common), with the
  SDK's own `_build_req_with_tc3_signature` headers (action, version, region, token,
  timestamp, content type) compared with the ones sent.
- tencent-v2: the SDK's HmacSHA1/HmacSHA256 path (`AbstractClient._format_sign_string` and
  `tencentcloud.common.sign.Sign.sign`), over the decoded query parameters.
- huawei-sdk-hmac-sha256: `huaweicloudsdkcore.signer.Signer.sign`.
- alibaba-acs3: `alibabacloud_tea_openapi.utils.Utils.get_authorization` (ACS3-HMAC-SHA256).
- aws-sigv4: `botocore.auth.SigV4Auth.add_auth`, at the request's own `X-Amz-Date`.

The headers handed to the SDK are the ones sent, less `Authorization` and the transport
headers the client chose not to sign (`TRANSPORT`): Huawei's, Alibaba's and botocore's
signers sign every header they are given, so a header the client sends but leaves out of its
signed set is a mismatch. Query strings are decoded as the servers decode them (form
decoding), so an encoding the server reads differently from the client is a mismatch too.

Prints `ok <family> <label>` or `MISMATCH <family> <label>: ...` per request, then
`verified N requests (...)`; exits 1 on any mismatch or unreadable input.
"""

import base64
import collections
import hashlib
import json
import sys
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

# Headers an HTTP client adds on its own, which no cloud requires to be signed.
TRANSPORT = {
    "accept",
    "accept-encoding",
    "user-agent",
    "content-length",
    "connection",
    "transfer-encoding",
    "expect",
}


class Request:
    def __init__(self, raw):
        self.raw = raw
        self.family = raw["family"]
        self.label = raw["label"]
        self.region = raw["region"]
        self.method = raw["method"]
        self.url = raw["url"]
        parts = urlsplit(self.url)
        self.host = parts.netloc
        self.path = parts.path or "/"
        self.query = parts.query
        self.headers = [(k.lower(), v) for k, v in raw["headers"]]
        self.body = base64.b64decode(raw["body_b64"])
        self.key_id = raw["key_id"]
        self.secret = raw["secret"]
        self.token = raw.get("token")

    def header(self, name):
        values = [v for k, v in self.headers if k == name.lower()]
        if len(values) != 1:
            raise Mismatch(f"expected one {name} header, got {values!r}")
        return values[0]

    def optional_header(self, name):
        values = [v for k, v in self.headers if k == name.lower()]
        return values[0] if values else None

    def query_pairs(self):
        """The query as the servers decode it (form decoding)."""
        return parse_qsl(self.query, keep_blank_values=True, strict_parsing=bool(self.query))

    def headers_to_sign(self, signed_by_client):
        """Every header sent, less Authorization and the unsigned transport headers."""
        return [
            (k, v)
            for k, v in self.headers
            if k != "authorization" and (k not in TRANSPORT or k in signed_by_client)
        ]


class Mismatch(Exception):
    pass


def signed_header_names(authorization):
    """The `SignedHeaders=` list of an Authorization header (any of the schemes)."""
    for part in authorization.replace(",", " ").split():
        if part.startswith("SignedHeaders="):
            return set(part[len("SignedHeaders="):].split(";"))
    return set()


def expect_equal(what, ours, sdk):
    if ours != sdk:
        raise Mismatch(f"{what} differs\n    client: {ours}\n    SDK:    {sdk}")


# --- Tencent Cloud API 3.0 (TC3-HMAC-SHA256) ------------------------------------------------


def tencent_client(req, sign_method=None, endpoint=None, req_method=None, path=None):
    from tencentcloud.cdb.v20170320.cdb_client import CdbClient
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    http = HttpProfile(endpoint=endpoint or req.host, reqMethod=req_method or req.method)
    profile = ClientProfile(signMethod=sign_method, httpProfile=http, language="en-US")
    cred = credential.Credential(req.key_id, req.secret, req.token)
    client = CdbClient(cred, req.region, profile)
    if path is not None:
        client._requestPath = path
    return client


def verify_tc3(req):
    from unittest import mock

    from tencentcloud.common.http.request import RequestInternal

    client = tencent_client(req)
    timestamp = int(req.header("x-tc-timestamp"))
    action = req.header("x-tc-action")
    params = json.loads(req.body) if req.body else {}
    # The SDK's own request for the same call at the same second: its headers must be ours.
    sdk = RequestInternal(req.host, req.method, req.path, header={})
    with mock.patch("tencentcloud.common.abstract_client.time.time", return_value=timestamp):
        client._build_req_with_tc3_signature(action, params, sdk)
    for name, value in sdk.header.items():
        if name in ("X-TC-RequestClient", "Authorization"):
            continue
        sent = req.optional_header(name)
        if name == "Content-Type" and sent is not None:
            # The Python SDK sends `application/json`, the API's documentation (and this
            # client) `application/json; charset=utf-8`: the same media type, both signed.
            sent = sent.split(";")[0].strip()
        expect_equal(f"header {name}", sent, value)
    # Its signature over the exact bytes the client sent.
    ours = RequestInternal(req.host, req.method, req.path, header={
        "Content-Type": req.header("content-type"),
        "Host": req.header("host"),
        "X-TC-Timestamp": str(timestamp),
    })
    ours.data = req.body
    date = datetime.utcfromtimestamp(timestamp).strftime("%Y-%m-%d")
    signature = client._get_tc3_signature(params, ours, date, client._service, req.secret)
    expected = (
        "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, "
        "Signature=%s" % (req.key_id, date, client._service, signature)
    )
    expect_equal("Authorization", req.header("authorization"), expected)


# --- Tencent Cloud API 2.0 (HmacSHA1 / HmacSHA256) ------------------------------------------


def verify_tencent_v2(req):
    from tencentcloud.common.sign import Sign

    params = dict(req.query_pairs())
    if len(params) != len(req.query_pairs()):
        raise Mismatch("a query parameter is repeated")
    sent = params.pop("Signature", None)
    if sent is None:
        raise Mismatch("no Signature parameter")
    method = params.get("SignatureMethod", "HmacSHA1")
    client = tencent_client(req, sign_method=method, path=req.path)
    source = client._format_sign_string(params)
    expect_equal("Signature", sent, Sign.sign(req.secret, source, method))
    expect_equal("SecretId", params.get("SecretId"), req.key_id)
    expect_equal("Token", params.get("Token"), req.token)


# --- Huawei Cloud (SDK-HMAC-SHA256) ---------------------------------------------------------


def verify_huawei(req):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer

    sent = req.header("authorization")
    headers = dict(req.headers_to_sign(signed_header_names(sent)))
    sdk = SdkRequest(
        method=req.method,
        schema="http",
        host=req.host,
        resource_path=req.path,
        query_params=req.query_pairs(),
        header_params=headers,
        body=req.body,
    )
    Signer(BasicCredentials(req.key_id, req.secret)).sign(sdk)
    expect_equal("Authorization", sent, sdk.header_params["Authorization"])


# --- Alibaba Cloud (ACS3-HMAC-SHA256) -------------------------------------------------------


def verify_acs3(req):
    from alibabacloud_tea_openapi.utils import Utils

    class TeaRequest:
        pass

    sent = req.header("authorization")
    sdk = TeaRequest()
    sdk.method = req.method
    sdk.pathname = req.path
    sdk.query = dict(req.query_pairs())
    sdk.headers = dict(req.headers_to_sign(signed_header_names(sent)))
    payload = hashlib.sha256(req.body).hexdigest()
    expect_equal("x-acs-content-sha256", req.header("x-acs-content-sha256"), payload)
    expected = Utils.get_authorization(sdk, "ACS3-HMAC-SHA256", payload, req.key_id, req.secret)
    expect_equal("Authorization", sent, expected)
    expect_equal("x-acs-security-token", req.optional_header("x-acs-security-token"), req.token)


# --- AWS (SigV4) ----------------------------------------------------------------------------


def verify_sigv4(req, service):
    from unittest import mock

    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    sent = req.header("authorization")
    amz_date = req.header("x-amz-date")
    headers = req.headers_to_sign(signed_header_names(sent))
    sdk = AWSRequest(method=req.method, url=req.url, data=req.body, headers=dict(headers))
    now = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    signer = botocore.auth.SigV4Auth(
        Credentials(req.key_id, req.secret, req.token), service, req.region
    )
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now):
        signer.add_auth(sdk)
    expect_equal("X-Amz-Date", amz_date, sdk.headers["X-Amz-Date"])
    expect_equal("Authorization", sent, sdk.headers["Authorization"])
    expect_equal("X-Amz-Security-Token", req.optional_header("x-amz-security-token"), req.token)


# --- STS exchanges (workload identity): unsigned, like the SDKs send them ------------------


def sdk_source(function):
    import inspect

    return inspect.getsource(function)


def verify_sts_unsigned(req):
    """The SDK sends the operation unsigned, and so does the client."""
    cloud = req.raw["cloud"]
    if cloud == "aws":
        import botocore.session

        model = botocore.session.get_session().get_service_model("sts")
        op = model.operation_model("AssumeRoleWithWebIdentity")
        expect_equal("botocore auth of AssumeRoleWithWebIdentity", op.auth_type, "none")
        signing = [k for k, _ in req.headers if k == "authorization" or k.startswith("x-amz-")]
        expect_equal("signing headers", signing, [])
    elif cloud == "alibaba":
        from alibabacloud_sts20150401.client import Client

        source = sdk_source(Client.assume_role_with_oidcwith_options)
        expect_equal("SDK auth_type of AssumeRoleWithOIDC",
                     "auth_type = 'Anonymous'" in source, True)
        signing = [k for k, _ in req.headers if k == "authorization" or k.startswith("x-acs-")]
        signing += [k for k, _ in req.query_pairs() if k in ("Signature", "AccessKeyId")]
        expect_equal("signing headers and parameters", signing, [])
    elif cloud == "huawei":
        from huaweicloudsdkiam.v3.iam_client import IamClient

        source = sdk_source(IamClient._create_token_with_id_token_http_info)
        expect_equal("SDK auth_settings of CreateTokenWithIdToken",
                     "auth_settings = []" in source, True)
        signing = [k for k, _ in req.headers
                   if k in ("authorization", "x-auth-token", "x-sdk-date", "x-security-token")]
        expect_equal("signing headers", signing, [])
    elif cloud == "tencent":
        from unittest import mock

        from tencentcloud.common import credential
        from tencentcloud.common.http.request import RequestInternal
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sts.v20180813.sts_client import StsClient

        # The SDK's unsigned path (`SkipSign`), as its documentation of
        # AssumeRoleWithWebIdentity asks: Authorization `SKIP`, no X-TC-Token.
        timestamp = int(req.header("x-tc-timestamp"))
        # en-US, as for the CDB calls: without it Tencent answers errors in the SDK's
        # default language (zh-CN), and the refusal lands in status as the user reads it.
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=req.host), language="en-US")
        # Credentials are required by the constructor, unused on this path.
        cred = credential.Credential("unused", "unused")
        client = StsClient(cred, req.header("x-tc-region"), profile)
        sdk = RequestInternal(req.host, req.method, req.path, header={})
        params = json.loads(req.body)
        with mock.patch("tencentcloud.common.abstract_client.time.time", return_value=timestamp):
            client._build_req_without_signature(req.header("x-tc-action"), params, sdk)
        for name, value in sdk.header.items():
            if name == "X-TC-RequestClient":
                continue
            sent = req.optional_header(name)
            if name == "Content-Type" and sent is not None:
                sent = sent.split(";")[0].strip()
            expect_equal(f"header {name}", sent, value)
        expect_equal("X-TC-Token", req.optional_header("x-tc-token"), None)
    else:
        raise Mismatch(f"no STS oracle for {cloud!r}")


VERIFIERS = {
    "sts-unsigned": verify_sts_unsigned,
    "tencent-tc3": verify_tc3,
    "tencent-v2": verify_tencent_v2,
    "huawei-sdk-hmac-sha256": verify_huawei,
    "alibaba-acs3": verify_acs3,
    "aws-sigv4": lambda req: verify_sigv4(req, "rds"),
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    counts = collections.Counter()
    failures = 0
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    for line in lines:
        req = Request(json.loads(line))
        verify = VERIFIERS.get(req.family)
        if verify is None:
            sys.exit(f"unknown family {req.family!r}")
        try:
            verify(req)
        except Mismatch as e:
            failures += 1
            print(f"MISMATCH {req.family} {req.label}: {e}")
            continue
        counts[req.family] += 1
        print(f"ok {req.family} {req.label}")
    summary = ", ".join(f"{family}: {n}" for family, n in sorted(counts.items()))
    print(f"verified {sum(counts.values())} requests ({summary}); {failures} mismatches")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
