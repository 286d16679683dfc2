#!/usr/bin/env bash
# Creates (or updates) target/sdk-venv, a Python venv with the official cloud SDKs pinned in
# scripts/sdk-requirements.txt, and prints its python's path. A no-op when the venv already
# holds exactly that list (its stamp, target/sdk-venv/sdks.txt); needs PyPI otherwise.
# Serialized with flock: tests and scripts may call it at the same time.
#
# Users: scripts/gen-endpoints.py and gen-error-codes.py (generated tables), the SDK oracle
# tests (tests/providers/sdk_*.rs with tests/sdk_oracle/*.py: signers, request models,
# response models, token exchanges), scripts/test.sh (creates it before `cargo test`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SDK_VENV:-$root/target/sdk-venv}"
requirements="$root/scripts/sdk-requirements.txt"
# The pins without comments and blank lines, newline-separated, no trailing newline.
pins="$(grep -v '^[[:space:]]*#' "$requirements" | sed '/^[[:space:]]*$/d')"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ ! -x "$venv/bin/python" || ! -f "$venv/sdks.txt" || "$(cat "$venv/sdks.txt")" != "$pins" ]]; then
  start=$SECONDS
  echo "sdk-venv: installing the pinned SDKs into $venv (PyPI)" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" >&2
  printf '%s' "$pins" >"$venv/sdks.txt"
  echo "sdk-venv: ready in $((SECONDS - start))s" >&2
fi
echo "$venv/bin/python"
