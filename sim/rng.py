"""Random streams: one root seed per run, one named, day-keyed stream per decision.

Every random number in a run derives from ``run.seed``. A stream is keyed by a stable hash
of its name and by the day, never by creation order, so adding a component does not shift the
others, and a decision draws one number per person *slot* (``uniform(name, day)[ids]``) so a
person's draw does not depend on how many others are in the same state. Two runs that differ
only in a lever therefore share every person's draws (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np


def stable_key(name: str) -> int:
    """A 32-bit key of a name that is the same in every process and Python version."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Named random streams of one run.

    Args:
        seed: the run's root seed.
        n: the population size (length of each per-person draw).
    """

    def __init__(self, seed: int, n: int) -> None:
        self.seed = int(seed)
        self.n = int(n)

    def generator(self, name: str, day: int = -1) -> np.random.Generator:
        """A fresh Generator for (name, day); the same arguments give the same numbers."""
        ss = np.random.SeedSequence(self.seed, spawn_key=(stable_key(name), day + 1))
        return np.random.Generator(np.random.PCG64(ss))

    def uniform(self, name: str, day: int, ids: np.ndarray | None = None) -> np.ndarray:
        """Per-person U(0,1) draws for decision ``name`` on ``day`` (float32), at ``ids``."""
        u = self.generator(name, day).random(self.n, dtype=np.float32)
        return u if ids is None else u[ids]
