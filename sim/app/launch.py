"""``corridor-app``: start the corridor explorer (sim/app/page.py) in a local web server.

Runs ``solara run sim/app/page.py --production --no-open`` bound to 127.0.0.1 (not reachable from
other machines unless ``--host`` says so), with Solara's telemetry off and its front-end assets
served from the installed ``solara-assets`` package: the page never asks a CDN (the CDN address
is pointed at this machine, so a file missing from the package fails visibly instead of being
fetched). Stop it with Ctrl-C.

    .venv/bin/corridor-app                 # http://127.0.0.1:8765
    .venv/bin/corridor-app --port 8800
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "page.py"  # the Solara page

# set before Solara is imported (it reads them once)
SOLARA_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_PROXY": "True",
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/cdn-disabled/",
    "MPLBACKEND": "Agg",
}


def server_command(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The solara command line the launcher runs (also used by tests/test_app.py)."""
    solara = Path(sys.executable).with_name("solara")
    exe = str(solara) if solara.exists() else (shutil.which("solara") or "solara")
    return [exe, "run", str(APP), "--host", host, "--port", str(port), "--production", "--no-open",
            "--log-level", "warning"]


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the server runs with: ``base`` (default: this one) and :data:`SOLARA_ENV`."""
    env = dict(os.environ if base is None else base)
    env.update(SOLARA_ENV)
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="corridor-app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    args = parser.parse_args(argv)
    cmd = server_command(args.host, args.port)
    print(f"corridor-app: open http://{args.host}:{args.port} in a browser (Ctrl-C stops the server)", flush=True)
    os.execve(cmd[0], cmd, server_env())


if __name__ == "__main__":
    main()
