"""The app's views: live matplotlib charts of the daily table, redrawn fast as the model steps.

A chart keeps its figure for the whole run. Everything that does not change from day to day
(axes, ticks, labels, legends, the baseline's curves) is drawn once into a background image;
each update restores it and draws only the curves and a few numbers on top (matplotlib's
blitting), then encodes a PNG. A full redraw happens only when a curve outgrows its axis (the
top then doubles or so, to a round number). That keeps one update of all views to a few tens
of milliseconds, so the page can step well over 10 days a second (docs/app.md).

Numbers are scaled to real people (``scale_up`` = pool / size), so runs of different sizes read
alike. Flows are 7-day means (a day of a 20,000-row sample is a handful of people). The x axis
is the whole run window in days since its start. Places are named as the world's config names
them (:class:`sim.running.labels.Labels`). No Solara here.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from sim.running.labels import Labels, place

matplotlib.rcParams.update({"font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7,
                            "axes.spines.top": False, "axes.spines.right": False})

SIZE_IN = (6.2, 4.8)  # one grid cell of the page
DPI = 80


def mean7(values: np.ndarray) -> np.ndarray:
    """Trailing 7-day mean (fewer days at the start)."""
    values = np.asarray(values, dtype=float)
    c = np.cumsum(np.concatenate([[0.0], values]))
    n = np.arange(1, values.size + 1)
    lo = np.maximum(0, n - 7)
    return (c[n] - c[lo]) / (n - lo)


def nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k (k >= 0) above ``value`` (at least 10)."""
    value = max(float(value), 10.0)
    k = 10.0 ** np.floor(np.log10(value))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * k >= value * 1.02:
            return m * k
    return 10.0 * k


def encode_png(canvas: FigureCanvasAgg) -> bytes:
    w, h = canvas.get_width_height()
    buf = io.BytesIO()
    Image.frombuffer("RGBA", (w, h), bytes(canvas.buffer_rgba()), "raw", "RGBA", 0, 1).convert("RGB") \
        .save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def month_ticks(window: tuple[date, date], months: Sequence[int] = (1, 3, 5, 7, 9, 11)
                ) -> tuple[list[int], list[str]]:
    """Positions (days since the start) and labels of the first days of some months."""
    start, end = window
    pos, labels = [], []
    d = date(start.year, start.month, 1)
    while d <= end:
        if d >= start and d.month in months:
            pos.append((d - start).days)
            labels.append(f"{d:%b}\n{d:%Y}" if d.month == 1 or not labels else f"{d:%b}")
        d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return pos, labels


# ---- a live chart -----------------------------------------------------------------------------
@dataclass
class Series:
    """One curve: ``key`` names it in the data given to :meth:`LiveChart.update`."""

    key: str
    label: str
    colour: str
    style: str = "-"
    kind: str = "line"  # "line", "stack" (stacked on the previous stacks of its panel)
    width: float = 1.5


@dataclass
class Panel:
    title: str
    series: list[Series]
    ylabel: str = ""
    legend_cols: int = 1
    legend: bool = True


