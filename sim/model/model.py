"""MigrationModel: the corridor as a Mesa model. The model owns and wires; kernels compute.

One step is one day::

    1. levers       reset today's policy; states and airlines pull their active levers
    2. states       issuers scale visa capacity to their queues
    3. airlines     publish today's flights and corridor seats
    4. agencies     sell packages to intending migrants (want, then allocate)
    5. migrants     intention, visas, flights, Minsk, returns (vectorised)
    6. guards       resolve today's attempts at each border segment
    7. record       the day's stocks and flows

The model's randomness comes only from streams derived from ``run.seed`` (Mesa's ``model.rng``
is seeded from the same root), so the same config and seed give identical outputs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np

from sim.engines import compiled
from sim.model.allocate import allocate_by_group, allocate_fifo, stochastic_round
from sim.model.config import Config, load_config, set_dotted, to_dict
from sim.model.institutions import (
    AgencyBook,
    Airline,
    BorderGuard,
    RouteBook,
    StateActor,
    TravelAgency,
)
from sim.model.levers import DayPolicy, build_levers
from sim.model.population import (
    IN_BELARUS,
    Population,
    State,
    choose_by_weight,
    give_up_prob,
    intention_prob,
    network_signal,
    resolve_crossings,
    return_willingness,
    segment_weights,
    stop_share,
)
from sim.model.recorder import METRICS, Recorder
from sim.model.rng import (
    AIRLINE_SEATS,
    ATTEMPT,
    BUY,
    BUY_TIE,
    CROSS_DEATH,
    CROSS_INSIDE,
    CROSS_LINE,
    GIVE_UP,
    HUB_CHOICE,
    HUB_RECHOICE,
    INTEND,
    LEAVE_AGAIN,
    LEAVE_MINSK,
    REPATRIATION_SEATS,
    RETURN_OWN,
    RETURN_TIE,
    RETURN_WILLING,
    SEAT_ROUTE_ORDER,
    SEAT_TIE,
    SEGMENT_CHOICE,
    SEGMENT_RECHOICE,
    SMUGGLER,
    SWITCH,
    VISA_TIE,
    Streams,
    below_bound,
    bits_to_unit,
)
from sim.model.world import World


def compiled_variant(phase: Callable[[MigrationModel], None]) -> Callable[[MigrationModel], None]:
    """Mark a phase that the compiled engine (:mod:`sim.engines.compiled`, ``run.engine``) may do instead:
    the same rule with the same numbers, in compiled loops. The method's body is the rule."""
    name = phase.__name__

    @functools.wraps(phase)
    def run_phase(self: MigrationModel) -> None:
        compiled = self.fast_phases.get(name)
        if compiled is None:
            return phase(self)
        return compiled(self)

    run_phase.compiled_variant = True  # type: ignore[attr-defined]  (tests/test_engines.py lists them)
    return run_phase


