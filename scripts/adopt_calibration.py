"""Make a calibration's best set the default config (docs/calibration.md, "The defaults").

    .venv/bin/python scripts/adopt_calibration.py results/calibration/full [--digits 3]

Writes each value of ``<fit>/best.json``, rounded to ``--digits`` significant figures, where the
default lives: a behavioural key (``intention.network_gain``) as the default in the schema of
``sim/model/config.py``; a world key (``world.segments.poland.guard_capacity_per_day``,
``world.origins.Baghdad.push``) in its row of ``configs/world/iraq_belarus_2021.yaml``. Then
regenerates ``configs/params/default.yaml``. Prints every change. Afterwards, run
``scripts/update_regression_baseline.py`` and ``experiments/validate_default.py`` and update
the named misses in ``tests/test_targets.py`` (the defaults' results have changed on purpose).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import typing
from pathlib import Path

from sim.studies.calibration import rounded

ROOT = Path(__file__).resolve().parent.parent
CONFIG_PY = ROOT / "sim" / "model" / "config.py"
WORLD = ROOT / "configs" / "world" / "iraq_belarus_2021.yaml"


def set_schema_default(text: str, dotted: str, value: str) -> tuple[str, str]:
    """Replace the default of ``section.key`` in sim/model/config.py's schema; return (text, old value)."""
    from sim.model.config import Config

    section, key = dotted.split(".")
    cls = typing.get_type_hints(Config)[section].__name__
    start = re.search(rf"^class {cls}\b.*$", text, re.M)
    if start is None:
        raise SystemExit(f"{dotted}: class {cls} not found in {CONFIG_PY}")
    line = re.compile(rf"^(\s+{key}: \w+ = \w+\()([^,)]+)", re.M)
    m = line.search(text, start.end())
    if m is None or re.search(r"^class ", text[start.end():m.start()], re.M):
        raise SystemExit(f"{dotted}: no default for {key} in class {cls} of {CONFIG_PY}")
    return text[: m.start(2)] + value + text[m.end(2):], m.group(2)


def set_world_value(text: str, dotted: str, value: str) -> tuple[str, str]:
    """Replace ``field: value`` in the row of ``world.<table>.<id or name>.<field>``; return (text, old)."""
    _, table, ident, field = dotted.split(".")
    row = re.compile(rf"^\s+- \{{(id|name): {re.escape(ident)},.*$", re.M)
    m = row.search(text)
    if m is None:
        raise SystemExit(f"{dotted}: no row {ident!r} in {WORLD}")
    line = m.group(0)
    f = re.search(rf"\b{field}: ([^,}}]+)", line)
    if f is None:
        raise SystemExit(f"{dotted}: the row {ident!r} has no {field}")
    new_line = line[: f.start(1)] + value + line[f.end(1):]
    return text[: m.start()] + new_line + text[m.end():], f.group(1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fit", type=Path, help="a finished calibration folder (holds best.json)")
    ap.add_argument("--digits", type=int, default=3, help="significant figures (default 3)")
    args = ap.parse_args()
    best = json.loads((args.fit / "best.json").read_text(encoding="utf-8"))["parameters"]
    code, world = CONFIG_PY.read_text(encoding="utf-8"), WORLD.read_text(encoding="utf-8")
    for key, v in best.items():
        value = rounded(v, args.digits)
        if key.startswith("world."):
            world, old = set_world_value(world, key, value)
        else:
            code, old = set_schema_default(code, key, value)
        print(f"{key}: {old} -> {value}")
    CONFIG_PY.write_text(code, encoding="utf-8")
    WORLD.write_text(world, encoding="utf-8")
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "write_param_config.py")], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
