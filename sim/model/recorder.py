"""The daily table and the run summary.

Every day the model adds counts to named columns (``add``) or sets levels (``set``); at the
end of the day :class:`Recorder` appends one row with the stocks per state, the flows between
states, and every counter. The set of columns is fixed when the model is built (it depends on
the world: one column per route, channel and segment), so every row has every column. The
columns are documented in ``docs/outputs.md`` (tests/test_cli.py fails if one is missing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model.population import N_STATES, STATE_NAMES, State

if TYPE_CHECKING:
    from sim.model.day import Day
    from sim.model.institutions import AgencyBook
    from sim.model.population import Population
    from sim.model.world import Policy, World

# metrics a lever's trigger may watch (yesterday's value, in real people: rows / scale)
METRICS = {
    "in_transit_country": "people in the transit country (in a city or at the border)",
    "in_city": "people in the transit country's cities, away from the border",
    "at_border": "people at the border",
    "intending": "people intending to leave",
    "in_destination": "people who have reached the destination (caught and kept, registered, or unseen)",
    "arrivals": "arrivals in the transit country today (all routes)",
    "applied": "people registered to apply for asylum at crossing points today, all segments",
    "attempts": "border attempts today, all segments",
    "turned_back": "attempts turned back today, all segments",
    "got_through": "people through unseen today, all segments",
    "deaths": "deaths at the border today",
    "repatriated": "people on free repatriation flights today",
}

# transitions that the rules can make (the flow columns)
TRANSITIONS = [
    (State.AT_HOME, State.INTENDING), (State.INTENDING, State.AT_HOME),
    (State.INTENDING, State.WAITING_PACKAGE), (State.WAITING_PACKAGE, State.WAITING_VISA),
    (State.WAITING_VISA, State.WAITING_PACKAGE), (State.WAITING_PACKAGE, State.AT_HOME),
    (State.WAITING_VISA, State.TICKETED), (State.TICKETED, State.IN_TRANSIT),
    (State.TICKETED, State.IN_CITY), (State.TICKETED, State.AT_HOME),
    (State.IN_TRANSIT, State.IN_CITY), (State.IN_TRANSIT, State.RETURNED),
    (State.IN_CITY, State.AT_BORDER), (State.IN_CITY, State.RETURNING),
    (State.AT_BORDER, State.RETURNING), (State.AT_BORDER, State.IN_DESTINATION), (State.AT_BORDER, State.DIED),
    (State.INTENDING, State.IN_CITY), (State.WAITING_PACKAGE, State.TICKETED), (State.AT_BORDER, State.IN_CITY),
    (State.RETURNING, State.RETURNED), (State.RETURNED, State.INTENDING),
]


_FLOW_SRC, _FLOW_DST = (np.array(side) for side in zip(*TRANSITIONS, strict=True))
_FLOW_CELLS = _FLOW_SRC * N_STATES + _FLOW_DST  # the same cells of the flows, flattened
# people at the border by the attempts they have made so far (0, 1, 2, 3 or more)
TRIES_COLUMNS = ["at_border_tries_0", "at_border_tries_1", "at_border_tries_2", "at_border_tries_3plus"]
# everyone who has tried, by the attempts they have made so far: 1, 2, 3-5, 6-10, 11 or more
TRIED_COLUMNS = ["people_tried_1", "people_tried_2", "people_tried_3to5", "people_tried_6to10", "people_tried_11plus"]
_TRIED_BINS = np.array([0, 1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 5])  # attempts (capped at 11) -> column (0: never)
# the outcomes of border attempts, one column per segment each
OUTCOMES = ("attempts", "turned_back", "caught_inside", "caught", "got_through", "deaths")


def flow_name(src: State, dst: State) -> str:
    return f"flow_{STATE_NAMES[src]}__{STATE_NAMES[dst]}"


class Recorder:
    """Collects one row per day.

    Attributes:
        rows: list of per-day dicts (use :meth:`frame`).
        *_columns: names of the columns of one kind, in the world's order (routes, channels,
            segments; ``caught_by_nationality_columns`` segment-major), for :meth:`add_many`.
        scale: simulated people per real person (``yesterday`` gives real people).

    The recorder holds no model: the phases add and set counts during the day, and
    :meth:`end_day` is given the rest (the day's handoffs, the people, the agencies, the policy).
    """

    def __init__(self, world: World, n_days: int, scale: float) -> None:
        w = world
        self.world = world
        self.scale = scale
        self.arrival_columns = [f"arrivals_{r}" for r in w.route_ids]
        self.visa_application_columns = [f"visa_applications_{c}" for c in w.channel_ids]
        self.visa_columns = [f"visas_{c}" for c in w.channel_ids]
        self.outcome_columns = {m: [f"{m}_{s}" for s in w.segment_ids] for m in OUTCOMES}
        self.caught_by_nationality_columns = [f"caught_{s}_{k}" for s in w.segment_ids for k in w.nationalities]
        self.applied_columns = [f"applied_{s}" for s in w.segment_ids]
        self.refused_columns = [f"refused_{s}" for s in w.segment_ids]
        self.applied_nationality_columns = [f"applied_nationality_{k}" for k in w.nationalities]
        self.group_columns = [f"in_transit_country_{g}" for g in w.group_ids]
        self.waiting_columns = [f"waiting_{s}" for s in w.segment_ids]
        self.counters = (
            ["packages_sold", "package_demand", "visa_lapsed", "cancelled", "rerouted_via_hub",
             "stranded_at_hub_went_home", "repatriated", "returned_own_ticket", "repatriation_seats",
             "repatriation_flights", "paid_agencies_usd", "paid_airlines_usd", "paid_smugglers_usd",
             "paid_visas_usd", "paid_legs_usd", "paid_attempts_usd", "set_out_residents", "kept_from_border",
             "escorted"]
            + self.arrival_columns + self.visa_application_columns + self.visa_columns
            + [f"{m}_{s}" for s in w.segment_ids for m in OUTCOMES]
            + self.caught_by_nationality_columns
            + self.applied_columns + self.refused_columns + self.applied_nationality_columns
        )
        self.guard_capacity_columns = [f"guard_capacity_{s}" for s in w.segment_ids]
        self.pushback_columns = [f"pushback_{s}" for s in w.segment_ids]
        self.detained_columns = [f"detained_{s}" for s in w.segment_ids]
        self.levels = self.guard_capacity_columns + self.pushback_columns + self.detained_columns
        # written at the end of the day
        self.stock_columns = [f"n_{name}" for name in STATE_NAMES]
        self.flow_columns = [flow_name(src, dst) for src, dst in TRANSITIONS]
        self.schedule_columns = [c for r in w.route_ids for c in (f"flights_{r}", f"seats_{r}")]
        self.visa_capacity_columns = [f"visa_capacity_{c}" for c in w.channel_ids]
        self.rows: list[dict[str, Any]] = []
        self.today: dict[str, Any] = {}
        # fixed for the run, so made once: a new day's counters and levels, and the dates
        # (money in float from the first day, so a column's type never depends on whether anyone paid)
        self._new_day = {c: 0.0 if c.endswith("_usd") else 0 for c in self.counters + self.levels}
        self._dates = [w.date_of(day).isoformat() for day in range(n_days)]
        self._schedule = np.zeros(2 * w.n_routes, dtype=np.int64)

    # ---- during the day ----------------------------------------------------------------
    def start_day(self) -> None:
        self.today = self._new_day.copy()  # every counter and level at 0

    def add(self, name: str, value: float) -> None:
        self.today[name] += value

    def set(self, name: str, value: float) -> None:
        self.today[name] = value

    def add_many(self, names: list[str], values: list[float]) -> None:
        """``add`` each value to its column (values as Python numbers: ``array.tolist()``)."""
        today = self.today
        for name, value in zip(names, values, strict=True):
            today[name] += value

    def set_many(self, names: list[str], values: list[float]) -> None:
        self.today.update(zip(names, values, strict=True))

    def last(self, metric: str) -> float:
        """A metric's value on the last recorded day, in simulated people (0 before the first)."""
        return float(self.rows[-1][metric]) if self.rows else 0.0

    def yesterday(self, metric: str) -> float:
        """A metric's value on the last recorded day, in real people (0 before the first)."""
        return float(self.rows[-1][metric]) / self.scale if self.rows else 0.0

    # ---- end of the day -----------------------------------------------------------------
    def end_day(self, today: Day, p: Population, book: AgencyBook, policy: Policy) -> None:
        """Write the day's row: the counts added during the day, the stocks and flows of the
        people, today's schedule and visa capacity, the agencies' prices and capacity, the
        policy's cooperation and the levers pulled."""
        w = self.world
        day = today.index
        date = self._dates[day] if 0 <= day < len(self._dates) else w.date_of(day).isoformat()
        row: dict[str, Any] = {"date": date, "day": day}
        row.update(zip(self.stock_columns, p.stocks().tolist(), strict=True))
        in_city, at_border = p.ids(State.IN_CITY), p.ids(State.AT_BORDER)
        row["in_transit_country"] = int(in_city.size + at_border.size)
        if self.group_columns:  # each origin group's people in the transit country
            group = w.origin_group
            n = np.bincount(group[p.origin[in_city]] + 1, minlength=len(self.group_columns) + 1) + np.bincount(
                group[p.origin[at_border]] + 1, minlength=len(self.group_columns) + 1)
            row.update(zip(self.group_columns, n[1:].tolist(), strict=True))
        row.update(zip(self.waiting_columns, np.bincount(p.segment[at_border].astype(np.int64), minlength=w.n_segments).tolist(),
                       strict=True))
        # repeated attempts: people at the border by the attempts they have made, and everyone who has tried
        tries = np.bincount(np.minimum(p.attempts[at_border], 3).astype(np.int64), minlength=4)
        row.update(zip(TRIES_COLUMNS, tries.tolist(), strict=True))
        tried = np.bincount(_TRIED_BINS[np.minimum(p.attempts, 11)], minlength=6)
        row.update(zip(TRIED_COLUMNS, tried[1:].tolist(), strict=True))
        row["people_attempted"] = int(tried[1:].sum())
        flows = p.flows.take(_FLOW_CELLS).tolist()  # p.flows[_FLOW_SRC, _FLOW_DST]
        if int(p.flows.sum()) != sum(flows):
            raise RuntimeError("a transition outside TRANSITIONS happened; add it to the recorder")
        row.update(zip(self.flow_columns, flows, strict=True))
        schedule = self._schedule  # flights, seats per route, interleaved
        schedule[0::2], schedule[1::2] = today.flights, today.seats
        schedule = schedule.tolist()
        row.update(zip(self.schedule_columns, schedule, strict=True))
        counts = self.today
        row.update(counts)
        column = counts.__getitem__
        row["arrivals"] = int(sum(map(column, self.arrival_columns)))
        for k, columns in self.outcome_columns.items():
            row[k] = int(sum(map(column, columns)))
        row["applied"] = int(sum(map(column, self.applied_columns)))
        row["intending"] = row["n_intending"]
        row["in_city"] = row["n_in_city"]
        row["at_border"] = row["n_at_border"]
        row["in_destination"] = row["n_in_destination"]
        # np.mean's sum and division, without its Python overhead (the same float)
        row["package_price_usd"] = float(np.add.reduce(book.price_usd) / book.price_usd.size) if book.price_usd.size else 0.0
        row["agency_capacity"] = float(sum(book.capacity.tolist()))  # summed in order, as Python does
        visa_capacity = np.asarray(today.visa_capacity, dtype=float).tolist()
        row.update(zip(self.visa_capacity_columns, visa_capacity, strict=True))
        row["cooperation"] = float(policy.cooperation)
        row["active_levers"] = ";".join(today.active_levers)
        self.rows.append(row)

    def frame(self):
        """The daily table as a pandas DataFrame (one row per day)."""

        return pd.DataFrame(self.rows)


def summarize(daily, world_segments: list[str], start_day_arrived: Any = None) -> dict[str, Any]:
    """The run summary from the daily table (a pandas DataFrame)."""
    d = daily
    peak_i = int(d["in_transit_country"].values.argmax()) if len(d) else 0
    out = {
        "days": int(len(d)),
        "arrivals": int(d["arrivals"].sum()),
        "attempts": int(d["attempts"].sum()),
        "turned_back": int(d["turned_back"].sum()),
        "caught": int(d["caught"].sum()),
        "caught_inside": int(d["caught_inside"].sum()),
        "got_through": int(d["got_through"].sum()),
        "applied": int(d["applied"].sum()),
        "reached_destination": int(d["caught"].sum() + d["got_through"].sum() + d["applied"].sum()),
        "deaths": int(d["deaths"].sum()),
        "peak_in_transit_country": int(d["in_transit_country"].max()) if len(d) else 0,
        "peak_in_transit_country_date": str(d["date"].iloc[peak_i]) if len(d) else "",
        "person_days_in_transit_country": int(d["in_transit_country"].sum()),
        "repatriated": int(d["repatriated"].sum()),
        "returned_own_ticket": int(d["returned_own_ticket"].sum()),
        "rerouted_via_hub": int(d["rerouted_via_hub"].sum()),
        "paid_agencies_usd": float(d["paid_agencies_usd"].sum()),
        "paid_airlines_usd": float(d["paid_airlines_usd"].sum()),
        "paid_smugglers_usd": float(d["paid_smugglers_usd"].sum()),
        "paid_visas_usd": float(d["paid_visas_usd"].sum()),
        "paid_legs_usd": float(d["paid_legs_usd"].sum()),
        "paid_attempts_usd": float(d["paid_attempts_usd"].sum()),
        "escorted": int(d["escorted"].sum()),
        # repeated attempts: everyone who tried, the mean attempts per person, and how many made how many
        "people_attempted": int(d["people_attempted"].iloc[-1]) if len(d) else 0,
        "mean_attempts_per_person": (float(d["attempts"].sum() / d["people_attempted"].iloc[-1])
                                if len(d) and d["people_attempted"].iloc[-1] > 0 else 0.0),
        **{c: int(d[c].iloc[-1]) if len(d) else 0 for c in TRIED_COLUMNS},
    }
    for s in world_segments:
        for k in ("attempts", "turned_back", "caught", "got_through", "deaths", "applied"):
            out[f"{k}_{s}"] = int(d[f"{k}_{s}"].sum())
        out[f"peak_detained_{s}"] = int(round(float(d[f"detained_{s}"].max()))) if len(d) else 0
    return out
