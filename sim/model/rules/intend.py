"""Who starts to intend to leave, and who of those back home leaves again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.population import State, intention_prob
from sim.model.rng import INTEND, LEAVE_AGAIN, below_bound, bits_to_unit

if TYPE_CHECKING:
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ()


def intend(model: MigrationModel) -> None:
    """At home -> intending (push, network, information, offer); returnees leave again."""
    p, w, c, day = model.people, model.world, model.cfg.intention, model.day
    pol = w.policy
    offer = np.where(model.offer, 1.0, c.closed_offer_mult)
    signal = model.signal
    # thinning: nobody's chance exceeds their origin's bound (weights w_i are below 1), so
    # only people under the bound need the exact formula — the same decisions, far cheaper
    bound = np.minimum(1.0, c.base_rate_per_day * w.origin_push * offer * pol.intent_mult
                       * np.exp(c.network_gain * np.maximum(signal, 0.0) + pol.info)).astype(np.float32)
    bits = model.streams.full_bits(INTEND, day)  # everyone's number, as integers
    below = below_bound(bits, bound, p.origin_counts)  # rows are sorted by origin
    home = below[p.state[below] == State.AT_HOME]
    prob = intention_prob(c.base_rate_per_day, w.origin_push, signal, pol.info, offer,
                          pol.intent_mult, c.network_gain, p.net_weight[home], p.origin[home])
    go = home[bits_to_unit(bits[home]) < prob]
    p.move(go, State.AT_HOME, State.INTENDING, day)
    back = p.ids(State.RETURNED)
    again = back[model.streams.uniform(LEAVE_AGAIN, day, back) < model.cfg.returns.leave_again_per_day * model.offer[p.origin[back]]]
    p.move(again, State.RETURNED, State.INTENDING, day)
