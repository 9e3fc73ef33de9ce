"""Write configs/params/default.yaml from the schema's defaults (sim/model/config.py), with units.

The behavioural parameters have one source of truth, the schema; this file makes them visible
and overridable in configs/ (Hydra needs every key present to override it without '+').
tests/test_docs.py fails if the YAML and the schema disagree. Run after changing a default:

    .venv/bin/python scripts/write_param_config.py
"""

from __future__ import annotations

from sim.running.docs import params_yaml
from sim.running.paths import CONFIG_DIR

OUT = CONFIG_DIR / "params" / "default.yaml"


if __name__ == "__main__":
    OUT.write_text(params_yaml(), encoding="utf-8")
    print(f"wrote {OUT}")
