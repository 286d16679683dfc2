#!/usr/bin/env python3
"""Builds provider API responses from the official SDKs' response models (issue 29, part 3).

Usage: target/sdk-venv/bin/python tests/sdk_oracle/build_responses.py [sts]

Run by tests/providers/sdk_responses.rs in the venv of scripts/sdk-venv.sh. Prints one JSON
line per response (with `sts`: the STS token-exchange answers instead, in the format of
responses_sts, for tests/providers/sdk_sts_responses.rs):

  {"provider", "api", "variant", "job_id", "body", "content_type",
   "expected": {"status", "progress", "start", "end", "job_id", "instance_ids", "detail"}}

`variant` is `full` (every member of the model filled, the job running so progress is the
provider's own), `required` (only what the model requires; see each module for what that is
where the model marks nothing required) or `status:<value>` (a full response with each
status value the model documents). `expected` is what the SDK's own deserializer read from
`body`, with times normalized to UTC (`responses_common.utc`), never a value of the
operator's code.

- responses_tencent: cdb 2017-03-20 `DescribeTasks`, `DescribeAsyncRequestInfo`
  (tencentcloud-sdk-python-cdb models, `_deserialize`). Tencent CDB API 2.0
  (`tencent-legacy`) has no SDK and is not covered.
- responses_huawei: RDS `ListJobInfo`, TaurusDB `ShowGaussMySqlJobInfo` (huaweicloudsdk*
  models, the SDK client's `deserialize`).
- responses_alibaba: RDS and PolarDB `DescribeHistoryTasks` (Tea models, `from_map`).
- responses_aws: RDS `DescribeExportTasks`, `DescribeDBSnapshots`,
  `DescribeDBClusterSnapshots`, `DescribeBlueGreenDeployments` (botocore shapes, query XML,
  botocore's `QueryParser`).
- responses_gcp_azure: Cloud SQL `Operation` (discovery document, `JsonModel`) and the ARM
  async-operation status (azure-mgmt-core's `AzureAsyncOperationPolling`).

Exits non-zero (with the traceback) when an SDK cannot build or read a response.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import responses_alibaba  # noqa: E402
import responses_aws  # noqa: E402
import responses_gcp_azure  # noqa: E402
import responses_huawei  # noqa: E402
import responses_sts  # noqa: E402
import responses_tencent  # noqa: E402


def main():
    count = 0
    modules = (responses_tencent, responses_huawei, responses_alibaba, responses_aws,
               responses_gcp_azure)
    if sys.argv[1:] == ["sts"]:
        modules = (responses_sts,)
    elif sys.argv[1:]:
        sys.exit(f"usage: {sys.argv[0]} [sts]")
    for module in modules:
        for line in module.cases():
            print(json.dumps(line, sort_keys=True))
            count += 1
    print(f"built {count} responses", file=sys.stderr)


if __name__ == "__main__":
    main()
