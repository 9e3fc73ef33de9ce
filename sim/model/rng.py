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
(``FULL_STREAMS``) draws the whole population with PCG64, which is faster per number; it is
also available as the raw 32-bit integers behind the numbers (:meth:`Streams.full_bits`), so
that comparing everyone's number with a bound is an integer comparison (:func:`below_bound`).
"""

from __future__ import annotations

import sys
import zlib

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
_S27, _S30, _S40 = (np.uint64(k) for k in (27, 30, 40))
_TO_UNIT = np.float32(2.0**-24)


# --------------------------------------------------------------------------------------
# the named streams: every decision's stream, declared once (both engines draw from these)
# --------------------------------------------------------------------------------------


class Stream(str):
    """A named random stream: it *is* its name (a ``str``, which keys every draw: renaming a
    stream changes the results), with a sentence on what it decides. Declared once, below;
    the phases and the compiled kernels name the object, never a string literal."""

    decides: str

    def __new__(cls, name: str, decides: str) -> Stream:
        if name in STREAMS:
            raise ValueError(f"random stream {name!r} is declared twice")
        stream = super().__new__(cls, name)
        stream.decides = decides
        STREAMS[name] = stream
        return stream


STREAMS: dict[str, Stream] = {}  # every declared stream, by name

POPULATION_INIT = Stream("population.init", "each person's origin, savings and other attributes when the run starts")
AIRLINE_SEATS = Stream("airline.seats", "the stochastic rounding of today's corridor seats to the sample")
REPATRIATION_SEATS = Stream("repatriation.seats", "the stochastic rounding of today's repatriation seats to the sample")
INTEND = Stream("intend", "who at home starts to intend to leave today (the whole population draws)")
LEAVE_AGAIN = Stream("leave_again", "who, back home, leaves again today")
BUY = Stream("buy", "who, intending and able to pay, asks an agency for a package today")
BUY_TIE = Stream("buy.tie", "the order of equal claims on an agency's packages")
GIVE_UP = Stream("give_up", "who, intending, gives up today")
VISA_TIE = Stream("visa.tie", "the order of equal claims on a visa channel's visas")
SEAT_TIE = Stream("seat.tie", "the order of equal claims on a flight's seats")
SEAT_ROUTE_ORDER = Stream("seat.route_order", "the order in which today's routes fill their seats")
HUB_CHOICE = Stream("hub.choice", "the hub of ticketed people who cannot fly direct (flights stopped, banned or full)")
HUB_RECHOICE = Stream("hub.rechoice", "another hub for those in transit at a hub that no longer carries them")
RETURN_WILLING = Stream("return.willing", "who, stranded, is willing to go home today")
RETURN_TIE = Stream("return.tie", "the order of equal claims on repatriation seats")
RETURN_OWN = Stream("return.own", "who, willing and without a free seat, buys a ticket home")
GO_TO_BORDER = Stream("go_to_border", "who leaves the city for the border today")
SEGMENT_CHOICE = Stream("segment.choice", "the border segment of those who leave the city")
EXIT_CHECK = Stream("exit.check", "who, heading for the border, the transit state stops on its side")
LEG_TIE = Stream("leg.tie", "the order of equal claims on a leg's places to the border")
ESCORT = Stream("escort", "who in the city the transit state's forces take to the border today")
RELOCATE = Stream("escort.relocate", "who at another segment the transit state's forces move to the ones it chooses")
ESCORT_CHOICE = Stream("escort.choice", "the segment, among those the transit state chooses, that the escorted go to")
SEGMENT_RECHOICE = Stream("segment.rechoice", "the segment of those who switch after a pushback")
ATTEMPT = Stream("attempt", "who at the border attempts a crossing today")
SMUGGLER = Stream("smuggler", "who, attempting for the first time, hires a smuggler")
CROSS_DEATH = Stream("cross.death", "who dies in an attempt")
CROSS_LINE = Stream("cross.line", "who is stopped at the line")
CROSS_INSIDE = Stream("cross.inside", "who, across, is caught inside")
CROSS_KEEP = Stream("cross.keep", "who, caught inside where the segment pushes back, is kept all the same")
SWITCH = Stream("switch", "who, pushed back, switches segment")
CROSSING_TIE = Stream("crossing.tie", "the order of equal claims on a crossing point's registrations today")
CLOSED_CHOICE = Stream("crossing.closed", "who, at a closed crossing point, chooses again, goes back or waits")
CLOSED_RECHOICE = Stream("crossing.rechoice", "the segment of those who choose again at a closed crossing point")

FULL_STREAMS = frozenset({INTEND})


MASK64 = (1 << 64) - 1
_GAMMA_INT = int(GAMMA)


def _mix64(z: int) -> int:
    """SplitMix64's output function on a Python int (64-bit arithmetic)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def stable_key(name: str) -> int:
    """A 32-bit key of a name that is the same in every process and Python version."""
    return zlib.crc32(name.encode("utf-8"))


