"""The kernels of the agencies' and the intention phases (sim.model.rules.sell, .intend).

Each compiled twin (sim.engines.compiled.sell, .intend) given the same random inputs returns
what the numpy kernel returns and changes its in-place arrays the same way, exactly; and each
kernel does what its rule says on small hand-made inputs, in both engines.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim.engines import compiled
from sim.model.allocate import token_bucket
from sim.model.population import State, intention_prob
from sim.model.rng import bits_to_unit, draw
from sim.model.rules import numpy_kernels

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")

SEEDS = range(40)


@pytest.fixture(scope="module")
def twins() -> tuple[SimpleNamespace, SimpleNamespace]:
    return numpy_kernels(), compiled.kernels()


@pytest.fixture(scope="module", params=["numpy", "numba"])
def kernels(request: pytest.FixtureRequest) -> SimpleNamespace:
    return numpy_kernels() if request.param == "numpy" else compiled.kernels()


def assert_same(a: tuple | list, b: tuple | list) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y, equal_nan=True), (x, y)


# ---- sell_to_intending ---------------------------------------------------------------------


def sell_inputs(rng: np.random.Generator, n: int, n_ag: int, n_o: int) -> dict:
    """Random arguments of ``sell_to_intending`` over ``n`` people (some intending)."""
    has_agency = rng.random(n) < 0.9
    agency = rng.integers(0, n_ag, n).astype(np.int16)
    agency[~has_agency] = n_ag  # without an agency: an index past the book
    capacity = rng.choice([0.0, 0.4, 1.0, 3.0, 20.0, 500.0], n_ag)
    credit = rng.random(n_ag) * 3
    cap = token_bucket(credit, capacity)
    signal = rng.normal(0, 1, n_o)
    if n_o > 1 and rng.random() < 0.2:
        signal[0] = np.nan
    return dict(
        it=np.flatnonzero(rng.random(n) < 0.6), agency=agency, has_agency=has_agency,
        savings=rng.choice([0.0, 900.0, 1000.0, 1500.0, 5000.0], n).astype(np.float32) + rng.random(n).astype(np.float32),
        spent=(rng.random(n) * 100).astype(np.float32), origin=rng.integers(0, n_o, n).astype(np.int8),
        day_entered=rng.integers(0, 4, n).astype(np.int16), offer=rng.random(n_o) < 0.8,
        price=rng.choice([800.0, 1000.5, 1200.0], n_ag), reserve=float(rng.choice([0.0, 100.0])),
        buy_prob=np.float32(rng.choice([0.0, 0.3, 0.9, 1.0])), cap=cap, credit=credit, signal=signal,
        give_up=float(rng.choice([0.0, 0.05])), discouraged=float(rng.choice([0.0, 0.2, 2.0])),
        k_buy=np.uint64(rng.integers(0, 2**63)), k_tie=np.uint64(rng.integers(0, 2**63)),
        k_give_up=np.uint64(rng.integers(0, 2**63)))


def run_sell(kernel, args: dict) -> tuple:
    """The kernel's results and then its in-place arrays (on copies)."""
    args = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in args.items()}
    out = kernel(**args)
    return (*out, args["savings"], args["spent"], args["credit"])


@pytest.mark.parametrize("seed", SEEDS)
def test_sell_to_intending_twins_agree(twins, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 5, 300, 300, 2000]))
    args = sell_inputs(rng, n, int(rng.integers(1, 6)), int(rng.integers(1, 4)))
    numpy_k, numba_k = twins
    assert_same(run_sell(numpy_k.sell_to_intending, args), run_sell(numba_k.sell_to_intending, args))


def test_sell_to_intending_twins_agree_when_nobody_intends(twins) -> None:
    args = sell_inputs(np.random.default_rng(1), 50, 3, 2)
    args["it"] = np.zeros(0, dtype=np.int64)
    numpy_k, numba_k = twins
    out = run_sell(numpy_k.sell_to_intending, args)
    assert_same(out, run_sell(numba_k.sell_to_intending, args))
    assert out[0].size == 0 and out[3].tolist() == [0, 0, 0]


