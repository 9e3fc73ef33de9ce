"""The corridor explorer: a Mesa SolaraViz page for students (docs/app.md).

Start it with ``.venv/bin/corridor-app`` (``sim/app/launch.py``: binds 127.0.0.1, telemetry
off, front-end assets served locally; a bare ``solara run sim/app/page.py`` has neither setting).

Every browser session gets its own settings and its own model (``solara.use_memo`` inside
:func:`Page`): two visitors never share a run. The sidebar holds the scenario and the changes
made on top of it; they apply on **Reset** (Mesa's convention), which builds a new
:class:`sim.app.model.AppModel` from them. Mesa's controller steps the model (Step, ▶) and the
views below redraw every ``render interval`` days. The baseline for the comparison (the
scenario's ``meta.baseline``) is run once per seed, size and behaviour in a background thread
and cached. The page's title is the scenario's ``meta.title``, its main levers its
``meta.levers_shown``, and its places are named as the world's config names them.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Sequence

import numpy as np
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.app import views
from sim.app.model import (
    BEHAVIOUR,
    SIZES,
    AppModel,
    AppSettings,
    baseline_frame,
    scenario_names,
)
from sim.model.population import State
from sim.running.labels import place, scenario_question, scenario_title

RENDER_INTERVAL = 7  # days stepped between redraws, and by one Step (Mesa's slider changes it)


# Mesa's sidebar shows an empty "Model Parameters" card when every parameter is fixed (ours live
# in our own cards), and a tab bar over a single page of views: hide both.
PAGE_CSS = """
.v-card:has(> .v-card__text > .v-sheet:empty) { display: none; }
.v-tabs:not(:has(.v-tab + .v-tab)) { display: none; }
"""


# ---- helpers -------------------------------------------------------------------------------
def page_title(model: AppModel) -> str:
    """The page's title: the scenario's ``meta.title`` (its name if it has none)."""
    return f"Corridor: {scenario_title(model.cfg)}"


def _markers(model: AppModel) -> list[tuple]:
    """Start dates of the main levers that are on (dotted lines in the charts)."""
    s = model.settings
    return [(s.lever_date(name), label) for name, label in s.main_levers().items()
            if s.levers[name].get("enabled", True) and s.lever_date(name)]


def _today(model: AppModel) -> str:
    return views.day_text(model.settings.run_window, len(model.recorder.rows))


def _show(png: bytes, text: Sequence[str]) -> None:
    """A chart, inside a box whose title holds the numbers it draws (a tooltip; screen readers
    and tests/test_app.py read it: ipywidgets' own image tooltip breaks Solara's front end)."""
    with solara.Div(classes=["chart"], attributes={"title": "\n".join(text)}):
        solara.Image(png, width="100%")


# ---- views (one per grid cell; each redraws when Mesa's update counter moves) -------------------
# A view keeps its chart for the model's lifetime (use_memo on the model): Reset gives new charts.
def _still(view: Callable[[AppModel], None]) -> Callable[[AppModel], None]:
    """Draw the view while the model cannot step (Mesa may step it in another thread meanwhile:
    without this a redraw could mix two days' columns)."""
    @functools.wraps(view)
    def draw(model: AppModel) -> None:
        with model.lock:
            view(model)
    return draw


@solara.component
@_still
def PeopleView(model: AppModel):
    update_counter.get()
    chart = solara.use_memo(lambda: views.people_chart(model.settings.run_window, _markers(model), model.labels,
                                                       model.world.hubs), [model])
    data = views.people_data(model.column)
    heads = views.people_headlines(data, _today(model), model.labels)
    _show(chart.update(data, heads), heads)


@solara.component
@_still
def ArrivalsView(model: AppModel):
    update_counter.get()
    w = model.world
    airports = list(dict.fromkeys(w.route_from_code))
    chart = solara.use_memo(lambda: views.arrivals_chart(model.settings.run_window, _markers(model), airports,
                                                         model.labels), [model])
    data, total = {}, 0.0
    for a in airports:
        y = sum(model.column(f"arrivals_{r}") for r, ap in zip(w.route_ids, w.route_from_code, strict=True)
                if ap == a)
        total += float(np.sum(y))
        data[a] = views.mean7(y)
    heads = [f"Arrivals in {model.labels.city} by departure airport: {total:,.0f} by {_today(model)}"]
    _show(chart.update(data, heads), heads)


@solara.component
@_still
def BorderView(model: AppModel):
    update_counter.get()
    segments = model.world.segment_ids
    chart = solara.use_memo(lambda: views.border_chart(model.settings.run_window, _markers(model), segments),
                            [model])
    data, heads = {}, []
    for s in segments:
        for k in ("attempts", "turned_back", "caught", "got_through"):
            data[f"{k}_{s}"] = views.mean7(model.column(f"{k}_{s}"))
        push = model.column(f"pushback_{s}")
        heads.append(f"{place(s)}: {model.column(f'attempts_{s}').sum():,.0f} attempts, "
                     f"{model.column(f'got_through_{s}').sum():,.0f} through unseen"
                     + (" — pushing back" if len(push) and push[-1] else ""))
    _show(chart.update(data, heads), heads)


@solara.component
@_still
def ReturnsView(model: AppModel):
    update_counter.get()
    chart = solara.use_memo(lambda: views.returns_chart(model.settings.run_window, _markers(model), model.labels),
                            [model])
    col, transit = model.column, model.labels.transit
    rep, own = col("repatriated"), col("returned_own_ticket")
    now = col("in_transit_country")[-1] if len(rep) else 0.0
    heads = [f"Leaving {transit} for home: {rep.sum():,.0f} on free flights, {own.sum():,.0f} on their own "
             "ticket", f"People in {transit}: {now:,.0f} on {_today(model)}"]
    _show(chart.update({"repatriated": rep, "own_ticket": own, "in_city": col("n_in_city"),
                        "at_border": col("n_at_border")}, heads), heads)


@solara.component
@_still
def CorridorView(model: AppModel):
    update_counter.get()
    w, p, k = model.world, model.people, model.scale_up
    chart = solara.use_memo(lambda: views.CorridorDiagram(w.origin_names, w.hubs, w.segment_ids, model.labels),
                            [model])
    n_days = max(1, len(model.route_flows))
    via = sum(model.route_flows, np.zeros((w.n_origins, len(w.hubs) + 1))) / n_days * k
    to_seg = sum(model.border_flows, np.zeros(w.n_segments)) / n_days * k

    def last7(name: str) -> float:
        y = model.column(name)
        return float(y[-7:].mean()) if len(y) else 0.0

    # across: caught and kept, through unseen, or registered at a crossing point
    across = np.array([last7(f"caught_{s}") + last7(f"got_through_{s}") + last7(f"applied_{s}") for s in w.segment_ids])
    home = last7("repatriated") + last7("returned_own_ticket")
    in_transit = (p.state == State.IN_TRANSIT) & (p.hub >= 0)
    at_hub = np.bincount(p.hub[in_transit].astype(np.int64), minlength=len(w.hubs)) * k
    at_border = (p.state == State.AT_BORDER) & (p.segment >= 0)
    at_seg = np.bincount(p.segment[at_border].astype(np.int64), minlength=w.n_segments) * k
    in_city, in_destination = float((p.state == State.IN_CITY).sum() * k), float((p.state == State.IN_DESTINATION).sum() * k)
    text = [f"The corridor on {_today(model)}: {in_city:,.0f} in {model.labels.city}, "
            + ", ".join(f"{place(s)} {n:,.0f}" for s, n in zip(w.segment_ids, at_seg, strict=True))
            + f" at the border, {in_destination:,.0f} in {model.labels.destination}"]
    _show(chart.update(via, to_seg, across, home, at_hub, in_city, at_seg, in_destination, _today(model)), text)


@solara.component
@_still
def CompareView(model: AppModel):
    update_counter.get()
    key = tuple(model.settings.baseline_overrides())
    result = solara.lab.use_task(lambda: baseline_frame(list(key)), dependencies=[key], raise_error=False)
    fresh = AppSettings.for_scenario(model.settings.scenario, model.settings.seed, model.settings.size)
    name = model.settings.scenario + ("" if fresh.overrides() == model.overrides else ", changed")
    panels = views.compare_panels(model.labels)
    chart = solara.use_memo(lambda: views.compare_chart(model.settings.run_window, name, model.settings.baseline(),
                                                        model.labels), [model])
    if result.finished and result.value is not None and not getattr(chart, "has_baseline", False):
        base = result.value

        def base_col(name: str) -> np.ndarray:
            return base[name].to_numpy(dtype=float) * model.scale_up

        for i, (name, _title, cumulative) in enumerate(panels):
            chart.add_static(i, views.compare_value(base_col, name, cumulative), "0.55")
        chart.has_baseline = True
    if result.error:
        solara.Error(f"the baseline failed: {result.exception}")
    data, heads = {}, []
    n = len(model.recorder.rows)
    for name, heading, cumulative in panels:
        y = views.compare_value(model.column, name, cumulative)
        data[name] = y
        if getattr(chart, "has_baseline", False) and n:
            b = views.compare_value(lambda c: result.value[c].to_numpy(dtype=float) * model.scale_up, name,
                                    cumulative)
            heading += f": {y[-1]:,.0f} (baseline {b[n - 1]:,.0f})"
        elif not getattr(chart, "has_baseline", False):
            heading += " (computing the baseline ...)"
        heads.append(heading)
    _show(chart.update(data, heads), heads)


VIEWS = [PeopleView, CorridorView, ArrivalsView, BorderView, ReturnsView, CompareView]


# ---- the sidebar ------------------------------------------------------------------------------
@solara.component
def Controls(settings: AppSettings, model: solara.Reactive[AppModel]):
    """Scenario, levers, behaviour, size and seed. Changes apply on Reset."""
    _, set_version = solara.use_state(0)

    def changed():
        set_version(lambda v: v + 1)

    def choose_scenario(name: str):
        fresh = AppSettings.for_scenario(name, seed=settings.seed, size=settings.size)
        settings.__dict__.update(fresh.__dict__)
        changed()

    def setter(fn):
        def on_value(value):
            fn(value)
            changed()
        return on_value

    start, end = settings.run_window
    pending = settings.overrides() != model.value.overrides
    small = {"font-size": "13px", "color": "#555"}
    with solara.Card("Scenario and run", margin=0):
        if pending:
            solara.Warning("Changed: press RESET (above) to run with these settings.", dense=True)
        else:
            solara.Success("The model runs with these settings.", dense=True)
        solara.Select("Scenario (configs/scenario/)", values=scenario_names(), value=settings.scenario,
                      on_value=choose_scenario)
        solara.Text(scenario_question(settings.scenario), style=small)
        with solara.Row():
            solara.Select("People simulated", values=SIZES, value=settings.size,
                          on_value=setter(lambda v: setattr(settings, "size", int(v))))
            solara.InputInt("Seed", value=settings.seed,
                            on_value=setter(lambda v: setattr(settings, "seed", int(v))))

    with solara.Card("Main levers", margin=0):
        for name, label in settings.main_levers().items():
            on = bool(settings.levers[name].get("enabled", True))
            solara.Checkbox(label=label, value=on,
                            on_value=setter(lambda v, n=name: settings.set_enabled(n, v)))
            trigger = settings.trigger_text(name)
            day = settings.lever_date(name)
            with solara.Div(style={"margin-left": "32px", "margin-top": "-12px"}, classes=[f"date-{name}"]):
                if trigger:
                    solara.Text(trigger, style=small)
                elif day is not None:
                    solara.SliderDate("", value=max(start, min(day, end)), min=start, max=end,
                                      on_value=setter(lambda v, n=name: settings.set_lever_date(n, v)),
                                      disabled=not on)

    with solara.Card("Pushbacks at the border", margin=0):
        for seg in settings.segments():
            if not settings.pushback_levers(seg):
                continue
            when = settings.pushback_dates(seg)
            solara.Checkbox(label=f"{place(seg)} pushes back {when}".strip(),
                            value=settings.pushes_back(seg),
                            on_value=setter(lambda v, s=seg: settings.set_pushback(s, v)))

    with solara.Card("Behaviour", margin=0):
        for key, label in BEHAVIOUR.items():
            lo, hi, step = settings.behaviour_range(key)
            solara.Text(label, style=small)
            solara.SliderFloat("", value=settings.behaviour[key], min=lo, max=hi, step=step,
                               on_value=setter(lambda v, k=key: settings.behaviour.__setitem__(k, float(v))))

    with solara.Card("All levers of the scenario", margin=0):
        with solara.Details("on/off, each lever", expand=False):
            for name in settings.lever_names():
                spec = settings.levers[name]
                day = settings.lever_date(name)
                when = f", {day:%d %b %Y}" if day else ""
                solara.Checkbox(label=f"{name} ({spec.get('actor', '')}{when})",
                                value=bool(spec.get("enabled", True)),
                                on_value=setter(lambda v, n=name: settings.set_enabled(n, v)))

    with solara.Card("The same run from the command line", margin=0):
        solara.HTML(tag="div", unsafe_innerHTML=f"<code>{html.escape(settings.command())}</code>",
                    style={"font-size": "12px"})


@solara.component
def _Nested(child):
    """Renders ``child`` one level deeper (the sidebar orders its parts by depth: Mesa's first)."""
    return child


@solara.component
def SidebarControls(settings: AppSettings, model: solara.Reactive[AppModel]):
    with solara.Sidebar():
        Controls(settings, model)


# ---- the page --------------------------------------------------------------------------------------
@solara.component
def Page():
    """One settings object and one model per browser session."""
    settings = solara.use_memo(AppSettings.for_scenario, [])
    first = solara.use_memo(lambda: AppModel(settings), [])
    model = solara.use_reactive(first)
    solara.Title(page_title(model.value))
    solara.Style(PAGE_CSS)
    _Nested(_Nested(SidebarControls(settings, model)))
    SolaraViz(model, components=VIEWS, model_params={"settings": settings}, name=page_title(model.value),
              play_interval=1, render_interval=RENDER_INTERVAL)
