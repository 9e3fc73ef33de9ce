"""The compiled engine: the migrant rules of :mod:`sim.model.model` as numba kernels, same numbers.

:class:`sim.model.model.MigrationModel` states each rule once, in numpy, and that is the model's
definition (``run.engine=numpy``). Most of a day's time at 10^4–10^6 people is not
arithmetic but the number of passes: each rule makes 10–40 numpy calls over its state's rows
(gathers, masks, draws, allocation), each a few microseconds of Python and a pass over memory.
This package does the same work for each phase in one or two compiled loops per phase, so
that a phase costs a call and its people, not a few dozen calls (docs/performance.md).

The contract: **the same numbers, bit for bit**, as the numpy rules — the same draws (the
streams' counter-based SplitMix64, :func:`sim.engines.compiled.common.u01`), the same allocation order
(:func:`first_k`, :func:`first_k_by_group`), the same floating-point operations in the same
dtypes. ``tests/test_engines.py`` runs both engines on many configurations and compares every
column of the daily table and every person's every attribute exactly. To keep that true:

- transcendental functions (``exp``, ``log``) stay in numpy: numpy's SIMD versions and the C
  library's (which numba calls) differ in the last bit for some arguments;
- a Python float meeting a float32 array is a float32 in numpy 2 (NEP 50), but a float64 in
  numba: cast it (``np.float32(p)``) wherever numpy would compute in float32;
- a float sum over an array (``arr.sum()``) is pairwise in numpy: leave it to numpy.

A phase of :class:`MigrationModel` marked ``@compiled_variant`` is done by the function of the
same name in this package's module listed in :data:`PHASES` when the engine is numba; every
other phase runs as numpy. Each such function takes the model and does the whole phase.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from sim.model.config import ConfigError
from sim.model.rules import KERNEL_MODULES

# phase -> the module of sim.engines.compiled that holds its compiled form
PHASES = {
    "intend": "intend",
    "sell_packages": "sell",
    "apply_for_visas": "visas",
    "collect_visas": "visas",
    "fly": "fly",
    "live_in_belarus": "belarus",
    "go_home": "belarus",
    "leave_minsk": "belarus",
    "resolve_border": "border",
}


def available() -> bool:
    """Whether numba is installed."""
    return importlib.util.find_spec("numba") is not None


def members_kernel() -> Callable:
    """The compiled tidying of a state's member list (:meth:`sim.model.population.Population.ids`)."""
    from sim.engines.compiled.common import members_in

    return members_in


def kernels() -> SimpleNamespace:
    """The compiled kernels, by name: for each module of :data:`sim.model.rules.KERNEL_MODULES`,
    the names in its ``KERNELS`` taken from this package's module of the same name.

    Raises:
        ConfigError: numba is not installed.
        AttributeError: a kernel has no compiled twin (names the module and the kernel).
    """
    _require_numba()
    found = {}
    for rules in KERNEL_MODULES:
        group = rules.__name__.rsplit(".", 1)[1]
        module = importlib.import_module(f"{__name__}.{group}")
        for name in rules.KERNELS:
            if not hasattr(module, name):
                raise AttributeError(f"{rules.__name__} kernel {name!r} has no compiled twin in {module.__name__}")
            found[name] = getattr(module, name)
    return SimpleNamespace(**found)


def _require_numba() -> None:
    if not available():
        raise ConfigError("run.engine: 'numba' but numba is not installed here; allowed: numpy "
                          "(or install numba: `pip install -e .` depends on it)")


def phases(engine: str) -> dict[str, Callable[[Any], None]]:
    """The compiled phases for ``run.engine`` (an empty dict for numpy: every phase in numpy).

    Raises:
        ConfigError: ``engine`` is ``numba`` and numba is not installed.
    """
    if engine == "numpy":
        return {}
    _require_numba()
    found = {}
    for phase, module in PHASES.items():  # (while moving to kernels: the phases still here)
        fn = getattr(importlib.import_module(f"{__name__}.{module}"), phase, None)
        if fn is not None:
            found[phase] = fn
    return found
