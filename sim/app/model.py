"""What the interactive app runs: its settings, the model it builds, the baseline it compares.

No Solara here (the page is ``sim/app/page.py``): these are plain objects, tested without a browser.

:class:`AppSettings` is what a student has chosen in the sidebar — a scenario from the library
as the starting point, and changes on top of it (levers on/off and their dates, pushbacks per
segment, behavioural parameters, population size, seed). :meth:`AppSettings.overrides` turns
the changes into the command line's ``key=value`` overrides, and :class:`AppModel` composes
the config from exactly those with :func:`sim.running.compose.compose`, so an app run is the same run
as ``corridor <the same overrides>`` with the same seed (``tests/test_app.py`` checks it).

Nothing here names a world: the app opens the default config's scenario, offers the levers
its ``meta.levers_shown`` lists (all if empty), compares with its ``meta.baseline`` (itself if
none), and gives each behavioural slider the range the schema allows
(:func:`behaviour_range`); the views name places as the world's config does
(:class:`sim.running.labels.Labels`).

:class:`AppModel` is a :class:`sim.model.model.MigrationModel` that also keeps, for the corridor
diagram, the day's flows by origin and hub and by border segment (read from the population
arrays after each step; the step itself is the model's).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
import typing
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from sim.model.config import Config, load_config
from sim.model.model import MigrationModel
from sim.model.population import State
from sim.running.compose import CONFIG_DIR, compose, compose_dict, default_scenario
from sim.running.labels import Labels, baseline_of, lever_label, shown_levers

DEFAULT_SIZE = 20_000
SIZES = [5_000, 10_000, 20_000, 50_000, 100_000, 250_000]

# Hydra's compose API keeps global state: one composition at a time (two sessions may reset
# at once, and the baseline is composed in a background thread)
_compose_lock = threading.Lock()

# kinds that may set ``pushback`` at border segments (sim/model/levers.py, BorderPolicy)
BORDER_KINDS = {"border_policy", "pushback", "reinforcement", "state_of_emergency"}

# behavioural parameters in the sidebar: key -> label (ranges: behaviour_range)
BEHAVIOUR = {
    "intention.network_gain": "Pull of the network's news (intention.network_gain)",
    "border.attempt_prob_per_day": "Daily chance to try the border (border.attempt_prob_per_day)",
    "returns.base_willing_per_day": "Daily chance to want to go home (returns.base_willing_per_day)",
}
# a slider's top where the schema sets no upper bound: this many times the scenario's value
UNBOUNDED_MULT = 4.0


def schema_range(key: str) -> tuple[float | None, float | None]:
    """The closed range the schema allows a dotted key (``param(..., lo, hi)`` in
    sim/model/config.py; None: unbounded on that side)."""
    cls: Any = Config
    *sections, name = key.split(".")
    for part in sections:
        cls = typing.get_type_hints(cls)[part]
    meta = {f.name: f.metadata for f in dataclasses.fields(cls)}[name]
    return meta.get("lo"), meta.get("hi")


def behaviour_range(key: str, value: float) -> tuple[float, float, float]:
    """(min, max, step) of a behavioural slider whose scenario value is ``value``.

    The range is the schema's; where the schema sets no upper bound (a gain, a rate per unit),
    the top is :data:`UNBOUNDED_MULT` times the scenario's value (1 when it is 0): room to
    quadruple it without offering values no one has argued for. The step keeps three
    significant figures of the value (a share of 0.00367 moves by 0.00001).
    """
    lo, hi = schema_range(key)
    value = float(value)
    lo = float(lo) if lo is not None else min(0.0, UNBOUNDED_MULT * value)
    hi = float(hi) if hi is not None else (UNBOUNDED_MULT * value if value > 0 else 1.0)
    step = 10.0 ** (math.floor(math.log10(abs(value))) - 2) if value else (hi - lo) / 1000.0
    return lo, hi, step


# ---- the scenario library ------------------------------------------------------------------
def scenario_names() -> list[str]:
    """Scenario files in ``configs/scenario/`` (the default config's scenario first, then by name)."""
    names = sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))
    first = default_scenario()
    return sorted(names, key=lambda n: n != first)


