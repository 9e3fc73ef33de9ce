"""Compiled twins of the kernels of :mod:`sim.model.rules.intend` (same names, arguments and
results, bit for bit); the phase and its rules live there.

- :func:`start_intending`: the thinning bound per origin, the scan for the rows below it, then
  the exact chance of those at home — loops, with numpy's ``exp`` between them;
- :func:`leave_again`: the returnees who leave again, in one loop.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.engines.compiled.common import TO_UNIT, u01
from sim.model.population import State


@njit(cache=True)
def _below(bits, block_ends, limits):
    """Rows whose draw is below their origin's bound (:func:`sim.model.rng.below_bound`), ascending.
    ``limits``: each origin block's bound as 32-bit integer limits.

    Appends without a branch (the share below the bound is anything from 0 to 1, so a branch
    would be mispredicted).
    """
    below = np.empty(bits.shape[0], dtype=np.int64)
    n = 0
    start = 0
    for o in range(block_ends.shape[0]):
        end = block_ends[o]
        limit = limits[o]
        if limit >= 4294967296:
            for i in range(start, end):
                below[n] = i
                n += 1
        elif limit > 0:
            lim = np.uint32(limit)
            for i in range(start, end):
                below[n] = i
                n += bits[i] < lim
        start = end
    return below[:n]


@njit(cache=True)
def _exponents(below, state, at_home, net_weight, origin, gain, signal, info):
    """Of ``below``, those at home, and the exponent of their chance in float32, as
    :func:`sim.model.population.intention_prob` computes it: ``gain * w_i * S_o + info_o``."""
    home = np.empty(below.shape[0], dtype=np.int64)
    expo = np.empty(below.shape[0], dtype=np.float32)
    m = 0
    for i in below:
        if state[i] == at_home:
            o = origin[i]
            home[m] = i
            expo[m] = gain * net_weight[i] * signal[o] + info[o]
            m += 1
    return home[:m], expo[:m]


@njit(cache=True)
def _decide(home, growth, bits, origin, per_origin):
    """Who of ``home`` starts to intend: ``u_i < min(1, per_origin_o * growth_i)`` in float32
    (``growth`` = numpy's ``exp`` of the exponents; a NaN chance decides no, as in numpy)."""
    go = np.empty(home.shape[0], dtype=np.int64)
    one = np.float32(1.0)
    n = 0
    for j in range(home.shape[0]):
        i = home[j]
        p = per_origin[origin[i]] * growth[j]
        if p > one:
            p = one
        if np.float32(bits[i] >> np.uint32(8)) * TO_UNIT < p:
            go[n] = i
            n += 1
    return go[:n]


@njit(cache=True)
def _bounds(pre, growth, counts):
    """Each origin's thinning bound as numpy computes it, ``float32(min(1, pre_o * growth_o))``, in
    the integer form of :func:`sim.model.rng.unit_bound_bits` (int64, and uint32 where all fit), and the
    expected share of people below it (to pick the faster scan)."""
    n_o = pre.shape[0]
    limits = np.empty(n_o, dtype=np.int64)
    limits32 = np.empty(n_o, dtype=np.uint32)
    below = 0.0
    total = 0.0
    fits = True
    for o in range(n_o):
        b = np.float64(np.float32(min(1.0, pre[o] * growth[o])))
        below += b * counts[o]
        total += counts[o]
        t = np.int64(math.ceil(min(max(b, 0.0), 1.0) * 16777216.0)) << 8
        limits[o] = t
        if t >= 4294967296:
            fits = False
        else:
            limits32[o] = np.uint32(t)
    return limits, limits32, fits, below / max(total, 1.0)


@njit(cache=True)
def leave_again(back, origin, on_sale, rate, key):
    """:func:`sim.model.rules.intend.leave_again`: ``u < rate * on_sale[origin]`` (float64, as numpy)."""
    out = np.empty(back.shape[0], dtype=np.int64)
    n = 0
    for i in back:
        if u01(key, i) < (rate if on_sale[origin[i]] else 0.0):
            out[n] = i
            n += 1
    return out[:n]


def start_intending(bits, origin_counts, state, net_weight, origin, base, push, offer_mult, intent_mult,
                    gain, signal, info):
    """:func:`sim.model.rules.intend.start_intending`; the chance's ``exp`` is numpy's, between loops.

    The rows below the bound are found by numpy's SIMD comparison and ``flatnonzero`` when few
    are expected below it (under 15%, most days) and the bounds fit 32 bits, else by
    :func:`_below`'s branch-free loop.
    """
    pre = base * push * offer_mult * intent_mult  # the chance's factors before exp
    limits, limits32, fits, share = _bounds(pre, np.exp(gain * np.maximum(signal, 0.0) + info), origin_counts)
    if share < 0.15 and fits:
        below = np.flatnonzero(bits < np.repeat(limits32, origin_counts))
    else:
        below = _below(bits, np.cumsum(origin_counts), limits)
    # intention_prob for the candidates at home: its float32 exponent, numpy's exp, the decision
    home, expo = _exponents(below, state, np.int8(State.AT_HOME), net_weight, origin, np.float32(gain),
                            signal.astype(np.float32), info.astype(np.float32))
    return _decide(home, np.exp(expo), bits, origin, pre.astype(np.float32))
