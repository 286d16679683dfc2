"""Shared helpers of build_responses.py: the output record and time normalization.

The expected values are what the SDK's own deserializer read; times are also given
normalized to UTC here, with Python's datetime (not the operator's parser), so the Rust test
compares instants rather than spellings.
"""

import re
from datetime import datetime, timedelta, timezone

# One instant for every "start" and one for every "end", so a client that reads the wrong
# time field gets a different instant, never the same one by accident.
START = datetime(2025, 3, 4, 5, 6, 7, 123000, tzinfo=timezone.utc)
END = datetime(2025, 3, 4, 7, 8, 9, 456000, tzinfo=timezone.utc)
# Any other time field of a model (creation of the source instance, ...).
OTHER = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

CHINA = timezone(timedelta(hours=8))


def utc(value, zone_if_naive=None):
    """An SDK-read time (datetime, or text in ISO 8601 / `YYYY-MM-DD HH:MM:SS`) as UTC RFC 3339.

    Zone-less text is in `zone_if_naive`, which the caller takes from the provider's
    documentation (Tencent: Beijing time; Alibaba and ARM: UTC); `None` stays `None`.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        # Python 3.11 reads `Z`, `+08:00` and `+0800`; nanoseconds are cut to microseconds.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        if zone_if_naive is None:
            raise ValueError(f"zone-less time {value!r} without a documented zone")
        value = value.replace(tzinfo=zone_if_naive)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def case(provider, api, variant, job_id, body, content_type, expected):
    """One output line. `expected` holds what the SDK read: status, progress (number or the
    SDK's text), start/end (UTC, see `utc`), job_id, instance_ids, and per-API `detail`."""
    base = {
        "status": None,
        "progress": None,
        "start": None,
        "end": None,
        "job_id": job_id,
        "instance_ids": [],
        "detail": {},
    }
    base.update(expected)
    return {
        "provider": provider,
        "api": api,
        "variant": variant,
        "job_id": job_id,
        "body": body,
        "content_type": content_type,
        "expected": base,
    }


def sweep(provider, api, job_id, values, build):
    """One case per documented status value: `build(value)` returns (body, content_type,
    expected) with that status in an otherwise full response."""
    out = []
    for value in values:
        body, content_type, expected = build(value)
        out.append(case(provider, api, f"status:{value}", job_id, body, content_type, expected))
    return out
