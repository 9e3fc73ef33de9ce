"""What each mechanism does to a monthly series: the default run beside runs with one mechanism
switched off (a Hydra override each), written into a page.

    .venv/bin/python experiments/switch_off.py --off levers.<name>.enabled=false \
        --off levers.<name>.<param>=<neutral value> [--metric caught] [--doc docs/validation.md]

Each row is the mean over ``--seeds`` seeds (the same seeds in every row, so the differences are
paired) of the metric summed per month, in real people, from ``--start`` to ``--end``. The table
replaces the page's section between ``<!-- switch-off:begin -->`` and ``<!-- switch-off:end -->``.
The command behind the table of docs/validation.md is written above that table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim.model.model import MigrationModel
from sim.running.compose import compose
from sim.running.docs import replace_section
from sim.studies.targets import DEFAULT_SEEDS

ROOT = Path(__file__).resolve().parent.parent
SECTION = ("<!-- switch-off:begin -->", "<!-- switch-off:end -->")
def monthly(overrides: list[str], metric: str, seeds: list[int], start: str, end: str) -> pd.Series:
    """The metric summed per month (real people), the mean over ``seeds``."""
    cfg = compose(overrides)
    runs = []
    for seed in seeds:
        model = MigrationModel(cfg, rng=seed)
        model.run()
        d = model.recorder.frame()
        if metric not in d:
            raise SystemExit(f"switch_off.py: --metric {metric!r} is not a column of the daily table (docs/outputs.md)")
        s = pd.Series(d[metric].to_numpy() / model.scale, index=pd.to_datetime(d["date"]))
        runs.append(s.resample("MS").sum().loc[start:end])
    return pd.concat(runs, axis=1).mean(axis=1)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="switch_off.py", description=__doc__.splitlines()[0])
    ap.add_argument("--metric", default="caught", help="a column of the daily table (default %(default)s: caught and kept, all segments)")
    ap.add_argument("--off", action="append", required=True, help="an override that switches a mechanism off (repeat)")
    ap.add_argument("--seeds", type=int, default=4, help="seeds per row (default %(default)s)")
    ap.add_argument("--start", default="2021-08", help="first month (default %(default)s)")
    ap.add_argument("--end", default="2021-12", help="last month (default %(default)s)")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "validation.md", help="page to update (default %(default)s)")
    args = ap.parse_args(argv)
    seeds = DEFAULT_SEEDS[: args.seeds]
    rows = {"nothing (the default)": monthly([], args.metric, seeds, args.start, args.end)}
    for off in args.off:
        rows[f"`{off}`"] = monthly([off], args.metric, seeds, args.start, args.end)
    months = rows["nothing (the default)"].index
    lines = [f"`{args.metric}` per month, mean of {len(seeds)} seeds ({seeds[0]}..{seeds[-1]}):", "",
             "| switched off | " + " | ".join(m.strftime("%b %Y") for m in months) + " |",
             "|---|" + "---:|" * len(months)]
    lines += [f"| {name} | " + " | ".join(f"{v:,.0f}" for v in series) + " |" for name, series in rows.items()]
    table = "\n".join(lines) + "\n"
    print(table)
    replace_section(args.doc, *SECTION, table)
    print(f"updated {args.doc}")


if __name__ == "__main__":
    main()
