"""The counterfactual effects before and after a change: two reports' effects side by side.

    # the reports (the same command at two revisions; see docs/counterfactuals.md)
    git worktree add /tmp/before <rev>
    (cd /tmp/before && PYTHONPATH=/tmp/before python experiments/compare_scenarios.py --seeds 20 --out /tmp/cf-before)
    .venv/bin/python experiments/compare_scenarios.py --seeds 20 --out /tmp/cf-after
    # the table
    .venv/bin/python experiments/effects_before_after.py --before /tmp/cf-before --after /tmp/cf-after

Reads each report's ``effects.csv`` (``sim.studies.report``: one row per scenario and outcome,
the mean paired effect and its 90 % interval) and rewrites the section of ``--doc`` between
``<!-- effects-before-after:begin -->`` and ``<!-- effects-before-after:end -->``: for each
scenario and each outcome asked for, the baseline mean and the effect with its interval, before
and after.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim.running.docs import replace_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = ("<!-- effects-before-after:begin -->", "<!-- effects-before-after:end -->")


def fmt(x: float) -> str:
    return f"{x:+,.0f}" if abs(x) >= 10 else f"{x:+.1f}"


def effect(row: pd.Series | None) -> str:
    if row is None:
        return "–"
    return f"{fmt(row.effect_mean)} ({fmt(row.ci90_low)} to {fmt(row.ci90_high)})"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="effects_before_after.py", description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="report folder before the change (holds effects.csv)")
    ap.add_argument("--after", type=Path, required=True, help="report folder after the change")
    ap.add_argument("--outcomes", default="arrivals,reached_destination,attempts,repatriated,deaths",
                    help="outcomes (columns 'outcome' of effects.csv), comma-separated (default %(default)s)")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "validation.md", help="page (default %(default)s)")
    args = ap.parse_args(argv)
    outcomes = [o for o in args.outcomes.split(",") if o]
    frames = {}
    for name, folder in (("before", args.before), ("after", args.after)):
        path = folder / "effects.csv"
        if not path.is_file():
            raise SystemExit(f"--{name}: {path} not found; give a report folder of experiments/compare_scenarios.py")
        frames[name] = pd.read_csv(path).set_index(["scenario", "outcome"])
    unknown = [o for o in outcomes if o not in set(frames["after"].index.get_level_values("outcome"))]
    if unknown:
        raise SystemExit(f"--outcomes: {', '.join(unknown)} not in {args.after / 'effects.csv'}")
    scenarios = sorted(set(frames["before"].index.get_level_values(0)) | set(frames["after"].index.get_level_values(0)))
    lines = ["Mean paired effect (scenario minus baseline, same seeds) and its 90 % interval, before and after; "
             "the baseline's mean in brackets.", "",
             "| scenario | outcome | before: baseline, effect | after: baseline, effect |", "|---|---|---|---|"]
    for s in scenarios:
        for o in outcomes:
            cells = []
            for name in ("before", "after"):
                f = frames[name]
                row = f.loc[(s, o)] if (s, o) in f.index else None
                cells.append("–" if row is None else f"[{row.baseline_mean:,.0f}] {effect(row)}")
            lines.append(f"| {s} | {o} | {cells[0]} | {cells[1]} |")
    text = "\n".join(lines) + "\n"
    print(text)
    replace_section(args.doc, *SECTION, text)
    print(f"updated {args.doc}")


if __name__ == "__main__":
    main()
