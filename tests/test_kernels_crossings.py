"""The kernels of legs over land and crossing points (sim.model.rules.transit.board_legs,
sim.model.rules.border.present_at_crossings and closed_crossing_choice).

Each kernel's compiled twin gives its numpy result bit for bit and changes its in-place arrays
the same way, on random inputs (empty ones and edges too); and each kernel does what its
docstring says on a small hand-made input: first come first served by the day entered within a
leg or a crossing, never more than the capacity, refused only where ``refuse_at``, closed rows
apart, ``day_due`` set as documented, the thresholds of the closed-crossing choice.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_kernels_transit_border import (  # tests/ is on sys.path
    NUMPY,
    SEEDS,
    N,
    both,
    key,
    rows,
    sizes,
)

from sim.engines import compiled
from sim.model.rng import draw

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")


def caps(g: np.random.Generator, n_groups: int, k: int) -> list[np.ndarray]:
    """Capacities per group to try with ``k`` candidates: random whole numbers (some above the
    compiled allocation's insertion limit of 16), none, plenty, fractional, negative, mixed."""
    return [
        g.integers(0, k // 2 + 3, n_groups).astype(np.int64),
        g.integers(17, 40, n_groups).astype(np.int64),
        np.zeros(n_groups, np.int64),
        np.full(n_groups, k + 1, np.int64),
        g.random(n_groups) * 5.0,
        np.array([-2.0, 0.99, 3.5, 1e9][:n_groups]),
        np.array([0, k, 1, 2][:n_groups], np.int64),
    ]


# ---- the twins agree ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_board_legs_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    go = rows(g, N, sizes(seed))
    L = 4
    for days in ((100, 103), (-5, 5), (0, 2000)):
        day_entered = g.integers(*days, N).astype(np.int16)
        leg = g.integers(0, L, go.size).astype(np.int64)
        leg[: go.size // 3] = 1  # a crowded leg
        for cap in caps(g, L, go.size):
            both("board_legs", go, leg, cap, day_entered, key(g))


@pytest.mark.parametrize("seed", SEEDS)
def test_present_at_crossings_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    at = rows(g, N, sizes(seed))
    S, E, day = 4, 2, 40
    for cap in caps(g, S, at.size):
        for open_, refuse_at in ((g.random(S) < 0.7, g.random((E, S)) < 0.3),
                                 (np.ones(S, bool), np.zeros((E, S), bool)),
                                 (np.zeros(S, bool), np.ones((E, S), bool)),
                                 (np.ones(S, bool), np.ones((E, S), bool))):
            both("present_at_crossings", at, day, g.integers(day - 3, day + 3, N).astype(np.int16),
                 g.integers(day - 10, day + 1, N).astype(np.int16), g.integers(0, S, N).astype(np.int8),
                 g.integers(0, E, N).astype(np.int8), open_, cap, refuse_at, key(g), S)


@pytest.mark.parametrize("seed", SEEDS)
def test_closed_crossing_choice_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    closed = rows(g, N, sizes(seed))
    for rechoose, go_back in ((0.5, 0.15), (0.0, 0.0), (1.0, 0.3), (0.0, 1.0), (np.float64(0.5), 0.15),
                              (0.5, np.float64(0.15)), (float(g.random()), float(g.random()))):
        both("closed_crossing_choice", closed, key(g), rechoose, go_back,
             g.integers(0, 50, N).astype(np.int16), 30)


def test_closed_crossing_choice_twins_agree_where_float32_and_float64_differ() -> None:
    """Thresholds just above someone's draw in float64 but equal to it in float32: a Python float
    is compared in float32 (numpy's NEP 50), a numpy float64 in float64 — by both twins, for the
    chance of choosing again and for the chance of going back."""
    closed, k = np.arange(50, dtype=np.int64), np.uint64(99)
    u = draw(k, closed)
    due = np.zeros(50, np.int16)
    rechoose = float(u[7]) + 1e-12
    for typed, counted in ((rechoose, False), (np.float64(rechoose), True)):
        (again, _), _ = both("closed_crossing_choice", closed, k, typed, 0.0, due, 3)
        assert (7 in again) == counted
    # going back: rechoose 0, so the threshold is go_back itself
    go_back = float(u[11]) + 1e-12
    for typed, counted in ((go_back, False), (np.float64(go_back), True)):
        (_, back), _ = both("closed_crossing_choice", closed, k, 0.0, typed, due, 3)
        assert (11 in back) == counted


# ---- each kernel does what its docstring says -------------------------------------------------------
def test_board_legs_first_come_first_served_within_each_leg() -> None:
    """Leg 0 has 2 places for 4 people: the two who entered the city first (day 3) go. Leg 1 has 1
    place for 2: the one who entered on day 0. Leg 2 has room for all."""
    go = np.array([2, 4, 5, 7, 8, 9, 11], np.int64)
    leg = np.array([0, 0, 0, 1, 0, 1, 2], np.int64)
    day_entered = np.zeros(12, np.int16)
    day_entered[[2, 4, 5, 8]] = [5, 3, 4, 3]
    day_entered[[7, 9]] = [1, 0]
    day_entered[11] = 9
    won, n_won = NUMPY.board_legs(go, leg, np.array([2, 1, 5], np.int64), day_entered, np.uint64(3))
    assert go[won].tolist() == [4, 8, 9, 11]
    assert n_won.tolist() == [2, 1, 1] and n_won.dtype == np.int64


def test_board_legs_breaks_a_tie_of_days_by_the_draw() -> None:
    go = np.arange(30, dtype=np.int64)
    leg = np.zeros(30, np.int64)
    k = np.uint64(17)
    won, n_won = NUMPY.board_legs(go, leg, np.array([4]), np.full(30, 6, np.int16), k)
    assert n_won.tolist() == [4]
    assert set(go[won].tolist()) == set(np.argsort(draw(k, go), kind="stable")[:4].tolist())


@pytest.mark.parametrize("seed", range(6))
def test_board_legs_never_exceeds_a_legs_capacity(seed: int) -> None:
    """Per leg: places taken = min(people asking, floor(capacity)) (0 for a capacity below 1 or
    negative), and the count is the winners' legs."""
    g = np.random.default_rng(seed)
    go = rows(g, N, 200)
    leg = g.integers(0, 3, go.size).astype(np.int64)
    for cap in caps(g, 3, go.size):
        won, n_won = NUMPY.board_legs(go, leg, cap, g.integers(0, 5, N).astype(np.int16), key(g))
        asking = np.bincount(leg, minlength=3)
        assert n_won.tolist() == np.minimum(asking, np.floor(np.maximum(cap, 0))).astype(int).tolist()
        assert n_won.tolist() == np.bincount(leg[won], minlength=3).tolist()


def test_board_legs_with_nobody_going() -> None:
    won, n_won = NUMPY.board_legs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.array([3, 0]),
                                  np.zeros(5, np.int16), np.uint64(1))
    assert won.size == 0 and won.dtype == bool and n_won.tolist() == [0, 0]


def crossing_people():
    """Twelve people at three crossing points on day 20 (see the test below)."""
    day = 20
    at = np.arange(12, dtype=np.int64)
    segment = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 0, 1, 0], np.int8)
    entry = np.array([0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0, 1], np.int8)
    day_due = np.array([20, 19, 20, 18, 20, 20, 20, 20, 20, 21, 20, 20], np.int16)  # 9 not ready
    day_entered = np.array([15, 12, 14, 16, 10, 11, 9, 3, 4, 1, 12, 13], np.int16)
    open_ = np.array([True, True, False])
    refuse_at = np.zeros((2, 3), bool)
    refuse_at[1, 1] = True  # entry 1's mode is banned at crossing 1
    refuse_at[:, 2] = True  # ... and everyone's at the closed crossing 2
    return at, day, day_due, day_entered, segment, entry, open_, refuse_at


