"""Who starts to intend to leave, and who of those back home leaves again.

:func:`intend` is the phase (its bookkeeping: who moves); the per-person work is done by the
kernels in ``KERNELS``, plain functions of arrays defined here in numpy (the definition) and,
with the same names, arguments and results, in :mod:`sim.engines.compiled.intend`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.population import State, intention_prob
from sim.model.rng import INTEND, LEAVE_AGAIN, below_bound, bits_to_unit, draw

if TYPE_CHECKING:
    from sim.model.day import Day
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ("start_intending", "leave_again")


def intend(model: MigrationModel, today: Day) -> None:
    """At home -> intending (push, network, information, offer); returnees leave again."""
    p, w, c, day = model.people, model.world, model.cfg.intention, model.day
    pol = w.policy
    offer_mult = np.where(today.offer, 1.0, c.closed_offer_mult)
    go = model.kernels.start_intending(
        model.streams.full_bits(INTEND, day), p.origin_counts, p.state, p.net_weight, p.origin,
        c.base_rate_per_day, w.origin_push, offer_mult, pol.intent_mult, c.network_gain, model.signal, pol.info)
    p.move(go, State.AT_HOME, State.INTENDING, day)
    back = p.ids(State.RETURNED)
    again = model.kernels.leave_again(back, p.origin, today.offer, float(model.cfg.returns.leave_again_per_day),
                                      model.streams.counter_key(LEAVE_AGAIN, day))
    p.move(again, State.RETURNED, State.INTENDING, day)


def start_intending(bits, origin_counts, state, net_weight, origin, base, push, offer_mult, intent_mult,
                    gain, signal, info):
    """Who at home starts to intend to leave today (ascending rows): ``u_i < p_i`` with
    ``u_i = bits_to_unit(bits[i])`` (everyone's draw, rows sorted by origin, ``origin_counts``
    rows per origin) and ``p_i`` by :func:`sim.model.population.intention_prob`::

        p_i = min(1, base * push_o * offer_mult_o * mult_o * exp(gain * w_i * S_o + info_o))

    ``gain`` is a Python float (float32 against the float32 weights, NEP 50). Thinning: since
    ``w_i < 1``, nobody's chance exceeds their origin's bound
    ``min(1, base * push_o * offer_mult_o * mult_o * exp(gain * max(S_o, 0) + info_o))`` (float32), so
    only the rows below it (:func:`sim.model.rng.below_bound`) need the exact chance — the same
    decisions, far cheaper.
    """
    bound = np.minimum(1.0, base * push * offer_mult * intent_mult
                       * np.exp(gain * np.maximum(signal, 0.0) + info)).astype(np.float32)
    below = below_bound(bits, bound, origin_counts)
    home = below[state[below] == State.AT_HOME]
    prob = intention_prob(base, push, signal, info, offer_mult, intent_mult, gain, net_weight[home], origin[home])
    return home[bits_to_unit(bits[home]) < prob]


def leave_again(back, origin, on_sale, rate, key):
    """Of the people back home ``back`` (ascending rows), those who leave again today:
    ``u_i < rate * on_sale_o`` (float64; ``on_sale``: packages are on sale in the origin), with
    ``u_i`` the draw of the stream whose counter key is ``key``."""
    return back[draw(key, back) < rate * on_sale[origin[back]]]
