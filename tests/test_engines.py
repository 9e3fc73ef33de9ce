"""The compiled engine (sim/engines/compiled) gives the numpy model's numbers, bit for bit.

Each configuration runs twice, ``run.engine=numpy`` and ``run.engine=numba``; every column of
the daily table (values and dtypes) and every person's every attribute at the end must be
equal. The kernels the compiled phases share are checked against their numpy twins too.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engines import compiled
from sim.model.allocate import allocate_by_group, allocate_fifo
from sim.model.model import MigrationModel
from sim.model.rng import Streams
from sim.model.rules import PHASES, numpy_kernels
from sim.running.compose import compose

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")

# (overrides) — sizes, seeds, and scenarios that pull every lever
CONFIGS = [
    ["population.size=20000"],
    ["population.size=12000", "run.seed=3"],
    ["population.size=30000", "run.seed=7", "scenario=no_flight_suspension"],
    ["population.size=20000", "scenario=early_flight_suspension"],
    ["population.size=20000", "run.seed=5", "scenario=triggered_response"],
    ["population.size=20000", "run.seed=11", "scenario=suspension_with_transit_bans"],
    ["population.size=20000", "scenario=no_levers"],
    ["population.size=20000", "run.seed=2", "scenario=early_repatriation"],
    ["population.size=20000", "scenario=visa_leverage"],
    ["population.size=3000", "run.seed=9", "scenario=early_consulate_closure"],
]


def run(overrides: list[str], engine: str) -> MigrationModel:
    model = MigrationModel(compose([*overrides, f"run.engine={engine}"]))
    model.run()
    return model


def assert_same_run(a: MigrationModel, b: MigrationModel) -> None:
    pd.testing.assert_frame_equal(a.recorder.frame(), b.recorder.frame(), check_exact=True)
    for name, col in vars(a.people).items():
        if isinstance(col, np.ndarray):
            other = getattr(b.people, name)
            assert col.dtype == other.dtype and np.array_equal(col, other), f"people.{name} differs"


def test_every_kernel_has_a_compiled_twin_with_the_same_parameters() -> None:
    """Each kernel a rules module lists (``KERNELS``) exists in the compiled module of the same
    name with the same parameters, and the numba engine's model uses those twins: a kernel added
    or changed on one side only fails here."""
    numpy_side = numpy_kernels()
    model = MigrationModel(compose(["population.size=100", "run.engine=numba"]))
    assert vars(numpy_side) and set(vars(model.kernels)) == set(vars(numpy_side))
    for name, kernel in vars(numpy_side).items():
        twin = getattr(model.kernels, name)
        assert twin is not kernel and twin.__module__.startswith("sim.engines.compiled.")
        params = list(inspect.signature(getattr(twin, "py_func", twin)).parameters)
        assert params == list(inspect.signature(kernel).parameters), name


def test_no_phase_runs_whole_in_the_compiled_engine() -> None:
    """The compiled engine provides kernels only: every phase of the day is the same function
    for both engines (its bookkeeping written once, in sim/model/rules/)."""
    model = MigrationModel(compose(["population.size=100", "run.engine=numba"]))
    assert model.phases == PHASES


@pytest.mark.parametrize("overrides", CONFIGS, ids=lambda o: " ".join(o))
def test_numba_engine_gives_the_numpy_models_numbers(overrides: list[str]) -> None:
    assert_same_run(run(overrides, "numpy"), run(overrides, "numba"))


@pytest.mark.slow
def test_numba_engine_at_the_default_size_and_above_the_pool() -> None:
    for overrides in (["population.size=250000"], ["population.size=400000", "run.seed=4"]):
        assert_same_run(run(overrides, "numpy"), run(overrides, "numba"))


# ---- the shared kernels against their numpy twins -----------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), day=st.integers(-1, 500), ids=st.lists(st.integers(0, 10**7), max_size=40))
def test_u01_is_the_streams_draw(seed: int, day: int, ids: list[int]) -> None:
    from sim.engines.compiled.common import u01

    s = Streams(seed, 10**7 + 1)
    key = s.counter_key("attempt", day)
    expected = s.uniform("attempt", day, np.array(ids, dtype=np.int64)).tolist()
    assert [u01(key, i) for i in ids] == expected


ties = st.integers(0, 2**24 - 1).map(lambda k: np.float32(k / 2**24))


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_first_k_is_allocate_fifo(data: st.DataObject) -> None:
    from sim.engines.compiled.common import first_k

    n = data.draw(st.integers(0, 60))
    day = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), dtype=np.int16)
    tie = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.5]) | ties, min_size=n, max_size=n)), dtype=np.float32)
    k = data.draw(st.integers(-1, n + 2))
    assert np.array_equal(first_k(k, day, tie), allocate_fifo(k, day, tie))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_first_k_by_group_is_allocate_by_group(data: st.DataObject) -> None:
    from sim.engines.compiled.common import first_k_by_group

    n = data.draw(st.integers(0, 120))
    groups = data.draw(st.integers(1, 5))
    group = np.array(data.draw(st.lists(st.integers(0, groups - 1), min_size=n, max_size=n)), dtype=np.int64)
    day = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), dtype=np.int16)
    tie = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.5]) | ties, min_size=n, max_size=n)), dtype=np.float32)
    capacity = np.array(data.draw(st.lists(st.floats(-1, 30), min_size=groups, max_size=groups)))
    cap = np.floor(np.maximum(capacity, 0)).astype(np.int64)
    assert np.array_equal(first_k_by_group(group, cap, day, tie), allocate_by_group(group, capacity, day, tie))
