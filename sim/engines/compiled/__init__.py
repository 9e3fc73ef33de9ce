"""The compiled engine: the kernels of :mod:`sim.model.rules` as numba functions, same numbers.

Each module of :mod:`sim.model.rules` states its rules once: the phase (the bookkeeping: moves,
counts, what the network hears) and its kernels in numpy, the per-person work, listed in its
``KERNELS``; that is the model's definition (``run.engine=numpy``). Most of a day's time at 10^4–10^6 people is not
arithmetic but the number of passes: each rule makes 10–40 numpy calls over its state's rows
(gathers, masks, draws, allocation), each a few microseconds of Python and a pass over memory.
This package has, for each rules module, a module of the same name with the compiled twin of
each of its kernels — the same name, parameters and results, in one or two compiled loops — so
that a phase costs a call and its people, not a few dozen calls (docs/performance.md). The
phases themselves are the same code for both engines: with ``run.engine=numba`` the model is
given these kernels (:func:`kernels`) instead of the numpy ones.

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

``tests/test_engines.py`` also checks that every kernel has its twin with the same parameters,
and the ``tests/test_kernels_*.py`` files give each pair the same inputs directly.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from types import SimpleNamespace

from sim.model.config import ConfigError
from sim.model.rules import KERNEL_MODULES


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
