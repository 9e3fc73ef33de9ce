"""Visas: applications at the channels (first come first served), lapses, collection."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.allocate import allocate_fifo, token_bucket
from sim.model.population import State
from sim.model.rng import VISA_TIE
from sim.model.rules.sell import cancel

if TYPE_CHECKING:
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ()


def apply_for_visas(model: MigrationModel) -> None:
    """Waiting for a package -> waiting for a visa: agencies apply at open channels (FIFO)."""
    p, w, day = model.people, model.world, model.day
    pol = w.policy
    # applications at channels that closed or stopped serving the nationality lapse
    wv = p.ids(State.WAITING_VISA)
    serving = model.channels_serving()
    lapsed = wv[~serving[p.channel[wv], p.nationality[wv]]]
    p.channel[lapsed] = -1
    p.move(lapsed, State.WAITING_VISA, State.WAITING_PACKAGE, day)
    model.recorder.add("visa_lapsed", lapsed.size)

    wp = p.ids(State.WAITING_PACKAGE)
    cap = w.channel_cap * model.channel_level * pol.channel_cap_mult * serving.any(axis=1)
    cap = token_bucket(model.channel_credit, cap * model.scale)
    model.recorder.channel_capacity = cap.astype(float)
    k = p.nationality[wp]
    model.recorder.channel_queue = (serving @ np.bincount(k, minlength=w.n_nationalities)).astype(float)
    free = np.ones(wp.size, bool)
    tie = model.streams.uniform(VISA_TIE, day, wp)
    for c in w.channel_preference:
        cand = np.flatnonzero(free & serving[c, k])
        if cand.size == 0 or cap[c] <= 0:
            continue
        win = cand[allocate_fifo(int(cap[c]), p.day_entered[wp[cand]], tie[cand])]
        model.channel_credit[c] -= win.size
        free[win] = False
        ids = wp[win]
        p.channel[ids] = c
        p.day_due[ids] = day + w.channel_days[c]
        p.move(ids, State.WAITING_PACKAGE, State.WAITING_VISA, day)
        model.recorder.add(model.recorder.visa_application_columns[c], ids.size)
    # no visa application for too long (queues, or no channel at all): the agency cancels
    # and refunds part of the price
    stuck = wp[free & (day - p.day_entered[wp] > model.cfg.travel.package_cancel_days)]
    cancel(model, stuck, State.WAITING_PACKAGE)



def collect_visas(model: MigrationModel) -> None:
    p, w, day = model.people, model.world, model.day
    wv = p.ids(State.WAITING_VISA)
    ready = wv[p.day_due[wv] <= day]
    model.recorder.add_many(model.recorder.visa_columns, np.bincount(p.channel[ready], minlength=w.n_channels).tolist())
    p.move(ready, State.WAITING_VISA, State.TICKETED, day)
