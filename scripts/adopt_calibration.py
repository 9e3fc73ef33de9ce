"""Make a calibration's best set the default config (docs/calibration.md, "The defaults").

    .venv/bin/python scripts/adopt_calibration.py results/calibration/full [--digits 3]

Writes each value of ``<fit>/best.json``, rounded to ``--digits`` significant figures, where the
default lives, for the world and scenario the fit ran (its spec's overrides, composed): a key of
the shared behavioural core (``intention.network_gain``) as the default in the schema of
``sim/model/config.py``; a key that differs by world (``sim.model.config.WORLD_BEHAVIOUR``) in
``configs/behaviour/<world>.yaml``; a world key (``world.segments.<id>.guard_capacity_per_day``,
``world.origins.<name>.push``, ``world.transit.exit_control``) in ``configs/world/<world>.yaml``;
a lever's parameter (``levers.<name>.<param>``) in the scenario file that defines that lever.
Then regenerates ``configs/params/default.yaml``. Prints every change. Afterwards, run
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
CONFIGS = ROOT / "configs"


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
    """Replace ``field: value`` in the row of ``world.<table>.<id or name>.<field>``, or the value of
    a key of a world section (``world.transit.exit_control``); return (text, old)."""
    parts = dotted.split(".")
    if len(parts) == 3:  # world.<section>.<key>: an indented key of the section
        return replace_in_block(text, parts[1], parts[2], dotted, value)
    _, table, ident, field = parts
    row = re.compile(rf"^\s+- \{{(id|name): {re.escape(ident)},.*$", re.M)
    m = row.search(text)
    if m is None:
        raise SystemExit(f"{dotted}: no row {ident!r} in the world file")
    line = m.group(0)
    f = re.search(rf"\b{field}: ([^,}}]+)", line)
    if f is None:
        raise SystemExit(f"{dotted}: the row {ident!r} has no {field}")
    new_line = line[: f.start(1)] + value + line[f.end(1):]
    return text[: m.start()] + new_line + text[m.end():], f.group(1)


def _block(text: str, block: str, dotted: str) -> tuple[int, int]:
    """(start, end) of the lines under ``block:`` (until a line indented no deeper than it)."""
    head = re.search(rf"^( *){re.escape(block)}:\s*$", text, re.M)
    if head is None:
        raise SystemExit(f"{dotted}: no block {block!r}")
    indent = len(head.group(1))
    end = re.search(rf"^ {{0,{indent}}}\S", text[head.end():], re.M)
    return head.end(), head.end() + end.start() if end else len(text)


def replace_in_block(text: str, block: str, key: str, dotted: str, value: str) -> tuple[str, str]:
    """Replace the value of ``key:`` inside the YAML block ``block:``; return (text, old value)."""
    start, end = _block(text, block, dotted)
    m = re.compile(rf"^( +{re.escape(key)}: )([^ #\n]+)", re.M).search(text, start, end)
    if m is None:
        raise SystemExit(f"{dotted}: no key {key!r} in the block {block!r}")
    return text[: m.start(2)] + value + text[m.end(2):], m.group(2)


def lever_file(lever: str) -> Path | None:
    """The scenario file that defines ``lever`` (its block has a ``kind``), not one that only
    switches it on or off."""
    for path in sorted((CONFIGS / "scenario").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if not re.search(rf"^  {re.escape(lever)}:\s*$", text, re.M):
            continue
        start, end = _block(text, lever, lever)
        if re.search(r"^    kind:", text[start:end], re.M):
            return path
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fit", type=Path, help="a finished calibration folder (holds best.json)")
    ap.add_argument("--digits", type=int, default=3, help="significant figures (default 3)")
    args = ap.parse_args()
    from sim.model.config import WORLD_BEHAVIOUR
    from sim.running.compose import compose

    best = json.loads((args.fit / "best.json").read_text(encoding="utf-8"))["parameters"]
    overrides = json.loads((args.fit / "spec.json").read_text(encoding="utf-8")).get("overrides", [])
    cfg = compose(list(overrides))
    files = {"code": CONFIG_PY, "world": CONFIGS / "world" / f"{cfg.world.name}.yaml",
             "behaviour": CONFIGS / "behaviour" / f"{cfg.world.name}.yaml"}
    text = {k: p.read_text(encoding="utf-8") for k, p in files.items()}
    from sim.model.config import sampled_value

    for key, v in best.items():
        # a whole-number key (border.retry_days) as the runs had it: rounded to the nearest integer
        value = str(sampled_value(key, v)) if isinstance(sampled_value(key, v), int) else rounded(v, args.digits)
        if key.startswith("world."):
            text["world"], old = set_world_value(text["world"], key, value)
        elif key.startswith("levers."):
            _, lever, param = key.split(".")
            path = lever_file(lever)
            if path is None:
                raise SystemExit(f"{key}: no scenario file defines the lever {lever!r} (with its kind)")
            files.setdefault(path.name, path)
            text.setdefault(path.name, path.read_text(encoding="utf-8"))
            text[path.name], old = replace_in_block(text[path.name], lever, param, key, value)
        elif key in WORLD_BEHAVIOUR:
            section, name = key.split(".")
            text["behaviour"], old = replace_in_block(text["behaviour"], section, name, key, value)
        else:
            text["code"], old = set_schema_default(text["code"], key, value)
        print(f"{key}: {old} -> {value}")
    for k, p in files.items():
        p.write_text(text[k], encoding="utf-8")
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "write_param_config.py")], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
