"""The random streams (sim/model/rng.py): the fast forms compute exactly the numbers they stand for."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.rng import MASK64, Streams, below_bound, bits_to_unit, splitmix_uniform


def splitmix_textbook(key: int, i: int) -> np.float32:
    """SplitMix64's output for counter ``i`` of the stream started at ``key``, top 24 bits as U[0, 1)."""
    z = (key + (i + 1) * 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    z ^= z >> 31
    return np.float32((z >> 40) / 2**24)


@settings(max_examples=50, deadline=None)
@given(key=st.integers(0, MASK64), ids=st.lists(st.integers(0, 2**40), min_size=1, max_size=50))
def test_splitmix_uniform_is_the_textbook_generator(key: int, ids: list[int]) -> None:
    got = splitmix_uniform(np.uint64(key), np.array(ids, dtype=np.int64))
    assert got.dtype == np.float32
    assert got.tolist() == [splitmix_textbook(key, i) for i in ids]


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 100_001])
def test_full_bits_are_the_bits_behind_numpys_float32_draws(n: int) -> None:
    s = Streams(seed=11, n=n)
    expected = s.generator("intend", 5).random(n, dtype=np.float32)
    assert np.array_equal(bits_to_unit(s.full_bits("intend", 5)), expected)
    assert np.array_equal(s.uniform("intend", 5), expected)
    rows = np.arange(0, n, 3)
    assert np.array_equal(s.uniform("intend", 5, rows), expected[rows])


# bounds where float and integer comparisons could part: 0, exact multiples of 2**-24, their
# float32 neighbours, 1 and above
EDGES = [0.0, 2.0**-24, 3 * 2.0**-24, 0.5, 1.0, 1.5]
EDGES += [float(np.nextafter(np.float32(x), np.float32(d))) for x in EDGES[1:5] for d in (0, 2)]


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 400), min_size=1, max_size=6),
       bounds=st.lists(st.one_of(st.sampled_from(EDGES), st.floats(0.0, 1.25, width=32)), min_size=6, max_size=6),
       seed=st.integers(0, 2**32 - 1))
def test_below_bound_equals_the_float_comparison(sizes: list[int], bounds: list[float], seed: int) -> None:
    n = sum(sizes)
    bits = np.random.default_rng(seed).integers(0, 2**32, size=n, dtype=np.uint32)
    # make some numbers sit exactly on the bounds
    for j, b in enumerate(bounds[: len(sizes)]):
        start = sum(sizes[:j])
        if sizes[j] and b < 1:
            bits[start] = np.uint32(int(np.float32(b) * 2**24) << 8)
    bound = np.array(bounds[: len(sizes)], dtype=np.float32)
    expected = np.flatnonzero(bits_to_unit(bits) < np.repeat(bound, sizes))
    assert np.array_equal(below_bound(bits, bound, np.array(sizes)), expected)


def test_a_persons_number_does_not_depend_on_who_else_draws() -> None:
    s = Streams(seed=3, n=1000)
    everyone = s.uniform("attempt", 12, np.arange(1000))
    some = np.array([4, 17, 999])
    assert np.array_equal(s.uniform("attempt", 12, some), everyone[some])
    assert not np.array_equal(s.uniform("attempt", 13, some), everyone[some])  # keyed by day


@pytest.mark.parametrize("seed", [0, 20211118, 2**40 + 3])
def test_counter_keys_from_the_table_are_the_streams_keys(seed: int) -> None:
    from sim.model.rng import counter_offset

    s = Streams(seed=seed, n=10)
    for name in ("attempt", "buy.tie", "intend"):
        for day in [*range(0, 800, 13), 365, 366, 731, -1]:  # past the first table too
            assert s.counter_key(name, day) == counter_offset(s._key(name, day))
