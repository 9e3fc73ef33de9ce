"""The visa kernels (sim.model.rules.visas.KERNELS): their rules on hand-made inputs, and the
compiled twins (sim.engines.compiled.visas) against the numpy ones on random inputs, exactly:
the results, their dtypes, and the arrays they change in place."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engines import compiled
from sim.model.rng import draw
from sim.model.rules import visas

needs_numba = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")

N = 400  # rows of the little population the inputs index


def twin(name: str):
    """The compiled kernel of the same name."""
    from sim.engines.compiled import visas as compiled_visas

    return getattr(compiled_visas, name)


def assert_same(a, b) -> None:
    """Equal results, element for element and dtype for dtype (tuples item by item)."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def rows(rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` distinct rows of the population, ascending (as ``Population.ids``)."""
    return np.sort(rng.choice(N, size=size, replace=False)).astype(np.int64)


def channel_inputs(rng: np.random.Generator, n: int):
    """Random arguments of ``apply_at_channels`` for ``n`` people waiting for a package; ties in
    the days entered are common (a few distinct days), capacities from 0 to more than everyone."""
    C, K = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    day = int(rng.integers(0, 30))
    first_day = int(rng.integers(0, day + 1))
    return dict(
        wp=rows(rng, n),
        group=rng.integers(0, K, N).astype(np.int8),
        day_entered=rng.integers(first_day, day + 1, N).astype(np.int16),
        day_due=np.zeros(N, dtype=np.int16),
        channel=np.full(N, -1, dtype=np.int8),
        serving=rng.random((C, K)) < 0.6,
        cap=rng.integers(0, n // 2 + 3, C) * (rng.random(C) < 0.8),
        preference=rng.permutation(C).astype(np.int64),
        channel_days=rng.integers(1, 40, C),
        key=np.uint64(rng.integers(0, 2**63)),
        day=day,
        cancel_days=int(rng.integers(0, 10)),
    )


def copied(args: dict) -> dict:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in args.items()}


def call_both(name: str, args: dict):
    """Both twins on copies of the same arguments: (numpy result, its arguments after the call,
    compiled result, its arguments after the call)."""
    a, b = copied(args), copied(args)
    return getattr(visas, name)(**a), a, twin(name)(**b), b


# ---- the compiled twins give the numpy kernels' results ---------------------------------------


@needs_numba
def test_every_kernel_has_a_compiled_twin_with_the_same_parameters() -> None:
    for name in visas.KERNELS:
        numpy_params = list(inspect.signature(getattr(visas, name)).parameters)
        assert list(inspect.signature(twin(name).py_func).parameters) == numpy_params, name


@needs_numba
@pytest.mark.parametrize("seed", range(60))
def test_apply_at_channels_twins_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    args = channel_inputs(rng, int(rng.integers(0, 200)) if seed else 0)
    got, after, twin_got, twin_after = call_both("apply_at_channels", args)
    assert_same(got, twin_got)
    for name in ("channel", "day_due"):
        assert_same(after[name], twin_after[name])


@needs_numba
@pytest.mark.parametrize("seed", range(30))
def test_lapsed_applications_twins_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    C, K = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    args = dict(wv=rows(rng, int(rng.integers(0, 100)) if seed else 0),
                channel=rng.integers(0, C, N).astype(np.int8),
                group=rng.integers(0, K, N).astype(np.int8),
                serving=rng.random((C, K)) < 0.5)
    got, after, twin_got, twin_after = call_both("lapsed_applications", args)
    assert_same(got, twin_got)
    assert_same(after["channel"], twin_after["channel"])


@needs_numba
@pytest.mark.parametrize("seed", range(30))
def test_visas_due_twins_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    C = int(rng.integers(1, 5))
    args = dict(wv=rows(rng, int(rng.integers(0, 100)) if seed else 0),
                day_due=rng.integers(0, 60, N).astype(np.int16),
                channel=rng.integers(0, C, N).astype(np.int8),
                day=int(rng.integers(0, 60)), n_channels=C)
    assert_same(visas.visas_due(**copied(args)), twin("visas_due")(**copied(args)))


# ---- the rules' meaning -------------------------------------------------------------------------


