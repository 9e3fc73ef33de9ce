#!/usr/bin/env bash
# Set up Corridor in ./.venv: find a Python >= 3.12 (PATH first, then pyenv's versions),
# create the virtual environment, install the locked environment (requirements/lock.txt, with
# hashes) and the project itself, editable, with its test tools.
# Idempotent: re-running returns at once unless the lock or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/find_python.sh

# The environment is requirements/lock.txt, exactly: every package pinned, each file checked
# against its hash. A changed lock builds .venv anew (so nothing outside the lock survives in
# it); a changed pyproject.toml reinstalls only the project. Refresh the lock: bash scripts/lock.sh
lock=requirements/lock.txt
env_stamp=.venv/.corridor-lock
proj_stamp=.venv/.corridor-installed
digest() { local f; for f in "$@"; do [ ! -f "$f" ] || cat "$f"; done | sha256sum | cut -d' ' -f1; }
want_env=$(digest "$lock" requirements/build.in)
want_proj=$(digest "$lock" pyproject.toml setup.py)

if [ -x .venv/bin/python ] && [ "$(cat "$env_stamp" 2>/dev/null)" != "$want_env" ]; then
    echo "setup: $lock differs from what .venv was built with: building .venv anew"
    rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
    if ! PY=$(find_python); then
        echo "setup: Corridor needs Python >= 3.12 (Mesa 3.5 requires it)." >&2
        echo "       None was found on PATH or under pyenv's versions." >&2
        echo "       Install one (e.g. 'pyenv install 3.12') or set CORRIDOR_PYTHON=/path/to/python3.12." >&2
        exit 1
    fi
    echo "setup: creating .venv with $PY ($("$PY" --version))"
    "$PY" -m venv .venv
fi

pip=(.venv/bin/python -m pip --disable-pip-version-check)
if [ "$(cat "$env_stamp" 2>/dev/null)" != "$want_env" ]; then
    echo "setup: installing the locked environment ($lock) into .venv (about 2 minutes the first time)"
    log=.venv/pip-install.log
    if ! "${pip[@]}" install --require-hashes --no-deps -r "$lock" >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "setup: the install failed; the full log is $log" >&2
        exit 1
    fi
    echo "$want_env" > "$env_stamp"
fi
if [ "$(cat "$proj_stamp" 2>/dev/null)" != "$want_proj" ]; then
    log=.venv/pip-install-project.log
    # the project alone, editable, with the locked build backend: nothing resolved anew
    if ! { "${pip[@]}" install --no-deps --no-build-isolation -e . && "${pip[@]}" check; } >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "setup: installing the project failed, or the locked set is inconsistent; the full log is $log" >&2
        exit 1
    fi
    .venv/bin/python -c "import sim, mesa" || { echo "setup: installed, but 'import sim, mesa' fails" >&2; exit 1; }
    echo "$want_proj" > "$proj_stamp"
fi

# The browser test (tests/test_app.py) drives Debian's chromium through playwright's Python
# package; `playwright install` would download a browser, which is blocked here. Installed once
# (apt-get update + install, about a minute); a no-op when present. Without it the app still
# runs; only that test fails, saying why.
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian's chromium for the browser test (apt-get; about a minute)"
        if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } \
                >.venv/apt-chromium.log 2>&1; then
            tail -20 .venv/apt-chromium.log >&2
            echo "setup: could not install chromium (log: .venv/apt-chromium.log); tests/test_app.py will fail" >&2
        fi
    else
        echo "setup: /usr/bin/chromium is missing and apt-get cannot run here (not root, or no apt):" >&2
        echo "       install Debian's chromium ('apt-get install chromium') for tests/test_app.py, which fails without it" >&2
    fi
fi