def test_agencies_sell_no_more_than_capacity_first_come_first_served(kernels) -> None:
    # six people of one origin, all able to pay and all asking; agency 0 has 2 packages, agency 1 none
    n = 6
    args = dict(
        it=np.arange(n), agency=np.array([0, 0, 0, 0, 1, 1], np.int16), has_agency=np.ones(n, bool),
        savings=np.full(n, 2000.0, np.float32), spent=np.zeros(n, np.float32), origin=np.zeros(n, np.int8),
        day_entered=np.array([3, 1, 2, 0, 0, 0], np.int16), offer=np.array([True]),
        price=np.array([1000.0, 900.0]), reserve=0.0, buy_prob=np.float32(1.0), cap=np.array([2, 0]),
        credit=np.array([2.5, 0.5]), signal=np.zeros(1), give_up=0.0, discouraged=0.0,
        k_buy=np.uint64(1), k_tie=np.uint64(2), k_give_up=np.uint64(3))
    got, paid, quit_, demand, sold, revenue, savings, spent, credit = run_sell(kernels.sell_to_intending, args)
    assert got.tolist() == [1, 3]  # the two who have waited longest
    assert demand.tolist() == [4, 2] and sold.tolist() == [2, 0] and revenue.tolist() == [2000.0, 0.0]
    assert paid.tolist() == [1000.0, 1000.0] and credit.tolist() == [0.5, 0.5]
    assert savings[[1, 3]].tolist() == [1000.0, 1000.0] and spent[[1, 3]].tolist() == [1000.0, 1000.0]
    assert savings[[0, 2, 4, 5]].tolist() == [2000.0] * 4 and quit_.size == 0


def test_who_cannot_pay_does_not_buy_and_gives_up_at_the_rate(kernels) -> None:
    n = 2000
    args = dict(
        it=np.arange(n), agency=np.zeros(n, np.int16), has_agency=np.ones(n, bool),
        savings=np.full(n, 1050.0, np.float32), spent=np.zeros(n, np.float32), origin=np.zeros(n, np.int8),
        day_entered=np.zeros(n, np.int16), offer=np.array([True]), price=np.array([1000.0]), reserve=100.0,
        buy_prob=np.float32(1.0), cap=np.array([n]), credit=np.array([float(n)]), signal=np.zeros(1),
        give_up=0.25, discouraged=0.0, k_buy=np.uint64(1), k_tie=np.uint64(2), k_give_up=np.uint64(3))
    got, _, quit_, demand, *_ = run_sell(kernels.sell_to_intending, args)
    assert got.size == 0 and demand.tolist() == [0]  # savings below price + reserve: nobody asks
    assert quit_.tolist() == np.flatnonzero(draw(np.uint64(3), np.arange(n)) < 0.25).tolist()


# ---- close_agencies_day --------------------------------------------------------------------


def close_inputs(rng: np.random.Generator, n_ag: int) -> dict:
    base_capacity = rng.choice([0.0, 0.5, 2.0, 40.0], n_ag)
    demand = rng.integers(0, 60, n_ag)
    sold = np.minimum(demand, rng.integers(0, 60, n_ag))
    base_price = rng.choice([800.0, 1000.0, 1200.0], n_ag)
    return dict(
        price=base_price * rng.uniform(0.5, 3.0, n_ag), capacity=base_capacity * rng.uniform(1.0, 2.0, n_ag),
        base_price=base_price, base_capacity=base_capacity, demand_today=rng.random(n_ag),
        sold_today=rng.random(n_ag), revenue_usd=rng.random(n_ag) * 1e6, demand=demand, sold=sold,
        revenue=sold * rng.choice([800.0, 1000.5], n_ag), scale=float(rng.choice([1.0, 0.08, 1 / 3])),
        price_adjust=float(rng.choice([0.0, 0.02, 0.1])), price_min_mult=0.7, price_max_mult=float(rng.choice([1.5, 3.0])),
        growth=float(1 + rng.choice([0.0, 0.01, 0.05])), capacity_max_mult=float(rng.choice([1.0, 2.0, 4.0])))


BOOK = ("price", "capacity", "demand_today", "sold_today", "revenue_usd")


def run_close(kernel, args: dict) -> list:
    """The book's arrays after the kernel (on copies); the kernel returns nothing."""
    args = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in args.items()}
    assert kernel(**args) is None
    return [args[k] for k in BOOK]


@pytest.mark.parametrize("seed", SEEDS)
def test_close_agencies_day_twins_agree(twins, seed: int) -> None:
    rng = np.random.default_rng(seed)
    args = close_inputs(rng, int(rng.choice([0, 1, 7, 60])))
    numpy_k, numba_k = twins
    assert_same(run_close(numpy_k.close_agencies_day, args), run_close(numba_k.close_agencies_day, args))


