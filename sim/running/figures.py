"""Figures for readers, drawn from the daily table alone.

Each function takes the daily table (a pandas DataFrame, ``daily.parquet`` of a results
folder; columns in ``docs/outputs.md``) and returns a matplotlib ``Figure``;
:func:`write_figures` saves them all as PNG. Everything the figures show is derived from the
column names, so any world (other routes, segments, states) draws without changes; the words
for its places come from its config (:class:`sim.running.labels.Labels`: ``Labels.of(cfg)``;
the neutral ``Labels()`` when a table is drawn without its config). The figures
use matplotlib's object API with the Agg canvas and never touch pyplot's global state, so they
are safe to draw from a notebook, a test or many processes at once.

Figures:
    people_by_state.png   people in each state of the journey, day by day
    border_segments.png   weekly outcomes of border attempts, one panel per segment
    flights_arrivals.png  weekly flights to the transit country and arrivals, by departure airport
    repatriation.png      people leaving the transit country for home, and people in it
    levers.png            when each policy lever was active

Thin dotted grey lines on the time axes mark the days a policy lever starts acting (the
``active_levers`` column); ``levers.png`` names them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from sim.model.population import STATE_NAMES
from sim.running.labels import Labels, place

DPI = 130
WIDTH_IN = 11.0

# the states of the journey (not at home, not an outcome), in order
JOURNEY = [
    "intending",
    "waiting_package",
    "waiting_visa",
    "ticketed",
    "in_transit",
    "in_city",
    "at_border",
    "returning",
]
OUTCOMES = ["in_destination", "returned", "died"]
# the states' words; a place is a field of Labels.say ({city}, {destination})
LABELS = {
    "at_home": "at home",
    "intending": "intending to leave",
    "waiting_package": "waiting for a package",
    "waiting_visa": "waiting for a visa",
    "ticketed": "ticketed",
    "in_transit": "in transit at a hub",
    "in_city": "in {city}",
    "at_border": "at the border",
    "in_destination": "in {destination}",
    "returning": "on the way home",
    "returned": "back home (returned)",
    "died": "died",
}
OUTCOME_COLORS = {
    "turned_back": "#e08214",
    "caught": "#4575b4",
    "got_through": "#1a9850",
    "deaths": "#000000",
}
LEVER_NOTE = "dotted grey lines: a policy lever starts (see levers.png)"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _dates(daily: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(daily["date"]))


def _figure(
    n_panels: int,
    panel_height: float,
    sharex: bool = True,
    height_ratios: Sequence[float] | None = None,
) -> tuple[Figure, list[Axes]]:
    ratios = list(height_ratios or [1.0] * n_panels)
    fig = Figure(
        figsize=(WIDTH_IN, 1.0 + panel_height * sum(ratios)), dpi=DPI, layout="constrained"
    )
    FigureCanvasAgg(fig)
    axes = fig.subplots(
        n_panels, 1, sharex=sharex, squeeze=False, gridspec_kw={"height_ratios": ratios}
    )[:, 0]
    return fig, list(axes)


def date_axis(ax: Axes) -> None:
    loc = mdates.AutoDateLocator(minticks=4, maxticks=14)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.grid(axis="y", color="0.9", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def thousands(ax: Axes, nbins: int | str = "auto") -> None:
    """Counts: whole-number ticks with thousands separators."""
    ax.yaxis.set_major_locator(
        matplotlib.ticker.MaxNLocator(nbins=nbins, integer=True, min_n_ticks=2)
    )
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.is_count_axis = True  # _title gives it a span of at least 2, so all-zero data reads 0, 1, 2


def _segments(daily: pd.DataFrame) -> list[str]:
    return [
        c.removeprefix("attempts_")
        for c in daily.columns
        if c.startswith("attempts_") and f"got_through_{c.removeprefix('attempts_')}" in daily
    ]


def _routes(daily: pd.DataFrame) -> list[str]:
    return [c.removeprefix("flights_") for c in daily.columns if c.startswith("flights_")]


def _groups(daily: pd.DataFrame, labels: Labels) -> list[str]:
    """The origin groups counted in the transit country (``in_transit_country_<group>``): the
    world's (``labels.groups``), or, drawn without its config, every such column's."""
    if labels.groups:
        return [g for g in labels.groups if f"in_transit_country_{g}" in daily]
    return [c.removeprefix("in_transit_country_") for c in daily.columns if c.startswith("in_transit_country_")]


def route_airport(route_id: str) -> str:
    """The departure airport of a route id ``AIRLINE_ORIGIN_DEST[_SUFFIX]`` (e.g. IA_BGW_MSQ)."""
    parts = route_id.split("_")
    return parts[1] if len(parts) >= 3 else route_id


def _spells(dates: pd.DatetimeIndex, on: np.ndarray) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Runs of consecutive True days as ``(first day, last day)``."""
    edges = np.flatnonzero(np.diff(np.r_[0, on.astype(int), 0]))
    return [(dates[a], dates[b - 1]) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def lever_spells(daily: pd.DataFrame) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """Each lever's active spells ``(first day, last day)``, from the ``active_levers`` column."""
    if "active_levers" not in daily or daily.empty:
        return {}
    dates = _dates(daily)
    active = [set(filter(None, str(s).split(";"))) for s in daily["active_levers"].fillna("")]
    names = sorted(set().union(*active))
    spells = {name: _spells(dates, np.array([name in a for a in active])) for name in names}
    return dict(sorted(spells.items(), key=lambda kv: (kv[1][0][0], kv[0])))


def lever_starts(daily: pd.DataFrame) -> list[pd.Timestamp]:
    """Days on which some lever starts a spell of activity."""
    return sorted({start for spells in lever_spells(daily).values() for start, _ in spells})


def _mark_levers(axes: Sequence[Axes], starts: Sequence[pd.Timestamp]) -> None:
    for ax in axes:
        for d in starts:
            ax.axvline(d, color="0.55", lw=0.6, ls=(0, (1, 2)), zorder=0)


def weekly(daily: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Sums per calendar week (Monday to Sunday), indexed by the Monday; edge weeks are partial."""
    frame = daily[list(columns)].set_axis(_dates(daily), axis=0)
    return frame.resample("W-MON", label="left", closed="left").sum()


def _stacked_bars(
    ax: Axes, frame: pd.DataFrame, colors: Sequence, labels: Sequence[str], width_days: float = 6.0
) -> None:
    """Stacked bars starting at each index date, one ``PolyCollection`` per column (fast)."""
    x0 = mdates.date2num(frame.index.to_pydatetime()) if len(frame) else np.zeros(0)
    x1 = x0 + width_days
    bottom = np.zeros(len(frame))
    for col, color, label in zip(frame.columns, colors, labels, strict=True):
        top = bottom + frame[col].to_numpy(dtype=float)
        verts = np.stack(
            [np.c_[x0, bottom], np.c_[x0, top], np.c_[x1, top], np.c_[x1, bottom]], axis=1
        )
        ax.add_collection(PolyCollection(verts, facecolors=color, edgecolors="none", label=label))
        bottom = top
    ax.xaxis_date()
    ax.update_datalim(np.c_[np.r_[x0, x1], np.r_[np.zeros(len(frame)), bottom]])
    ax.autoscale_view()
    ax.set_ylim(0, max(2.0, float(bottom.max(initial=0))) * 1.05)


def _title(fig: Figure, title: str, subtitle: str, note: str = LEVER_NOTE) -> None:
    """Title, subtitle and footnote; called last, it also tidies count axes with no data."""
    for ax in fig.axes:
        lo, hi = ax.get_ylim()
        if getattr(ax, "is_count_axis", False) and hi - lo < 2:
            ax.set_ylim(lo, lo + 2)
    fig.suptitle(title + (f"\n{subtitle}" if subtitle else ""), fontsize=13)
    if note:
        fig.supxlabel(note, fontsize=8, color="0.35")


def _legend(ax: Axes, **kwargs) -> None:
    """A legend outside the panel, on its right, so it never hides data."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            frameon=False,
            borderaxespad=0.0,
            **kwargs,
        )


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")


# --------------------------------------------------------------------------------------
# the figures
# --------------------------------------------------------------------------------------


def plot_people_by_state(daily: pd.DataFrame, subtitle: str = "", labels: Labels | None = None) -> Figure:
    """Three panels: people on the journey (stacked), outcomes so far, and the pool at home."""
    labels = labels or Labels()
    words = {s: labels.say(w) for s, w in LABELS.items()}
    dates = _dates(daily)
    journey = [s for s in JOURNEY if f"n_{s}" in daily]
    journey += [
        s for s in STATE_NAMES if s not in JOURNEY + OUTCOMES + ["at_home"] and f"n_{s}" in daily
    ]
    outcomes = [s for s in OUTCOMES if f"n_{s}" in daily]
    fig, (ax1, ax2, ax3) = _figure(3, 2.6, height_ratios=[1.0, 0.8, 0.5])
    colors = matplotlib.colormaps["tab10"].colors
    ax1.stackplot(
        dates,
        *[daily[f"n_{s}"].to_numpy() for s in journey],
        labels=[words.get(s, s) for s in journey],
        colors=colors[: len(journey)],
        lw=0,
    )
    ax1.set_ylabel("people (stacked)")
    ax1.set_title(
        "On the way: from intending to leave to the border, and on the way home",
        loc="left",
        fontsize=10,
    )
    _legend(ax1, reverse=True)
    for s, color in zip(outcomes, ("#1a9850", "#4575b4", "#000000"), strict=False):
        ax2.plot(dates, daily[f"n_{s}"], color=color, lw=1.6, label=words.get(s, s))
    ax2.set_ylabel("people (cumulative)")
    ax2.set_title(
        "Where journeys ended so far (a returnee who leaves again is counted where they are now)",
        loc="left",
        fontsize=10,
    )
    _legend(ax2)
    if "n_at_home" in daily:
        ax3.plot(dates, daily["n_at_home"], color="0.35", lw=1.4)
    ax3.set_ylabel("people")
    ax3.set_title("The pool at home who might leave (axis not from zero)", loc="left", fontsize=10)
    for ax in (ax1, ax2, ax3):
        date_axis(ax)
        thousands(ax, 4 if ax is ax3 else "auto")
    ax1.set_ylim(bottom=0)
    ax2.set_ylim(bottom=0)
    _mark_levers([ax1, ax2, ax3], lever_starts(daily))
    _title(fig, "People by state of the journey, day by day", subtitle)
    return fig


def plot_border_segments(daily: pd.DataFrame, subtitle: str = "", labels: Labels | None = None) -> Figure:
    """One panel per segment: weekly attempts split by outcome (stacked: their sum is attempts)."""
    labels = labels or Labels()
    segments = _segments(daily)
    fig, axes = _figure(max(1, len(segments)), 2.4)
    starts = lever_starts(daily)
    kinds = ["turned_back", "caught", "got_through", "deaths"]
    for ax, seg in zip(axes, segments, strict=False):
        cols = [f"{k}_{seg}" for k in kinds]
        week = weekly(daily, cols)
        words = [
            "turned back\n(stopped at the line, or\ncaught inside and pushed back)",
            f"caught inside and\nkept in {labels.guarded_by(seg)}",
            "got through unseen",
            "died",
        ]
        _stacked_bars(ax, week, [OUTCOME_COLORS[k] for k in kinds], words)
        pb = f"pushback_{seg}"
        if pb in daily:
            for i, (a, b) in enumerate(_spells(_dates(daily), daily[pb].astype(bool).to_numpy())):
                ax.axvspan(
                    a,
                    b + pd.Timedelta(days=1),
                    color="#d73027",
                    alpha=0.07,
                    lw=0,
                    zorder=0,
                    label="pushbacks allowed (shaded)" if i == 0 else None,
                )
        tot = {k: int(daily[f"{k}_{seg}"].sum()) for k in ["attempts", *kinds]}
        ax.set_title(
            f"{place(seg)}: {tot['attempts']:,} attempts; {tot['got_through']:,} got through "
            f"unseen, {tot['caught']:,} caught and kept, {tot['turned_back']:,} turned back, "
            f"{tot['deaths']:,} died",
            loc="left",
            fontsize=10,
        )
        ax.set_ylabel("attempts per week")
        date_axis(ax)
        thousands(ax)
    if segments:
        for ax in axes:
            _legend(ax, reverse=True)
    else:
        _empty(axes[0], "no border segments in this world")
    _mark_levers(axes, starts)
    _title(
        fig,
        "Border crossings by segment: weekly attempts and how they ended",
        subtitle,
        "one person trying five times counts five attempts; weeks run Monday to Sunday (the first "
        "and last may be partial); " + LEVER_NOTE,
    )
    return fig


def plot_flights_arrivals(
    daily: pd.DataFrame,
    subtitle: str = "",
    route_origin: dict[str, str] | None = None,
    labels: Labels | None = None,
) -> Figure:
    """Weekly flights to the transit country's entry points and arrivals there, stacked by
    departure airport."""
    labels = labels or Labels()
    routes = _routes(daily)
    origin = {r: (route_origin or {}).get(r, route_airport(r)) for r in routes}
    airports = list(dict.fromkeys(origin[r] for r in routes))
    fig, (ax1, ax2) = _figure(2, 3.0)
    colors = list(
        matplotlib.colormaps["tab20"].colors[::2] + matplotlib.colormaps["tab20"].colors[1::2]
    )
    colors = colors[: len(airports)]
    for ax, prefix, ylabel, title in (
        (ax1, "flights_", "flights per week", labels.say("Flights to {city} by departure airport")),
        (
            ax2,
            "arrivals_",
            "people per week",
            labels.say("People arriving in {city} on the corridor, by departure airport"),
        ),
    ):
        cols = {
            a: [f"{prefix}{r}" for r in routes if origin[r] == a and f"{prefix}{r}" in daily]
            for a in airports
        }
        frame = pd.DataFrame({a: daily[c].sum(axis=1) for a, c in cols.items()}, index=daily.index)
        if frame.empty:
            _empty(ax, "no flight routes in this world")
        else:
            week = weekly(pd.concat([daily[["date"]], frame], axis=1), airports)
            _stacked_bars(ax, week, colors, airports)
            total = int(frame.to_numpy().sum())
            title += f" (total {total:,})"
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_ylabel(ylabel)
        date_axis(ax)
        thousands(ax)
    if airports:
        for ax in (ax1, ax2):
            _legend(ax, title="departure\nairport", title_fontsize=8, reverse=True)
    _mark_levers([ax1, ax2], lever_starts(daily))
    _title(
        fig,
        labels.say("Flights and arrivals in {city}, weekly"),
        subtitle,
        "weeks run Monday to Sunday (the first and last may be partial); " + LEVER_NOTE,
    )
    return fig


def plot_repatriation(daily: pd.DataFrame, subtitle: str = "", labels: Labels | None = None) -> Figure:
    """Leaving the transit country for home (daily and cumulative) and the people in it, with
    those of each origin group (``in_transit_country_<group>``, if the world has groups)."""
    labels = labels or Labels()
    dates = _dates(daily)
    fig, (ax1, ax2, ax3) = _figure(3, 2.4)
    rep = daily["repatriated"].to_numpy(dtype=float)
    own = daily["returned_own_ticket"].to_numpy(dtype=float)
    daily_bars = pd.DataFrame({"rep": rep, "own": own}, index=dates)
    _stacked_bars(
        ax1,
        daily_bars,
        ["#4575b4", "#fdae61"],
        ["on free repatriation flights", "on their own ticket"],
        width_days=1.0,
    )
    seats = (
        daily["repatriation_seats"].to_numpy(dtype=float)
        if "repatriation_seats" in daily
        else np.zeros(len(daily))
    )
    for i, d in enumerate(dates[seats > 0]):
        ax1.axvline(
            d,
            color="#d73027",
            lw=0.8,
            alpha=0.5,
            zorder=0,
            label="a free repatriation\nflight leaves" if i == 0 else None,
        )
    ax1.set_ylabel("people per day")
    ax1.set_title(labels.say("Leaving {transit} for home, each day"), loc="left", fontsize=10)
    _legend(ax1)
    ax2.plot(
        dates,
        np.cumsum(rep),
        color="#4575b4",
        lw=1.6,
        label=f"on free flights\n(total {int(rep.sum()):,})",
    )
    ax2.plot(
        dates,
        np.cumsum(own),
        color="#fdae61",
        lw=1.6,
        label=f"on their own ticket\n(total {int(own.sum()):,})",
    )
    title = labels.say("Left {transit} for home since the start of the run")
    if seats.any():
        title += (
            f"; free seats offered: {int(seats.sum()):,} on {int((seats > 0).sum())} days, "
            f"{rep.sum() / seats.sum():.0%} of them used"
        )
    ax2.set_ylabel("people (cumulative)")
    ax2.set_title(title, loc="left", fontsize=10)
    _legend(ax2)
    if "n_in_city" in daily and "n_at_border" in daily:
        ax3.stackplot(
            dates,
            daily["n_in_city"],
            daily["n_at_border"],
            colors=["#abd9e9", "#f46d43"],
            labels=[labels.say("in {city}"), "at the border"],
            lw=0,
        )
    else:
        ax3.plot(dates, daily["in_transit_country"], color="#f46d43", label=labels.say("in {transit}"))
    for group, ls in zip(_groups(daily, labels), ("--", ":", "-.", (0, (5, 1, 1, 1))), strict=False):
        ax3.plot(
            dates,
            daily[f"in_transit_country_{group}"],
            color="k",
            lw=1.0,
            ls=ls,
            label=f"of whom from\n{labels.group(group)}",
        )
    peak = int(daily["in_transit_country"].to_numpy().argmax()) if len(daily) else 0
    ax3.set_title(
        labels.say("People in {transit}")
        + f" (peak {int(daily['in_transit_country'].max() if len(daily) else 0):,}"
        f" on {daily['date'].iloc[peak] if len(daily) else '-'})",
        loc="left",
        fontsize=10,
    )
    ax3.set_ylabel("people")
    _legend(ax3)
    for ax in (ax1, ax2, ax3):
        date_axis(ax)
        thousands(ax)
        ax.set_ylim(bottom=0)
    _mark_levers([ax1, ax2, ax3], lever_starts(daily))
    _title(fig, "Going home: repatriation flights and own tickets", subtitle)
    return fig


def plot_levers(daily: pd.DataFrame, subtitle: str = "", labels: Labels | None = None) -> Figure:
    """A timeline: one row per lever, bars where it acted (single days as ticks). Levers are
    named as the config names them (``labels`` is taken as every figure takes it, unused)."""
    spells = lever_spells(daily)
    n = max(1, len(spells))
    fig = Figure(figsize=(WIDTH_IN, 1.6 + 0.28 * n), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    dates = _dates(daily)
    for i, sp in enumerate(spells.values()):
        for a, b in sp:
            ax.barh(i, (b - a).days + 1, left=a, height=0.6, align="center", color="#4575b4", lw=0)
    ax.set_yticks(
        range(len(spells)),
        [f"{name}  (from {sp[0][0]:%d %b %Y})" for name, sp in spells.items()],
        fontsize=8,
    )
    ax.set_ylim(n - 0.5, -0.5)
    if len(dates):
        ax.set_xlim(dates[0], dates[-1] + pd.Timedelta(days=1))
    if not spells:
        _empty(ax, "no lever acted in this run")
    date_axis(ax)
    ax.grid(axis="x", color="0.9", lw=0.8)
    ax.set_title(
        "Days on which each policy lever acted (a ramp counts from its first day)",
        loc="left",
        fontsize=10,
    )
    _title(fig, "Policy levers", subtitle, "")
    return fig


FIGURES: dict[str, Callable[..., Figure]] = {
    "people_by_state": plot_people_by_state,
    "border_segments": plot_border_segments,
    "flights_arrivals": plot_flights_arrivals,
    "repatriation": plot_repatriation,
    "levers": plot_levers,
}


def write_figures(
    daily: pd.DataFrame,
    fig_dir: Path,
    subtitle: str = "",
    route_origin: dict[str, str] | None = None,
    labels: Labels | None = None,
) -> list[Path]:
    """Draw every figure in :data:`FIGURES` and save it as ``<name>.png`` in ``fig_dir``.

    Args:
        daily: the daily table.
        fig_dir: where to write (created if missing).
        subtitle: a line under every title (e.g. the scenario and seed).
        route_origin: route id -> departure airport; by default read from the route id.
        labels: the world's words for its places (``Labels.of(cfg)``); neutral words if None.
    """
    fig_dir = Path(fig_dir)
    fig_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, plot in FIGURES.items():
        extra = {"route_origin": route_origin} if plot is plot_flights_arrivals else {}
        fig = plot(daily, subtitle=subtitle, labels=labels, **extra)
        path = fig_dir / f"{name}.png"
        fig.savefig(path, dpi=DPI)
        paths.append(path)
    return paths