def bits_to_unit(bits: np.ndarray) -> np.ndarray:
    """U[0, 1) float32 from 32-bit draws, as numpy's ``Generator.random(dtype=float32)``: ``(b >> 8) / 2**24``."""
    u = (bits >> np.uint32(8)).astype(np.float32)
    u *= _TO_UNIT
    return u


def unit_bound_bits(bound: np.ndarray) -> np.ndarray:
    """Integer form of ``u < bound`` for ``u = (b >> 8) / 2**24``: ``b < bits`` with these (int64) bits.

    ``(b >> 8) < bound * 2**24`` holds exactly when ``(b >> 8) < ceil(bound * 2**24)``, i.e.
    ``b < 256 * ceil(bound * 2**24)`` (the scaling of a float32 by 2**24 is exact in float64).
    """
    t = np.ceil(np.clip(np.asarray(bound, dtype=np.float32).astype(np.float64), 0.0, 1.0) * 2.0**24)
    return t.astype(np.int64) << 8


def below_bound(bits: np.ndarray, bound: np.ndarray, block_sizes: np.ndarray) -> np.ndarray:
    """Rows whose number (:func:`bits_to_unit` of ``bits``) is below their block's float32 ``bound``.

    ``bits`` are consecutive blocks of ``block_sizes`` rows, block ``j`` sharing ``bound[j]``;
    the same rows as ``np.flatnonzero(bits_to_unit(bits) < np.repeat(bound, block_sizes))``,
    without making the floats.
    """
    limits = unit_bound_bits(bound).tolist()
    ends = np.cumsum(block_sizes).tolist()
    found, start = [], 0
    for limit, end in zip(limits, ends, strict=True):
        if limit >= 2**32:  # everyone's number is below 1
            found.append(np.arange(start, end))
        elif limit > 0 and end > start:
            found.append(np.flatnonzero(bits[start:end] < np.uint32(limit)) + start)
        start = end
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def counter_offset(key: np.uint64 | int) -> np.uint64:
    """``key + gamma`` (mod 2**64): counter ``i``'s state before mixing is ``i * gamma`` plus this."""
    return np.uint64((int(key) + int(GAMMA)) & MASK64)


def splitmix_uniform(key: np.uint64, ids: np.ndarray) -> np.ndarray:
    """U[0, 1) float32 for counters ``ids`` of the SplitMix64 stream started at ``key``.

    Formula: ``z = key + (i + 1) * gamma``; ``z ^= z >> 30; z *= m1; z ^= z >> 27; z *= m2;
    z ^= z >> 31``; ``u = (z >> 40) / 2**24``.

    Computed in fewer passes, with the same result: ``key + (i + 1) * gamma`` is
    ``i * gamma + (key + gamma)``, and the last step ``z ^= z >> 31`` leaves the top 24 bits
    of ``z`` (the only ones ``u`` keeps) unchanged, so it is skipped.
    """
    return _splitmix_from(counter_offset(key), ids)


def draw(key: np.uint64, ids: np.ndarray) -> np.ndarray:
    """Persons ``ids``' U[0, 1) float32 numbers on the stream whose :meth:`Streams.counter_key` is
    ``key``: ``streams.uniform(name, day, ids)`` is ``draw(streams.counter_key(name, day), ids)``.

    What a kernel is given instead of the streams (the compiled twin is
    :func:`sim.engines.compiled.common.u01`, one person at a time).
    """
    if ids.size == 0:
        return np.zeros(0, dtype=np.float32)
    return _splitmix_from(key, ids)


