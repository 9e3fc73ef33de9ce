"""The reference implementation: the migrant rules one person at a time, as Mesa agents.

:class:`ReferenceModel` is :class:`sim.model.model.MigrationModel` with every person a
:class:`Migrant` (a ``mesa.Agent``) instead of a row of numpy arrays. Everything else is
shared and unchanged: the world, the levers and the policy arrays they set, the institutions
(states, airlines, travel agencies, border guards), the allocation kernels of
``sim/model/allocate.py`` and the :class:`sim.model.recorder.Recorder` — so both models write the same
daily table, and the invariant and target code reads either.

What it is for: the baseline of ``experiments/benchmark_reference.py`` — what a conventional
object-per-agent Mesa model of the same rules costs. It is not the rules' oracle
(docs/architecture.md, "The reference"): the rules are defined once, by the numpy kernels of
``sim/model/rules/``, and checked exactly against their compiled twins and on hand-made inputs.
Its people draw their own numbers, so no run matches a vectorised run number for number;
``tests/test_reference.py`` checks that it still models the same corridor (each per-person
formula below against its kernel, and the two models in distribution over many seeds), so that
the benchmark compares like with like. A rule changed in ``sim/model/rules/`` that this test
notices must be changed here too, or the benchmark's ratio no longer means anything.

The day is :meth:`MigrationModel.step`, inherited unchanged::

    1-3  levers, states, airlines   shared, unchanged
    4    agencies                   intending people ask their agency; agencies sell
    5    migrants                   each person in turn, stage by stage (``PLAN``)
    6    guards                     people at the border decide to try; guards resolve
    7    record                     the shared Recorder reads the people through a Roster

Within a phase the stages run in :class:`MigrationModel`'s order; in a stage every person in a
state that acts then takes their :meth:`Migrant.step`, in the order they entered that state.

Want, then allocate: a person who wants a scarce thing (a package, a visa, a seat, a free seat
home) returns a :class:`Request` from their step; when everyone has spoken, the phase hands
out what exists with the vectorised model's own allocation kernels (first come first served by
the day they started waiting, ties broken by the person's own draw) and tells each person the
outcome.

Randomness: a person draws their own numbers, one per decision, from the run's named streams
(:meth:`ReferenceModel.draw`: stream ``reference.<decision>`` of ``sim/model/rng.py``, keyed by name
and day). They are not the vectorised run's numbers, which are drawn per person slot in bulk;
their distribution is the same. Same config and seed give the same run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

import mesa
import numpy as np

from sim.model.allocate import allocate_by_group, allocate_fifo, token_bucket
from sim.model.config import Config
from sim.model.day import Day
from sim.model.model import MigrationModel
from sim.model.population import N_STATES, State, segment_weights, stop_share
from sim.model.rng import (
    ESCORT_CHOICE,
    REPATRIATION_SEATS,
    SEAT_ROUTE_ORDER,
    SEGMENT_CHOICE,
    SEGMENT_RECHOICE,
    Streams,
)
from sim.model.rules.border import guards_after_the_day, kept_share_today
from sim.model.rules.fly import hub_weights
from sim.model.rules.sell import package_on_sale

# ----------------------------------------------------------------------------------------
# one person's formulas (each restates a kernel of sim/model/population.py for scalars)
# ----------------------------------------------------------------------------------------


def intention_chance(base: float, push: float, signal: float, info: float, offer: float,
                     intent_mult: float, gain: float, net_weight: float) -> float:
    """Daily chance a person at home starts to intend to leave.

    Mirrors :func:`sim.model.population.intention_prob` for one person of origin ``o`` (every
    argument but ``gain`` and ``net_weight`` is origin ``o``'s value):
    ``p = min(1, base * push_o * offer_o * mult_o * exp(gain * w * S_o + info_o))``.
    """
    return min(1.0, base * push * offer * intent_mult * math.exp(gain * net_weight * signal + info))


def give_up_chance(give_up: float, discouraged: float, signal: float, can_buy: bool) -> float:
    """Daily chance an intending person who does not ask for a package drops the plan.

    Mirrors :func:`sim.model.population.give_up_prob`:
    ``p = min(1, discouraged * max(0, -S_o) + give_up * [cannot buy])``.
    """
    return min(1.0, discouraged * max(0.0, -signal) + (0.0 if can_buy else give_up))


def pick_by_weight(weights: list[float], u: float) -> int:
    """The first option ``j`` whose cumulative share of ``weights`` exceeds ``u`` (sum > 0).

    Mirrors :func:`sim.model.population.choose_by_weight` for one person.
    """
    total = sum(weights)
    acc = 0.0
    for j, w in enumerate(weights):
        acc += w
        if acc / total > u:
            return j
    return len(weights) - 1


def return_chance(base: float, days_in_transit_country: int, days_scale: float, pushbacks: int,
                  pushback_weight: float, cold: float, cold_weight: float, broke: bool,
                  broke_weight: float, risk: float, stress_max: float,
                  free_seat_mult: float) -> float:
    """Daily chance a person stranded in the transit country wants to go home.

    Mirrors :func:`sim.model.population.return_willingness` for one person:
    ``p = min(1, base * (1.5 - risk) * m_free * exp(min(z, z_max)))`` with stress
    ``z = days / d0 + b_pb * pushbacks + b_cold * cold + b_broke * [money gone]``.
    """
    z = (days_in_transit_country / days_scale + pushback_weight * pushbacks + cold_weight * cold
         + broke_weight * broke)
    return min(1.0, base * (1.5 - risk) * free_seat_mult * math.exp(min(z, stress_max)))


class Outcome(IntEnum):
    """How one border attempt ends."""

    DIED = 0
    STOPPED = 1            # stopped at the line: turned back
    CAUGHT_PUSHED_BACK = 2  # caught inside where the state pushes back: turned back
    CAUGHT_KEPT = 3        # caught inside and kept in the EU
    THROUGH = 4            # through unseen


def crossing_outcome(u_death: float, u_line: float, u_inside: float, death_prob: float,
                     p_stop: float, p_inside: float, pushback: bool, detect_mult: float,
                     kept_share: float = 0.0, u_keep: float = 1.0) -> Outcome:
    """The outcome of one attempt at a segment.

    Mirrors :func:`sim.model.population.resolve_crossings` for one person: died if
    ``u_death < death_prob``; else stopped at the line if ``u_line < m * p_stop``; else caught
    inside if ``u_inside < m * p_inside`` (pushed back where the segment pushes back unless
    ``u_keep < kept_share``, kept otherwise); else through unseen. ``m`` is the detection
    multiplier (a smuggler lowers it).
    """
    if u_death < death_prob:
        return Outcome.DIED
    if u_line < detect_mult * p_stop:
        return Outcome.STOPPED
    if u_inside < detect_mult * p_inside:
        return Outcome.CAUGHT_PUSHED_BACK if pushback and not u_keep < kept_share else Outcome.CAUGHT_KEPT
    return Outcome.THROUGH


# ----------------------------------------------------------------------------------------
# the person
# ----------------------------------------------------------------------------------------

# What a person does at each stage of the day, by the state they are in. Stages run in this
# order (MigrationModel's phases: sell_packages | intend | apply_for_visas | collect_visas |
# fly | live_in_transit_country | go_home | go_to_border | resolve_border).
PLAN: dict[str, dict[State, str]] = {
    "agencies": {State.INTENDING: "ask_for_package"},
    "intend": {State.AT_HOME: "consider_leaving", State.RETURNED: "consider_leaving_again"},
    "visa_lapse": {State.WAITING_VISA: "check_application"},
    "visa": {State.WAITING_PACKAGE: "ask_for_visa"},
    "collect": {State.WAITING_VISA: "collect_visa"},
    "fly": {State.TICKETED: "ask_for_direct_seat", State.IN_TRANSIT: "ask_for_seat_from_hub"},
    "hotel": {State.IN_CITY: "pay_for_the_day", State.AT_BORDER: "pay_for_the_day"},
    "arrive_home": {State.RETURNING: "arrive_home"},
    "return": {State.IN_CITY: "consider_going_home", State.AT_BORDER: "consider_going_home"},
    "city": {State.IN_CITY: "consider_the_border"},
    "escort": {State.IN_CITY: "be_escorted", State.AT_BORDER: "be_escorted"},
    "border": {State.AT_BORDER: "consider_an_attempt"},
}


@dataclass(slots=True)
class Request:
    """What one person asks of a scarce thing during their step.

    Attributes:
        migrant: who asks.
        day_waiting: the day they started waiting (first come, first served).
        tie: their own U(0,1) draw that orders people who started the same day.
        what: which units would do (an agency; the routes that would carry them; whether a
            free seat home is open to them).
    """

    migrant: Migrant
    day_waiting: int
    tie: float
    what: Any = None


class Migrant(mesa.Agent):
    """One person who might leave: their attributes and the rules they follow.

    Attributes (the columns of :class:`sim.model.population.Population`, one person's values):
        row: the person's index (their row in the vectorised model).
        origin, nationality: indices into the world's origins and nationalities.
        agency, has_agency: the travel agency they buy from; whether their city has one.
        savings_usd, spent_usd: money left; money spent on the corridor so far.
        risk: risk tolerance in (0, 1). net_weight: weight put on the network's reports.
        state: their :class:`State`. day_entered: the day they entered it.
        day_due: the day their pending event happens (visa ready, arrival at hub or border).
        day_arrived: day of arrival in the city on the current trip, -1 if none.
        channel, hub, segment: visa channel applied to, hub in transit, border segment (-1: none).
        has_smuggler: has paid a smuggler.
        attempts, pushbacks, returns: counts over the whole run.
    """

    def __init__(self, model: ReferenceModel, row: int, origin: int, nationality: int, agency: int,
                 has_agency: bool, savings_usd: float, risk: float, net_weight: float) -> None:
        super().__init__(model)
        self.row = row
        self.origin = origin
        self.nationality = nationality
        self.agency = agency
        self.has_agency = has_agency
        self.savings_usd = savings_usd
        self.spent_usd = 0.0
        self.risk = risk
        self.net_weight = net_weight
        self.state = State.AT_HOME
        self.day_entered = 0
        self.day_due = 0
        self.day_arrived = -1
        self.channel = -1
        self.hub = -1
        self.segment = -1
        self.has_smuggler = False
        self.attempts = 0
        self.pushbacks = 0
        self.returns = 0

    def step(self) -> Request | None:
        """This person's part of the current stage of the day (``model.stage``), by their state.

        Looks up what to do in ``PLAN`` and does it; returns a :class:`Request` when they want a
        scarce thing, else None.
        """
        action = PLAN[self.model.stage].get(self.state)
        return getattr(self, action)() if action is not None else None

    # ---- small helpers ------------------------------------------------------------------
    def move_to(self, state: State) -> None:
        """Enter ``state`` today (mirrors :meth:`Population.move`: the flow is counted)."""
        self.model.people.move(self, state, self.model.day)

    def pay(self, usd: float) -> float:
        """Pay ``usd`` out of savings, never below zero (mirrors :meth:`Population.pay`)."""
        paid = min(usd, self.savings_usd)
        self.savings_usd -= paid
        self.spent_usd += paid
        return paid

    def cancel_trip(self) -> None:
        """The agency cancels before departure: part of the package price back; home.

        Mirrors :func:`sim.model.rules.sell.cancel`.
        """
        m = self.model
        refund = m.cfg.travel.refund_share * m.world.agency_price
        self.savings_usd += refund
        self.spent_usd -= refund
        m.count("paid_agencies_usd", -refund)
        m.count("cancelled")
        self.move_to(State.AT_HOME)

    def choose_segment(self, decision: str, only: list[bool] | None = None) -> None:
        """Pick a border segment by its attractiveness today; travel there if it is a new one.

        Mirrors :func:`sim.model.rules.transit.choose_segment` (weights: :func:`segment_weights`).
        """
        m = self.model
        weights = m.segment_weights_today if only is None else [w * o for w, o in zip(m.segment_weights_today, only,
                                                                                          strict=True)]
        seg = pick_by_weight(weights, m.draw(decision))
        changed = seg != self.segment
        self.segment = seg
        self.day_due = m.day + (int(m.world.seg_travel[seg]) if changed else 1)

    # ---- 4. agencies (mirrors sim.model.rules: sell_packages) --------------------------------
    def ask_for_package(self) -> Request | None:
        """Intending: ask the agency for a package if one is on sale and I can pay for it and
        keep my reserve (chance ``buy_prob_per_day`` a day); otherwise I may give up
        (:func:`give_up_chance`)."""
        m, cfg = self.model, self.model.cfg
        can_afford = self.has_agency and (
            self.savings_usd >= m.price_today[self.agency] + cfg.purchase.reserve_usd)
        can_buy = can_afford and m.offer_today[self.origin]
        if can_buy and m.draw("buy") < cfg.purchase.buy_prob_per_day:
            return Request(self, self.day_entered, m.draw("buy.tie"), self.agency)
        q = give_up_chance(cfg.intention.give_up_per_day, cfg.intention.discouraged_per_day,
                           m.signal_today[self.origin], can_buy)
        if m.draw("give_up") < q:
            self.move_to(State.AT_HOME)
        return None

    def buy_package(self, price_usd: float) -> None:
        """Got a package: pay the agency; wait for it to apply for my visa."""
        self.pay(price_usd)
        self.move_to(State.WAITING_PACKAGE)

    # ---- 5. migrants: intention (mirrors sim.model.rules: intend) ----------------------------
    def consider_leaving(self) -> None:
        """At home: start to intend with today's chance (:func:`intention_chance`)."""
        m, o = self.model, self.origin
        p = intention_chance(m.cfg.intention.base_rate_per_day, m.push_today[o], m.signal_today[o],
                             m.info_today[o], m.offer_mult_today[o], m.intent_mult_today[o],
                             m.cfg.intention.network_gain, self.net_weight)
        if m.draw("intend") < p:
            self.move_to(State.INTENDING)

    def consider_leaving_again(self) -> None:
        """Back home after a trip: intend again with chance ``leave_again_per_day`` while a
        package is on sale in my city."""
        m = self.model
        if m.draw("leave_again") < m.cfg.returns.leave_again_per_day * m.offer_today[self.origin]:
            self.move_to(State.INTENDING)

    # ---- 5. migrants: visas (mirrors sim.model.rules.visas) ---------
    def check_application(self) -> None:
        """Waiting for a visa: if my channel closed or stopped serving my nationality, my
        application lapses and I wait for the agency to apply again."""
        m = self.model
        if not m.serving_today[self.channel][self.nationality]:
            self.channel = -1
            self.move_to(State.WAITING_PACKAGE)
            m.count("visa_lapsed")

    def ask_for_visa(self) -> Request:
        """Waiting for my package: the agency asks for a visa slot for me (at the best channel
        that serves my nationality and has a slot today; the phase allocates)."""
        return Request(self, self.day_entered, self.model.draw("visa.tie"))

    def lodge_visa_application(self, channel: int) -> None:
        """A slot at ``channel``: my visa is ready after its processing days."""
        m = self.model
        self.channel = channel
        self.day_due = m.day + int(m.world.channel_days[channel])
        self.move_to(State.WAITING_VISA)

    def wait_for_visa_slot(self) -> None:
        """No slot today: after ``package_cancel_days`` without one, the agency cancels."""
        m = self.model
        if m.day - self.day_entered > m.cfg.travel.package_cancel_days:
            self.cancel_trip()

    def collect_visa(self) -> None:
        """Waiting for a visa: on the day it is ready, I hold a visa and a ticket."""
        m = self.model
        if self.day_due <= m.day:
            m.count(f"visas_{m.world.channel_ids[self.channel]}")
            self.move_to(State.TICKETED)

    # ---- 5. migrants: flights (mirrors sim.model.rules.fly) -------------------
    def ask_for_direct_seat(self) -> Request | None:
        """Ticketed: ask for a seat on a direct flight from my airports while one will carry my
        nationality and I have waited less than ``rebook_wait_days``; else the agency rebooks
        me through a hub."""
        m = self.model
        if m.direct_ok_today[self.origin][self.nationality] and (
                m.day - self.day_entered < m.cfg.travel.rebook_wait_days):
            return Request(self, self.day_entered, m.draw("seat.tie"),
                           m.direct_routes_today[self.origin][self.nationality])
        self.rebook_via_hub()
        return None

    def rebook_via_hub(self) -> None:
        """The agency sends me to a hub, chosen in proportion to the corridor seats a week from
        each hub that carry my nationality, if there is one and I can pay the detour; if not,
        it cancels once I have waited more than ``hub_stranded_days``."""
        m, cfg = self.model, self.model.cfg
        weights = m.hub_weights_today[self.nationality]
        if sum(weights) > 0 and self.savings_usd >= cfg.purchase.hub_extra_usd:
            self.hub = pick_by_weight(weights, m.draw("hub.choice"))
            self.pay(cfg.purchase.hub_extra_usd)
            m.count("paid_agencies_usd", cfg.purchase.hub_extra_usd)
            self.day_due = m.day + cfg.purchase.hub_extra_days
            self.move_to(State.IN_TRANSIT)
            m.count("rerouted_via_hub")
        elif m.day - self.day_entered > cfg.travel.hub_stranded_days:
            self.cancel_trip()

    def ask_for_seat_from_hub(self) -> Request | None:
        """In transit: once at my hub, ask for a seat on a flight from it to the transit country that carries
        my nationality (first come by the day I reached the hub)."""
        m = self.model
        if self.day_due > m.day:
            return None
        return Request(self, self.day_due, m.draw("seat.tie"),
                       m.hub_routes_today[self.hub][self.nationality])

    def land_in_transit_country(self) -> None:
        """Seated: I land in the city today."""
        self.day_arrived = self.model.day
        self.hub = -1
        self.move_to(State.IN_CITY)

    def stay_at_hub(self) -> None:
        """At my hub without a seat: home after ``hub_stranded_days``; if no flight from this
        hub carries my nationality any more, the agency moves me to another hub that does."""
        m, cfg = self.model, self.model.cfg
        if m.day - self.day_due > cfg.travel.hub_stranded_days:
            self.hub = -1
            self.returns += 1
            self.move_to(State.RETURNED)
            m.count("stranded_at_hub_went_home")
            return
        weights = m.hub_weights_today[self.nationality]
        if weights[self.hub] <= 0 and sum(weights) > 0 and self.savings_usd >= cfg.purchase.hub_extra_usd:
            self.hub = pick_by_weight(weights, m.draw("hub.rechoice"))
            self.pay(cfg.purchase.hub_extra_usd)
            m.count("paid_agencies_usd", cfg.purchase.hub_extra_usd)
            self.day_entered = m.day

    # ---- 5. migrants: the transit country (mirrors live_in_transit_country, go_home, go_to_border) ---------------
    def pay_for_the_day(self) -> None:
        """In the transit country: pay for a day's living (``hotel_usd_per_day``)."""
        self.pay(self.model.cfg.purchase.hotel_usd_per_day)

    def arrive_home(self) -> None:
        """Returning: home the day after leaving the transit country."""
        if self.day_due <= self.model.day:
            self.returns += 1
            self.move_to(State.RETURNED)

    def consider_going_home(self) -> Request | None:
        """In the transit country: become willing to go home with today's chance
        (:meth:`willingness_to_return`). A willing person who may take a free seat (a
        repatriation flight for my nationality leaves today and I can pay its fare) asks for one,
        first come by the day they arrived in the city."""
        m = self.model
        free_seat_open = m.free_seats_today > 0 and m.repat_ok_today[self.nationality] and (
            self.savings_usd >= m.repat_fare_today)
        if m.draw("return.willing") >= self.willingness_to_return(free_seat_open):
            return None
        return Request(self, self.day_arrived, m.draw("return.tie") if free_seat_open else 0.0,
                       free_seat_open)

    def willingness_to_return(self, free_seat_open: bool) -> float:
        """Today's chance I want to go home (:func:`return_chance`): it grows with days here,
        times turned back, cold at the border (unless sheltered) and money gone, and is
        ``free_seat_mult`` times higher when a free seat is open to me."""
        m, c = self.model, self.model.cfg.returns
        at_border = self.state == State.AT_BORDER
        cold = m.cold_today if at_border else 0.0
        p = return_chance(c.base_willing_per_day, m.day - self.day_arrived, c.days_scale,
                          self.pushbacks, c.pushback_weight, cold, c.cold_weight,
                          self.savings_usd < c.own_ticket_usd, c.broke_weight, self.risk,
                          c.stress_max, c.free_seat_mult if free_seat_open else 1.0)
        # at the border the transit state's forces may keep me from the way back (hold_at_border)
        return p * (1.0 - m.hold_today) if at_border else p

    def take_free_seat(self) -> None:
        """A free repatriation seat (pay its fare, if any): leave the transit country."""
        if self.model.repat_fare_today > 0:
            self.pay(self.model.repat_fare_today)
        self.leave_transit_country()

    def consider_own_ticket(self) -> bool:
        """Willing without a free seat: buy a ticket home (chance ``own_ticket_share``) unless
        my money is gone. Returns whether I left."""
        m, c = self.model, self.model.cfg.returns
        if m.draw("return.own") < c.own_ticket_share and not self.savings_usd < c.own_ticket_usd:
            self.pay(c.own_ticket_usd)
            self.leave_transit_country()
            return True
        return False

    def leave_transit_country(self) -> None:
        """Fly home: returning today, home tomorrow."""
        self.day_due = self.model.day + 1
        self.move_to(State.RETURNING)

    def consider_the_border(self) -> None:
        """In the city: leave for the border with chance ``city_to_border_per_day`` times
        the transit state's transport, choosing a segment."""
        m = self.model
        if m.draw("go_to_border") < m.to_border_today:
            self.choose_segment(SEGMENT_CHOICE)
            self.move_to(State.AT_BORDER)

    def be_escorted(self) -> None:
        """Taken by the transit state's forces (if today's draw says so) to one of the segments
        they choose: from the city (``escort_per_day``), or from another green segment
        (``relocate_per_day``). Mirrors :func:`sim.model.rules.transit.escort`."""
        m = self.model
        if self.state == State.IN_CITY:
            if m.draw("escort") < m.escort_today:
                self.choose_segment(ESCORT_CHOICE, only=m.escort_to_today)
                self.move_to(State.AT_BORDER)
                m.count("escorted")
        elif not m.escort_to_today[self.segment] and m.draw("escort.relocate") < m.relocate_today:
            self.choose_segment(ESCORT_CHOICE, only=m.escort_to_today)
            m.count("escorted")

    # ---- 6. guards (mirrors sim.model.rules: resolve_border) ---------------------------------
    def detection_mult(self) -> float:
        """How much my chance of being detected is multiplied (``smuggler_detect_mult`` with a
        smuggler, else 1)."""
        return self.model.cfg.purchase.smuggler_detect_mult if self.has_smuggler else 1.0

    def consider_an_attempt(self) -> Request | None:
        """At the border, once there: try to cross today with chance
        ``min(1, base[segment] * (0.5 + risk))``, today's base chance at my segment (the attempt
        rate, the transit state's pressure, the frost, the last chance before an announced
        pushback policy: :func:`sim.model.rules.border.resolve_border`)."""
        m = self.model
        if self.day_due > m.day:
            return None
        p = min(1.0, m.attempt_base_today[self.segment] * (0.5 + self.risk))
        return Request(self, self.day_due, 0.0, self.segment) if m.draw("attempt") < p else None

    def cross(self) -> Outcome:
        """Make the attempt: hire a smuggler before a first attempt if I can pay (chance
        ``smuggler_take_prob``), then meet the guards (:func:`crossing_outcome`). Died, in the
        EU, or turned back (then maybe reconsider the segment: ``switch_prob_after_pushback``)."""
        m, cfg = self.model, self.model.cfg
        if not self.has_smuggler and self.savings_usd >= cfg.purchase.smuggler_fee_usd and (
                m.draw("smuggler") < cfg.purchase.smuggler_take_prob):
            self.pay(cfg.purchase.smuggler_fee_usd)
            self.has_smuggler = True
            m.count("paid_smugglers_usd", cfg.purchase.smuggler_fee_usd)
        s = self.segment
        cost = m.attempt_cost_today[s]
        if cost > 0:  # a fence makes every attempt cost
            m.count("paid_attempts_usd", self.pay(cost))
        outcome = crossing_outcome(m.draw("cross.death"), m.draw("cross.line"), m.draw("cross.inside"),
                                   m.death_prob_today, m.stop_today[s], m.inside_today[s],
                                   m.pushback_today[s], self.detection_mult(), m.kept_today[s],
                                   m.draw("cross.keep"))
        self.attempts += 1
        if outcome == Outcome.DIED:
            self.move_to(State.DIED)
        elif outcome in (Outcome.CAUGHT_KEPT, Outcome.THROUGH):
            self.move_to(State.IN_DESTINATION)
        else:
            self.pushbacks += 1
            retry = cfg.border.retry_days
            self.day_due = m.day + retry
            if m.draw("switch") < cfg.border.switch_prob_after_pushback:
                self.choose_segment(SEGMENT_RECHOICE)
                self.day_due = max(self.day_due, m.day + retry)
        return outcome


# ----------------------------------------------------------------------------------------
# the people, and the model
# ----------------------------------------------------------------------------------------


class Roster:
    """Every :class:`Migrant` of a :class:`ReferenceModel`, and who is in which state.

    Stands in for :class:`sim.model.population.Population` wherever the shared code reads people
    (the Recorder reads ``state``, ``origin``, ``flows`` and ``stocks()``): a column of
    Population, read as an attribute (``roster.savings_usd``), is gathered from the agents
    when asked. Writing goes through the agents.

    Attributes:
        migrants: every person, by row. n: their number.
        members: per state, the people in it ({row: Migrant}, in the order they entered).
        flows: (N_STATES, N_STATES) int64, people moved today from -> to.
        state: (n,) int8, a register of everyone's state, kept by :meth:`move` (the recorder
            reads it every day; gathering it from the agents would cost a Python loop).
    """

    COLUMNS = {
        "state": np.int8, "origin": np.int8, "nationality": np.int8, "agency": np.int16,
        "has_agency": bool, "savings_usd": np.float32, "spent_usd": np.float32, "risk": np.float32,
        "net_weight": np.float32, "day_entered": np.int16, "day_due": np.int16,
        "day_arrived": np.int16, "channel": np.int8, "hub": np.int8, "segment": np.int8,
        "has_smuggler": bool, "attempts": np.int16, "pushbacks": np.int16, "returns": np.int8,
    }

    def __init__(self, migrants: list[Migrant]) -> None:
        self.migrants = migrants
        self.n = len(migrants)
        self.members: list[dict[int, Migrant]] = [{} for _ in range(N_STATES)]
        for m in migrants:
            self.members[m.state][m.row] = m
        self.flows = np.zeros((N_STATES, N_STATES), dtype=np.int64)
        self.state = self.column("state")
        self._origin = self.column("origin")  # fixed for life

    def column(self, name: str) -> np.ndarray:
        """One attribute of every person, as Population's column of that name."""
        return np.fromiter((getattr(m, name) for m in self.migrants), dtype=self.COLUMNS[name],
                           count=self.n)

    def __getattr__(self, name: str) -> np.ndarray:
        if name in Roster.COLUMNS:
            return self._origin if name == "origin" else self.column(name)
        raise AttributeError(name)

    def in_states(self, *states: State) -> list[Migrant]:
        """Everyone now in one of ``states`` (a snapshot: people may move while it is walked)."""
        return [m for s in states for m in self.members[s].values()]

    def ids(self, state: State) -> np.ndarray:
        """Rows of everyone in ``state`` (as :meth:`Population.ids`)."""
        return np.sort(np.fromiter(self.members[state].keys(), dtype=np.int64))

    def move(self, m: Migrant, state: State, day: int) -> None:
        """Move one person to ``state`` today, counting the flow."""
        del self.members[m.state][m.row]
        self.members[state][m.row] = m
        self.flows[m.state, state] += 1
        self.state[m.row] = state
        m.state = state
        m.day_entered = day

    def stocks(self) -> np.ndarray:
        """(N_STATES,) people in each state now."""
        return np.array([len(d) for d in self.members], dtype=np.int64)


class _DayStream:
    """Today's U(0,1) numbers for one decision, handed out one at a time."""

    def __init__(self, generator: np.random.Generator) -> None:
        self.generator = generator
        self.block = 64
        self.buffer: list[float] = []

    def next(self) -> float:
        if not self.buffer:
            self.buffer = self.generator.random(self.block).tolist()
            self.buffer.reverse()
            self.block = min(2 * self.block, 8192)
        return self.buffer.pop()


class _TodaysStreams(dict):
    """Decision name -> its :class:`_DayStream` for ``day``, opened on first use."""

    def __init__(self, streams: Streams, day: int) -> None:
        super().__init__()
        self.streams = streams
        self.day = day

    def __missing__(self, decision: str) -> _DayStream:
        s = self[decision] = _DayStream(self.streams.generator("reference." + decision, self.day))
        return s


class ReferenceModel(MigrationModel):
    """:class:`MigrationModel` with every person a :class:`Migrant` (see the module docstring).

    Takes the same arguments. The people are drawn exactly as in the vectorised model (the
    same :class:`Population` initialiser: same seed, same people on day 0), then each row
    becomes a Migrant and ``people`` is a :class:`Roster`. The migrant phases are overridden;
    levers, states, airlines, the agencies' and guards' own decisions, and recording are
    inherited.

    Attributes (besides MigrationModel's):
        migrant_class: the class of its people (a subclass changes a rule: see the tests).
        stage: the stage of the day being run (a key of ``PLAN``).
        *_today: world-level numbers of the current phase that people read in their step.
    """

    migrant_class: type[Migrant] = Migrant

    def __init__(self, config: Config | dict | None = None, rng: int | None = None,
                 **overrides: Any) -> None:
        super().__init__(config, rng, **overrides)
        # its people are agents: each migrant phase is its own method of the same name
        # (run.engine is moot); levers, states and airlines are the model's
        self.phases = tuple(replace(phase, run=getattr(type(self), phase.name, phase.run)) for phase in self.phases)
        pop = self.people
        cols = [getattr(pop, c).tolist() for c in
                ("origin", "nationality", "agency", "has_agency", "savings_usd", "risk", "net_weight")]
        self.people = Roster([self.migrant_class(self, i, *row) for i, row in enumerate(zip(*cols, strict=True))])
        self.stage = ""
        self._draws = _TodaysStreams(self.streams, -1)

    # ---- what people use during their step --------------------------------------------------
    def draw(self, decision: str) -> float:
        """One U(0,1) number for ``decision`` today (stream ``reference.<decision>``, day-keyed)."""
        return self._draws[decision].next()

    def count(self, column: str, value: float = 1) -> None:
        """Add to a column of today's row of the daily table."""
        self.recorder.add(column, value)

    def run_stage(self, stage: str) -> list[Request]:
        """Every person in a state that acts at ``stage`` takes their step; the requests made."""
        self.stage = stage
        if self._draws.day != self.day:  # a new day: today's streams (people draw only in or after a stage)
            self._draws = _TodaysStreams(self.streams, self.day)
        wants = []
        for m in self.people.in_states(*PLAN[stage]):
            want = m.step()
            if want is not None:
                wants.append(want)
        return wants

    @staticmethod
    def allocate(n_available: int, wants: list[Request]) -> tuple[list[Request], list[Request]]:
        """First come first served (:func:`sim.model.allocate.allocate_fifo`): (served, not served)."""
        win = allocate_fifo(n_available, np.array([q.day_waiting for q in wants]),
                            np.array([q.tie for q in wants]))
        return ([q for q, w in zip(wants, win, strict=True) if w],
                [q for q, w in zip(wants, win, strict=True) if not w])

    # ---- 4. agencies --------------------------------------------------------------------------
    def sell_packages(self, today: Day) -> None:
        """Intending people ask their agency (want); each agency sells up to its capacity, first
        come first served (:func:`allocate_by_group`); agencies adjust price and capacity."""
        pol = self.world.policy
        n_ag = len(self.agencies)
        price = np.array([a.price_usd for a in self.agencies])
        cap = np.array([a.capacity_today(pol.agency_cap_mult[a.origin]) for a in self.agencies])
        cap = token_bucket(self.agency_credit, cap * self.scale)
        today.offer = package_on_sale(self.world, today.serving)
        self.price_today, self.offer_today = price.tolist(), today.offer.tolist()
        self.signal_today = self.signal.tolist()

        wants = self.run_stage("agencies")
        demand = np.zeros(n_ag, dtype=np.int64)
        sold = np.zeros(n_ag, dtype=np.int64)
        revenue = np.zeros(n_ag)
        if wants:
            win = allocate_by_group(np.array([q.what for q in wants], dtype=np.int64), cap,
                                    np.array([q.day_waiting for q in wants]), np.array([q.tie for q in wants]))
            for q, won in zip(wants, win, strict=True):
                demand[q.what] += 1
                if won:
                    q.migrant.buy_package(price[q.what])
                    sold[q.what] += 1
                    revenue[q.what] += price[q.what]
            self.agency_credit -= sold
            self.count("packages_sold", int(sold.sum()))
            self.count("paid_agencies_usd", float(revenue.sum()))
        for a in self.agencies:
            a.close_day(demand[a.index] / self.scale, sold[a.index] / self.scale, revenue[a.index] / self.scale)
        self.count("package_demand", int(demand.sum()))

    # ---- 5. migrants --------------------------------------------------------------------------
    def intend(self, today: Day) -> None:
        """At home -> intending; returnees may leave again (stage ``intend``)."""
        c, pol = self.cfg.intention, self.world.policy
        self.push_today = self.world.origin_push.tolist()
        self.offer_mult_today = np.where(today.offer, 1.0, c.closed_offer_mult).tolist()
        self.intent_mult_today = pol.intent_mult.tolist()
        self.info_today = pol.info.tolist()
        self.signal_today = self.signal.tolist()
        self.run_stage("intend")

    def apply_for_visas(self, today: Day) -> None:
        """Applications at channels that stopped serving lapse; agencies ask for visa slots for
        people waiting for a package; each channel, cheapest and fastest first, serves up to its
        capacity first come first served; people without a slot for too long are cancelled."""
        w, pol, day = self.world, self.world.policy, self.day
        serving = w.channels_in_service(day)[:, None] & pol.channel_ok & w.channel_nat  # (C, K)
        self.serving_today = serving.tolist()
        self.run_stage("visa_lapse")

        cap = w.channel_cap * self.channel_level * pol.channel_cap_mult * serving.any(axis=1)
        cap = token_bucket(self.channel_credit, cap * self.scale)
        today.visa_capacity = cap.astype(float)
        wants = self.run_stage("visa")
        nat = np.array([q.migrant.nationality for q in wants], dtype=np.int64)
        today.visa_queue = serving[:, nat].sum(axis=1).astype(float)
        waiting = wants
        for c in np.argsort(w.channel_cost + 50.0 * w.channel_days, kind="stable"):
            cand = [q for q in waiting if self.serving_today[c][q.migrant.nationality]]
            if not cand or cap[c] <= 0:
                continue
            served, _ = self.allocate(int(cap[c]), cand)
            for q in served:
                q.migrant.lodge_visa_application(int(c))
            self.channel_credit[c] -= len(served)
            self.count(f"visa_applications_{w.channel_ids[c]}", len(served))
            waiting = [q for q in waiting if q.migrant.state == State.WAITING_PACKAGE]
        for q in waiting:
            q.migrant.wait_for_visa_slot()

    def collect_visas(self, today: Day) -> None:
        """Visas ready today: ticketed (stage ``collect``)."""
        self.run_stage("collect")

    def fly(self, today: Day) -> None:
        """Ticketed people ask for direct seats (or are rebooked via a hub), people at hubs ask
        for seats from there; each route, in a random order, seats up to today's corridor seats
        first come first served; people at a hub without a seat wait, move hub or go home."""
        w, pol, day = self.world, self.world.policy, self.day
        serv = w.routes_in_service(day) & (w.route_week.sum(axis=1) > 0)
        carry = serv[:, None] & pol.boarding_ok  # (R, K)
        K, R = w.n_nationalities, w.n_routes
        self.direct_ok_today = ((w.direct.astype(int) @ carry.astype(int)) > 0).tolist()
        self.direct_routes_today = [[frozenset(r for r in range(R) if w.direct[o, r] and pol.boarding_ok[r, k])
                                     for k in range(K)] for o in range(w.n_origins)]
        self.hub_routes_today = [[frozenset(r for r in range(R) if w.route_from_hub[r] == h and pol.boarding_ok[r, k])
                                  for k in range(K)] for h in range(len(w.hubs))]
        self.hub_weights_today = hub_weights(self, carry).tolist()

        wants = self.run_stage("fly")
        sold = np.zeros(R, dtype=np.int64)
        waiting = wants
        for r in self.streams.generator(SEAT_ROUTE_ORDER, day).permutation(R):
            if today.seats[r] <= 0:
                continue
            cand = [q for q in waiting if r in q.what]
            if not cand:
                continue
            served, _ = self.allocate(int(today.seats[r]), cand)
            for q in served:
                q.migrant.land_in_transit_country()
            sold[r] = len(served)
            self.count(f"arrivals_{w.route_ids[r]}", len(served))
            self.count("paid_airlines_usd", float(len(served) * w.route_fare[r]))
            waiting = [q for q in waiting if q.migrant.state != State.IN_CITY]
        for airline in self.airline_agents.values():
            airline.record_sales(sold / self.scale)
        for q in waiting:
            if q.migrant.state == State.IN_TRANSIT:
                q.migrant.stay_at_hub()

    def live_in_transit_country(self, today: Day) -> None:
        """Everyone in the transit country pays for the day (stage ``hotel``)."""
        self.run_stage("hotel")

    def go_home(self, today: Day) -> None:
        """Returning people arrive home; people in the transit country may become willing to return: free
        seats first (first come by the day they arrived), then their own tickets."""
        w, pol, day = self.world, self.world.policy, self.day
        self.run_stage("arrive_home")
        if not (self.people.members[State.IN_CITY] or self.people.members[State.AT_BORDER]):
            return
        seats = int(self.scaled(pol.repat_seats * pol.cooperation, REPATRIATION_SEATS))
        self.free_seats_today = seats
        self.repat_fare_today = pol.repat_fare_usd if seats > 0 else 0.0
        self.repat_ok_today = pol.repat_ok.tolist()
        self.cold_today = w.cold_on(day) * (not pol.shelter)
        self.hold_today = pol.hold_at_border
        wants = self.run_stage("return")
        served, rest = self.allocate(seats, [q for q in wants if q.what])
        for q in served:
            q.migrant.take_free_seat()
        own = []  # willing without a free seat (none open to them, or none left): own ticket?
        for q in rest + [q for q in wants if not q.what]:
            if q.migrant.consider_own_ticket():
                own.append(q)
        self.count("repatriated", len(served))
        self.count("returned_own_ticket", len(own))
        if seats > 0:
            self.count("repatriation_seats", seats)
        a = (1.0 - self.decay) / self.scale  # people who give up tell their network
        for q in served + own:
            self.failure_ema[q.migrant.origin] += a

    def go_to_border(self, today: Day) -> None:
        """People in the city leave for the border (stage ``city``); sooner while a closure or a
        pushback policy at a segment they can reach is announced (``travel.closing_soon_mult``)."""
        pol, travel = self.world.policy, self.cfg.travel
        chance = travel.city_to_border_per_day * pol.transport_mult
        if (self.world.reach[0] & pol.closing_soon).any():  # the one entry point reaches one closing soon
            chance *= travel.closing_soon_mult
        self.to_border_today = min(1.0, chance)
        self.segment_weights_today = self._segment_weights().tolist()
        self.run_stage("city")

    def escort(self, today: Day) -> None:
        """The transit state's forces take people from the city, and from its other green
        segments, to the segments it chooses (stage ``escort``)."""
        pol = self.world.policy
        if not pol.escort_to.any() or pol.escort_per_day + pol.relocate_per_day == 0:
            return
        self.escort_today, self.relocate_today = pol.escort_per_day, pol.relocate_per_day
        self.escort_to_today = pol.escort_to.tolist()
        self.segment_weights_today = self._segment_weights().tolist()
        self.run_stage("escort")

    def _segment_weights(self) -> np.ndarray:
        """(S,) today's attractiveness of each segment (as :func:`sim.model.rules.transit.choose_segment`)."""
        w = self.world
        k = self.cfg.border.prior_weight_per_day * self.scale
        perceived = (self.seg_success_ema + k * self.seg_prior) / (self.seg_attempts_ema + k)
        return segment_weights(perceived, w.seg_bias * w.policy.segment_weight,
                               self.cfg.border.segment_choice_temperature)

    # ---- 6. guards ----------------------------------------------------------------------------
    def resolve_border(self, today: Day) -> None:
        """People at the border decide to try (want); the guards' stop share falls with the
        day's attempts at each segment (:func:`stop_share`); each attempt is resolved; guards
        adapt; what the network hears is updated."""
        w, pol, cfg, day = self.world, self.world.policy, self.cfg, self.day
        b, S, O = cfg.border, w.n_segments, w.n_origins
        cold = w.cold_on(day) * (not pol.shelter)
        base = b.attempt_prob_per_day * pol.attempt_mult * (1.0 - b.cold_attempt_drop * cold)
        self.attempt_base_today = (base * np.where(pol.closing_soon, b.announced_attempt_mult, 1.0)).tolist()
        self.attempt_cost_today = pol.attempt_cost_usd.tolist()
        self.kept_today = kept_share_today(self).tolist()
        wants = self.run_stage("border")
        n_att = np.bincount(np.array([q.what for q in wants], dtype=np.int64), minlength=S)

        cap = np.array([g.capacity(pol.guard_cap_mult[g.segment]) for g in self.guards]) * self.scale
        self.stop_today = stop_share(np.minimum(1.0, w.seg_detect * pol.line_stop_mult), cap, n_att,
                                     b.congestion_half).tolist()
        self.inside_today = np.minimum(1.0, w.seg_interior * pol.interior_catch_mult).tolist()
        self.pushback_today = pol.pushback.tolist()
        self.death_prob_today = b.death_prob_per_attempt * (1.0 + b.cold_death_mult * cold)
        self.segment_weights_today = self._segment_weights().tolist()

        tally = np.zeros((S, len(Outcome)), dtype=np.int64)
        kept_by_nat = np.zeros((S, w.n_nationalities), dtype=np.int64)
        succ, fail = np.zeros(O), np.zeros(O)
        for q in wants:
            m, seg = q.migrant, q.what
            outcome = m.cross()
            tally[seg, outcome] += 1
            if outcome == Outcome.THROUGH:
                succ[m.origin] += 1
            elif outcome == Outcome.CAUGHT_KEPT:
                succ[m.origin] += cfg.intention.caught_success_weight
                kept_by_nat[seg, m.nationality] += 1
            elif outcome == Outcome.DIED:
                fail[m.origin] += cfg.intention.death_weight
            else:
                fail[m.origin] += 1

        for s in range(S):
            t, name = tally[s], w.segment_ids[s]
            self.count(f"attempts_{name}", int(n_att[s]))
            self.count(f"turned_back_{name}", int(t[Outcome.STOPPED] + t[Outcome.CAUGHT_PUSHED_BACK]))
            self.count(f"caught_inside_{name}", int(t[Outcome.CAUGHT_PUSHED_BACK] + t[Outcome.CAUGHT_KEPT]))
            self.count(f"caught_{name}", int(t[Outcome.CAUGHT_KEPT]))
            self.count(f"got_through_{name}", int(t[Outcome.THROUGH]))
            self.count(f"deaths_{name}", int(t[Outcome.DIED]))
            self.recorder.set(f"guard_capacity_{name}", float(cap[s] / self.scale))
            self.recorder.set(f"pushback_{name}", int(pol.pushback[s]))
            for kk in range(w.n_nationalities):
                self.count(f"caught_{name}_{w.nationalities[kk]}", int(kept_by_nat[s, kk]))
        guards_after_the_day(self, n_att, cap, tally[:, Outcome.CAUGHT_KEPT])

        a = (1.0 - self.decay) / self.scale  # the origin EMAs are real people a day
        self.success_ema = self.success_ema * self.decay + a * succ
        self.failure_ema = self.failure_ema * self.decay + a * fail
        d = 1.0 - self.decay  # per-segment EMAs stay in simulated people
        self.seg_success_ema = self.seg_success_ema * self.decay + d * (
            cfg.intention.caught_success_weight * tally[:, Outcome.CAUGHT_KEPT] + tally[:, Outcome.THROUGH])
        self.seg_attempts_ema = self.seg_attempts_ema * self.decay + d * n_att