class LiveChart:
    """Panels of curves over the run window, with a background drawn once (see module doc).

    Args:
        panels: one axes each, stacked vertically (or in a grid with ``cols``).
        window: the run's first and last day.
        markers: (day, label) of lever starts: dotted vertical lines.
        title: a line above the panels.
        cols: panels per row.
    """

    def __init__(self, panels: list[Panel], window: tuple[date, date],
                 markers: Sequence[tuple[date, str]] = (), title: str = "", cols: int = 1) -> None:
        self.panels = panels
        self.n_days = (window[1] - window[0]).days + 1
        self.fig = Figure(figsize=SIZE_IN, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        rows = int(np.ceil(len(panels) / cols))
        self.axes = list(self.fig.subplots(rows, cols, squeeze=False, sharex=True).ravel())
        top = 0.91 - 0.045 * (title.count("\n") + 1) if title else 0.93
        self.fig.subplots_adjust(left=0.11 if cols == 1 else 0.09, right=0.98, top=top, bottom=0.1,
                                 hspace=0.5, wspace=0.28)
        if title:
            self.fig.suptitle(title, x=0.01, y=0.985, ha="left", va="top", fontsize=9)
        pos, labels = month_ticks(window, (1, 3, 5, 7, 9, 11) if cols == 1 else (1, 5, 9))
        self.tops = [10.0] * len(panels)
        self.headlines = []
        for ax, panel in zip(self.axes, panels, strict=False):
            ax.set_xlim(0, self.n_days - 1)
            ax.set_xticks(pos, labels)
            ax.set_ylim(0, 10)
            ax.grid(axis="y", color="0.92", lw=0.6)
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
            ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4))
            for day, _label in markers:
                ax.axvline((day - window[0]).days, color="0.6", lw=0.7, ls=":", zorder=0)
            ax.set_ylabel(panel.ylabel, fontsize=7)
            handles = [matplotlib.lines.Line2D([], [], color=s.colour, ls=s.style if s.kind == "line" else "-",
                                                lw=s.width if s.kind == "line" else 6)
                       for s in panel.series]
            if handles and panel.legend:
                ax.legend(handles, [s.label for s in panel.series], loc="upper left", frameon=False,
                          ncol=panel.legend_cols)
            self.headlines.append(ax.text(0.0, 1.03, panel.title, transform=ax.transAxes, fontsize=8,
                                          ha="left", va="bottom", animated=True))
        for ax in self.axes[len(panels):]:
            ax.set_visible(False)
        self.static: list = []  # (panel index, x, y, colour, style): drawn into the background
        self.background = None

    def add_static(self, i: int, y: np.ndarray, colour: str, style: str = "--", label: str = "") -> None:
        """A curve that does not change (the baseline): part of the background."""
        ax = self.axes[i]
        ax.plot(np.arange(len(y)), y, color=colour, ls=style, lw=1.2, zorder=1)
        self.tops[i] = max(self.tops[i], nice_top(np.max(y) if len(y) else 0))
        ax.set_ylim(0, self.tops[i])
        self.background = None

    def update(self, data: dict[str, np.ndarray], headlines: Sequence[str] | None = None) -> bytes:
        """Draw the curves given by ``data`` (key -> values, one per day so far); a PNG."""
        artists = []
        redraw = self.background is None
        n = min((len(v) for v in data.values()), default=0)  # one set of days for all curves
        for i, (ax, panel) in enumerate(zip(self.axes, self.panels, strict=False)):
            base = None
            peak = 0.0
            for s in panel.series:
                y = np.asarray(data.get(s.key, ()), dtype=float)[:n]
                x = np.arange(y.size)
                if s.kind == "stack":
                    lo = np.zeros(y.size) if base is None else base
                    hi = lo + y
                    if y.size:
                        artists.append(ax.fill_between(x, lo, hi, color=s.colour, lw=0, animated=True,
                                                       step="mid" if s.style == "step" else None))
                    base = hi
                    peak = max(peak, float(hi.max()) if hi.size else 0.0)
                else:
                    (line,) = ax.plot(x, y, color=s.colour, ls=s.style, lw=s.width, animated=True)
                    artists.append(line)
                    peak = max(peak, float(y.max()) if y.size else 0.0)
            if peak * 1.02 > self.tops[i]:
                self.tops[i] = nice_top(peak)
                ax.set_ylim(0, self.tops[i])
                redraw = True
        if redraw:
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self.background)
        for i, ax in enumerate(self.axes[: len(self.panels)]):
            if headlines is not None:
                self.headlines[i].set_text(headlines[i])
            ax.draw_artist(self.headlines[i])
        for a in artists:
            a.axes.draw_artist(a)
            a.remove()
        return encode_png(self.canvas)


# ---- the views --------------------------------------------------------------------------------
def people_chart(window, markers, labels: Labels, hubs: Sequence[str] = ()) -> LiveChart:
    hubs = list(hubs)
    at_hub = f"at a hub ({', '.join(hubs[:2])}{' ...' if len(hubs) > 2 else ''})" if hubs else "at a hub"
    return LiveChart([
        Panel("People by state", [
            Series("intending", "intending to leave", "#fdae61"),
            Series("waiting", "waiting: package, visa, flight", "#d73027"),
            Series("returned", "back home after a trip", "#1a9850")], "people"),
        Panel("on the way, and arrived", [
            Series("in_transit", at_hub, "#f46d43"),
            Series("in_city", f"in {labels.city}", "#74add1"),
            Series("at_border", "at the border", "#d73027"),
            Series("in_destination", f"in {labels.destination} (total)", "#313695"),
            Series("died", "died (total)", "#000000")], "people", 2),
    ], window, markers)