class MigrationModel(mesa.Model):
    """The 2021 Iraq -> Belarus -> EU corridor (or any world given in the config).

    Args:
        config: a :class:`Config` or a nested mapping (checked by :func:`load_config`);
            ``None`` gives the schema's defaults, which have an empty world: pass the default
            scenario with :func:`sim.running.run.default_config`.
        rng: root seed; overrides ``config.run.seed`` (this is how ``mesa.batch_run`` seeds).
        **overrides: dotted keys with ``__`` for dots, e.g. ``population__size=20000``
            (how ``mesa.batch_run`` passes parameters).

    Attributes:
        cfg: the checked config. world: the :class:`World`. people: the :class:`Population`.
        day: index of the day being simulated next (0 = run start).
        recorder: the daily table and run totals.
    """

    def __init__(self, config: Config | dict | None = None, rng: int | None = None,
                 **overrides: Any) -> None:
        data = to_dict(config) if isinstance(config, Config) else dict(config or {})
        for key, value in overrides.items():
            set_dotted(data, key, value)
        if rng is not None:
            set_dotted(data, "run.seed", int(rng))
        cfg = load_config(data)
        super().__init__(rng=np.random.default_rng(np.random.SeedSequence(cfg.run.seed)))
        self.cfg = cfg
        self.world = World(cfg)
        # sampling fraction: rows per real person. Capacities (seats, visas, packages, guards,
        # repatriation seats) are in real people and scaled by it; what the network hears is
        # scaled back to real people. At size == pool (the default) nothing is scaled.
        self.scale = cfg.population.size / cfg.population.pool
        self.streams = Streams(cfg.run.seed, cfg.population.size)
        # phases done by compiled kernels (run.engine; empty: all numpy) — the same numbers either way
        self.fast_phases = compiled.phases(cfg.run.engine)

        actors = list(self.world.states) + list(self.world.airlines)
        # applied in name order, whatever the order in the config: levers only narrow the policy
        # (AND, multiply, add), and a fixed order makes the floating-point result exact too
        levers = sorted(build_levers(cfg.levers, self.world, actors, list(METRICS)), key=lambda lv: lv.name)
        self.levers = levers
        self.day_policy = DayPolicy(self.world)  # today's policy from the levers pulled today
        self.people = Population(cfg, self.world, self.streams)
        if self.fast_phases:
            self.people.members_kernel = compiled.members_kernel()
        self.recorder = Recorder(self)
        w = self.world

        self.state_actors = {s: StateActor(self, s, [lv for lv in levers if lv.actor == s]) for s in w.states}
        self.route_book = RouteBook(w.n_routes)
        self.airline_agents = {a: Airline(self, a, w, self.route_book, cfg.airline, [lv for lv in levers if lv.actor == a])
                               for a in w.airlines}
        # the actors that own levers, states first (the others' active_today stays empty)
        self.lever_owners = [a for a in list(self.state_actors.values()) + list(self.airline_agents.values()) if a.levers]
        self.agency_book = AgencyBook(np.repeat(np.arange(w.n_origins), w.origin_agencies), w.agency_capacity,
                                      w.agency_price, cfg.agency)
        self.agencies = [TravelAgency(self, self.agency_book, a) for a in range(self.agency_book.origin.size)]
        self.guards = [BorderGuard(self, s, w.segment_ids[s], w.seg_cap[s], w.seg_adapt[s], w.seg_cap_max[s])
                       for s in range(w.n_segments)]

        R, S, O = w.n_routes, w.n_segments, w.n_origins
        self.flights_today = np.zeros(R, dtype=np.int64)
        self.seats_today = np.zeros(R, dtype=np.int64)
        self.channel_level = np.ones(w.n_channels)
        # per issuing state whose channels grow with their queues: (C,) which channels
        self.growing_channels = {name: issued for name in self.state_actors
                                 if (issued := (np.array(w.channel_state) == name) & (w.channel_growth > 0)).any()}
        # unused capacity carries over for up to a week (a token bucket), so a small capacity
        # (a fraction of a person a day in a sampled run) is neither lost nor rounded away
        self.agency_credit = np.zeros(len(self.agencies))
        self.channel_credit = np.zeros(w.n_channels)
        self.success_ema = np.zeros(O)
        self.failure_ema = np.zeros(O)
        # what people believe of each segment before anyone reports: the share that gets past
        # the line (being caught inside still means being in the EU, where one may apply)
        self.seg_prior = 1.0 - w.seg_detect
        self.seg_attempts_ema = np.zeros(S)
        self._serving: tuple[int, np.ndarray | None] = (-1, None)  # (day, channels_serving())
        self.seg_success_ema = np.zeros(S)
        self.decay = 0.5 ** (1.0 / cfg.intention.report_half_life_days)
        self.day = 0
        self.running = True
        # Mesa convention: model-level reporters (what mesa.batch_run collects)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, n=name: m.recorder.last(n)) for name in METRICS})

    # ------------------------------------------------------------------------------------
    def step(self) -> None:
        """One day: levers -> states -> airlines -> agencies -> migrants -> guards -> record."""
        if self.day >= self.cfg.n_days:
            self.running = False
            return
        self.recorder.start_day(self.day)
        self.pull_levers()        # 1
        self.states_decide()      # 2
        self.publish_flights()    # 3
        self.sell_packages()      # 4
        self.move_migrants()      # 5
        self.resolve_border()     # 6
        self.recorder.end_day()   # 7
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.cfg.n_days:
            self.running = False

    def run(self, progress: Any = None) -> None:
        """Step to the end of the run window (``progress``: a callable called once a day)."""
        while self.running:
            self.step()
            if progress is not None:
                progress()

    # ---- 1. levers -----------------------------------------------------------------------
    def pull_levers(self) -> None:
        """Each state and airline pulls its levers active today; today's policy is "nobody acts"
        narrowed by each of them in turn (sim.model.levers.DayPolicy)."""
        day, metric = self.day, self.recorder.yesterday
        pulled = [pull for actor in self.lever_owners for pull in actor.pull_levers(day, metric)]
        self.world.policy = self.day_policy.of(pulled, day)

    # ---- 2. states -------------------------------------------------------------------------
    def states_decide(self) -> None:
        """Issuing states scale their channels to yesterday's queue."""
        w, rec = self.world, self.recorder
        for name, issued_here in self.growing_channels.items():
            self.state_actors[name].scale_visa_issuance(self.channel_level, issued_here, rec.channel_queue,
                                                        rec.channel_capacity, w.channel_growth, w.channel_max_mult)

    # ---- 3. airlines -----------------------------------------------------------------------
    def publish_flights(self) -> None:
        """Airlines review schedules and publish today's flights and corridor seats (scaled to the
        sample), and fly the repatriation charters states ordered."""
        if self.day % self.cfg.airline.review_days == 0:  # a review day (see Airline.review_schedule)
            for airline in self.airline_agents.values():
                airline.review_schedule(self.day)
        real = np.empty_like(self.seats_today)  # publish writes every route
        self.route_book.publish(self.day, self.world, self.flights_today, real)
        self.seats_today = self._scaled(real, AIRLINE_SEATS)
        pol = self.world.policy
        if pol.charters:  # none ordered: no seats (repat_seats stays the reset policy's 0)
            pol.repat_seats = sum(self.airline_agents[code].fly_charter(seats) for code, seats in pol.charters)
            self.recorder.add("repatriation_flights", sum(1 for _, seats in pol.charters if seats > 0))

    def _scaled(self, real: np.ndarray | float, stream: str) -> np.ndarray:
        """A capacity in real people as whole units of simulated people (stochastic rounding)."""
        x = np.asarray(real, dtype=float) * self.scale
        whole = np.floor(x)
        if not (x > whole).any():  # whole numbers round to themselves whatever the draw
            return whole.astype(np.int64)
        return stochastic_round(x, self.streams.generator(stream, self.day).random(x.shape))

    @staticmethod
    def _credit(credit: np.ndarray, per_day: np.ndarray) -> np.ndarray:
        """Add today's capacity to a token bucket (capped at a week's) and return whole units.

        Formula: ``credit = min(credit + c, 7 c + 1)``; available today = ``floor(credit)``;
        the caller subtracts what it used. Closed (c = 0) empties the bucket.
        """
        np.minimum(credit + per_day, 7.0 * per_day + 1.0, out=credit)
        credit[per_day <= 0] = 0.0
        return np.floor(credit).astype(np.int64)

    # ---- 4. agencies ------------------------------------------------------------------------
    @compiled_variant
    def sell_packages(self) -> None:
        """Intending people who can pay ask their agency; agencies sell up to capacity (FIFO)."""
        p, w, cfg, day = self.people, self.world, self.cfg, self.day
        pol = w.policy
        it = p.ids(State.INTENDING)
        book = self.agency_book
        price = book.price_usd
        cap = self._credit(self.agency_credit, book.capacity_today(pol.agency_cap_mult) * self.scale)
        demand = np.zeros(len(self.agencies), dtype=np.int64)
        sold = np.zeros_like(demand)
        revenue = np.zeros(len(self.agencies))
        self.offer = self._package_on_sale()
        if it.size:
            ag = p.agency[it]
            afford = p.has_agency[it] & (p.savings_usd[it] >= price[ag] + cfg.purchase.reserve_usd)
            can_buy = afford & self.offer[p.origin[it]]
            # draws are per person, so drawing only for those whom the draw concerns changes nothing
            asks = np.flatnonzero(can_buy)
            asks = asks[self.streams.uniform(BUY, day, it[asks]) < cfg.purchase.buy_prob_per_day]
            buyers, buyer_ag = it[asks], ag[asks]
            demand = np.bincount(buyer_ag, minlength=len(self.agencies))
            win = allocate_by_group(buyer_ag.astype(np.int64), cap, p.day_entered[buyers],
                                    self.streams.uniform(BUY_TIE, day, buyers))
            got, got_ag = buyers[win], buyer_ag[win]
            paid = price[got_ag]
            p.pay(got, paid)
            sold = np.bincount(got_ag, minlength=len(self.agencies))
            self.agency_credit -= sold
            revenue = np.bincount(got_ag, weights=paid, minlength=len(self.agencies))
            p.move(got, State.INTENDING, State.WAITING_PACKAGE, day)
            self.recorder.add("packages_sold", got.size)
            self.recorder.add("paid_agencies_usd", float(paid.sum()))
            # giving up: cannot afford, or the network's news is bad
            stay = np.ones(it.size, bool)
            stay[asks] = False
            rest = it[stay]
            q = give_up_prob(cfg.intention.give_up_per_day, cfg.intention.discouraged_per_day, self.signal,
                             can_buy[stay], p.origin[rest])
            at_risk = q > 0
            rest, q = rest[at_risk], q[at_risk]
            quit_ = rest[self.streams.uniform(GIVE_UP, day, rest) < q]
            p.move(quit_, State.INTENDING, State.AT_HOME, day)
        book.close_day(demand / self.scale, sold / self.scale, revenue / self.scale)
        self.recorder.add("package_demand", int(demand.sum()))

    def _package_on_sale(self) -> np.ndarray:
        """(O,) bool: an origin's agencies are open and a visa channel serves its nationality."""
        w = self.world
        pol = w.policy
        nat_ok = self.channels_serving().any(axis=0)
        return (pol.agency_cap_mult > 0) & (w.origin_agencies > 0) & nat_ok[w.origin_nat]

    # ---- 5. migrants -----------------------------------------------------------------------
    def move_migrants(self) -> None:
        """The vectorised migrant rules, in the order people pass through them."""
        self.intend()
        self.apply_for_visas()
        self.collect_visas()
        self.fly()
        self.live_in_belarus()
        self.go_home()
        self.leave_minsk()

    def channels_serving(self) -> np.ndarray:
        """(C, K) bool: visa channel c is in service today and issues visas to nationality k.

        Depends on the day and today's policy only (set by the levers, first thing in the day),
        so it is computed once a day, for the agencies and the visa phase."""
        day, serving = self._serving
        if day != self.day:
            w = self.world
            serving = w.channels_in_service(self.day)[:, None] & w.policy.channel_ok & w.channel_nat
            self._serving = (self.day, serving)
        return serving

    @property
    def signal(self) -> np.ndarray:
        c = self.cfg.intention
        return network_signal(self.success_ema, self.failure_ema, c.success_scale_per_day, c.failure_scale_per_day)

    @compiled_variant
    def intend(self) -> None:
        """At home -> intending (push, network, information, offer); returnees leave again."""
        p, w, c, day = self.people, self.world, self.cfg.intention, self.day
        pol = w.policy
        offer = np.where(self.offer, 1.0, c.closed_offer_mult)
        signal = self.signal
        # thinning: nobody's chance exceeds their origin's bound (weights w_i are below 1), so
        # only people under the bound need the exact formula — the same decisions, far cheaper
        bound = np.minimum(1.0, c.base_rate_per_day * w.origin_push * offer * pol.intent_mult
                           * np.exp(c.network_gain * np.maximum(signal, 0.0) + pol.info)).astype(np.float32)
        bits = self.streams.full_bits(INTEND, day)  # everyone's number, as integers
        below = below_bound(bits, bound, p.origin_counts)  # rows are sorted by origin
        home = below[p.state[below] == State.AT_HOME]
        prob = intention_prob(c.base_rate_per_day, w.origin_push, signal, pol.info, offer,
                              pol.intent_mult, c.network_gain, p.net_weight[home], p.origin[home])
        go = home[bits_to_unit(bits[home]) < prob]
        p.move(go, State.AT_HOME, State.INTENDING, day)
        back = p.ids(State.RETURNED)
        again = back[self.streams.uniform(LEAVE_AGAIN, day, back) < self.cfg.returns.leave_again_per_day * self.offer[p.origin[back]]]
        p.move(again, State.RETURNED, State.INTENDING, day)

    @compiled_variant
    def apply_for_visas(self) -> None:
        """Waiting for a package -> waiting for a visa: agencies apply at open channels (FIFO)."""
        p, w, day = self.people, self.world, self.day
        pol = w.policy
        # applications at channels that closed or stopped serving the nationality lapse
        wv = p.ids(State.WAITING_VISA)
        serving = self.channels_serving()
        lapsed = wv[~serving[p.channel[wv], p.nationality[wv]]]
        p.channel[lapsed] = -1
        p.move(lapsed, State.WAITING_VISA, State.WAITING_PACKAGE, day)
        self.recorder.add("visa_lapsed", lapsed.size)

        wp = p.ids(State.WAITING_PACKAGE)
        cap = w.channel_cap * self.channel_level * pol.channel_cap_mult * serving.any(axis=1)
        cap = self._credit(self.channel_credit, cap * self.scale)
        self.recorder.channel_capacity = cap.astype(float)
        k = p.nationality[wp]
        self.recorder.channel_queue = (serving @ np.bincount(k, minlength=w.n_nationalities)).astype(float)
        free = np.ones(wp.size, bool)
        tie = self.streams.uniform(VISA_TIE, day, wp)
        for c in w.channel_preference:
            cand = np.flatnonzero(free & serving[c, k])
            if cand.size == 0 or cap[c] <= 0:
                continue
            win = cand[allocate_fifo(int(cap[c]), p.day_entered[wp[cand]], tie[cand])]
            self.channel_credit[c] -= win.size
            free[win] = False
            ids = wp[win]
            p.channel[ids] = c
            p.day_due[ids] = day + w.channel_days[c]
            p.move(ids, State.WAITING_PACKAGE, State.WAITING_VISA, day)
            self.recorder.add(self.recorder.visa_application_columns[c], ids.size)
        # no visa application for too long (queues, or no channel at all): the agency cancels
        # and refunds part of the price
        stuck = wp[free & (day - p.day_entered[wp] > self.cfg.travel.package_cancel_days)]
        self._cancel(stuck, State.WAITING_PACKAGE)

    def _cancel(self, ids: np.ndarray, src: State) -> None:
        """A trip is cancelled before departure: part of the package price comes back; home."""
        p = self.people
        refund = self.cfg.travel.refund_share * self.world.agency_price
        p.savings_usd[ids] += np.float32(refund)
        p.spent_usd[ids] -= np.float32(refund)
        self.recorder.add("paid_agencies_usd", -float(refund * ids.size))
        p.move(ids, src, State.AT_HOME, self.day)
        self.recorder.add("cancelled", ids.size)

    @compiled_variant
    def collect_visas(self) -> None:
        p, w, day = self.people, self.world, self.day
        wv = p.ids(State.WAITING_VISA)
        ready = wv[p.day_due[wv] <= day]
        self.recorder.add_many(self.recorder.visa_columns, np.bincount(p.channel[ready], minlength=w.n_channels).tolist())
        p.move(ready, State.WAITING_VISA, State.TICKETED, day)

    @compiled_variant
    def fly(self) -> None:
        """Ticketed and in-transit people take today's seats to Minsk; agencies reroute via hubs.

        A ticketed person flies direct while a route from their airports will carry them and
        they have waited less than ``rebook_wait_days``; otherwise the agency sends them to a
        hub, chosen in proportion to the corridor seats a week from each hub that accept their
        nationality. People at a hub whose routes stop carrying them move to another hub, or go
        home after ``hub_stranded_days``.
        """
        p, w, cfg, day = self.people, self.world, self.cfg, self.day
        pol = w.policy
        serv = w.routes_in_service(day) & (w.route_flights_per_week > 0)  # (R,)
        carry = serv[:, None] & pol.boarding_ok  # (R, K)
        direct_ok = (w.direct.astype(int) @ carry.astype(int)) > 0  # (O, K)

        tk = p.ids(State.TICKETED)
        go_direct = direct_ok[p.origin[tk], p.nationality[tk]] & (day - p.day_entered[tk] < cfg.travel.rebook_wait_days)
        tr = p.ids(State.IN_TRANSIT)
        at_hub = tr[p.day_due[tr] <= day]

        # seats today: one FIFO queue per route over direct travellers and those at its hub
        pool = np.concatenate([tk[go_direct], at_hub])
        is_tk = np.zeros(pool.size, bool)
        is_tk[: int(go_direct.sum())] = True
        wait = np.where(is_tk, p.day_entered[pool], p.day_due[pool])
        tie = self.streams.uniform(SEAT_TIE, day, pool)
        seated = np.zeros(pool.size, bool)
        sold = np.zeros(w.n_routes, dtype=np.int64)
        o, k, h = p.origin[pool], p.nationality[pool], p.hub[pool]
        # (R, pool): who may take a seat on each route today (from their own city, or their hub)
        may_board = (pol.boarding_ok[:, k] & np.where(is_tk, w.direct[o].T, h == w.route_from_hub[:, None])
                     & (self.seats_today > 0)[:, None])
        boarding = may_board.any(axis=1).tolist()
        # routes seat people in a random order (no one to seat: no order needed)
        order = self.streams.generator(SEAT_ROUTE_ORDER, day).permutation(w.n_routes) if pool.size else []
        for r in order:
            if not boarding[r]:
                continue
            cand = np.flatnonzero(may_board[r] & ~seated)
            if cand.size == 0:
                continue
            win = cand[allocate_fifo(int(self.seats_today[r]), wait[cand], tie[cand])]
            seated[win] = True
            sold[r] = win.size
            ids = pool[win]
            from_tk = is_tk[win]
            p.move(ids[from_tk], State.TICKETED, State.IN_MINSK, day)
            p.move(ids[~from_tk], State.IN_TRANSIT, State.IN_MINSK, day)
            p.day_in_belarus[ids] = day
            p.hub[ids] = -1
            self.recorder.add(self.recorder.arrival_columns[r], ids.size)
            self.recorder.add("paid_airlines_usd", float(ids.size * w.route_fare[r]))
        self.route_book.record_sales(sold / self.scale)

        hub_w = self._hub_weights(carry)

        # rebook ticketed people who cannot fly direct
        reroute = tk[~go_direct]
        self._send_to_hub(reroute, State.TICKETED, hub_w, HUB_CHOICE)

        # in transit and not seated: waited too long at the hub -> home; hub no longer carries
        # them -> another hub that does
        rest = at_hub[~seated[int(is_tk.sum()):]]
        if rest.size:
            too_long = day - p.day_due[rest] > cfg.travel.hub_stranded_days
            home = rest[too_long]
            p.hub[home] = -1
            p.returns[home] += 1
            p.move(home, State.IN_TRANSIT, State.RETURNED, day)
            self.recorder.add("stranded_at_hub_went_home", home.size)
            rest = rest[~too_long]
            stuck = rest[hub_w[p.nationality[rest], p.hub[rest]] <= 0]
            other = hub_w[p.nationality[stuck]].sum(axis=1) > 0
            self._send_to_hub(stuck[other], State.IN_TRANSIT, hub_w, HUB_RECHOICE)

    def _hub_weights(self, carry: np.ndarray) -> np.ndarray:
        """(K, H) corridor seats a week from each hub on routes that carry nationality k today."""
        w = self.world
        weekly = w.route_flights_per_week * w.route_seats * w.route_share
        hub_w = np.zeros((w.n_nationalities, len(w.hubs)))
        r, k = np.nonzero((w.route_from_hub >= 0)[:, None] & carry)  # each hub's routes, in route order
        np.add.at(hub_w, (k, w.route_from_hub[r]), weekly[r])
        return hub_w

    def _send_to_hub(self, ids: np.ndarray, src: State, hub_w: np.ndarray, stream: str) -> None:
        p, cfg, day = self.people, self.cfg, self.day
        if ids.size == 0:
            return
        wk = hub_w[p.nationality[ids]]
        can = (wk.sum(axis=1) > 0) & (p.savings_usd[ids] >= cfg.purchase.hub_extra_usd)
        go = ids[can]
        if go.size:
            hub = choose_by_weight(wk[can], self.streams.uniform(stream, day, go))
            p.pay(go, cfg.purchase.hub_extra_usd)
            self.recorder.add("paid_agencies_usd", float(go.size * cfg.purchase.hub_extra_usd))
            p.hub[go] = hub
            if src == State.TICKETED:
                p.day_due[go] = day + cfg.purchase.hub_extra_days
            if src == State.TICKETED:
                p.move(go, State.TICKETED, State.IN_TRANSIT, day)
                self.recorder.add("rerouted_via_hub", go.size)
            else:
                p.day_entered[go] = day
        if src == State.TICKETED:
            # nowhere to go or no money for the detour: cancelled after the agency gives up
            waiting = ids[~can]
            self._cancel(waiting[day - p.day_entered[waiting] > cfg.travel.hub_stranded_days], State.TICKETED)

    @compiled_variant
    def live_in_belarus(self) -> None:
        p = self.people
        here = p.ids_in(IN_BELARUS)
        p.pay(here, self.cfg.purchase.hotel_usd_per_day)

    @compiled_variant
    def go_home(self) -> None:
        """Stranded people become willing to return; free seats first (FIFO by days in Belarus),
        then own tickets; returning -> returned the next day."""
        p, w, c, day = self.people, self.world, self.cfg.returns, self.day
        pol = w.policy
        back = p.ids(State.RETURNING)
        home = back[p.day_due[back] <= day]
        p.returns[home] += 1
        p.move(home, State.RETURNING, State.RETURNED, day)

        here = p.ids_in(IN_BELARUS)
        if here.size == 0:
            return
        seats = int(self._scaled(pol.repat_seats * pol.cooperation, REPATRIATION_SEATS))
        k = p.nationality[here]
        fare = pol.repat_fare_usd if seats > 0 else 0.0
        eligible = pol.repat_ok[k] & (seats > 0) & (p.savings_usd[here] >= fare)
        cold = w.cold_on(day) * (p.state[here] == State.AT_BORDER) * (not pol.shelter)
        broke = p.savings_usd[here] < c.own_ticket_usd
        prob = return_willingness(c.base_willing_per_day, day - p.day_in_belarus[here], c.days_scale,
                                  p.pushbacks[here], c.pushback_weight, cold, c.cold_weight, broke,
                                  c.broke_weight, p.risk[here], c.stress_max,
                                  np.where(eligible, c.free_seat_mult, 1.0))
        willing = self.streams.uniform(RETURN_WILLING, day, here) < prob
        cand = np.flatnonzero(willing & eligible)
        win = cand[allocate_fifo(seats, p.day_in_belarus[here[cand]], self.streams.uniform(RETURN_TIE, day, here[cand]))]
        free = here[win]
        if fare > 0:
            p.pay(free, fare)
        seated = np.zeros(here.size, bool)
        seated[win] = True
        rest = np.flatnonzero(willing & ~seated)
        own = here[rest][(self.streams.uniform(RETURN_OWN, day, here[rest]) < c.own_ticket_share)
                         & ~broke[rest]]
        p.pay(own, c.own_ticket_usd)
        for ids, name in ((free, "repatriated"), (own, "returned_own_ticket")):
            for src in IN_BELARUS:
                sel = ids[p.state[ids] == src]
                p.day_due[sel] = day + 1
                p.move(sel, src, State.RETURNING, day)
            self.recorder.add(name, ids.size)
        if seats > 0:
            self.recorder.add("repatriation_seats", seats)
        self.report_failures(np.concatenate([free, own]))

    @compiled_variant
    def leave_minsk(self) -> None:
        """In Minsk -> at the border: transport (Belarus' facilitation) and segment choice."""
        p, w, cfg, day = self.people, self.world, self.cfg, self.day
        pol = w.policy
        mk = p.ids(State.IN_MINSK)
        go = mk[self.streams.uniform(LEAVE_MINSK, day, mk) < min(1.0, cfg.travel.minsk_to_border_per_day * pol.transport_mult)]
        self._choose_segment(go, SEGMENT_CHOICE)
        p.move(go, State.IN_MINSK, State.AT_BORDER, day)

    def _choose_segment(self, ids: np.ndarray, stream: str) -> None:
        p, w = self.people, self.world
        if ids.size == 0:
            return
        k = self.cfg.border.prior_weight_per_day * self.scale
        perceived = (self.seg_success_ema + k * self.seg_prior) / (self.seg_attempts_ema + k)
        wts = segment_weights(perceived, w.seg_bias * w.policy.segment_weight, self.cfg.border.segment_choice_temperature)
        seg = choose_by_weight(wts, self.streams.uniform(stream, self.day, ids))
        changed = seg != p.segment[ids]
        p.segment[ids] = seg
        p.day_due[ids] = self.day + np.where(changed, w.seg_travel[seg], 1)

    # ---- 6. guards --------------------------------------------------------------------------
    @compiled_variant
    def resolve_border(self) -> None:
        """Attempts at each segment and their outcomes; turned-back people may switch segment."""
        p, w, cfg, day = self.people, self.world, self.cfg, self.day
        pol = w.policy
        b = cfg.border
        ab = p.ids(State.AT_BORDER)
        ready = ab[p.day_due[ab] <= day]
        att_p = np.minimum(1.0, b.attempt_prob_per_day * pol.attempt_mult * (0.5 + p.risk[ready]))
        att = ready[self.streams.uniform(ATTEMPT, day, ready) < att_p]
        seg = p.segment[att].astype(np.int64)
        S = w.n_segments
        n_att = np.bincount(seg, minlength=S)

        # smugglers: hired before a first attempt by those who can pay
        first = att[~p.has_smuggler[att] & (p.savings_usd[att] >= cfg.purchase.smuggler_fee_usd)]
        hire = first[self.streams.uniform(SMUGGLER, day, first) < cfg.purchase.smuggler_take_prob]
        p.pay(hire, cfg.purchase.smuggler_fee_usd)
        p.has_smuggler[hire] = True
        self.recorder.add("paid_smugglers_usd", float(hire.size * cfg.purchase.smuggler_fee_usd))

        cap = np.array([g.capacity(pol.guard_cap_mult[g.segment]) for g in self.guards]) * self.scale
        p_stop = stop_share(w.seg_detect, cap, n_att, b.congestion_half)
        p_inside = np.minimum(1.0, w.seg_interior * pol.interior_catch_mult)
        cold = w.cold_on(day) * (not pol.shelter)
        died, stopped, caught_in, kept, through = resolve_crossings(
            seg, self.streams.uniform(CROSS_DEATH, day, att), self.streams.uniform(CROSS_LINE, day, att),
            self.streams.uniform(CROSS_INSIDE, day, att),
            b.death_prob_per_attempt * (1.0 + b.cold_death_mult * cold), p_stop, p_inside, pol.pushback,
            np.where(p.has_smuggler[att], cfg.purchase.smuggler_detect_mult, 1.0).astype(np.float32))
        turned = stopped | (caught_in & ~kept)
        p.attempts[att] += 1
        outcomes = {"attempts": np.ones(seg.size, bool), "turned_back": turned, "caught_inside": caught_in,
                    "caught": kept, "got_through": through, "deaths": died}
        rec = self.recorder
        for what, mask in outcomes.items():
            rec.add_many(rec.outcome_columns[what], np.bincount(seg[mask], minlength=S).tolist())
        rec.set_many(rec.guard_capacity_columns, (cap / self.scale).tolist())
        rec.set_many(rec.pushback_columns, pol.pushback.astype(int).tolist())
        for g in self.guards:
            g.pushback = bool(pol.pushback[g.segment])
            g.adapt(int(n_att[g.segment]), cap[g.segment])

        p.move(att[died], State.AT_BORDER, State.DIED, day)
        into_eu = att[kept | through]
        p.move(into_eu, State.AT_BORDER, State.IN_EU, day)
        back = att[turned]
        p.pushbacks[back] += 1
        switch = back[self.streams.uniform(SWITCH, day, back) < b.switch_prob_after_pushback]
        p.day_due[back] = day + 1
        self._choose_segment(switch, SEGMENT_RECHOICE)

        # what the network hears: per origin, and per segment
        succ = np.bincount(p.origin[att[through]], minlength=w.n_origins) + cfg.intention.caught_success_weight * np.bincount(
            p.origin[att[kept]], minlength=w.n_origins)
        fail = np.bincount(p.origin[back], minlength=w.n_origins) + cfg.intention.death_weight * np.bincount(
            p.origin[att[died]], minlength=w.n_origins)
        a = (1.0 - self.decay) / self.scale  # smoothing; the origin EMAs are real people a day
        self.success_ema = self.success_ema * self.decay + a * succ
        self.failure_ema = self.failure_ema * self.decay + a * fail
        seg_succ = np.bincount(seg[kept | through], minlength=S)
        b = 1.0 - self.decay  # per-segment EMAs stay in simulated people (only their ratio is used)
        self.seg_success_ema = self.seg_success_ema * self.decay + b * seg_succ
        self.seg_attempts_ema = self.seg_attempts_ema * self.decay + b * n_att
        K = w.n_nationalities
        by_nat = np.bincount(seg[kept] * K + p.nationality[att[kept]], minlength=S * K)
        rec.add_many(rec.caught_by_nationality_columns, by_nat.tolist())

    def report_failures(self, ids: np.ndarray) -> None:
        """People who give up and go home tell their network."""
        if ids.size:
            self.failure_ema += (1.0 - self.decay) / self.scale * np.bincount(
                self.people.origin[ids], minlength=self.world.n_origins)


def check_config(config: Config | dict) -> Config:
    """Build (and discard) a tiny model to check a config completely before any work starts."""
    cfg = load_config(config if not isinstance(config, Config) else to_dict(config))
    probe = to_dict(cfg)
    probe["population"]["size"] = min(cfg.population.size, 100)
    MigrationModel(probe)  # raises ConfigError for anything the world or the levers refuse
    return cfg
