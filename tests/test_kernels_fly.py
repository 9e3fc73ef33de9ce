"""The flights phase's kernels (sim/model/rules/fly.py) and their compiled twins.

The twins, given the same random inputs (seeded), return the same things (ids in the same
order) and change the people's columns in place the same way, exactly; and each kernel does
what its rule says on tiny hand-made inputs.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from sim.engines import compiled
from sim.model.rules import fly as numpy_fly

needs_numba = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")
DAY, REBOOK, STRANDED, USD, EXTRA_DAYS = 100, 10, 21, np.float32(700.0), 3
KEYS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(12345))  # a hub.choice-like key, a second stream's


def twin(engine: str):
    """The module whose kernels are used: the numpy rules or the compiled twins."""
    return numpy_fly if engine == "numpy" else importlib.import_module("sim.engines.compiled.fly")


ENGINES = ["numpy", pytest.param("numba", marks=needs_numba)]


# ---- random inputs ----------------------------------------------------------------------------

def random_world(rng: np.random.Generator, n_hubs: int) -> dict:
    """Routes, origins, nationalities and hubs as the world holds them (same dtypes)."""
    n_routes, n_origins, n_nat = int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    return dict(
        in_service=rng.random(n_routes) < 0.8,
        flights_per_week=rng.integers(0, 15, n_routes).astype(np.int64),
        route_seats=rng.integers(50, 300, n_routes).astype(np.int64),
        route_share=rng.random(n_routes),
        boarding_ok=rng.random((n_routes, n_nat)) < 0.7,
        direct=rng.random((n_origins, n_routes)) < 0.4,
        route_from_hub=rng.integers(-1, n_hubs, n_routes).astype(np.int64),
        n_hubs=n_hubs,
        route_entry=rng.integers(0, 3, n_routes).astype(np.int64),  # three entry points
    )


def random_people(rng: np.random.Generator, world: dict, n: int) -> dict:
    """People's columns (Population's dtypes) and who is ticketed (tk) and in transit (tr)."""
    n_origins, n_nat = world["direct"].shape[0], world["boarding_ok"].shape[1]
    state = rng.integers(0, 3, n)  # 0: elsewhere, 1: ticketed, 2: in transit (only with hubs)
    if world["n_hubs"] == 0:
        state[state == 2] = 0
    return dict(
        tk=np.flatnonzero(state == 1).astype(np.int64),
        tr=np.flatnonzero(state == 2).astype(np.int64),
        origin=rng.integers(0, n_origins, n).astype(np.int8),
        nationality=rng.integers(0, n_nat, n).astype(np.int8),
        day_entered=rng.integers(DAY - 40, DAY + 1, n).astype(np.int16),
        day_due=rng.integers(DAY - 40, DAY + 5, n).astype(np.int16),
        hub=np.where(state == 2, rng.integers(0, max(world["n_hubs"], 1), n), -1).astype(np.int8),
        savings=np.where(rng.random(n) < 0.2, USD, rng.random(n) * 1500).astype(np.float32),
        spent=(rng.random(n) * 100).astype(np.float32),
        day_arrived=np.full(n, -1, dtype=np.int16),
        entry=np.full(n, -1, dtype=np.int8),
        returns=rng.integers(0, 3, n).astype(np.int8),
    )


def queue_args(pp: dict, world: dict) -> tuple:
    return (pp["tk"], pp["tr"], pp["origin"], pp["nationality"], pp["day_entered"], pp["day_due"], pp["hub"],
            pp["savings"], pp["spent"], world["in_service"], world["flights_per_week"], world["route_seats"],
            world["route_share"], world["boarding_ok"], world["direct"], world["route_from_hub"], world["n_hubs"],
            DAY, REBOOK, STRANDED, USD, EXTRA_DAYS, KEYS[0])


def seat_args(pp: dict, world: dict, queued: tuple, order: np.ndarray, seats: np.ndarray) -> tuple:
    pool, n_tk, hub_w, share, hub_ok = queued[:5]
    return (pool, n_tk, order, seats, world["boarding_ok"], world["direct"], world["route_from_hub"], pp["origin"],
            pp["nationality"], pp["hub"], pp["day_entered"], pp["day_due"], pp["day_arrived"], pp["returns"],
            pp["savings"], pp["spent"], hub_w, share, hub_ok, DAY, STRANDED, USD, KEYS[0], KEYS[1],
            world["route_entry"], pp["entry"])


def copy(pp: dict) -> dict:
    return {name: col.copy() for name, col in pp.items()}


def assert_same(a: tuple, b: tuple) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)
        else:
            assert int(x) == int(y)


def assert_same_columns(a: dict, b: dict) -> None:
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name


# ---- the twins agree --------------------------------------------------------------------------

@needs_numba
@pytest.mark.parametrize("seed", range(40))
def test_queue_and_reroute_twins_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    world = random_world(rng, n_hubs=int(rng.integers(0, 4)))
    pp = random_people(rng, world, n=int(rng.choice([0, 1, 5, 300])))
    a, b = copy(pp), copy(pp)
    assert_same(numpy_fly.queue_and_reroute(*queue_args(a, world)), twin("numba").queue_and_reroute(*queue_args(b, world)))
    assert_same_columns(a, b)


@needs_numba
@pytest.mark.parametrize("seed", range(40))
def test_seat_and_strand_twins_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    world = random_world(rng, n_hubs=int(rng.integers(0, 4)))
    pp = random_people(rng, world, n=int(rng.choice([0, 1, 5, 300])))
    queued = numpy_fly.queue_and_reroute(*queue_args(pp, world))
    n_routes = world["route_seats"].size
    order = rng.permutation(n_routes) if queued[0].size else np.zeros(0, dtype=np.int64)
    seats = np.where(rng.random(n_routes) < 0.2, 0, rng.integers(0, 40, n_routes)).astype(np.int64)
    a, b = copy(pp), copy(pp)
    assert_same(numpy_fly.seat_and_strand(*seat_args(a, world, queued, order, seats)),
                twin("numba").seat_and_strand(*seat_args(b, world, queued, order, seats)))
    assert_same_columns(a, b)


# ---- what the rule means, on tiny hand-made inputs ----------------------------------------------

def small_world(n_hubs: int = 1) -> dict:
    """One origin, one nationality; route 0 direct from the origin, route h + 1 from hub h."""
    n_routes = n_hubs + 1
    return dict(
        in_service=np.ones(n_routes, dtype=bool),
        flights_per_week=np.full(n_routes, 7, dtype=np.int64),
        route_seats=np.full(n_routes, 100, dtype=np.int64),
        route_share=np.full(n_routes, 0.5),
        boarding_ok=np.ones((n_routes, 1), dtype=bool),
        direct=np.eye(1, n_routes, dtype=bool),
        route_from_hub=np.arange(-1, n_hubs, dtype=np.int64),
        n_hubs=n_hubs,
        route_entry=np.arange(n_routes, dtype=np.int64) % 2,
    )


def small_people(n: int) -> dict:
    return dict(
        tk=np.zeros(0, dtype=np.int64), tr=np.zeros(0, dtype=np.int64),
        origin=np.zeros(n, dtype=np.int8), nationality=np.zeros(n, dtype=np.int8),
        day_entered=np.full(n, DAY, dtype=np.int16), day_due=np.full(n, DAY, dtype=np.int16),
        hub=np.full(n, -1, dtype=np.int8), savings=np.full(n, 1000, dtype=np.float32),
        spent=np.zeros(n, dtype=np.float32), day_arrived=np.full(n, -1, dtype=np.int16),
        entry=np.full(n, -1, dtype=np.int8), returns=np.zeros(n, dtype=np.int8),
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_queue_direct_flyers_then_people_at_their_hub_the_rest_rerouted_or_cancelled(engine: str) -> None:
    world, pp = small_world(), small_people(6)
    pp["tk"], pp["tr"] = np.array([0, 1, 2, 3], dtype=np.int64), np.array([4, 5], dtype=np.int64)
    pp["day_entered"][:4] = [DAY - 2, DAY - REBOOK, DAY - STRANDED - 1, DAY - REBOOK]  # 0 flies direct
    pp["savings"][[2, 3]] = USD - 1  # cannot pay the detour: 2 has waited too long, 3 not yet
    pp["hub"][[4, 5]] = 0
    pp["day_due"][[4, 5]] = [DAY, DAY + 1]  # 4 has reached the hub, 5 not yet
    pool, n_tk, hub_w, share, hub_ok, go, cancel, n_reroute = twin(engine).queue_and_reroute(*queue_args(pp, world))
    assert pool.tolist() == [0, 4] and n_tk == 1
    assert hub_w.tolist() == [[7 * 100 * 0.5]] and share.tolist() == [[1.0]] and hub_ok.tolist() == [True]
    assert go.tolist() == [1] and cancel.tolist() == [2] and n_reroute == 3
    assert pp["hub"][1] == 0 and pp["day_due"][1] == DAY + EXTRA_DAYS
    assert pp["savings"][1] == 1000 - USD and pp["spent"][1] == USD  # the detour, paid once
    assert pp["savings"][[0, 2, 3]].tolist() == [1000, USD - 1, USD - 1] and not pp["spent"][[0, 2, 3]].any()


@pytest.mark.parametrize("engine", ENGINES)
def test_reroute_picks_hubs_in_proportion_to_their_seats_and_never_one_that_does_not_carry(engine: str) -> None:
    world, pp = small_world(n_hubs=3), small_people(4000)
    world["route_seats"][1:] = [100, 300, 0]  # hub 2's route carries no one: weight 0
    world["direct"][:] = False  # nobody can fly direct
    pp["tk"] = np.arange(4000, dtype=np.int64)
    go = twin(engine).queue_and_reroute(*queue_args(pp, world))[5]
    counts = np.bincount(pp["hub"][go], minlength=3)
    assert go.size == 4000 and counts[2] == 0 and abs(counts[0] / 4000 - 0.25) < 0.03


@pytest.mark.parametrize("engine", ENGINES)
def test_seats_first_come_first_served_never_above_capacity(engine: str) -> None:
    world, pp = small_world(), small_people(6)
    pool = np.array([0, 1, 2, 3, 4, 5], dtype=np.int64)  # 0-3 ticketed, 4-5 at hub 0
    pp["day_entered"][:4] = [DAY - 5, DAY - 3, DAY - 4, DAY - 1]
    pp["hub"][4:] = 0
    pp["day_due"][4:] = [DAY - 2, DAY - 6]
    seats = np.array([2, 1], dtype=np.int64)
    hub_w, share, hub_ok = np.array([[350.0]]), np.array([[1.0]]), np.array([True])
    queued = (pool, 4, hub_w, share, hub_ok)
    seat_tk, seat_tr, sold, visited, n_rest, home, go = twin(engine).seat_and_strand(
        *seat_args(pp, world, queued, np.array([1, 0], dtype=np.int64), seats))
    assert seat_tk.tolist() == [0, 2] and seat_tr.tolist() == [5]  # the longest waiting
    assert sold.tolist() == [2, 1] and visited.tolist() == [1, 0]
    assert n_rest == 1 and home.size == 0 and go.size == 0
    assert pp["day_arrived"][[0, 2, 5]].tolist() == [DAY] * 3 and (pp["hub"][[0, 2, 5]] == -1).all()
    assert pp["hub"][4] == 0 and (pp["day_arrived"][[1, 3, 4]] == -1).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_stranded_go_home_after_too_long_or_move_to_a_hub_that_carries_them(engine: str) -> None:
    world, pp = small_world(n_hubs=2), small_people(4)
    pool = np.array([0, 1, 2, 3], dtype=np.int64)  # all in transit; no seats today
    pp["hub"][:] = [0, 0, 0, 1]
    pp["day_due"][:] = [DAY - STRANDED - 1, DAY - 1, DAY - 1, DAY - 1]
    pp["savings"][2] = USD - 1
    hub_w, share, hub_ok = np.array([[0.0, 350.0]]), np.array([[0.0, 1.0]]), np.array([True])  # hub 0 closed
    queued = (pool, 0, hub_w, share, hub_ok)
    seat_tk, seat_tr, sold, visited, n_rest, home, go = twin(engine).seat_and_strand(
        *seat_args(pp, world, queued, np.arange(3, dtype=np.int64), np.zeros(3, dtype=np.int64)))
    assert seat_tk.size == seat_tr.size == visited.size == 0 and not sold.any()
    assert n_rest == 4 and home.tolist() == [0] and go.tolist() == [1]  # 2 cannot pay, 3's hub carries
    assert pp["hub"].tolist() == [-1, 1, 0, 1] and pp["returns"].tolist() == [1, 0, 0, 0]
    assert pp["day_entered"][1] == DAY and pp["savings"][1] == 1000 - USD and pp["spent"][1] == USD
    assert pp["savings"][2] == USD - 1 and pp["spent"][[0, 2, 3]].tolist() == [0, 0, 0]


@pytest.mark.parametrize("engine", ENGINES)
def test_nobody_to_seat_and_no_hubs(engine: str) -> None:
    world, pp = small_world(n_hubs=0), small_people(3)
    pp["tk"] = np.array([0, 1], dtype=np.int64)
    pp["day_entered"][1] = DAY - STRANDED - 1  # no direct route would help: no hub to go to
    world["in_service"][:] = False
    queued = twin(engine).queue_and_reroute(*queue_args(pp, world))
    pool, n_tk, hub_w, share, hub_ok, go, cancel, n_reroute = queued
    assert pool.size == n_tk == go.size == 0 and cancel.tolist() == [1] and n_reroute == 2
    assert hub_w.shape == share.shape == (1, 0) and hub_ok.tolist() == [False]
    out = twin(engine).seat_and_strand(*seat_args(pp, world, queued, np.zeros(0, dtype=np.int64),
                                                  np.zeros(1, dtype=np.int64)))
    assert [np.size(x) for x in out] == [0, 0, 1, 0, 1, 0, 0] and out[4] == 0
