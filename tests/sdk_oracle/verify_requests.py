#!/usr/bin/env python3
"""Checks captured requests' parameters against the official SDKs' models of the operation.

Usage: target/sdk-venv/bin/python tests/sdk_oracle/verify_requests.py REQUESTS.jsonl

Run by tests/providers/sdk_requests.rs in the venv of scripts/sdk-venv.sh. Each input line is
one request a provider client really sent to a local capture server:

  {"check": "api" | "exchange", "provider", "api" | "step", "label", "inputs": {...},
   "method", "url", "headers": [[name, value], ...], "body_b64"}

`inputs` are the values the job (or identity) gave the client: the job's parameter must
carry them. For each request: method and path against the SDK's (template), each parameter's
name (exact casing), type and the required ones against the SDK's model, and, where the SDK
can build the call itself (request_models.py), the parameters it would send for the same
values must equal the client's. The checks per provider API are in api_checks.py, those of
the workload-identity exchanges in exchange_checks.py; what no SDK models is said there.

Prints `ok <provider> <api|exchange> <label>` or `MISMATCH <provider> ...: why` per request,
then `checked N requests; M mismatches`; exits 1 on any mismatch.
"""

import json
import sys

from api_checks import API_CHECKS
from exchange_checks import EXCHANGE_CHECKS
from request_models import Mismatch, Request


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    checked = failures = 0
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    for line in lines:
        raw = json.loads(line)
        req = Request(raw)
        provider = raw["provider"]
        if raw["check"] == "api":
            check, what = API_CHECKS[provider], raw["api"]
        else:
            check, what = EXCHANGE_CHECKS[provider], "exchange"
        try:
            check(req)
        except Mismatch as e:
            failures += 1
            print(f"MISMATCH {provider} {what} {raw['label']}: {e}")
            continue
        except Exception as e:  # an SDK refusing the request outright is a mismatch too
            failures += 1
            print(f"MISMATCH {provider} {what} {raw['label']}: {type(e).__name__}: {e}")
            continue
        checked += 1
        print(f"ok {provider} {what} {raw['label']}")
    print(f"checked {checked} requests; {failures} mismatches")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
