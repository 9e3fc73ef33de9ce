"""Compiled form of :meth:`sim.model.MigrationModel.intend` (same numbers, bit for bit)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.fast.common import u01
from sim.population import State, intention_prob
from sim.rng import bits_to_unit, unit_bound_bits


@njit(cache=True)
def _candidates(bits, state, block_ends, limits, at_home):
    """Rows at home whose draw is below their origin's bound (:func:`sim.rng.below_bound`, then
    the state), ascending. ``limits``: each origin block's bound as 32-bit integer limits.

    The comparison over everyone appends without a branch (the share below the bound is
    anything from 0 to 1, so a branch would be mispredicted); the state is read for those below.
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
    m = 0
    for j in range(n):
        i = below[j]
        below[m] = i
        m += state[i] == at_home
    return below[:m]


@njit(cache=True)
def _leave_again(back, origin, offer, rate, key):
    """Returnees who leave again today: ``u < rate * offer[origin]`` (float64, as numpy)."""
    out = np.empty(back.shape[0], dtype=np.int64)
    n = 0
    for i in back:
        if u01(key, i) < (rate if offer[origin[i]] else 0.0):
            out[n] = i
            n += 1
    return out[:n]


def intend(model) -> None:
    """At home -> intending (push, network, information, offer); returnees leave again
    (mirrors :meth:`MigrationModel.intend`; the exact chance of the few candidates is numpy's)."""
    p, w, c, day = model.people, model.world, model.cfg.intention, model.day
    pol = w.policy
    offer = np.where(model.offer, 1.0, c.closed_offer_mult)
    signal = model.signal
    bound = np.minimum(1.0, c.base_rate_per_day * w.origin_push * offer * pol.intent_mult
                       * np.exp(c.network_gain * np.maximum(signal, 0.0) + pol.info)).astype(np.float32)
    bits = model.streams.full_bits("intend", day)
    ends = model.__dict__.get("_origin_block_ends")
    if ends is None:
        ends = model._origin_block_ends = np.cumsum(p.origin_counts)
    limits = unit_bound_bits(bound)
    if float(bound @ p.origin_counts) < 0.15 * p.n and limits.max() < 2**32:
        # few below the bound (most days): numpy's SIMD comparison and flatnonzero beat a loop
        below = np.flatnonzero(bits < np.repeat(limits.astype(np.uint32), p.origin_counts))
        home = below[p.state[below] == State.AT_HOME]
    else:
        home = _candidates(bits, p.state, ends, limits, np.int8(State.AT_HOME))
    prob = intention_prob(c.base_rate_per_day, w.origin_push, signal, pol.info, offer,
                          pol.intent_mult, c.network_gain, p.net_weight[home], p.origin[home])
    go = home[bits_to_unit(bits[home]) < prob]
    p.move(go, State.AT_HOME, State.INTENDING, day)
    back = p.ids(State.RETURNED)
    again = _leave_again(back, p.origin, model.offer, float(model.cfg.returns.leave_again_per_day),
                         model.streams.counter_key("leave_again", day))
    p.move(again, State.RETURNED, State.INTENDING, day)