def fifo_by_sorting(args: dict):
    """``apply_at_channels``'s winners and stuck by another road: each channel, in preference order,
    sorts its free candidates by (day entered, tie draw, row) and takes the first ``cap[c]``."""
    wp, k = args["wp"], args["group"][args["wp"]]
    entered, tie = args["day_entered"][wp], draw(args["key"], wp)
    free = np.ones(wp.size, bool)
    placed_at = {}
    for c in args["preference"]:
        cand = np.flatnonzero(free & args["serving"][c, k])
        order = cand[np.lexsort((cand, tie[cand], entered[cand]))]
        for j in order[:max(int(args["cap"][c]), 0)]:
            free[j] = False
            placed_at[int(wp[j])] = int(c)
    stuck = wp[free & (args["day"] - entered.astype(np.int64) > args["cancel_days"])]
    return placed_at, stuck


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60))
def test_apply_at_channels_is_first_come_first_served_in_preference_order(seed: int, n: int) -> None:
    args = channel_inputs(np.random.default_rng(seed), n)
    placed_at, stuck_expected = fifo_by_sorting(args)
    winners, n_won, stuck, queue = visas.apply_at_channels(**args)
    assert winners.tolist() == sorted(placed_at)
    assert args["channel"][winners].tolist() == [placed_at[r] for r in winners.tolist()]
    assert np.array_equal(args["day_due"][winners], args["day"] + args["channel_days"][args["channel"][winners]])
    assert np.array_equal(stuck, stuck_expected)
    assert np.all(n_won <= np.maximum(args["cap"], 0))  # never more than a channel has
    assert n_won.sum() == winners.size
    k = args["group"][args["wp"]]
    assert queue.tolist() == [float(np.isin(k, np.flatnonzero(s)).sum()) for s in args["serving"]]


def test_apply_at_channels_on_a_hand_made_day() -> None:
    """Channel 1 (preferred, 1 visa) serves nationality 0; channel 0 (2 visas) serves both. Rows
    2, 5, 7 are nationality 0, entered on days 3, 1, 1; row 9 is nationality 1, entered on day 0.
    Row 5 and 7 tie on the day: the draw decides which one channel 1 takes."""
    nationality = np.zeros(10, dtype=np.int8)
    nationality[9] = 1
    day_entered = np.zeros(10, dtype=np.int16)
    day_entered[[2, 5, 7, 9]] = [3, 1, 1, 0]
    wp = np.array([2, 5, 7, 9])
    key = np.uint64(12345)
    u5, u7 = draw(key, np.array([5, 7]))
    first, second = (5, 7) if u5 < u7 else (7, 5)
    channel = np.full(10, -1, dtype=np.int8)
    day_due = np.zeros(10, dtype=np.int16)
    winners, n_won, stuck, queue = visas.apply_at_channels(
        wp, nationality, day_entered, day_due, channel, serving=np.array([[True, True], [True, False]]),
        cap=np.array([2, 1]), preference=np.array([1, 0]), channel_days=np.array([10, 20]), key=key, day=9,
        cancel_days=7)
    # channel 1 takes the earlier of 5 and 7; channel 0 the other and 9 (day 0); 2 (day 3) waits
    assert winners.tolist() == [5, 7, 9]
    assert channel[first] == 1 and channel[second] == 0 and channel[9] == 0 and channel[2] == -1
    assert day_due[first] == 29 and day_due[second] == 19 and day_due[9] == 19
    assert n_won.tolist() == [2, 1]
    assert stuck.size == 0  # 2 waited 6 days: not more than 7
    assert queue.tolist() == [4.0, 3.0]
    # no visas at all: the ones waiting more than cancel_days are stuck, nobody is placed
    channel[:] = -1
    winners, n_won, stuck, _ = visas.apply_at_channels(
        wp, nationality, day_entered, day_due, channel, np.array([[True, True], [True, False]]),
        np.array([0, 0]), np.array([1, 0]), np.array([10, 20]), key, 9, 7)
    assert winners.size == 0 and n_won.tolist() == [0, 0] and (channel == -1).all()
    assert stuck.tolist() == [5, 7, 9]


def test_lapsed_applications_are_those_their_channel_no_longer_serves() -> None:
    channel = np.array([0, 1, 1, 0, -1], dtype=np.int8)
    nationality = np.array([0, 0, 1, 1, 0], dtype=np.int8)
    serving = np.array([[True, False], [False, True]])  # channel 0 serves 0; channel 1 serves 1
    lapsed = visas.lapsed_applications(np.array([0, 1, 2, 3]), channel, nationality, serving)
    assert lapsed.tolist() == [1, 3]
    assert channel.tolist() == [0, -1, 1, -1, -1]


def test_visas_due_are_those_due_by_today_counted_per_channel() -> None:
    day_due = np.array([5, 6, 4, 9, 5], dtype=np.int16)
    channel = np.array([2, 0, 2, 1, 0], dtype=np.int8)
    ready, counts = visas.visas_due(np.array([0, 1, 2, 3, 4]), day_due, channel, 5, 3)
    assert ready.tolist() == [0, 2, 4]
    assert counts.tolist() == [1, 0, 2]
