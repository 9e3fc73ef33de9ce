#!/usr/bin/env bash
# Set up Corridor in ./.venv: find a Python >= 3.12 (PATH first, then pyenv's versions),
# create the virtual environment and install the project with its test tools.
# Idempotent: re-running only reinstalls when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    local cand v
    for cand in "${CORRIDOR_PYTHON:-}" python3.12 python3 python3.13 python; do
        [ -n "$cand" ] || continue
        command -v "$cand" >/dev/null 2>&1 || continue
        v=$("$cand" -c 'import sys; print(int(sys.version_info >= (3, 12)))' 2>/dev/null) || continue
        if [ "$v" = "1" ]; then command -v "$cand"; return 0; fi
    done
    local root
    root=$( (command -v pyenv >/dev/null 2>&1 && pyenv root) || echo "$HOME/.pyenv")
    # 3.12 first: the whole stack (Ray, Solara) was checked on it; then newer ones.
    for cand in $(ls -d "$root"/versions/3.12*/bin/python3 2>/dev/null | sort -V -r) \
                $(ls -d "$root"/versions/3.1[3-9]*/bin/python3 2>/dev/null | sort -V); do
        v=$("$cand" -c 'import sys; print(int(sys.version_info >= (3, 12)))' 2>/dev/null) || continue
        if [ "$v" = "1" ]; then echo "$cand"; return 0; fi
    done
    return 1
}

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

stamp=.venv/.corridor-installed
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing Corridor and its dependencies into .venv (about 2 minutes the first time)"
    log=.venv/pip-install.log
    if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip \
           && .venv/bin/python -m pip install --disable-pip-version-check -e ".[dev]"; } >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "setup: the install failed; the full log is $log" >&2
        exit 1
    fi
    .venv/bin/python -c "import sim, mesa" || { echo "setup: installed, but 'import sim, mesa' fails" >&2; exit 1; }
    echo "$want" > "$stamp"
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