def test_agencies_raise_price_and_grow_when_demand_exceeds_capacity(kernels) -> None:
    # in real people (scale 0.5): agency 0 asked by 40 for 10, agency 1 by 0 for 10, agency 2 by 10 for 10
    args = dict(
        price=np.array([1000.0, 1000.0, 1000.0]), capacity=np.array([10.0, 10.0, 10.0]),
        base_price=np.full(3, 1000.0), base_capacity=np.full(3, 10.0), demand_today=np.zeros(3),
        sold_today=np.zeros(3), revenue_usd=np.array([0.0, 0.0, 500.0]), demand=np.array([20, 0, 5]),
        sold=np.array([5, 0, 5]), revenue=np.array([5000.0, 0.0, 5000.0]), scale=0.5, price_adjust=0.1,
        price_min_mult=0.5, price_max_mult=2.0, growth=1.05, capacity_max_mult=1.02)
    price, capacity, demand_today, sold_today, revenue_usd = run_close(kernels.close_agencies_day, args)
    assert demand_today.tolist() == [40.0, 0.0, 10.0] and sold_today.tolist() == [10.0, 0.0, 10.0]
    assert revenue_usd.tolist() == [10000.0, 0.0, 10500.0]
    assert price.tolist() == pytest.approx([1000 * np.exp(0.1), 1000 * np.exp(-0.1), 1000.0])
    assert capacity.tolist() == [10.2, 10.0, 10.0]  # grows by 5%, up to 1.02 x base; only where demand exceeds it


# ---- start_intending -----------------------------------------------------------------------


def intend_inputs(rng: np.random.Generator, counts: np.ndarray) -> dict:
    n, n_o = int(counts.sum()), counts.size
    return dict(
        bits=rng.integers(0, 2**32, n, dtype=np.uint32), origin_counts=counts,
        state=rng.choice([State.AT_HOME, State.AT_HOME, State.INTENDING, State.IN_DESTINATION], n).astype(np.int8),
        net_weight=rng.beta(2, 5, n).astype(np.float32), origin=np.repeat(np.arange(n_o, dtype=np.int8), counts),
        base=float(rng.choice([1e-4, 0.01, 0.3, 5.0])), push=rng.uniform(0.5, 2.0, n_o),
        offer_mult=rng.choice([1.0, 0.2], n_o), intent_mult=rng.choice([0.0, 1.0, 1.5], n_o),
        gain=float(rng.choice([0.0, 0.7, 3.0])), signal=rng.normal(0, 1, n_o), info=rng.normal(0, 0.5, n_o))


def brute_force_intending(a: dict) -> np.ndarray:
    """Everyone at home whose draw is below their exact chance (no thinning)."""
    prob = intention_prob(a["base"], a["push"], a["signal"], a["info"], a["offer_mult"], a["intent_mult"],
                          a["gain"], a["net_weight"], a["origin"])
    return np.flatnonzero((a["state"] == State.AT_HOME) & (bits_to_unit(a["bits"]) < prob))


@pytest.mark.parametrize("seed", SEEDS)
def test_start_intending_twins_agree(twins, seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, int(rng.choice([1, 30, 3000])), int(rng.integers(1, 5)))
    args = intend_inputs(rng, counts)
    numpy_k, numba_k = twins
    assert_same([numpy_k.start_intending(**args)], [numba_k.start_intending(**args)])


@pytest.mark.parametrize("seed", range(10))
def test_thinning_decides_as_the_exact_chance(kernels, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    args = intend_inputs(rng, rng.integers(0, 2000, 3))
    assert kernels.start_intending(**args).tolist() == brute_force_intending(args).tolist()


def test_nobody_starts_to_intend_without_a_chance_or_away_from_home(kernels) -> None:
    rng = np.random.default_rng(5)
    args = intend_inputs(rng, np.array([500, 500]))
    args["intent_mult"] = np.array([0.0, 1e9])  # origin 0: no chance; origin 1: certain at home
    go = kernels.start_intending(**args)
    assert go.tolist() == [i for i in range(500, 1000) if args["state"][i] == State.AT_HOME]


# ---- leave_again ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_leave_again_twins_agree(twins, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, n_o = int(rng.choice([0, 1, 400])), int(rng.integers(1, 4))
    args = dict(back=np.flatnonzero(rng.random(n) < 0.5), origin=rng.integers(0, n_o, n).astype(np.int8),
                on_sale=rng.random(n_o) < 0.7, rate=float(rng.choice([0.0, 0.01, 0.5, 1.0])),
                key=np.uint64(rng.integers(0, 2**63)))
    numpy_k, numba_k = twins
    assert_same([numpy_k.leave_again(**args)], [numba_k.leave_again(**args)])


def test_returnees_leave_again_only_where_packages_are_on_sale(kernels) -> None:
    back = np.arange(0, 40, 2)
    origin = (np.arange(40) % 4 == 0).astype(np.int8)  # rows 0, 4, 8, ...: origin 1
    again = kernels.leave_again(back, origin, np.array([False, True]), 1.0, np.uint64(9))
    assert again.tolist() == list(range(0, 40, 4))
    assert kernels.leave_again(back, origin, np.array([True, True]), 0.0, np.uint64(9)).size == 0