def _splitmix_from(offset: np.uint64, ids: np.ndarray) -> np.ndarray:
    """:func:`splitmix_uniform` given ``offset = key + gamma`` (:func:`counter_offset`)."""
    z = ids.astype(np.uint64)  # a copy: every step below is in place (wrapping 64-bit arithmetic)
    z *= GAMMA
    z += offset
    z ^= z >> _S30
    z *= M1
    z ^= z >> _S27
    z *= M2
    z >>= _S40
    u = z.astype(np.float32)
    u *= _TO_UNIT
    return u


def _mix64_array(z: np.ndarray) -> np.ndarray:
    """:func:`_mix64` of each element (uint64, wrapping arithmetic)."""
    z = z ^ (z >> _S30)
    z *= M1
    z ^= z >> _S27
    z *= M2
    z ^= z >> np.uint64(31)
    return z


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
        self._seeded_names: dict[str, int] = {}  # root ^ name part of each stream's key, once
        self._counter_keys: dict[str, np.ndarray] = {}  # per name: counter_key by day

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
        return np.uint64(self._key_int(name, day))

    def _key_int(self, name: str, day: int) -> int:
        """:meth:`_key` as a Python int: ``mix64(root ^ name_key * c ^ (day + 1) * gamma)``."""
        seeded = self._seeded_names.get(name)
        if seeded is None:  # the seed and the name's part, once per name
            seeded = self._seeded_names[name] = self._root_key ^ (self._name_key(name) * 0xD1B54A32D192ED03)
        return _mix64((seeded ^ ((day + 1) * 0x9E3779B97F4A7C15)) & MASK64)

    def counter_key(self, name: str, day: int) -> np.uint64:
        """What a compiled kernel needs to draw person ``i``'s number for (name, day) itself:
        ``sim.engines.compiled.common.u01(counter_key(name, day), i)`` is ``uniform(name, day, [i])[0]``.

        It is ``_key(name, day) + gamma``, looked up in a table of a year of days per name, made
        on the name's first use with the same arithmetic on arrays (extended as days go by)."""
        table = self._counter_keys.get(name)
        if table is None or day >= table.shape[0] or day < 0:
            if day < 0:
                return counter_offset(self._key_int(name, day))
            table = self._counter_keys[name] = self._counter_key_table(name, max(2 * day, 366))
        return table[day]

    def _counter_key_table(self, name: str, n_days: int) -> np.ndarray:
        """(n_days,) uint64: :meth:`counter_key` of days 0 .. n_days - 1."""
        self._key_int(name, 0)  # makes sure the name's seeded part is known
        z = (np.arange(1, n_days + 1, dtype=np.uint64) * GAMMA) ^ np.uint64(self._seeded_names[name] & MASK64)
        return _mix64_array(z) + GAMMA

    def generator(self, name: str, day: int = -1) -> np.random.Generator:
        """A fresh Generator for (name, day); the same arguments give the same numbers."""
        return np.random.Generator(np.random.PCG64(self._seed_sequence(name, day)))

    def full_bits(self, name: str, day: int) -> np.ndarray:
        """(n,) uint32: the 32-bit draws behind a whole-population decision's numbers:
        ``bits_to_unit(full_bits(name, day))`` is ``uniform(name, day)`` exactly.

        numpy's float32 draws take the low, then the high half of each PCG64 output; so do these.
        """
        raw = self.generator(name, day).bit_generator.random_raw((self.n + 1) // 2)
        if sys.byteorder == "little":
            return raw.view(np.uint32)[: self.n]
        return np.stack([raw & np.uint64(0xFFFFFFFF), raw >> np.uint64(32)], axis=1).ravel()[: self.n].astype(np.uint32)

    def uniform(self, name: str, day: int, ids: np.ndarray | None = None) -> np.ndarray:
        """Per-person U(0,1) draws (float32) for decision ``name`` on ``day``, at rows ``ids``.

        Person ``i`` gets the same number whatever ``ids`` holds besides ``i``.
        """
        if name in FULL_STREAMS:
            bits = self.full_bits(name, day)
            return bits_to_unit(bits if ids is None else bits[ids])
        if ids is None:
            ids = np.arange(self.n)
        elif ids.size == 0:
            return np.zeros(0, dtype=np.float32)
        return _splitmix_from(self.counter_key(name, day), ids)
