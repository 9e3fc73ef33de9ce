"""Visas: applications at the channels (first come first served), lapses, collection.

The phases here do the bookkeeping for both engines (moves, the recorder's counters, the
channels' token buckets, cancellations with :func:`sim.model.rules.sell.cancel`); the
per-person work is done by the kernels in ``KERNELS`` (numpy, below; their compiled twins are
in :mod:`sim.engines.compiled.visas`):

- :func:`lapsed_applications`: whose application lapses at a channel no longer serving them;
- :func:`apply_at_channels`: who gets a channel's visas today (FIFO), and who waited too long;
- :func:`visas_due`: whose visa is ready today, per channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.allocate import allocate_fifo, token_bucket
from sim.model.population import State
from sim.model.rng import VISA_TIE, draw
from sim.model.rules.sell import cancel

if TYPE_CHECKING:
    from sim.model.day import Day
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ("lapsed_applications", "apply_at_channels", "visas_due")


def apply_for_visas(model: MigrationModel, today: Day) -> None:
    """Waiting for a package -> waiting for a visa: agencies apply at open channels (FIFO)."""
    p, w, day, rec = model.people, model.world, model.day, model.recorder
    pol = w.policy
    # applications at channels that closed or stopped serving the nationality lapse
    wv = p.ids(State.WAITING_VISA)
    serving = today.serving
    lapsed = model.kernels.lapsed_applications(wv, p.channel, p.origin, serving)
    p.move(lapsed, State.WAITING_VISA, State.WAITING_PACKAGE, day)
    rec.add("visa_lapsed", lapsed.size)

    # people who need no visa (visa-free, or holding one) are ticketed with their package
    wp = p.ids(State.WAITING_PACKAGE)
    if not p.needs_visa[wp].all():
        p.move(wp[~p.needs_visa[wp]], State.WAITING_PACKAGE, State.TICKETED, day)
        wp = p.ids(State.WAITING_PACKAGE)
    cap = w.channel_cap * model.channel_level * pol.channel_cap_mult * serving.any(axis=1)
    cap = token_bucket(model.channel_credit, cap * model.scale)
    today.visa_capacity = cap.astype(float)
    winners, n_won, stuck, today.visa_queue = model.kernels.apply_at_channels(
        wp, p.origin, p.day_entered, p.day_due, p.channel, serving, cap, w.channel_preference,
        w.channel_days, model.streams.counter_key(VISA_TIE, day), day, model.cfg.travel.package_cancel_days)
    model.channel_credit -= n_won
    p.move(winners, State.WAITING_PACKAGE, State.WAITING_VISA, day)
    columns = rec.visa_application_columns
    for c, won in enumerate(n_won.tolist()):
        if won:
            rec.add(columns[c], won)
    # no visa application for too long (queues, or no channel at all): the agency cancels
    # and refunds part of the price
    cancel(model, stuck, State.WAITING_PACKAGE)


def collect_visas(model: MigrationModel, today: Day) -> None:
    """Waiting for a visa -> ticketed when it is due, counted per channel."""
    p, w, day, rec = model.people, model.world, model.day, model.recorder
    wv = p.ids(State.WAITING_VISA)
    ready, counts = model.kernels.visas_due(wv, p.day_due, p.channel, day, w.n_channels)
    rec.add_many(rec.visa_columns, counts.tolist())
    # a visa bought outside the package is paid by the traveller when it is issued
    own = ready[~w.channel_in_package[p.channel[ready]]]
    if own.size:
        price = w.channel_cost[p.channel[own]]
        paid = np.minimum(price.astype(np.float32), p.savings_usd[own])  # the price, or what they have left
        p.pay(own, price)
        rec.add("paid_visas_usd", float(paid.sum()))
    p.move(ready, State.WAITING_VISA, State.TICKETED, day)


def lapsed_applications(wv: np.ndarray, channel: np.ndarray, group: np.ndarray,
                        serving: np.ndarray) -> np.ndarray:
    """The rows of ``wv`` whose channel no longer serves their group, ascending:
    ``wv[~serving[channel[wv], group[wv]]]``; their ``channel`` is set to -1 (in place)."""
    lapsed = wv[~serving[channel[wv], group[wv]]]
    channel[lapsed] = -1
    return lapsed


def apply_at_channels(wp: np.ndarray, group: np.ndarray, day_entered: np.ndarray, day_due: np.ndarray,
                      channel: np.ndarray, serving: np.ndarray, cap: np.ndarray, preference: np.ndarray,
                      channel_days: np.ndarray, key: np.uint64, day: int, cancel_days: int):
    """Who of ``wp`` (waiting for a package) gets a visa application today, and who gives up.

    For each channel ``c`` in ``preference`` order with ``cap[c] > 0``: the candidates are the
    rows of ``wp`` not yet placed whose group ``c`` serves (``group``: the phase passes each person's origin) (``serving[c, k]``); the first
    ``cap[c]`` of them by (``day_entered``, ``draw(key, row)``, position) win (:func:`allocate_fifo`),
    and get ``channel = c``, ``day_due = day + channel_days[c]`` (in place). Those placed nowhere
    with ``day - day_entered > cancel_days`` are stuck (the caller cancels them).

    Returns:
        (winners, n_won, stuck, queue): the winners' rows (ascending), how many each channel
        placed (C,) int64, the stuck rows (ascending), and the people each channel could serve
        (C,) float: ``serving @ np.bincount(group[wp])``.
    """
    k = group[wp]
    entered = day_entered[wp]
    tie = draw(key, wp)
    free = np.ones(wp.size, bool)
    n_won = np.zeros(cap.size, dtype=np.int64)
    for c in preference:
        cand = np.flatnonzero(free & serving[c, k])
        if cand.size == 0 or cap[c] <= 0:
            continue
        win = cand[allocate_fifo(int(cap[c]), entered[cand], tie[cand])]
        free[win] = False
        n_won[c] = win.size
        ids = wp[win]
        channel[ids] = c
        day_due[ids] = day + channel_days[c]
    stuck = wp[free & (day - entered > cancel_days)]
    queue = (serving @ np.bincount(k, minlength=serving.shape[1])).astype(float)
    return wp[~free], n_won, stuck, queue


def visas_due(wv: np.ndarray, day_due: np.ndarray, channel: np.ndarray, day: int, n_channels: int):
    """The rows of ``wv`` whose visa is due by ``day`` (ascending), and their count per channel:
    ``ready = wv[day_due[wv] <= day]``, ``np.bincount(channel[ready], minlength=n_channels)``."""
    ready = wv[day_due[wv] <= day]
    return ready, np.bincount(channel[ready], minlength=n_channels)
