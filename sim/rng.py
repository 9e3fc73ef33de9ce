"""Random streams: one root seed per run, one named, day-keyed stream per decision.

Every random number in a run derives from ``run.seed``. A stream is keyed by a stable hash
of its name and by the day, never by creation order, so adding a component does not shift the
others, and a decision draws one number per person *slot* (``uniform(name, day, ids)``) so a
person's draw does not depend on how many others are in the same state. Two runs that differ
only in a lever therefore share every person's draws (common random numbers).

Per-person draws are counter-based: person ``i``'s number on (name, day) is the SplitMix64
output for counter ``i`` of a stream keyed by (seed, name, day) — exactly the ``i``-th output
of a SplitMix64 generator started there. So a draw costs time only for the people who need
one, not for the whole population. The one decision that every person at home takes each day
(``FULL_STREAMS``) draws the whole population with PCG64, which is faster per number.
"""

from __future__ import annotations

import zlib

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
_ONE, _S27, _S30, _S31, _S40 = (np.uint64(k) for k in (1, 27, 30, 31, 40))
_TO_UNIT = np.float32(2.0**-24)
FULL_STREAMS = frozenset({"intend"})


MASK64 = (1 << 64) - 1


def _mix64(z: int) -> int:
    """SplitMix64's output function on a Python int (64-bit arithmetic)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def stable_key(name: str) -> int:
    """A 32-bit key of a name that is the same in every process and Python version."""
    return zlib.crc32(name.encode("utf-8"))


def splitmix_uniform(key: np.uint64, ids: np.ndarray) -> np.ndarray:
    """U[0, 1) float32 for counters ``ids`` of the SplitMix64 stream started at ``key``.

    Formula: ``z = key + (i + 1) * gamma``; ``z ^= z >> 30; z *= m1; z ^= z >> 27; z *= m2;
    z ^= z >> 31``; ``u = (z >> 40) / 2**24``.
    """
    z = ids.astype(np.uint64)  # a copy: every step below is in place (wrapping 64-bit arithmetic)
    z += _ONE
    z *= GAMMA
    z += key
    z ^= z >> _S30
    z *= M1
    z ^= z >> _S27
    z *= M2
    z ^= z >> _S31
    z >>= _S40
    u = z.astype(np.float32)
    u *= _TO_UNIT
    return u


class Streams:
    """Named random streams of one run.

    Args:
        seed: the run's root seed.
        n: the population size (length of a whole-population draw).
    """

    def __init__(self, seed: int, n: int) -> None:
        self.seed = int(seed)
        self.n = int(n)
        self._root_key = int(np.random.SeedSequence(self.seed).generate_state(1, np.uint64)[0])
        self._name_keys: dict[str, int] = {}  # stable_key of each decision's name, once

    def _name_key(self, name: str) -> int:
        """:func:`stable_key` of a decision's name (computed once per name)."""
        key = self._name_keys.get(name)
        if key is None:
            key = self._name_keys[name] = stable_key(name)
        return key

    def _seed_sequence(self, name: str, day: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(self._name_key(name), day + 1))

    def _key(self, name: str, day: int) -> np.uint64:
        """The 64-bit start of the SplitMix64 stream for (seed, name, day): a SplitMix64 mix of
        the three, computed with Python integers (cheap enough to call for every decision)."""
        k = self._root_key ^ (self._name_key(name) * 0xD1B54A32D192ED03) ^ ((day + 1) * 0x9E3779B97F4A7C15)
        return np.uint64(_mix64(k & MASK64))

    def generator(self, name: str, day: int = -1) -> np.random.Generator:
        """A fresh Generator for (name, day); the same arguments give the same numbers."""
        return np.random.Generator(np.random.PCG64(self._seed_sequence(name, day)))

    def uniform(self, name: str, day: int, ids: np.ndarray | None = None) -> np.ndarray:
        """Per-person U(0,1) draws (float32) for decision ``name`` on ``day``, at rows ``ids``.

        Person ``i`` gets the same number whatever ``ids`` holds besides ``i``.
        """
        if name in FULL_STREAMS:
            u = self.generator(name, day).random(self.n, dtype=np.float32)
            return u if ids is None else u[ids]
        if ids is None:
            ids = np.arange(self.n)
        elif ids.size == 0:
            return np.zeros(0, dtype=np.float32)
        return splitmix_uniform(self._key(name, day), ids)
