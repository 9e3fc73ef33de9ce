"""Corridor: an agent-based simulator of an irregular migration corridor and of the policy
levers that open and close it.

The package is laid out as the architecture (README, "Layout"):

- :mod:`sim.model` — the model: the day's wiring and its parts (world, people, institutions,
  levers, allocation, random streams, record);
- :mod:`sim.engines` — other forms of the migrant rules (compiled kernels; the reference model);
- :mod:`sim.running` — the command line, composing configs, one run, figures, paths;
- :mod:`sim.studies` — sweeps, sensitivity, calibration, ensembles and their reports, targets;
- :mod:`sim.app` — the interactive explorer.

The public API, importable from here (loaded on first use, so ``import sim`` stays light)::

    from sim import MigrationModel, compose, run
    result = run(compose(["population.size=20000"]), out_dir="results/mine")
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> module that defines it
_API = {
    "MigrationModel": "sim.model.model",
    "check_config": "sim.model.model",
    "Config": "sim.model.config",
    "ConfigError": "sim.model.config",
    "load_config": "sim.model.config",
    "compose": "sim.running.compose",
    "compose_dict": "sim.running.compose",
    "run": "sim.running.run",
    "RunResult": "sim.running.run",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
