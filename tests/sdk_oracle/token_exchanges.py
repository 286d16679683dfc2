"""The official auth libraries' side of the Google Cloud and Azure token exchanges (issue 29).

Usage: token_exchanges.py CASES.json RESULTS.json

For each case of CASES.json (written by tests/providers/sdk_token_exchanges.rs), runs the
exchange the way the official library does it, through the case's recording HTTPS proxy
(`HTTPS_PROXY`, set per case; the proxy's test CA is trusted through REQUESTS_CA_BUNDLE,
which the caller sets):

- google-auth: `google.auth.identity_pool.Credentials` from a file-sourced
  `external_account` credential configuration (what `gcloud iam workload-identity-pools
  create-cred-config --credential-source-file` writes), with or without
  `service_account_impersonation_url`, refreshed with the requests transport;
- msal: `ConfidentialClientApplication` with the ServiceAccount token as `client_assertion`,
  `acquire_token_for_client`;
- azure-identity: `WorkloadIdentityCredential` with the token file, `get_token`.

The Azure cloud's values come from the SDKs' own data, not from the test: the authority
host from `azure.identity.AzureAuthorityHosts`, the ARM endpoint and its credential scope
from `azure.mgmt.core.tools.get_arm_endpoints`.

Writes, per case, what the library exposes of the answer (token, expiry as epoch seconds)
and the cloud's values it used, as JSON. Exits 1 when a library call fails.
"""

import json
import os
import sys
import time
from datetime import timezone

GOOGLE_TOKEN_URL = "https://sts.googleapis.com/v1/token"
GOOGLE_IMPERSONATION_URL = (
    "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{}:generateAccessToken"
)
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"


def azure_cloud(name):
    """The cloud's authority host, ARM endpoint and ARM credential scope, from the SDKs."""
    from azure.core import AzureClouds
    from azure.identity import AzureAuthorityHosts
    from azure.mgmt.core.tools import get_arm_endpoints

    authority, sdk_cloud = {
        "public": (AzureAuthorityHosts.AZURE_PUBLIC_CLOUD, AzureClouds.AZURE_PUBLIC_CLOUD),
        "usgovernment": (AzureAuthorityHosts.AZURE_GOVERNMENT, AzureClouds.AZURE_US_GOVERNMENT),
        "china": (AzureAuthorityHosts.AZURE_CHINA, AzureClouds.AZURE_CHINA_CLOUD),
    }[name]
    arm = get_arm_endpoints(sdk_cloud)
    return {
        "authority_host": authority,
        "resource_manager": arm["resource_manager"],
        "credential_scopes": arm["credential_scopes"],
    }


def run_google(case):
    import google.auth.transport.requests
    from google.auth import identity_pool

    info = {
        "type": "external_account",
        "audience": case["audience"],
        "subject_token_type": JWT_TOKEN_TYPE,
        "token_url": GOOGLE_TOKEN_URL,
        "credential_source": {"file": case["token_file"]},
    }
    if case.get("email"):
        info["service_account_impersonation_url"] = GOOGLE_IMPERSONATION_URL.format(case["email"])
    creds = identity_pool.Credentials.from_info(info, scopes=case["scopes"])
    creds.refresh(google.auth.transport.requests.Request())
    return {
        "token": creds.token,
        "expiry": creds.expiry.replace(tzinfo=timezone.utc).timestamp(),
    }


def run_msal(case, cloud):
    import msal

    with open(case["token_file"], encoding="utf-8") as f:
        assertion = f.read().strip()
    app = msal.ConfidentialClientApplication(
        case["client_id"],
        client_credential={"client_assertion": assertion},
        authority="https://{}/{}".format(cloud["authority_host"], case["tenant"]),
    )
    before = time.time()
    result = app.acquire_token_for_client(scopes=[case["scope"]])
    if "access_token" not in result:
        raise RuntimeError("msal: {}".format(result))
    return {"token": result["access_token"], "expiry": before + result["expires_in"]}


def run_azure_identity(case, cloud):
    from azure.identity import WorkloadIdentityCredential

    credential = WorkloadIdentityCredential(
        tenant_id=case["tenant"],
        client_id=case["client_id"],
        token_file_path=case["token_file"],
        authority=cloud["authority_host"],
    )
    token = credential.get_token(case["scope"])
    return {"token": token.token, "expiry": float(token.expires_on)}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    results = {}
    failures = 0
    for case in cases:
        # Per case: requests reads the proxy from the environment at each request.
        os.environ["HTTPS_PROXY"] = os.environ["https_proxy"] = case["proxy"]
        result = {"library": case["library"]}
        try:
            if case["library"] == "google-auth":
                result.update(run_google(case))
            else:
                cloud = azure_cloud(case["cloud"])
                result["cloud"] = cloud
                # The ARM resource of the SDK's cloud data, + /.default (the v2 endpoint's
                # form of "this resource, the application's own permissions").
                case["scope"] = cloud["resource_manager"].rstrip("/") + "/.default"
                result["scope"] = case["scope"]
                run = run_msal if case["library"] == "msal" else run_azure_identity
                result.update(run(case, cloud))
            print("ok {}".format(case["name"]))
        except Exception as e:  # noqa: BLE001 - reported per case, with its type
            failures += 1
            result["error"] = "{}: {}".format(type(e).__name__, e)
            print("FAILED {}: {}".format(case["name"], result["error"]))
        results[case["name"]] = result
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    print("ran {} cases; {} failed".format(len(cases), failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
