"""The validation report of a calibration: each target against the record, with bands.

:func:`write_report` takes the full fit and (optionally) the out-of-sample fit
(:mod:`sim.studies.calibration`) and runs three ensembles in parallel on the local cores:

- **seeds**: the best set with ``seeds`` seeds at the default population size: the spread that
  is the model's own randomness at fixed parameters;
- **posterior**: ``draws`` parameter sets resampled from the full fit's posterior, each with its
  own seed, at the calibration's size: parameter uncertainty and randomness together;
- **out of sample**: the same from the fit to the targets before 1 October 2021 only, to see how
  well that fit predicts the targets it never saw.

It writes ``report.md`` and four figures into ``<calibration dir>/report/`` and, with
``docs=True``, the same tables into ``docs/calibration.md`` (between markers) and the figures
into ``docs/figures/``. Every number in the report is computed from those runs.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model.config import Config, set_dotted
from sim.running.compose import compose_dict
from sim.running.docs import replace_section
from sim.running.paths import DOCS_DIR, PROJECT_DIR
from sim.studies.calibration import Calibration, posterior_summary
from sim.studies.ensemble import default_jobs, simulate
from sim.studies.targets import (
    compare,
    distances,
    inputs,
    load_observations,
    load_targets,
)

ROOT = PROJECT_DIR  # the checkout, or the working directory of an installed wheel (sim/running/paths.py)
# docs/ of the checkout; None for an installed wheel (no docs to update, nothing written into it)
DOC = DOCS_DIR / "calibration.md" if DOCS_DIR is not None else None
FIGURES = DOCS_DIR / "figures" if DOCS_DIR is not None else None
BEGIN, END = "<!-- calibration-report:begin -->", "<!-- calibration-report:end -->"
GROUPS = {
    "seeds": "best set, seeds",
    "posterior": "posterior (full fit)",
    "oos": "posterior (fit before Oct)",
}
COLORS = {"seeds": "#1f77b4", "posterior": "#ff7f0e", "oos": "#2ca02c"}


# --------------------------------------------------------------------------------------
# runs
# --------------------------------------------------------------------------------------


def config_with(values: dict[str, float], size: int | None, overrides: list[str]) -> dict[str, Any]:
    """The default config (with overrides) with parameter values set by their dotted keys."""

    data = compose_dict(list(overrides))
    for k, v in values.items():
        set_dotted(data, k, v)
    if size is not None:
        data["population"]["size"] = int(size)
    return data


def _one(config: dict[str, Any], seed: int) -> tuple[pd.DataFrame, float]:

    daily, _, per_row = simulate(config, seed)
    return daily, 1.0 / per_row


def run_sets(jobs: list[tuple[dict[str, Any], int]], n_jobs: int | None = None) -> list[tuple[pd.DataFrame, float]]:
    """Run (config, seed) jobs on the local cores; results in job order (any ``n_jobs``)."""
    from joblib import Parallel, delayed


    n = default_jobs() if n_jobs is None else n_jobs
    return list(Parallel(n_jobs=n, backend="loky", batch_size=1)(delayed(_one)(c, s) for c, s in jobs))


def seed_list(n: int, base: int = 20211118) -> list[int]:
    return [base + i for i in range(n)]


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------


def target_values(runs: list[tuple[pd.DataFrame, float]]) -> tuple[pd.DataFrame, np.ndarray]:
    """The compare table of the first run (record columns) and (runs, targets) model values."""

    tables = [compare(d, None, s) for d, s in runs]
    return tables[0].drop(columns=["model", "within"]), np.array([t["model"].to_numpy(float) for t in tables])


def band_table(base: pd.DataFrame, values: dict[str, np.ndarray], fit_before: dt.date | None) -> pd.DataFrame:
    """One row per target: the record, and per group the median, 5th and 95th percentiles,
    the distance of the median (in tolerances) and whether the median is within the band."""

    out = base[["metric", "period", "record", "low", "high", "band_low", "band_high", "kind", "tol"]].copy()
    ends = [dt.date.fromisoformat(p.split("..")[1]) for p in out["period"]]
    out["held_out"] = [fit_before is not None and e >= fit_before for e in ends]

    for g, v in values.items():
        with warnings.catch_warnings():  # a share of nobody in every run (tiny runs) is NaN: shown as "—"
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(v, axis=0)
            out[f"{g}_p5"] = np.nanpercentile(v, 5, axis=0)
            out[f"{g}_p95"] = np.nanpercentile(v, 95, axis=0)
        out[f"{g}_median"] = med
        out[f"{g}_distance"] = distances(out.assign(model=med)).to_numpy()
        out[f"{g}_within"] = (out["band_low"] <= med) & (med <= out["band_high"])
        out[f"{g}_covers"] = (out[f"{g}_p5"] <= out["band_high"]) & (out[f"{g}_p95"] >= out["band_low"])
    return out


def overall(table: pd.DataFrame, group: str, rows: pd.Series | None = None) -> dict[str, Any]:
    """Error metrics over targets: RMS distance, within tolerance, band covering the record."""
    t = table if rows is None else table[rows]
    d = t[f"{group}_distance"].to_numpy(float)
    return {
        "targets": len(t),
        "rms_distance": float(np.sqrt(np.mean(d**2))) if len(d) else float("nan"),
        "median_distance": float(np.median(d)) if len(d) else float("nan"),
        "within": int(t[f"{group}_within"].sum()),
        "covers": int(t[f"{group}_covers"].sum()),
    }


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------


def _label(r: pd.Series) -> str:
    return f"{r['metric']} {r['period']}"


def plot_targets(table: pd.DataFrame, groups: list[str], path: Path) -> Path:
    """Each target on one line: the model's bands as a ratio to the record's value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(table)
    fig, ax = plt.subplots(figsize=(10, 0.36 * n + 1.6))
    y = np.arange(n)[::-1]
    ref = table["record"].to_numpy(float)
    ax.barh(y, table["band_high"] / ref - table["band_low"] / ref, left=table["band_low"] / ref, height=0.8,
            color="#dddddd", label="tolerance band around the record's range")
    ax.barh(y, table["high"] / ref - table["low"] / ref, left=table["low"] / ref, height=0.8, color="#999999",
            label="record (value or range)")
    off = {g: (i - (len(groups) - 1) / 2) * 0.25 for i, g in enumerate(groups)}
    for g in groups:
        lo, med, hi = (table[f"{g}_{q}"].to_numpy(float) / ref for q in ("p5", "median", "p95"))
        ax.errorbar(np.clip(med, 1e-2, 1e2), y + off[g], xerr=[np.clip(med - lo, 0, None), np.clip(hi - med, 0, None)],
                    fmt="o", ms=3.5, color=COLORS[g], lw=1.4, capsize=2, label=f"{GROUPS[g]}: median, 5-95 %")
    ax.set_xscale("log")
    ax.set_xlim(0.05, 20)
    ax.axvline(1.0, color="k", lw=0.6)
    ax.set_yticks(y)
    ax.set_yticklabels([_label(r) + ("  [held out]" if r["held_out"] else "") for _, r in table.iterrows()], fontsize=7.5)
    ax.set_xlabel("model / record value (log scale)")
    ax.set_title("Targets of the 2021 record: model against record\n[held out]: not seen by the fit to targets before October",
                 fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 1.2 / (0.36 * n + 1.6), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_posterior(fits: dict[str, Calibration], previous: dict[str, float], path: Path) -> Path:
    """Weighted histograms of each parameter's posterior (full and out-of-sample fits)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = next(iter(fits.values())).spec
    k = len(spec.names)
    cols = 5
    rows = int(np.ceil(k / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols, 2.5 * rows), squeeze=False)
    for ax, name in zip(axes.flat, spec.names, strict=False):
        p = spec.parameters[name]
        edges = np.geomspace(p.low, p.high, 16) if p.scale == "log" else np.linspace(p.low, p.high, 16)
        for (label, cal), color in zip(fits.items(), [COLORS["posterior"], COLORS["oos"]], strict=False):
            ax.hist(cal.posterior[name], bins=edges, weights=cal.posterior["weight"], density=False, alpha=0.55,
                    color=color, label=label)
            ax.axvline(cal.best["parameters"][name], color=color, lw=1.5)
        if name in previous:
            ax.axvline(previous[name], color="k", ls=":", lw=1.2, label="default config (sim/model/config.py)")
        if p.scale == "log":
            from matplotlib.ticker import LogLocator, NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(numticks=4))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(p.low, p.high)
        ax.set_title(name.replace("world.", "").replace("_per_day", "/day"), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    for ax in list(axes.flat)[k:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Posterior weight over each prior's range (vertical lines: best sets)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _monthly(daily: pd.DataFrame, col: str, scale: float) -> pd.Series:
    d = daily.assign(month=pd.to_datetime(daily["date"]).dt.to_period("M"))
    return d.groupby("month")[col].sum() / scale


def plot_series(runs: dict[str, list[tuple[pd.DataFrame, float]]], path: Path) -> Path:
    """Lithuania's monthly apprehensions and the people in Belarus over time, with the record."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt


    targets = load_targets()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for g, rs in runs.items():
        m = np.array([_monthly(d, "caught_lithuania", s).to_numpy() for d, s in rs])
        months = _monthly(rs[0][0], "caught_lithuania", rs[0][1]).index.to_timestamp() + pd.Timedelta(days=14)
        axes[0].fill_between(months, np.percentile(m, 5, 0), np.percentile(m, 95, 0), color=COLORS[g], alpha=0.25, step="mid")
        axes[0].plot(months, np.median(m, 0), color=COLORS[g], drawstyle="steps-mid", label=GROUPS[g])
        dates = pd.to_datetime(rs[0][0]["date"])
        for ax, col, cum in ((axes[1], "in_transit_country", False), (axes[2], "repatriated", True)):
            v = np.array([(d[col].cumsum() if cum else d[col]).to_numpy() / s for d, s in rs])
            ax.fill_between(dates, np.percentile(v, 5, 0), np.percentile(v, 95, 0), color=COLORS[g], alpha=0.25)
            ax.plot(dates, np.median(v, 0), color=COLORS[g], lw=1.2, label=GROUPS[g])
    for t in targets:
        if t.metric == "lt_apprehended" and (t.end - t.start).days > 20:
            mid = pd.Timestamp(t.start) + (pd.Timestamp(t.end) - pd.Timestamp(t.start)) / 2
            val = t.value / (3 if (t.end - t.start).days > 80 else 1)
            axes[0].plot([mid], [val], "ks", ms=5)
        if t.metric in ("stranded_at_borders", "migrants_in_transit_country"):
            axes[1].errorbar([pd.Timestamp(t.end)], [t.value], yerr=[[t.value - t.low], [t.high - t.value]], fmt="ks", capsize=3)
        if t.metric in ("repatriated_from_belarus", "repatriated_from_belarus_cumulative"):
            val = t.value + (690 if t.metric.endswith("cumulative") else 0)  # the August wave came first
            axes[2].errorbar([pd.Timestamp(t.end)], [val], yerr=[[t.value - t.low], [t.high - t.value]], fmt="ks", capsize=3)
    axes[0].set_title("Caught in Lithuania per month (squares: record; Q1 as a monthly mean)", fontsize=9)
    axes[1].set_title("People in Belarus (squares: estimates with their ranges)", fontsize=9)
    axes[2].set_title("Repatriated, cumulative (squares: record, Nov counts + 690 in Aug)", fontsize=9)
    axes[0].set_xlim(pd.Timestamp("2021-01-01"), pd.Timestamp("2021-12-31"))
    import matplotlib.dates as mdates

    for ax in axes:
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        ax.tick_params(labelsize=8)
        ax.set_ylabel("people")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_convergence(fits: dict[str, Calibration], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for (label, cal), color in zip(fits.items(), [COLORS["posterior"], COLORS["oos"]], strict=False):
        g = cal.generations
        axes[0].plot(g["runs"], g["eps"], "o-", color=color, label=label)
        axes[1].plot(g["runs"], g["acceptance"], "o-", color=color, label=label)
        axes[1].axhline(cal.spec.min_acceptance, color=color, ls=":", lw=1)
    axes[0].set_ylabel("tolerance (RMS distance, in tolerances)")
    axes[1].set_ylabel("acceptance of new particles")
    for ax in axes:
        ax.set_xlabel("runs so far")
        ax.legend(fontsize=8)
    fig.suptitle("ABC-SMC: tolerance and acceptance by generation (stops below the dotted line)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------------------
# the spec's tables (docs/calibration.md, written by scripts/write_config_docs.py)
# --------------------------------------------------------------------------------------


SPEC_BEGIN, SPEC_END = "<!-- calibration-spec:begin -->", "<!-- calibration-spec:end -->"


def spec_markdown(spec: Any) -> str:
    """The free parameters and the observation model of every target, as Markdown tables."""

    lines = ["### Free parameters (configs/calibration/default.yaml)", "",
             "| parameter | prior (uniform on this scale) | unit | why the record does not pin it down |",
             "|---|---|---|---|"]
    for k, p in spec.parameters.items():
        lines.append(f"| `{k}` | {p.scale} [{p.low:g}, {p.high:g}] | {p.unit} | {p.why} |")
    observations = load_observations()
    given = inputs(observations)
    lines += ["", "### Observation models (data/observed/observations_2021.csv)", "",
              "Each target of `data/observed/targets_2021.csv`, what its source counts, and the model output "
              "that counts the same thing over the same period, as `data/observed/observations_2021.csv` declares it. Counts of people are divided by the run's "
              "sampling fraction (population.size / population.pool). 'tol.' widens the record's range by that "
              "relative margin for the verdict, and is the unit of the calibration's distance.", "",
              "| target | period | record | what the source counts | model output | kind | tol. |",
              "|---|---|---:|---|---|---|---:|"]
    for t in load_targets():
        if t.metric in given:
            continue
        o = observations[t.metric]
        rec = f"{t.value:g}" if t.low == t.high else f"{t.value:g} ({t.low:g}–{t.high:g})"
        if o.joint_range:
            rec += " ‡"
        lines.append(f"| `{t.metric}` | {t.start}..{t.end} | {rec} | {t.counts} | {o.describes} | {o.kind} | {o.tol:g} |")
    lines += ["", "‡ estimates of one stock by interested parties: compared with their joint range "
              "(7,000–17,000), as the record's README advises.",
              f"Inputs of the model, not targets: {', '.join(sorted(given))}."]
    return "\n".join(lines)


def update_spec_docs(spec: Any, doc: Path = DOC) -> bool:
    """Write :func:`spec_markdown` between the markers of docs/calibration.md; True if changed."""

    return replace_section(doc, SPEC_BEGIN, SPEC_END, spec_markdown(spec))


# --------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "—"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _range(lo: float, hi: float) -> str:
    return _fmt(lo) if lo == hi else f"{_fmt(lo)}–{_fmt(hi)}"


def _timing(cal: Calibration) -> str:
    g = cal.generations
    secs = g["seconds"].fillna(0).sum() if "seconds" in g else float("nan")
    path = cal.root / cal.best.get("refined", "refine") / "generation.json"
    refine = json.loads(path.read_text()) if path.is_file() else {}
    secs += float(refine.get("seconds", 0))
    size = cal.best.get("size", cal.spec.size)
    return (f"{int(g['runs'].iloc[-1])} runs of {cal.spec.size:,} people ({len(g)} generations) and "
            f"{int(refine.get('runs', 0))} of {size:,} (refinement) in {secs / 60:.0f} min wall")


def markdown(fits: dict[str, Calibration], table: pd.DataFrame, groups: list[str], meta: dict[str, Any]) -> str:
    full = next(iter(fits.values()))
    lines = [
        f"Made by `{meta['command']}` on {meta['date']} ({meta['seconds'] / 60:.1f} min for the report's "
        f"{meta['runs']} runs). Calibration folders: "
        + ", ".join(f"`{c.root.relative_to(ROOT) if c.root.is_relative_to(ROOT) else c.root}`" for c in fits.values())
        + ".",
        "",
        "### The fits",
        "",
        "| fit | targets fitted | runs and time | stopped | final tolerance | posterior: particles, "
        f"effective size | best set: mean distance ± sd over {full.spec.refine_seeds} seeds "
        f"of {full.best.get('size', full.spec.size):,} people |",
        "|---|---:|---|---|---:|---:|---:|",
    ]
    for label, cal in fits.items():
        nfit = int((~table["held_out"]).sum()) if cal.spec.fit_before else len(table)
        g = cal.generations
        acc = float(g["acceptance"].iloc[-1])
        stop = (f"acceptance {acc:.2f} < {cal.spec.min_acceptance:g}" if len(g) > 1 and acc < cal.spec.min_acceptance
                else f"after {len(g)} generations (acceptance still {acc:.2f})")
        post = cal.best.get("posterior", {})
        lines.append(f"| {label} | {nfit} | {_timing(cal)} | {stop} | {g['eps'].iloc[-1]:.2f} | "
                     f"{post.get('particles', len(cal.posterior))}, {post.get('ess', float('nan')):.0f} | "
                     f"{cal.best['mean_distance']:.2f} ± {cal.best['sd_distance']:.2f} |")
    lines += ["", "### Parameters: prior, posterior and best set", "",
              "| parameter | unit | prior | " + " | ".join(f"{lab}: median [5–95 %]" for lab in fits)
              + " | best set (→ default) |", "|---|---|---|" + "---:|" * len(fits) + "---:|"]
    sums = {lab: posterior_summary(cal).set_index("parameter") for lab, cal in fits.items()}
    for name, p in full.spec.parameters.items():
        cells = [f"{_fmt(s.loc[name, 'median'])} [{_fmt(s.loc[name, 'p5'])}–{_fmt(s.loc[name, 'p95'])}]" for s in sums.values()]
        lines.append(f"| `{name}` | {p.unit} | {p.scale} [{p.low:g}, {p.high:g}] | " + " | ".join(cells)
                     + f" | {_fmt(full.best['parameters'][name])} |")
    head = " | ".join(f"{GROUPS[g]}: median [5–95 %] | dist." for g in groups)
    lines += ["", "### Each target", "",
              "Distance: how far the median lies outside the record's range, in units of the target's tolerance "
              "(0 inside the range, ≤ 1 within the tolerance band; capped at 10). ✓: the median is within the "
              "tolerance band. Held-out targets (period ending on or after 1 Oct 2021) were not seen by the "
              "out-of-sample fit.", "",
              f"| target | period | record | {head} |", "|---|---|---:|" + "---:|---:|" * len(groups)]
    for _, r in table.iterrows():
        cells = []
        for g in groups:
            cells.append(f"{_fmt(r[f'{g}_median'])} [{_fmt(r[f'{g}_p5'])}–{_fmt(r[f'{g}_p95'])}]")
            cells.append(f"{r[f'{g}_distance']:.2f}{' ✓' if r[f'{g}_within'] else ''}")
        held = " *(held out)*" if r["held_out"] else ""
        lines.append(f"| {r['metric']}{held} | {r['period']} | {_range(r['low'], r['high'])} | " + " | ".join(cells) + " |")
    lines += ["", "### Overall, and out of sample", "",
              "| ensemble | targets | RMS distance | median distance | median within tolerance | 5–95 % band meets the band |",
              "|---|---:|---:|---:|---:|---:|"]
    held = table["held_out"]
    for g in groups:
        for label, rows in (("all targets", None), ("targets before Oct", ~held), ("held-out targets (from Oct)", held)):
            o = overall(table, g, rows)
            lines.append(f"| {GROUPS[g]}, {label} | {o['targets']} | {o['rms_distance']:.2f} | {o['median_distance']:.2f} | "
                         f"{o['within']} | {o['covers']} |")
    lines += ["", "![targets](figures/calibration_targets.png)", "",
              "![series](figures/calibration_series.png)", "",
              "![posterior](figures/calibration_posterior.png)", "",
              "![convergence](figures/calibration_convergence.png)", ""]
    return "\n".join(lines)


def write_report(
    full: Calibration,
    oos: Calibration | None = None,
    seeds: int = 8,
    draws: int = 32,
    size: int | None = None,
    docs: bool = True,
    n_jobs: int | None = None,
    command: str = "corridor-calibrate --report-only",
) -> list[Path]:
    """Run the report's ensembles and write ``report.md`` + figures (and docs/calibration.md)."""
    t0 = time.perf_counter()
    fits = {"full fit": full} | ({"fit before Oct": oos} if oos is not None else {})
    over = full.spec.overrides
    jobs: dict[str, list[tuple[dict[str, Any], int]]] = {
        "seeds": [(config_with(full.best["parameters"], size, over), s) for s in seed_list(seeds)],
        "posterior": [(config_with(v, full.spec.size, over), s)
                      for v, s in zip(full.draws(draws, seed=1), seed_list(draws, 7_000_000), strict=True)],
    }
    if oos is not None:
        jobs["oos"] = [(config_with(v, oos.spec.size, oos.spec.overrides), s)
                       for v, s in zip(oos.draws(draws, seed=1), seed_list(draws, 7_000_000), strict=True)]
    flat = [j for js in jobs.values() for j in js]
    results = run_sets(flat, n_jobs)
    runs: dict[str, list[tuple[pd.DataFrame, float]]] = {}
    i = 0
    for g, js in jobs.items():
        runs[g] = results[i:i + len(js)]
        i += len(js)
    base = None
    values = {}
    for g, rs in runs.items():
        b, v = target_values(rs)
        base = b if base is None else base
        values[g] = v
    fit_before = oos.spec.fit_before if oos is not None else None
    table = band_table(base, values, fit_before)
    out = full.root.parent / "report"
    out.mkdir(parents=True, exist_ok=True)
    groups = list(runs)

    previous = {k: getattr(getattr(Config(), k.split(".")[0]), k.split(".")[1]) for k in full.spec.names
                if not k.startswith("world.")}
    figs = [
        plot_targets(table, groups, out / "calibration_targets.png"),
        plot_series(runs, out / "calibration_series.png"),
        plot_posterior(fits, previous, out / "calibration_posterior.png"),
        plot_convergence(fits, out / "calibration_convergence.png"),
    ]
    table.to_csv(out / "targets.csv", index=False)
    meta = {"command": command, "date": dt.date.today().isoformat(), "seconds": time.perf_counter() - t0,
            "runs": len(flat)}
    md = markdown(fits, table, groups, meta)
    (out / "report.md").write_text("# Calibration and validation report\n\n" + md.replace("figures/", "") + "\n",
                                   encoding="utf-8")
    paths = [out / "report.md", out / "targets.csv", *figs]
    if docs and DOC is not None:
        FIGURES.mkdir(parents=True, exist_ok=True)
        for f in figs:
            shutil.copy(f, FIGURES / f.name)

        replace_section(DOC, BEGIN, END, md)
        paths.append(DOC)
    return paths
