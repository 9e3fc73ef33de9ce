"""Migrants: one row per person in numpy arrays, and the vectorised rules they follow.

:class:`Population` holds the columns (struct of arrays) and the one way to change a
person's state, :meth:`Population.move`, which also counts the flow. The rules are plain
functions of arrays and draws (the kernels below): each gives its formula in the docstring
and never touches the model. :class:`sim.model.model.MigrationModel` wires them into the day.

States (``State``), in the order people pass through them::

    AT_HOME -> INTENDING -> WAITING_PACKAGE -> WAITING_VISA -> TICKETED -> IN_TRANSIT
      -> IN_CITY -> AT_BORDER <-> (turned back) -> IN_DESTINATION (caught and kept, or unseen)
                              -> RETURNING -> RETURNED (may leave again)   | DIED
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from sim.model.config import Config
from sim.model.rng import POPULATION_INIT, Streams
from sim.model.world import World


class State(IntEnum):
    AT_HOME = 0
    INTENDING = 1
    WAITING_PACKAGE = 2
    WAITING_VISA = 3
    TICKETED = 4
    IN_TRANSIT = 5
    IN_CITY = 6
    AT_BORDER = 7
    IN_DESTINATION = 8
    RETURNING = 9
    RETURNED = 10
    DIED = 11


STATE_NAMES = [s.name.lower() for s in State]
N_STATES = len(State)
IN_TRANSIT_COUNTRY = (State.IN_CITY, State.AT_BORDER)
# the states of people who have left home and not yet settled (in the EU, dead) or come home:
# few people each, and their rules run every day (Population keeps a list of rows for each)
AWAY = frozenset(s for s in State if s not in (State.AT_HOME, State.IN_DESTINATION, State.DIED))


class Population:
    """The migrant arrays. Rows are never removed; a person's state is a small int.

    Attributes:
        state (int8): current :class:`State`.
        day_entered (int16): day the current state was entered.
        day_due (int16): day the pending event happens (visa ready, arrival at hub or border).
        day_arrived (int16): day of arrival in the transit country on the current trip, -1 if none.
        origin (int8), nationality (int8): indices into the world's origins and nationalities;
            rows are sorted by origin, ``origin_counts`` (O,) rows per origin.
        agency (int16): the travel agency this person buys from (global index).
        savings_usd (float32): money left.
        spent_usd (float32): money spent on the corridor so far (packages, hubs, living, smugglers).
        risk (float32): risk tolerance in (0, 1).
        net_weight (float32): weight put on what the network reports, in (0, 1).
        channel (int8): visa channel applied to, -1 if none.
        hub (int8): hub index while in transit, -1 otherwise.
        segment (int8): border segment while at the border, -1 otherwise.
        entry (int8): the entry point of the transit country a person landed at (or, for a
            resident, lives at); -1 before the first arrival.
        visa_held (bool): holds a valid visa of the transit country from the start (residents, and
            each origin's ``visa_held_share``); needs_visa (bool): neither that nor visa-free.
        has_smuggler (bool): has paid a smuggler (once in the run; the fee is not paid again).
        attempts (int16), pushbacks (int16), returns (int8): counts over the whole run.
        flows: (N_STATES, N_STATES) int64, people moved today from -> to.

    Most people are at home (or settled) on most days, so the rules for the states away from
    home (``AWAY``) do not scan every row: for each such state the population keeps a sorted
    list of rows that may be in it (everyone who entered it since the list was last tidied),
    and :meth:`ids` looks only there. The stocks per state are kept by :meth:`move`.
    """

    def __init__(self, cfg: Config, world: World, streams: Streams) -> None:
        n = cfg.population.size
        self.n = n
        g = streams.generator(POPULATION_INIT)
        counts = np.floor(world.origin_share * n).astype(np.int64)
        rest = n - counts.sum()
        counts[np.argsort(-(world.origin_share * n - counts), kind="stable")[:rest]] += 1
        self.origin = np.repeat(np.arange(world.n_origins, dtype=np.int8), counts)
        self.origin_counts = counts  # rows are sorted by origin: origin o's are a block
        self.nationality = world.origin_nat[self.origin].astype(np.int8)
        median = world.origin_savings[self.origin]
        self.savings_usd = (median * np.exp(cfg.population.savings_sigma * g.standard_normal(n))).astype(np.float32)
        self.risk = g.beta(cfg.population.risk_alpha, cfg.population.risk_beta, n).astype(np.float32)
        self.net_weight = g.beta(
            cfg.population.network_weight_alpha, cfg.population.network_weight_beta, n
        ).astype(np.float32)
        first_agency = np.cumsum(world.origin_agencies) - world.origin_agencies
        n_ag = np.maximum(world.origin_agencies[self.origin], 1)
        self.agency = (first_agency[self.origin] + np.floor(g.random(n) * n_ag)).astype(np.int16)
        self.has_agency = world.origin_agencies[self.origin] > 0
        # residents of the transit country hold its visa; of the others, each origin's share does
        self.visa_held = (world.origin_home_entry[self.origin] >= 0) | (g.random(n) < world.origin_visa_held[self.origin])
        self.needs_visa = ~(self.visa_held | world.visa_free[self.nationality])

        self.state = np.zeros(n, dtype=np.int8)
        self.day_entered = np.zeros(n, dtype=np.int16)
        self.day_due = np.zeros(n, dtype=np.int16)
        self.day_arrived = np.full(n, -1, dtype=np.int16)
        self.spent_usd = np.zeros(n, dtype=np.float32)
        self.channel = np.full(n, -1, dtype=np.int8)
        self.hub = np.full(n, -1, dtype=np.int8)
        self.segment = np.full(n, -1, dtype=np.int8)
        # where in the transit country: residents where they live, travellers where they landed
        self.entry = world.origin_home_entry[self.origin].astype(np.int8)
        self.has_smuggler = np.zeros(n, dtype=bool)
        self.attempts = np.zeros(n, dtype=np.int16)
        self.pushbacks = np.zeros(n, dtype=np.int16)
        self.returns = np.zeros(n, dtype=np.int8)
        self.flows = np.zeros((N_STATES, N_STATES), dtype=np.int64)
        self._stocks = np.bincount(self.state, minlength=N_STATES)
        # per state away: a sorted superset of its rows, and the rows moved into it since
        self._members = {s: np.zeros(0, dtype=np.int64) for s in AWAY}
        self._joined: dict[State, list[np.ndarray]] = {s: [] for s in AWAY}
        # (rows, joined, state, s) -> the rows of state s, ascending: set by the compiled engine
        # (sim.engines.compiled.common.members_in); None: numpy
        self.members_kernel = None

    def ids(self, state: State) -> np.ndarray:
        """Row indices of everyone in ``state``, ascending (the caller must not modify them)."""
        if state not in AWAY:
            return np.flatnonzero(self.state == state)
        rows, joined = self._members[state], self._joined[state]
        if self.members_kernel is not None:  # the compiled engine's form of the lines below
            if joined or rows.size:
                new = np.concatenate(joined) if len(joined) > 1 else joined[0] if joined else rows[:0]
                joined.clear()
                rows = self._members[state] = self.members_kernel(rows, new, self.state, int(state))
            return rows
        keep = None
        if joined:
            rows = np.concatenate([rows, *joined])
            rows.sort(kind="stable")  # a merge of sorted runs
            joined.clear()
            keep = self.state[rows] == state
            keep[1:] &= rows[1:] != rows[:-1]  # someone who left and came back is listed twice
        elif rows.size:  # the list is unique already: drop only who has left
            keep = self.state[rows] == state
            if keep.all():
                return rows
        if keep is not None:
            rows = self._members[state] = rows[keep]
        return rows

    def ids_in(self, states: tuple[State, ...]) -> np.ndarray:
        """Row indices of everyone in any of ``states``, ascending."""
        rows = np.concatenate([self.ids(s) for s in states])
        rows.sort(kind="stable")
        return rows

    def move(self, ids: np.ndarray, src: State, dst: State, day: int) -> None:
        """Move ``ids`` (all in ``src``) to ``dst`` today, counting the flow."""
        if ids.size == 0:
            return
        self.state[ids] = dst
        self.day_entered[ids] = day
        self.flows[src, dst] += ids.size
        self._stocks[src] -= ids.size
        self._stocks[dst] += ids.size
        if dst in AWAY:
            self._joined[dst].append(ids.astype(np.int64))

    def stocks(self) -> np.ndarray:
        """(N_STATES,) people in each state now."""
        return self._stocks.copy()

    def pay(self, ids: np.ndarray, usd: np.ndarray | float) -> float:
        """Take ``usd`` from each person's savings (never below 0) and add it to spent; returns
        the total paid (what they had, where it was less)."""
        return pay(ids, usd, self.savings_usd, self.spent_usd)

    def nbytes(self) -> int:
        """Bytes held by the per-person columns."""
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray) and v.shape[:1] == (self.n,))


# --------------------------------------------------------------------------------------
# kernels: plain functions of arrays
# --------------------------------------------------------------------------------------


def pay(ids: np.ndarray, usd: np.ndarray | float, savings: np.ndarray, spent: np.ndarray) -> float:
    """Each of ``ids`` (unique rows) pays ``usd`` (one amount, or one each), never below 0:
    ``amount = min(float32(usd), savings)``; ``savings -= amount``; ``spent += amount`` (float32).
    Returns the total paid (the amounts summed in float64). The one rule of paying, for
    :meth:`Population.pay` and the kernels."""
    if ids.size == 0:
        return 0.0
    amount = np.minimum(np.asarray(usd, np.float32), savings[ids])
    savings[ids] -= amount
    spent[ids] += amount
    return float(amount.sum(dtype=np.float64))


def network_signal(success_ema: np.ndarray, failure_ema: np.ndarray, success_scale: float,
                   failure_scale: float) -> np.ndarray:
    """What the network reports, per origin.

    Formula: ``S_o = log(1 + succ_o / s0) - log(1 + fail_o / f0)``, where ``succ_o`` and
    ``fail_o`` are exponentially smoothed daily counts of successes (reaching the EU) and
    failures (turned back, returned home; deaths weighted) among people from origin ``o``.
    """
    return np.log1p(success_ema / success_scale) - np.log1p(failure_ema / failure_scale)


def intention_prob(base: float, push: np.ndarray, signal: np.ndarray, info: np.ndarray,
                   offer: np.ndarray, intent_mult: np.ndarray, gain: float,
                   net_weight: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Daily chance that a person at home starts to intend to leave.

    Formula: ``p_i = min(1, base * push_o * offer_o * mult_o * exp(gain * w_i * S_o + info_o))``
    with ``o`` the person's origin and ``w_i`` the weight they put on the network's reports.
    """
    per_origin = (base * push * offer * intent_mult).astype(np.float32)  # per origin, then per person
    expo = gain * net_weight * signal.astype(np.float32)[origin] + info.astype(np.float32)[origin]
    return np.minimum(1.0, per_origin[origin] * np.exp(expo))


def give_up_prob(give_up: float, discouraged: float, signal: np.ndarray, can_afford: np.ndarray,
                 origin: np.ndarray) -> np.ndarray:
    """Daily chance an intending person drops the plan.

    Formula: ``p = discouraged * max(0, -S_o) + give_up * [cannot afford a package]``.
    """
    return np.minimum(1.0, discouraged * np.maximum(0.0, -signal[origin]) + give_up * ~can_afford)


def choose_by_weight(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Pick a column per row with probability proportional to ``weights`` (>= 0; rows sum > 0).

    Formula: the first ``j`` with ``cumsum(w)_j / sum(w) > u``. ``weights`` is (n, J), or (J,)
    when every row has the same weights (then one binary search per row).
    """
    if weights.ndim == 1:
        cum = np.cumsum(weights)
        pick = np.searchsorted(cum / (cum[-1] if cum[-1] > 0 else 1.0), u, side="right")
        return np.minimum(pick, weights.shape[0] - 1)
    return pick_by_share(cumulative_shares(weights), u)


def cumulative_shares(weights: np.ndarray) -> np.ndarray:
    """(n, J): each row's ``cumsum(w) / sum(w)`` (a row of zeros stays zeros): the table
    :func:`choose_by_weight` picks from, made once when many people share a row of weights."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1:]
    return cum / np.where(total > 0, total, 1.0)


def pick_by_share(share: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row of ``share`` (:func:`cumulative_shares`), the first ``j`` with ``share_j > u``
    (at most the last column)."""
    return np.minimum((share <= u[:, None]).sum(axis=1), share.shape[1] - 1)


def segment_weights(perceived_success: np.ndarray, steering_weight: np.ndarray,
                    temperature: float) -> np.ndarray:
    """Attractiveness of each border segment (shared by everyone choosing today).

    Formula: ``w_s = steering_weight_s * exp(log(p_s) / temperature)`` — a logit on the log of
    the success share the network reports at segment ``s``, tilted by where the transit state drives people (steering).
    """
    logit = np.log(np.maximum(perceived_success, 1e-6)) / temperature
    logit -= logit.max()
    return steering_weight * np.exp(logit)


def stop_share(detect_max: np.ndarray, capacity: np.ndarray, attempts: np.ndarray,
               congestion_half: float) -> np.ndarray:
    """Share of attempts stopped at the line per segment, falling with congestion.

    Formula: ``p_s = detect_s / (1 + A_s / (h * C_s))``: with few attempts ``A`` the guards
    stop ``detect`` of them; when ``A = h * C`` the share halves; the number stopped saturates
    at ``detect * h * C``.
    """
    return detect_max / (1.0 + attempts / np.maximum(congestion_half * capacity, 1e-9))


def resolve_crossings(segment: np.ndarray, u_death: np.ndarray, u_line: np.ndarray,
                      u_inside: np.ndarray, death_prob: float, p_stop: np.ndarray,
                      p_inside: np.ndarray, pushback: np.ndarray, detect_mult: np.ndarray,
                      kept_share: np.ndarray | None = None, u_keep: np.ndarray | None = None):
    """Outcome of each attempt: died, stopped at the line, caught inside, or through unseen.

    Formula, for a person at segment ``s`` with detection multiplier ``m`` (a smuggler lowers it):
    died if ``u_death < death_prob``; else stopped at the line if ``u_line < m * p_stop_s``;
    else caught inside if ``u_inside < m * p_inside_s``; else through unseen. Caught inside is
    kept in the destination unless segment ``s`` pushes back; where it does, still kept if
    ``u_keep < kept_share_s`` (asylum claims registered, vulnerability, court orders).

    Returns:
        (died, stopped, caught_inside, caught_kept, through) bool masks over the attempts.
    """
    died = u_death < death_prob
    stopped = ~died & (u_line < detect_mult * p_stop[segment])
    crossed = ~died & ~stopped
    caught_inside = crossed & (u_inside < detect_mult * p_inside[segment])
    kept_anyway = (u_keep < kept_share[segment]) if kept_share is not None else False
    caught_kept = caught_inside & (~pushback[segment] | kept_anyway)
    through = crossed & ~caught_inside
    return died, stopped, caught_inside, caught_kept, through


def return_willingness(base: float, days_in_transit_country: np.ndarray, days_scale: float,
                       pushbacks: np.ndarray, pushback_weight: float, cold: float,
                       cold_weight: float, broke: np.ndarray, broke_weight: float,
                       risk: np.ndarray, stress_max: float, free_seat_mult: float) -> np.ndarray:
    """Daily chance a person stranded in the transit country wants to go home.

    Formula: ``p = min(1, base * (1.5 - risk) * m_free * exp(min(z, z_max)))`` with stress
    ``z = days / d0 + b_pb * pushbacks + b_cold * cold + b_broke * [money gone]``; ``m_free``
    is the multiplier when a free repatriation flight leaves today.
    """
    z = (days_in_transit_country / days_scale + pushback_weight * pushbacks + cold_weight * cold
         + broke_weight * broke)
    z = np.minimum(z, stress_max)
    return np.minimum(1.0, base * (1.5 - risk) * free_seat_mult * np.exp(z))