@lru_cache(maxsize=32)
def _scenario_dict(name: str) -> dict[str, Any]:
    with _compose_lock:
        return compose_dict([f"scenario={name}"])


@lru_cache(maxsize=32)
def scenario_checked(name: str) -> Config:
    """The scenario's checked config (shared: do not change it)."""
    return load_config(_scenario_dict(name))


def scenario_config(name: str) -> dict[str, Any]:
    """The scenario's composed config as a plain dict (a fresh copy each call)."""
    return copy.deepcopy(_scenario_dict(name))


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _hydra_value(value: Any) -> str:
    """A value written as the command line writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ",".join(_hydra_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    return str(value)


# ---- what the student chose ------------------------------------------------------------
@dataclass
class AppSettings:
    """The sidebar's state: a scenario and the changes made on top of it.

    Attributes:
        scenario: name of a file in ``configs/scenario/``.
        seed: ``run.seed``. size: ``population.size`` (rows sampling the pool).
        levers: the scenario's ``levers:`` mapping with the student's changes (``enabled``,
            ``when.start``, ``when.dates``/``seats`` of repatriation flights, ``pushback``).
        behaviour: dotted key -> value for the keys of :data:`BEHAVIOUR`.
    """

    scenario: str = field(default_factory=default_scenario)
    seed: int = 0
    size: int = DEFAULT_SIZE
    levers: dict[str, dict[str, Any]] = field(default_factory=dict)
    behaviour: dict[str, float] = field(default_factory=dict)

    @classmethod
    def for_scenario(cls, scenario: str | None = None, seed: int | None = None,
                     size: int = DEFAULT_SIZE) -> AppSettings:
        """The scenario as it is in the library (no changes yet; default: the default config's)."""
        scenario = scenario or default_scenario()
        base = scenario_config(scenario)
        behaviour = {key: float(_get(base, key)) for key in BEHAVIOUR}
        return cls(scenario=scenario, seed=int(base["run"]["seed"] if seed is None else seed),
                   size=int(size), levers=base["levers"], behaviour=behaviour)

    def copy(self) -> AppSettings:
        return copy.deepcopy(self)

    # ---- the run window --------------------------------------------------------------
    @property
    def run_window(self) -> tuple[date, date]:
        run = _scenario_dict(self.scenario)["run"]
        return _as_date(run["start"]), _as_date(run["end"])

    def behaviour_range(self, key: str) -> tuple[float, float, float]:
        """(min, max, step) of a behavioural slider: :func:`behaviour_range` at the scenario's value."""
        return behaviour_range(key, float(_get(_scenario_dict(self.scenario), key)))

    # ---- levers ------------------------------------------------------------------------
    def main_levers(self) -> dict[str, str]:
        """The levers offered with a switch and a date: the scenario's ``meta.levers_shown``
        (every lever if it lists none), name -> what the switch says."""
        return {n: lever_label(n, self.levers[n].get("actor", ""))
                for n in shown_levers(scenario_checked(self.scenario)) if n in self.levers}

    def lever_names(self) -> list[str]:
        """Levers that have an on/off switch (pushback-only levers are per segment instead)."""
        return [n for n, spec in self.levers.items() if spec.get("kind") != "pushback"]

    def set_enabled(self, name: str, on: bool) -> None:
        self.levers[name]["enabled"] = bool(on)

    def lever_date(self, name: str) -> date | None:
        """The day a dated lever starts (first flight for repatriation), None if not dated."""
        spec = self.levers.get(name)
        if spec is None:
            return None
        when = spec.get("when") or {}
        if when.get("dates"):
            return _as_date(when["dates"][0])
        return _as_date(when.get("start"))

    def set_lever_date(self, name: str, day: date) -> None:
        """Move a lever's start; repatriation flights move together, keeping their spacing
        (flights that would fall after the run's end are dropped with their seats)."""
        spec = self.levers[name]
        when = spec.setdefault("when", {})
        if when.get("dates"):
            old = [_as_date(d) for d in when["dates"]]
            shift = day - old[0]
            seats = spec.get("seats")
            last = self.run_window[1]
            keep = [i for i, d in enumerate(old) if d + shift <= last]
            when["dates"] = [(old[i] + shift).isoformat() for i in keep]
            if isinstance(seats, list) and len(seats) == len(old):
                spec["seats"] = [seats[i] for i in keep]
        else:
            when["start"] = day.isoformat()

    def trigger_text(self, name: str) -> str:
        """How a triggered lever decides when ('' when it has a date)."""
        t = (self.levers.get(name, {}).get("when") or {}).get("trigger")
        if not t:
            return ""
        side = "above" if "above" in t else "below"
        return (f"triggered: {t['metric']} {side} {t.get(side)} for {t.get('for_days', 1)} days, "
                f"then {t.get('lag_days', 0)} days later")

    # ---- pushbacks per segment -----------------------------------------------------------
    def segments(self) -> list[str]:
        return [s["id"] for s in _scenario_dict(self.scenario)["world"]["segments"]]

    def pushback_levers(self, segment: str) -> list[str]:
        """Levers that can make ``segment`` push back."""
        return [n for n, spec in self.levers.items()
                if spec.get("kind") in BORDER_KINDS and segment in (spec.get("segments") or [])
                and (spec.get("kind") == "pushback" or "pushback" in spec)]

    def pushes_back(self, segment: str) -> bool:
        """True when a lever that is on makes the segment push back (at some point of the run)."""
        return any(self.levers[n].get("enabled", True)
                   and (self.levers[n]["kind"] == "pushback" or self.levers[n].get("pushback"))
                   for n in self.pushback_levers(segment))

    def pushback_dates(self, segment: str) -> str:
        starts = sorted(d for n in self.pushback_levers(segment)
                        if self.levers[n].get("enabled", True)
                        and (self.levers[n]["kind"] == "pushback" or self.levers[n].get("pushback"))
                        and (d := self.lever_date(n)) is not None)
        return f"from {starts[0]:%d %b %Y}" if starts else ""

    def set_pushback(self, segment: str, on: bool) -> None:
        """Off: no lever makes the segment push back (pushback levers off, others keep their
        guards but not the pushbacks). On: the segment's pushback levers as the library has
        them, or, if it has only other border levers, those with pushbacks."""
        names = self.pushback_levers(segment)
        original = _scenario_dict(self.scenario)["levers"]
        pure = [n for n in names if self.levers[n]["kind"] == "pushback"]
        for n in names:
            spec = self.levers[n]
            if spec["kind"] == "pushback":
                spec["enabled"] = bool(on) and (original[n].get("enabled", True) or
                                                not any(original[m].get("enabled", True) for m in pure))
            elif on:
                spec["pushback"] = True
                if not pure:
                    spec["enabled"] = True
            else:
                spec["pushback"] = False

    # ---- the command line ------------------------------------------------------------------
    def overrides(self) -> list[str]:
        """The overrides of ``corridor`` that give this run (scenario first; only changes)."""
        base = _scenario_dict(self.scenario)
        out = [f"scenario={self.scenario}", f"population.size={self.size}", f"run.seed={self.seed}"]
        for key in BEHAVIOUR:
            if not np.isclose(float(self.behaviour[key]), float(_get(base, key)), rtol=1e-9, atol=0.0):
                out.append(f"{key}={_hydra_value(float(self.behaviour[key]))}")
        for name, spec in self.levers.items():
            orig = base["levers"][name]
            for key in ("enabled", "pushback", "seats"):
                if key in spec and spec[key] != orig.get(key):
                    out.append(f"levers.{name}.{key}={_hydra_value(spec[key])}")
            when, owhen = spec.get("when") or {}, orig.get("when") or {}
            for key in ("start", "dates"):
                if key in when and when[key] != owhen.get(key):
                    out.append(f"levers.{name}.when.{key}={_hydra_value(when[key])}")
        return out

    def command(self) -> str:
        return ".venv/bin/corridor " + " ".join(self.overrides())

    def baseline(self) -> str:
        """The scenario this one is compared with (``meta.baseline``; itself if none)."""
        return baseline_of(scenario_checked(self.scenario))

    def baseline_overrides(self) -> list[str]:
        """The baseline scenario with the same seed, size and behaviour (its levers as the
        library has them)."""
        return [f"scenario={self.baseline()}"] + [o for o in self.overrides()
                                                   if not o.startswith(("scenario=", "levers."))]


def _get(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def compose_locked(overrides: list[str]):
    with _compose_lock:
        return compose(overrides)


# ---- the model the page steps --------------------------------------------------------
class AppModel(MigrationModel):
    """The corridor model built from the app's settings, plus the diagram's daily flows.

    Args:
        settings: what the sidebar holds; read once, here (changes apply on Reset).

    Attributes:
        settings: a copy of the settings this run was built from.
        overrides: the command line's overrides for this run.
        scale_up: real people per simulated row (``pool / size``).
        labels: the world's words for its places.
        route_flows: deque of the last 7 days' (origin x hub+1) arrivals in the transit country
            (column 0: direct flights, column h+1: via hub h), in rows.
        border_flows: deque of the last 7 days' people leaving the city for each segment, in rows.
    """

    def __init__(self, settings: AppSettings | None = None) -> None:
        settings = (settings or AppSettings.for_scenario()).copy()
        self.settings = settings
        self.overrides = settings.overrides()
        super().__init__(compose_locked(self.overrides))
        self.scale_up = self.cfg.population.pool / self.cfg.population.size
        self.labels = Labels.of(self.cfg)
        self.route_flows: deque[np.ndarray] = deque(maxlen=7)
        self.border_flows: deque[np.ndarray] = deque(maxlen=7)
        self._columns: dict[str, np.ndarray] = {}
        self._columns_day = -1
        # one step, or one view's reading of the model, at a time: Mesa steps in a thread of its
        # own while a change in the sidebar (the play interval ...) redraws the views in another
        self.lock = threading.RLock()

    def step(self) -> None:
        with self.lock:
            self._step_day()

    def _step_day(self) -> None:
        if not self.running:
            return
        p, w = self.people, self.world
        hub_before = p.hub.copy()
        was_in_city = p.state == State.IN_CITY
        day = self.day
        super().step()
        if self.day == day:  # nothing happened (end of the run)
            return
        arrived = np.flatnonzero(p.day_arrived == day)
        arrived = arrived[w.origin_home_entry[p.origin[arrived]] < 0]  # flown in (residents set out where they live)
        via = hub_before[arrived].astype(np.int64) + 1  # 0 = direct
        flows = np.zeros((w.n_origins, len(w.hubs) + 1))
        np.add.at(flows, (p.origin[arrived].astype(np.int64), via), 1.0)
        self.route_flows.append(flows)
        went = np.flatnonzero(was_in_city & (p.state == State.AT_BORDER))
        self.border_flows.append(np.bincount(p.segment[went].astype(np.int64), minlength=w.n_segments)
                                 .astype(float))

    def frame(self) -> pd.DataFrame:
        """The daily table so far (rows, not scaled)."""
        return self.recorder.frame()

    def column(self, name: str) -> np.ndarray:
        """One column of the daily table so far, in real people (``scale_up`` applied to counts).

        Cached until the next step: the views ask for the same columns many times a redraw. A view
        reads the model holding :attr:`lock` (``sim/app/page.py``), so all its columns have the same days
        even while Mesa steps the model in another thread.
        """
        rows = self.recorder.rows
        n = len(rows)
        if self._columns_day != n:
            self._columns, self._columns_day = {}, n
        cache, n = self._columns, self._columns_day
        if name not in cache:
            values = np.fromiter((rows[i][name] for i in range(n)), dtype=float, count=n)
            cache[name] = values if name.startswith("pushback_") else values * self.scale_up
        return cache[name]


# ---- the baseline, once per seed, size and behaviour ------------------------------------------
_baselines: OrderedDict[tuple[str, ...], pd.DataFrame] = OrderedDict()
_baseline_lock = threading.Lock()


def baseline_frame(overrides: list[str], keep: int = 8) -> pd.DataFrame:
    """The whole baseline run's daily table for these overrides (computed once, then cached).

    The cache holds tables only (no models): sessions that ask for the same baseline share it.
    """
    key = tuple(overrides)
    with _baseline_lock:
        if key in _baselines:
            _baselines.move_to_end(key)
            return _baselines[key]
    model = MigrationModel(compose_locked(list(overrides)))
    model.run()
    frame = model.recorder.frame()
    with _baseline_lock:
        _baselines[key] = frame
        while len(_baselines) > keep:
            _baselines.popitem(last=False)
    return frame