def test_present_at_crossings_registers_the_first_come_and_sorts_the_rest() -> None:
    """Crossing 0 (open, 2 places): ready 0, 1, 2, 3, 11 (9 is not due); the two who have waited
    longest (day entered 12 and 13: rows 1 and 11) are registered; 0, 2, 3 wait until tomorrow.
    Crossing 1 (open, 5 places): 5 and 6 came on entry 1, whose mode is banned there: refused,
    without taking a place; 4 and 10 registered. Crossing 2 is closed: 7 and 8 are the closed
    rows, neither refused nor queued, their day_due untouched."""
    at, day, day_due, day_entered, segment, entry, open_, refuse_at = crossing_people()
    before = day_due.copy()
    admitted, refused, closed, n_admitted, n_refused = NUMPY.present_at_crossings(
        at, day, day_due, day_entered, segment, entry, open_, np.array([2, 5, 9]), refuse_at, np.uint64(5), 3)
    assert admitted.tolist() == [1, 4, 10, 11]
    assert refused.tolist() == [5, 6]
    assert closed.tolist() == [7, 8]
    assert n_admitted.tolist() == [2, 2, 0] and n_refused.tolist() == [0, 2, 0]
    waiting = [0, 2, 3]
    assert (day_due[waiting] == day + 1).all()
    untouched = np.setdiff1d(at, waiting)
    assert day_due[untouched].tolist() == before[untouched].tolist()