def people_data(col: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    return {"intending": col("n_intending"),
            "waiting": col("n_waiting_package") + col("n_waiting_visa") + col("n_ticketed"),
            "returned": col("n_returned") + col("n_returning"),
            "in_transit": col("n_in_transit"), "in_city": col("n_in_city"),
            "at_border": col("n_at_border"), "in_destination": col("n_in_destination"), "died": col("n_died")}


def people_headlines(d: dict[str, np.ndarray], today: str, labels: Labels) -> list[str]:
    last = {k: (v[-1] if len(v) else 0) for k, v in d.items()}
    return [f"People by state on {today}: {last['intending']:,.0f} intending, {last['waiting']:,.0f} waiting",
            f"on the way: {last['in_transit']:,.0f} at hubs, {last['in_city']:,.0f} in {labels.city}, "
            f"{last['at_border']:,.0f} at the border; {last['in_destination']:,.0f} in {labels.destination}, "
            f"{last['died']:,.0f} died"]


AIRPORT_COLOURS = list(matplotlib.colormaps["tab10"].colors)


def arrivals_chart(window, markers, airports: Sequence[str], labels: Labels) -> LiveChart:
    return LiveChart([Panel(f"Arrivals in {labels.city}", [
        Series(a, a, AIRPORT_COLOURS[i % 10], kind="stack") for i, a in enumerate(airports)],
        "arrivals a day (7-day mean)", 2)], window, markers)


def border_chart(window, markers, segments: Sequence[str]) -> LiveChart:
    lines = [("attempts", "attempts", "0.35", "-"), ("turned_back", "turned back", "#d73027", "-"),
             ("caught", "caught and kept", "#fdae61", "--"), ("got_through", "got through unseen", "#4575b4", "-")]
    panels = [Panel(place(s), [Series(f"{k}_{s}", label, c, ls, width=1.2) for k, label, c, ls in lines],
                    "a day", 4) for s in segments]
    for p in panels[1:]:
        p.series = [Series(s.key, s.label, s.colour, s.style, width=1.2) for s in p.series]
    chart = LiveChart(panels, window, markers)
    for ax in chart.axes[1:]:
        if ax.get_legend():
            ax.get_legend().remove()
    return chart


def returns_chart(window, markers, labels: Labels) -> LiveChart:
    return LiveChart([
        Panel(f"Leaving {labels.transit} for home, each day", [
            Series("repatriated", "on free repatriation flights", "#4575b4", "step", "stack"),
            Series("own_ticket", "on their own ticket", "#fdae61", "step", "stack")], "people a day"),
        Panel(f"People in {labels.transit}", [
            Series("in_city", f"in {labels.city}", "#abd9e9", kind="stack"),
            Series("at_border", "at the border", "#d73027", kind="stack")], "people"),
    ], window, markers)


# the comparison's panels: (key, title: a place is a field of Labels.say, cumulative)
COMPARE = [
    ("in_transit_country", "In {transit}", False),
    ("arrivals", "Arrived in {city}", True),
    ("n_in_destination", "Reached {destination}", False),
    ("went_home", "Went home", True),
]


def compare_panels(labels: Labels) -> list[tuple[str, str, bool]]:
    """:data:`COMPARE` in the words of the world."""
    return [(key, labels.say(title), cumulative) for key, title, cumulative in COMPARE]


def compare_value(col: Callable[[str], np.ndarray], key: str, cumulative: bool) -> np.ndarray:
    y = col("repatriated") + col("returned_own_ticket") if key == "went_home" else col(key)
    return np.cumsum(y) if cumulative else y


def compare_chart(window, run_name: str, baseline: str, labels: Labels) -> LiveChart:
    """``run_name``: what this run is, e.g. the scenario's name (', changed' if the student changed it);
    ``baseline``: the scenario it is drawn over."""
    return LiveChart([Panel(title, [Series(key, "this run", "#d73027")], legend=False)
                      for key, title, _ in compare_panels(labels)],
                     window, title=f"This run ({run_name}) in red over the baseline ({baseline}) in grey dashes:\n"
                     "same seed, size and behaviour; totals since the start", cols=2)


# ---- the corridor diagram ---------------------------------------------------------------------
def _column(n: int, top: float = 0.93, bottom: float = 0.07) -> np.ndarray:
    return np.array([0.5]) if n == 1 else np.linspace(top, bottom, n)


class CorridorDiagram:
    """Origins -> from home or via a hub -> the city -> border segments -> across (and home),
    places named as the world's config names them.

    Edge widths grow with the square root of the day's flow (people a day, 7-day mean, real
    scale); numbers on the edges are those flows; node labels are the people there now.
    Node dots and names are the background; edges and numbers are redrawn each update.
    """

    X = {"origin": 0.2, "via": 0.45, "city": 0.63, "segment": 0.8, "end": 0.95}

    def __init__(self, origins: Sequence[str], hubs: Sequence[str], segments: Sequence[str],
                 labels: Labels | None = None) -> None:
        self.origins, self.hubs, self.segments = list(origins), list(hubs), list(segments)
        self.labels = labels or Labels()
        self.fig = Figure(figsize=SIZE_IN, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.add_axes((0.0, 0.1, 1.0, 0.84))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        self.yo = _column(len(origins))
        self.yv = _column(len(hubs) + 1, 0.85, 0.15)
        self.ym = 0.5
        self.ys = _column(len(segments), 0.8, 0.3)
        self.ye, self.yh = 0.62, 0.12
        X = self.X
        for y, name in zip(self.yo, origins, strict=True):
            self._node(X["origin"], y, 12)
            ax.text(X["origin"] - 0.015, y, name, ha="right", va="center", fontsize=7)
        for y in self.yv:
            self._node(X["via"], y, 14)
        self._node(X["city"], self.ym, 60)
        for y in self.ys:
            self._node(X["segment"], y, 40, "#d73027")
        self._node(X["end"], self.ye, 60, "#4575b4")
        self._node(X["end"], self.yh, 40, "#1a9850")
        self.fig.text(0.01, 0.07, f"edges: people a day (7-day mean) flying to {self.labels.city} from home or via "
                      "a hub, going to the border,\ngetting across, going home; nodes: people there now (hubs: "
                      "waiting for a flight on; across: total)", fontsize=6.5, va="top", color="0.35")
        self.background = None

    def _node(self, x, y, size, colour="0.25"):
        self.ax.scatter([x], [y], s=size, color=colour, zorder=4)

    def _edge(self, artists, a, b, flow: float, colour: str, label: bool = False) -> None:
        if flow <= 0:
            return
        (line,) = self.ax.plot([a[0], b[0]], [a[1], b[1]], color=colour, alpha=0.75, zorder=1, animated=True,
                               lw=min(14.0, 0.5 + 0.45 * np.sqrt(flow)), solid_capstyle="butt")
        artists.append(line)
        if label and flow >= 0.5:
            artists.append(self.ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, f"{flow:,.0f}", fontsize=6.5,
                                        ha="center", va="center", zorder=3, animated=True,
                                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                              "alpha": 0.8}))

    def _label(self, artists, x, y, text):
        artists.append(self.ax.text(x, y + 0.045, text, ha="center", va="bottom", fontsize=7, zorder=5,
                                    animated=True))

    def update(self, via: np.ndarray, to_segment: np.ndarray, across: np.ndarray, home: float,
               at_hub: np.ndarray, in_city: float, at_segment: np.ndarray, in_destination: float,
               today: str) -> bytes:
        """A PNG of the day.

        Args:
            via: (origins, 1 + hubs) arrivals in the transit country a day by origin, from home
                (column 0) or via each hub.
            to_segment: (segments,) people leaving the city for each segment a day.
            across: (segments,) people getting across a day (caught and kept, unseen, or registered
                at a crossing point).
            home: people leaving the transit country for home a day.
            at_hub, at_segment: people at each hub / at each segment now; in_city, in_destination too.
        """
        if self.background is None:
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.canvas.restore_region(self.background)
        X, arts = self.X, []
        for o in range(len(self.origins)):
            for v in range(len(self.hubs) + 1):
                self._edge(arts, (X["origin"], self.yo[o]), (X["via"], self.yv[v]), float(via[o, v]), "#f46d43")
        for v in range(len(self.hubs) + 1):
            self._edge(arts, (X["via"], self.yv[v]), (X["city"], self.ym), float(via[:, v].sum()), "#f46d43", True)
        for s in range(len(self.segments)):
            self._edge(arts, (X["city"], self.ym), (X["segment"], self.ys[s]), float(to_segment[s]), "#d73027", True)
            self._edge(arts, (X["segment"], self.ys[s]), (X["end"], self.ye), float(across[s]), "#4575b4", True)
        self._edge(arts, (X["city"], self.ym), (X["end"], self.yh), float(home), "#1a9850", True)
        box = {"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85}
        arts.append(self.ax.text(X["via"] - 0.015, self.yv[0], "from home\nairport", ha="right", va="center",
                                 fontsize=7, animated=True, zorder=5, bbox=box))
        for v, (name, n) in enumerate(zip(self.hubs, at_hub, strict=True), start=1):
            arts.append(self.ax.text(X["via"] - 0.015, self.yv[v], f"{name}: {n:,.0f}", ha="right", va="center",
                                     fontsize=7, animated=True, zorder=5, bbox=box))
        self._label(arts, X["city"], self.ym, f"{self.labels.city}\n{in_city:,.0f}")
        for s, name in enumerate(self.segments):
            self._label(arts, X["segment"], self.ys[s], f"{place(name)}\n{at_segment[s]:,.0f}")
        self._label(arts, X["end"], self.ye, f"across\n{in_destination:,.0f}")
        self._label(arts, X["end"], self.yh, "home")
        arts.append(self.fig.text(0.01, 0.985, f"The corridor on {today}", fontsize=9, va="top", animated=True))
        for a in arts:
            (self.fig if a.axes is None else self.ax).draw_artist(a)
            a.remove()
        return encode_png(self.canvas)


def day_text(window: tuple[date, date], n_done: int) -> str:
    """The last simulated day as text ('before the first day' when none)."""
    return f"{window[0] + timedelta(days=n_done - 1):%d %b %Y}" if n_done else "before the first day"
