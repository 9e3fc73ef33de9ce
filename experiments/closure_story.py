"""What a scenario's crossing-point closures did, week by week: writes the story table of a world page.

    .venv/bin/python experiments/closure_story.py --scenario finland_2023 --doc docs/worlds/finland_2023.md

Runs the scenario with eight seeds and tabulates, from two weeks before its first
``crossing_closure`` to three weeks after its last one starts, the mean over seeds of: people
registered a week at each crossing point, people in the transit country at the week's end, people
the transit state kept from the border, and packages sold. Then the totals the record after the
closures will be checked against (registered after the first closure; on the days a closure
was lifted; waiting in the transit country at the end). The part of the page between
``<!-- story:begin -->`` and ``<!-- story:end -->`` is rewritten. Extra ``key=value`` arguments
are Hydra overrides.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.model import MigrationModel
from sim.running.compose import compose
from sim.running.docs import replace_section
from sim.studies.targets import DEFAULT_SEEDS

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- story:begin -->", "<!-- story:end -->"


def closures(cfg) -> list[tuple[str, dt.date, dt.date | None, list[str], float]]:
    """(name, start, end, segments, hours) of each enabled crossing_closure lever, by start."""
    out = []
    for name, spec in cfg.levers.items():
        if spec.kind == "crossing_closure" and spec.enabled:
            out.append((name, spec.when.start or cfg.run.start, spec.when.end, list(spec.params.get("segments", [])),
                        float(spec.params.get("hours_per_day", 0.0))))
    return sorted(out, key=lambda c: c[1])


def runs(overrides: list[str], seeds: list[int]) -> tuple[list[pd.DataFrame], float, object]:
    cfg = compose(overrides)
    frames = []
    for seed in seeds:
        model = MigrationModel(cfg, rng=seed)
        model.run()
        frames.append(model.recorder.frame().set_index("date"))
    return frames, model.scale, cfg


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(prog="closure_story.py", description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", required=True, help="scenario (configs/scenario/) with crossing_closure levers")
    ap.add_argument("--doc", type=Path, default=None, help="page to update (between the story markers); none: print only")
    ap.add_argument("--seeds", type=int, default=len(DEFAULT_SEEDS), help="seeds (default %(default)s)")
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, key=value")
    args = ap.parse_args(argv)
    frames, scale, cfg = runs([f"scenario={args.scenario}", *args.overrides], list(range(1, args.seeds + 1)))
    shut = closures(cfg)
    if not shut:
        raise SystemExit(f"closure_story.py: scenario {args.scenario} has no crossing_closure lever")
    crossings = [s.id for s in cfg.world.segments if s.kind == "crossing"]
    first = min(c[1] for c in shut)
    last = max(c[1] for c in shut)
    lo, hi = (first - dt.timedelta(days=14)).isoformat(), (last + dt.timedelta(days=21)).isoformat()

    def weekly(d: pd.DataFrame) -> pd.DataFrame:
        d = d.copy()
        d.index = pd.to_datetime(d.index)
        flows = d[[f"applied_{s}" for s in crossings] + ["kept_from_border", "packages_sold", "arrivals"]] / scale
        week = flows.resample("W-SUN").sum()
        week["in_transit_country"] = (d["in_transit_country"] / scale).resample("W-SUN").last()
        return week.loc[lo:hi]

    mean = sum(weekly(d) for d in frames) / len(frames)
    head = ["week ending", *crossings, "in the transit country (end)", "kept from the border", "packages sold", "arrivals"]
    lines = [f"Mean over {len(frames)} seeds (1..{len(frames)}), people a week (real people: rows / scale).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for when, r in mean.iterrows():
        cells = [f"{r[f'applied_{s}']:.0f}" for s in crossings]
        lines.append(f"| {when.date()} | " + " | ".join(cells) + f" | {r['in_transit_country']:.0f} | "
                     f"{r['kept_from_border']:.0f} | {r['packages_sold']:.0f} | {r['arrivals']:.0f} |")

    def totals(d: pd.DataFrame) -> dict[str, float]:
        a = d["applied"] / scale
        out = {"registered from the first closure to the run's end": a.loc[first.isoformat():].sum(),
               "in the transit country at the run's end": d["in_transit_country"].iloc[-1] / scale,
               "peak in the transit country after the first closure": (d["in_transit_country"] / scale).loc[first.isoformat():].max()}
        lifted: dict[dt.date, list[str]] = {}
        for name, _, end, _, hours in shut:
            if end is not None and end < cfg.run.end and hours == 0.0:
                lifted.setdefault(end + dt.timedelta(days=1), []).append(name)
        for day, names in sorted(lifted.items()):
            nxt = day + dt.timedelta(days=1)
            out[f"registered on {day} and {nxt} (closures lifted: {', '.join(names)})"] = \
                a.loc[day.isoformat():nxt.isoformat()].sum()
        return out

    rows = pd.DataFrame([totals(d) for d in frames])
    lines += ["", "| after the closures | mean | 5-95 % over seeds |", "|---|---:|---:|"]
    for k in rows.columns:
        v = rows[k].to_numpy(float)
        lines.append(f"| {k} | {v.mean():.0f} | {np.percentile(v, 5):.0f}–{np.percentile(v, 95):.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.doc is not None:
        replace_section(args.doc, BEGIN, END, text)
        print(f"updated {args.doc}")
    return text


if __name__ == "__main__":
    main()