def test_present_at_crossings_capacity_is_whole_places_and_never_exceeded() -> None:
    """A capacity of 1.9 is 1 place; 0 (or a negative one) registers nobody and everybody ready waits."""
    at, day, day_due, day_entered, segment, entry, open_, refuse_at = crossing_people()
    refuse_at[:] = False
    for cap, expect in (([1.9, 0.0, 0.0], [1, 0, 0]), ([-1.0, 7.0, 0.0], [0, 4, 0]), ([1e6, 1e6, 1e6], [5, 4, 0])):
        due = day_due.copy()
        admitted, refused, closed, n_admitted, _ = NUMPY.present_at_crossings(
            at, day, due, day_entered, segment, entry, open_, np.array(cap), refuse_at, np.uint64(5), 3)
        assert n_admitted.tolist() == expect and admitted.size == sum(expect) and refused.size == 0
        ready_open = at[(day_due[at] <= day) & open_[segment[at]]]
        assert (due[np.setdiff1d(ready_open, admitted)] == day + 1).all()


def test_present_at_crossings_refuses_only_at_open_crossings_where_refuse_at() -> None:
    g = np.random.default_rng(4)
    n, S, E, day = 300, 3, 2, 50
    at = np.arange(n, dtype=np.int64)
    segment = g.integers(0, S, n).astype(np.int8)
    entry = g.integers(0, E, n).astype(np.int8)
    day_due = g.integers(day - 2, day + 2, n).astype(np.int16)
    open_ = np.array([True, False, True])
    refuse_at = np.array([[True, True, False], [False, True, False]])
    admitted, refused, closed, n_admitted, n_refused = NUMPY.present_at_crossings(
        at, day, day_due.copy(), np.zeros(n, np.int16), segment, entry, open_, np.array([10, 10, 10]), refuse_at,
        np.uint64(9), S)
    ready = at[day_due <= day]
    assert refused.tolist() == ready[open_[segment[ready]] & refuse_at[entry[ready], segment[ready]]].tolist()
    assert closed.tolist() == ready[~open_[segment[ready]]].tolist()
    assert not np.isin(admitted, refused).any() and not np.isin(admitted, closed).any()
    assert (entry[refused] == 0).all() and (segment[refused] == 0).all()
    assert n_refused.tolist() == np.bincount(segment[refused], minlength=S).tolist()
    assert n_admitted.tolist() == np.bincount(segment[admitted], minlength=S).tolist()
    assert (n_admitted <= 10).all() and n_admitted[1] == 0


def test_present_at_crossings_with_nobody_there() -> None:
    out = NUMPY.present_at_crossings(np.zeros(0, np.int64), 3, np.zeros(4, np.int16), np.zeros(4, np.int16),
                                     np.zeros(4, np.int8), np.zeros(4, np.int8), np.ones(2, bool),
                                     np.array([1, 1]), np.zeros((1, 2), bool), np.uint64(1), 2)
    assert all(part.size == 0 for part in out[:3])
    assert out[3].tolist() == out[4].tolist() == [0, 0]


def test_closed_crossing_choice_splits_by_the_draw_at_the_thresholds() -> None:
    """u < rechoose: choose again; rechoose <= u < rechoose + (1 - rechoose) * go_back: back to the
    city; else wait. Those choosing again and those waiting are due tomorrow; those going back keep
    their day_due (the phase moves them)."""
    closed = np.arange(0, 400, 2, dtype=np.int64)
    k, day = np.uint64(2024), 30
    u = draw(k, closed)
    day_due = np.full(401, 7, np.int16)
    again, back = NUMPY.closed_crossing_choice(closed, k, 0.5, 0.4, day_due, day)
    assert again.tolist() == closed[u < np.float32(0.5)].tolist()
    assert back.tolist() == closed[(u >= np.float32(0.5)) & (u < np.float32(0.7))].tolist()
    wait = closed[u >= np.float32(0.7)]
    assert again.size and back.size and wait.size
    assert (day_due[again] == day + 1).all() and (day_due[wait] == day + 1).all()
    assert (day_due[back] == 7).all() and (day_due[1::2] == 7).all()  # and nobody else's


@pytest.mark.parametrize(("rechoose", "go_back", "expect"), [
    (0.0, 0.0, "wait"), (1.0, 0.0, "again"), (1.0, 1.0, "again"), (0.0, 1.0, "back")])
def test_closed_crossing_choice_at_the_extremes(rechoose: float, go_back: float, expect: str) -> None:
    closed = np.arange(100, dtype=np.int64)
    day_due = np.zeros(100, np.int16)
    again, back = NUMPY.closed_crossing_choice(closed, np.uint64(8), rechoose, go_back, day_due, 12)
    got = {"again": again, "back": back}
    for name, part in got.items():
        assert part.tolist() == (closed.tolist() if name == expect else [])
    assert (day_due == (0 if expect == "back" else 13)).all()
