"""The kernels of the Belarus and border phases (sim.model.rules.transit, .border).

Each kernel's compiled twin gives its numpy result bit for bit and changes its in-place arrays
the same way, on random inputs (empty ones too); and each kernel does what its rule says on a
small hand-made input.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines import compiled
from sim.model.rng import draw
from sim.model.rules import numpy_kernels
from sim.model.rules.border import CAUGHT_KEPT, DIED, STOPPED, THROUGH

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")

NUMPY = numpy_kernels()
SEEDS = range(12)
N = 400  # rows of the made-up population


def assert_same(a, b) -> None:
    """Equal to the bit: arrays in dtype, shape and bytes (so -0.0 is not 0.0), tuples item by item."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    else:
        assert type(a) is type(b) and a == b


def both(name: str, *args):
    """Run the numpy kernel and its compiled twin on copies of ``args``; assert the same results
    and the same arrays after; return the numpy kernel's (result, arrays after)."""
    runs = []
    for kernels in (NUMPY, compiled.kernels()):
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        runs.append((getattr(kernels, name)(*copies), copies))
    (got, after), (fast_got, fast_after) = runs
    assert_same(got, fast_got)
    for a, b in zip(after, fast_after, strict=True):
        assert_same(a, b)
    return got, after


def rows(g: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``k`` distinct rows of ``n`` (at most ``n``), ascending, int64."""
    return np.sort(g.choice(n, size=min(k, n), replace=False)).astype(np.int64)


def split(g: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint ascending lists of rows (in Minsk, at the border), ``k`` rows in all."""
    ids = rows(g, N, k)
    at_border = g.random(ids.size) < 0.6
    return ids[~at_border], ids[at_border]


def key(g: np.random.Generator) -> np.uint64:
    return g.integers(0, 2**64, dtype=np.uint64)


def sizes(seed: int) -> int:
    return (0, 1, 5, 60, 250)[seed % 5]


def money(g: np.random.Generator, n: int = N) -> np.ndarray:
    """Savings around the prices of the tests, some at 0 and some exactly at a price."""
    s = (g.random(n) * 800.0).astype(np.float32)
    s[g.random(n) < 0.1] = 0.0
    s[g.random(n) < 0.1] = np.float32(400.0)
    return s


# ---- the twins agree ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_pay_hotel_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    in_city, at_border = split(g, sizes(seed))
    for usd in (25.0, 0.1, 0.0, 25, np.float64(1 / 3)):
        both("pay_hotel", in_city, at_border, usd, money(g), (g.random(N) * 100).astype(np.float32))


@pytest.mark.parametrize("seed", SEEDS)
def test_arrive_home_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    returning = rows(g, N, sizes(seed))
    returns = g.integers(0, 3, N).astype(np.int8)
    returns[g.random(N) < 0.1] = 127  # wraps to -128, in both
    both("arrive_home", returning, g.integers(0, 10, N).astype(np.int16), returns, 5)


@pytest.mark.parametrize("seed", SEEDS)
def test_stranded_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    in_city, at_border = split(g, sizes(seed))
    for seats_today, fare in ((True, 0.0), (True, 300.5), (True, float("inf")), (False, 0.0),
                              (True, np.float64(400.0000001))):
        both("stranded", in_city, at_border, 200, g.integers(0, 200, N).astype(np.int16),
             g.integers(0, 5, N).astype(np.int16), money(g), g.random(N).astype(np.float32),
             g.integers(0, 3, N).astype(np.int8), g.random(3) < 0.7, seats_today, fare,
             float(g.random()), 400.0, 15.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_decide_returns_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    in_city, at_border = split(g, sizes(seed))
    here = np.concatenate([in_city, at_border])
    n = here.size
    prob = g.random(n)
    prob[g.random(n) < 0.2] = 1.0
    for seats, fare in ((0, 0.0), (1, 0.0), (n // 3, 250.0), (n + 2, 100.0)):
        both("decide_returns", here, in_city.size, prob, g.random(n) < 0.3, g.random(n) < 0.7, seats,
             key(g), key(g), key(g), 0.35, g.integers(100, 104, N).astype(np.int16), money(g),
             np.zeros(N, np.float32), fare, 400.0, g.integers(0, 300, N).astype(np.int16), 300)


@pytest.mark.parametrize("seed", SEEDS)
def test_leavers_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    in_city = rows(g, N, sizes(seed))
    for chance in (0.0, 0.12, 1.0, np.float64(0.12), g.random()):
        both("leavers", in_city, key(g), chance)


def test_leavers_twins_agree_where_float32_and_float64_differ() -> None:
    """A chance just above someone's draw in float64 but equal to it in float32: a Python float
    is compared in float32 (numpy's NEP 50), a numpy float64 in float64 — by both twins."""
    g = np.random.default_rng(0)
    ids, k = np.arange(50, dtype=np.int64), key(g)
    chance = float(draw(k, ids)[7]) + 1e-12
    for typed, counted in ((chance, False), (np.float64(chance), True)):
        go, _ = both("leavers", ids, k, typed)
        assert (7 in go) == counted


@pytest.mark.parametrize("seed", SEEDS)
def test_pick_segments_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    ids = rows(g, N, sizes(seed))
    entry = g.integers(0, 2, N).astype(np.int8)  # two entry points
    travel = np.array([[1, 2, 3, 4], [4, 1, 2, 2]])
    for weights in (g.random(4), np.array([0.0, 2.0, 0.0, 1.0]), np.zeros(4), np.array([1e-300, 1.0, 1e300, 0.5])):
        table = np.stack([weights, weights[::-1] * g.random(4)])
        both("pick_segments", ids, key(g), table, entry, g.integers(-1, 4, N).astype(np.int8),
             np.zeros(N, np.int16), travel, 50)


@pytest.mark.parametrize("seed", SEEDS)
def test_attempts_today_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    at_border = rows(g, N, sizes(seed))
    S = 3
    for base, fee, take in ((0.0556, 6500.0, 0.35), (0.9, 400.0, 1.0), (0.0, 0.0, 0.0), (2.0, 400, 0.5)):
        per_segment = (base * np.array([1.0, 0.5, 23.2])).astype(np.float32)  # one segment announced: a rush
        both("attempts_today", at_border, 20, g.integers(15, 25, N).astype(np.int16),
             g.random(N).astype(np.float32), g.integers(0, S, N).astype(np.int8), g.random(N) < 0.3, money(g),
             np.zeros(N, np.float32), per_segment, key(g), fee, take, key(g))


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_twins_agree(seed: int) -> None:
    g = np.random.default_rng(seed)
    att = rows(g, N, sizes(seed))
    S, O, K = 4, 3, 2
    for death, detect, switch, retry in ((2e-4, 0.6, 0.3, 1), (0.5, 0.6, np.float64(0.3), 4), (0.0, 0.0, 1.0, 2),
                                         (1.0, 1.0, 0.0, 1)):
        both("cross", att, g.integers(0, S, N).astype(np.int8), g.random(N) < 0.4,
             g.integers(0, O, N).astype(np.int8), g.integers(0, K, N).astype(np.int8),
             g.integers(0, 5, N).astype(np.int16), g.integers(0, 5, N).astype(np.int16), np.zeros(N, np.int16),
             30, key(g), key(g), key(g), key(g), death, g.random(S), g.random(S), g.random(S) < 0.5, detect,
             switch, S, O, K, np.where(g.random(S) < 0.5, g.random(S), 0.0), key(g), retry)


# ---- each kernel does what its rule says ----------------------------------------------------------
def test_pay_hotel_takes_the_price_or_what_is_left() -> None:
    savings = np.array([100.0, 10.0, 0.0, 50.0], np.float32)
    spent = np.zeros(4, np.float32)
    NUMPY.pay_hotel(np.array([0]), np.array([1, 2]), 25.0, savings, spent)
    assert savings.tolist() == [75.0, 0.0, 0.0, 50.0]  # row 3 is not in Belarus
    assert spent.tolist() == [25.0, 10.0, 0.0, 0.0]


def test_arrive_home_lands_only_who_is_due() -> None:
    returns = np.array([0, 1, 2, 127], np.int8)
    home = NUMPY.arrive_home(np.array([0, 1, 3]), np.array([5, 6, 0, 4], np.int16), returns, 5)
    assert home.tolist() == [0, 3]
    assert returns.tolist() == [1, 1, 2, -128]


def test_stranded_gives_the_seat_only_to_who_can_board_and_pay() -> None:
    savings = np.array([500.0, 100.0, 500.0, 50.0], np.float32)
    args = (np.array([0, 1]), np.array([2, 3]), 40, np.array([10, 20, 30, 40], np.int16),
            np.array([0, 1, 2, 3], np.int16), savings, np.full(4, 0.5, np.float32),
            np.array([0, 0, 1, 0], np.int8), np.array([True, False]))
    here, days, pushbacks, cold, broke, risk, mult, eligible = NUMPY.stranded(*args, True, 200.0, 0.8, 400.0, 15.0)
    assert here.tolist() == [0, 1, 2, 3] and days.tolist() == [30, 20, 10, 0]
    assert cold.tolist() == [0.0, 0.0, 0.8, 0.8]  # the cold is felt at the border only
    assert broke.tolist() == [False, True, False, True]
    assert eligible.tolist() == [True, False, False, False]  # 1 too poor, 2 not allowed on board, 3 both
    assert mult.tolist() == [15.0, 1.0, 1.0, 1.0]
    *_, mult, eligible = NUMPY.stranded(*args, False, 0.0, 0.8, 400.0, 15.0)
    assert not eligible.any() and (mult == 1.0).all()  # no flight today


def test_decide_returns_seats_the_longest_waiting_first_and_the_broke_stay() -> None:
    n = 6
    here = np.arange(n, dtype=np.int64)
    day_arrived = np.array([9, 3, 7, 1, 5, 2], np.int16)
    savings = np.full(n, 1000.0, np.float32)
    spent = np.zeros(n, np.float32)
    day_due = np.zeros(n, np.int16)
    broke = np.array([False, False, False, False, False, True])
    eligible = np.array([True, True, True, True, False, False])
    free_city, free_border, own_city, own_border = NUMPY.decide_returns(
        here, 3, np.ones(n), broke, eligible, 2, np.uint64(1), np.uint64(2), np.uint64(3), 1.0,
        day_arrived, savings, spent, 100.0, 400.0, day_due, 10)
    assert free_city.tolist() == [1] and free_border.tolist() == [3]  # days 3 and 1: the earliest of 0-3
    assert own_city.tolist() == [0, 2] and own_border.tolist() == [4]  # all the other willing but the broke
    assert spent.tolist() == [400.0, 100.0, 400.0, 100.0, 400.0, 0.0]
    assert day_due.tolist() == [11, 11, 11, 11, 11, 0]
    nobody = NUMPY.decide_returns(here, 3, np.zeros(n), broke, eligible, 2, np.uint64(1), np.uint64(2),
                                  np.uint64(3), 1.0, day_arrived, savings, spent, 100.0, 400.0, day_due, 10)
    assert all(part.size == 0 for part in nobody)  # nobody willing, nobody goes


def test_leavers_none_at_chance_zero_all_at_one_and_more_with_more_chance() -> None:
    ids, k = np.arange(300, dtype=np.int64), np.uint64(12345)
    assert NUMPY.leavers(ids, k, 0.0).size == 0
    assert NUMPY.leavers(ids, k, 1.0).tolist() == ids.tolist()
    few, more = NUMPY.leavers(ids, k, 0.2), NUMPY.leavers(ids, k, 0.6)
    assert 0 < few.size < more.size and np.isin(few, more).all()


def test_pick_segments_never_picks_a_weightless_segment_and_sets_the_travel() -> None:
    ids = np.arange(0, 200, 2, dtype=np.int64)
    segment = np.zeros(201, np.int8)
    day_due = np.zeros(201, np.int16)
    entry = np.zeros(201, np.int8)
    NUMPY.pick_segments(ids, np.uint64(7), np.array([[0.0, 1.0, 0.0, 3.0]]), entry, segment, day_due,
                        np.array([[5, 6, 7, 8]]), 50)
    picked = segment[ids]
    assert set(picked.tolist()) == {1, 3}
    assert (day_due[ids] == 50 + np.where(picked == 1, 6, 8)).all()  # all changed from segment 0
    assert not segment[1::2].any() and not day_due[1::2].any()  # the others untouched
    NUMPY.pick_segments(ids, np.uint64(7), np.array([[0.0, 0.0, 0.0, 1.0]]), entry, segment, day_due,
                        np.array([[5, 6, 7, 8]]), 60)
    assert (segment[ids] == 3).all()
    assert (day_due[ids] == np.where(picked == 3, 61, 68)).all()  # staying: tomorrow


def test_attempts_today_only_the_due_try_and_only_who_can_pay_hires_once() -> None:
    at_border = np.arange(6, dtype=np.int64)
    day_due = np.array([5, 5, 5, 5, 6, 5], np.int16)
    has_smuggler = np.array([False, False, True, False, False, False])
    savings = np.array([7000.0, 100.0, 7000.0, 7000.0, 7000.0, 6500.0], np.float32)
    spent = np.zeros(6, np.float32)
    segment = np.zeros(6, np.int8)
    att, n_hired = NUMPY.attempts_today(at_border, 5, day_due, np.ones(6, np.float32), segment, has_smuggler, savings,
                                        spent, np.array([1.0], np.float32), np.uint64(1), 6500.0, 1.0, np.uint64(2))
    assert att.tolist() == [0, 1, 2, 3, 5]  # 4 is not due
    assert n_hired == 3 and has_smuggler.tolist() == [True, False, True, True, False, True]
    assert spent.tolist() == [6500.0, 0.0, 0.0, 6500.0, 0.0, 6500.0]  # 1 too poor, 2 had one
    assert NUMPY.attempts_today(at_border, 5, day_due, np.ones(6, np.float32), segment, has_smuggler, savings, spent,
                                np.array([0.0], np.float32), np.uint64(1), 6500.0, 1.0, np.uint64(2))[0].size == 0
    # per segment: nobody tries where the chance is 0, everyone where it is 1
    two = np.array([0, 1, 0, 1, 0, 1], np.int8)
    att = NUMPY.attempts_today(at_border, 5, day_due, np.ones(6, np.float32), two, has_smuggler, savings, spent,
                               np.array([0.0, 1.0], np.float32), np.uint64(1), 6500.0, 1.0, np.uint64(2))[0]
    assert att.tolist() == [1, 3, 5]


def test_cross_sorts_every_attempt_into_one_outcome() -> None:
    att = np.arange(0, 40, dtype=np.int64)
    n = 41
    segment = (np.arange(n) % 2).astype(np.int8)  # even rows at segment 0, odd at 1
    attempts = np.zeros(n, np.int16)
    pushbacks = np.zeros(n, np.int16)
    day_due = np.zeros(n, np.int16)
    # segment 0 stops everyone at the line; segment 1 catches everyone inside and keeps them
    by_seg, by_origin, kept_by_nat, died, into_eu, back, switch = NUMPY.cross(
        att, segment, np.zeros(n, bool), np.zeros(n, np.int8), (np.arange(n) % 3 == 0).astype(np.int8),
        attempts, pushbacks, day_due, 8, np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4), 0.0,
        np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([False, False]), 1.0, 1.0, 2, 1, 2, np.zeros(2), np.uint64(5),
        1)
    assert by_seg[STOPPED].tolist() == [20, 0] and by_seg[CAUGHT_KEPT].tolist() == [0, 20]
    assert by_seg[DIED].sum() == by_seg[THROUGH].sum() == 0 and died.size == 0
    assert back.tolist() == switch.tolist() == list(range(0, 40, 2)) and into_eu.tolist() == list(range(1, 40, 2))
    assert by_origin[:, 0].tolist() == [0, 20, 20, 0]  # through, kept, turned back, died
    kept_nat1 = int(np.count_nonzero(np.arange(1, 40, 2) % 3 == 0))
    assert kept_by_nat.tolist() == [0, 0, 20 - kept_nat1, kept_nat1]
    assert attempts[:40].tolist() == [1] * 40 and attempts[40] == 0
    assert pushbacks[back].tolist() == [1] * 20 and not pushbacks[into_eu].any()
    assert (day_due[back] == 9).all() and not day_due[into_eu].any()
    everyone_dies = NUMPY.cross(att, segment, np.zeros(n, bool), np.zeros(n, np.int8), np.zeros(n, np.int8),
                                attempts, pushbacks, day_due, 8, np.uint64(1), np.uint64(2), np.uint64(3),
                                np.uint64(4), 1.0, np.ones(2), np.ones(2), np.array([True, True]), 1.0, 1.0, 2, 1, 1,
                                np.zeros(2), np.uint64(5), 1)
    assert everyone_dies[3].tolist() == att.tolist() and everyone_dies[0][DIED].tolist() == [20, 20]


def test_cross_keeps_a_share_of_those_caught_where_the_segment_pushes_back() -> None:
    """Protects the kept share: where a segment pushes back, those caught inside are turned back
    unless their keep draw is below kept_share[s] (0: everyone back; 1: everyone kept; 0.5: about
    half, and exactly those whose draw is below it)."""
    from sim.model.rng import draw

    n = 4001
    att = np.arange(n - 1, dtype=np.int64)
    segment = np.zeros(n, np.int8)
    kept = {}
    for share in (0.0, 0.5, 1.0):
        out = NUMPY.cross(att, segment, np.zeros(n, bool), np.zeros(n, np.int8), np.zeros(n, np.int8),
                          np.zeros(n, np.int16), np.zeros(n, np.int16), np.zeros(n, np.int16), 8, np.uint64(1),
                          np.uint64(2), np.uint64(3), np.uint64(4), 0.0, np.array([0.0]), np.array([1.0]),
                          np.array([True]), 1.0, 0.0, 1, 1, 1, np.array([share]), np.uint64(9), 1)
        kept[share] = out[0][CAUGHT_KEPT][0]
    assert kept[0.0] == 0 and kept[1.0] == n - 1
    assert kept[0.5] == int(np.count_nonzero(draw(np.uint64(9), att) < 0.5)) and 1800 < kept[0.5] < 2200


def test_cross_rests_the_turned_back_for_retry_days() -> None:
    """Protects repeated attempts' rest: those turned back may try again ``retry_days`` later (the
    first day their attempt draw counts), the kept and the through are not touched."""
    n = 21
    att = np.arange(20, dtype=np.int64)
    segment = (np.arange(n) % 2).astype(np.int8)  # segment 0 stops everyone, 1 lets everyone through
    for retry in (1, 5):
        day_due = np.zeros(n, np.int16)
        out = NUMPY.cross(att, segment, np.zeros(n, bool), np.zeros(n, np.int8), np.zeros(n, np.int8),
                          np.zeros(n, np.int16), np.zeros(n, np.int16), day_due, 8, np.uint64(1), np.uint64(2),
                          np.uint64(3), np.uint64(4), 0.0, np.array([1.0, 0.0]), np.array([0.0, 0.0]),
                          np.array([True, True]), 1.0, 0.0, 2, 1, 1, np.zeros(2), np.uint64(5), retry)
        back = out[5]
        assert back.tolist() == list(range(0, 20, 2))
        assert (day_due[back] == 8 + retry).all() and not day_due[1::2].any()
