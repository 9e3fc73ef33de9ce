#!/usr/bin/env bash
# Refresh requirements/lock.txt: every package of the environment that scripts/setup.sh installs
# (Corridor's dependencies with the dev, sweep and app extras, and the build tools), each pinned
# to one version with the hashes of all its files, for Python 3.12 on Linux, macOS and Windows.
#
#     bash scripts/lock.sh            # resolve the newest versions pyproject.toml allows
#
# Run it when pyproject.toml's dependencies change, or to move to newer releases on purpose;
# then run the test suite (`bash scripts/setup.sh && .venv/bin/python -m pytest`) and commit
# the lock with the results it gives. The resolver is uv, itself pinned here and installed in a
# throw-away virtual environment (nothing is added to .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.8

source scripts/find_python.sh
PY=$(find_python) || { echo "lock: needs Python >= 3.12 (see scripts/setup.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PY" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
"$tmp/venv/bin/uv" pip compile --quiet pyproject.toml requirements/build.in \
    --extra dev --universal --python-version 3.12 --generate-hashes \
    --custom-compile-command "bash scripts/lock.sh" \
    --output-file requirements/lock.txt
echo "lock: wrote requirements/lock.txt ($(grep -c '==' requirements/lock.txt) packages)"
