"""The allocation kernels: never more than there is, first come first served."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.model.allocate import (
    allocate_by_group,
    allocate_fifo,
    group_fifo_order,
    priority_order,
    stochastic_round,
)

small_ints = st.integers(min_value=-5, max_value=40)


@st.composite
def candidates(draw, max_n: int = 60):
    n = draw(st.integers(0, max_n))
    day = draw(arrays(np.int16, n, elements=st.integers(0, 10)))
    tie = draw(arrays(np.float32, n, elements=st.floats(0, 1, width=32, exclude_max=True)))
    return day, tie


@settings(max_examples=300, deadline=None)
@given(cand=candidates(), k=small_ints)
def test_fifo_never_exceeds_capacity_and_fills_it(cand, k: int) -> None:
    """Protects: allocate_fifo gives exactly min(max(k, 0), n) units, never more."""
    day, tie = cand
    win = allocate_fifo(k, day, tie)
    assert win.dtype == bool and win.shape == day.shape
    assert win.sum() == min(max(k, 0), day.size)


@settings(max_examples=300, deadline=None)
@given(cand=candidates(), k=small_ints)
def test_fifo_serves_earlier_arrivals_first(cand, k: int) -> None:
    """Protects: nobody who started waiting later is served while someone earlier is not; among
    the same day, the smaller tie draw goes first."""
    day, tie = cand
    win = allocate_fifo(k, day, tie)
    if win.any() and (~win).any():
        key = day.astype(np.float64) * 2 + tie  # tie in [0, 1): (day, tie) in lexicographic order
        assert key[win].max() <= key[~win].min()


def test_fifo_order_example() -> None:
    """Protects: the documented order on a small hand-made case."""
    day = np.array([3, 1, 2, 1, 0])
    tie = np.array([0.5, 0.9, 0.1, 0.2, 0.7], dtype=np.float32)
    assert priority_order(day, tie).tolist() == [4, 3, 1, 2, 0]
    assert allocate_fifo(3, day, tie).tolist() == [False, True, False, True, True]
    assert not allocate_fifo(0, day, tie).any()
    assert allocate_fifo(99, day, tie).all()


@st.composite
def grouped(draw):
    g = draw(st.integers(1, 6))
    n = draw(st.integers(0, 80))
    group = draw(arrays(np.int64, n, elements=st.integers(0, g - 1)))
    cap = draw(arrays(np.float64, g, elements=st.floats(-3, 20, allow_nan=False)))
    day = draw(arrays(np.int16, n, elements=st.integers(0, 5)))
    tie = draw(arrays(np.float32, n, elements=st.floats(0, 1, width=32, exclude_max=True)))
    return group, cap, day, tie


@settings(max_examples=300, deadline=None)
@given(args=grouped())
def test_by_group_never_exceeds_any_groups_capacity(args) -> None:
    """Protects: allocate_by_group gives each group exactly min(floor(cap), wanting) units:
    never more than its capacity, and no unit left unused while someone in the group waits."""
    group, cap, day, tie = args
    win = allocate_by_group(group, cap, day, tie)
    assert win.shape == group.shape
    for gi in range(cap.size):
        m = group == gi
        expected = min(int(np.floor(max(cap[gi], 0))), int(m.sum()))
        assert win[m].sum() == expected


@settings(max_examples=300, deadline=None)
@given(args=grouped())
def test_by_group_is_fifo_within_each_group(args) -> None:
    """Protects: within a group, winners started waiting no later than losers (tie draw breaks
    ties), and a group's outcome does not depend on the other groups."""
    group, cap, day, tie = args
    win = allocate_by_group(group, cap, day, tie)
    key = day.astype(np.float64) * 2 + tie
    for gi in range(cap.size):
        m = group == gi
        w, lose = key[m & win], key[m & ~win]
        if w.size and lose.size:
            assert w.max() <= lose.min()
        # same as a FIFO allocation run on that group alone
        alone = allocate_fifo(int(np.floor(max(cap[gi], 0))), day[m], tie[m])
        assert (win[m] == alone).all()


@settings(max_examples=300, deadline=None)
@given(args=grouped())
def test_by_group_equals_ranking_everyone(args) -> None:
    """Protects: sorting only the groups whose capacity is short gives exactly the result of
    ranking every candidate by (group, day, tie, position) and serving each group's first
    floor(capacity) (the results of a run must not depend on the shortcut)."""
    group, cap, day, tie = args
    order = np.lexsort((tie, day, group))
    counts = np.bincount(group[order], minlength=cap.size)
    rank = np.arange(group.size) - (np.cumsum(counts) - counts)[group[order]]
    expected = np.zeros(group.size, dtype=bool)
    expected[order] = rank < np.floor(np.maximum(cap, 0))[group[order]]
    assert (allocate_by_group(group, cap, day, tie) == expected).all()


@settings(max_examples=300, deadline=None)
@given(args=grouped(), bits=st.sampled_from([24, 53]))
def test_group_fifo_order_is_lexsort(args, bits: int) -> None:
    """Protects: the packed one-key sort (ties that are 24-bit draws) and the lexsort fallback
    (any other ties) give lexsort's order, equal keys in position order."""
    group, _, day, tie = args
    tie = np.floor(tie.astype(np.float64) * 2.0**bits) / 2.0**bits  # 24 bits: the packed path
    tie = tie.astype(np.float32) if bits == 24 else tie
    if tie.size > 1:
        tie[::3] = tie[1]  # equal ties: position decides
    assert (group_fifo_order(group, day, tie) == np.lexsort((tie, day, group))).all()


@settings(max_examples=200, deadline=None)
@given(x=arrays(np.float64, 20, elements=st.floats(0, 50, allow_nan=False)),
       u=arrays(np.float64, 20, elements=st.floats(0, 1, exclude_max=True)))
def test_stochastic_round_stays_between_floor_and_ceil(x, u) -> None:
    """Protects: stochastic rounding of a capacity never exceeds its ceiling or falls below its
    floor (so a capacity of 2.3 a day allows 2 or 3, never 4)."""
    r = stochastic_round(x, u)
    assert (r >= np.floor(x)).all() and (r <= np.ceil(x)).all()


def test_stochastic_round_is_unbiased() -> None:
    """Protects: on average, stochastic rounding keeps the capacity (2.3 rounds to 2.3 on average)."""
    u = np.random.default_rng(0).random(200_000)
    assert abs(stochastic_round(np.full(u.size, 2.3), u).mean() - 2.3) < 0.01
