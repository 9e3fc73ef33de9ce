"""A replay beside its world's record: writes the table in the world's validation page.

    .venv/bin/python experiments/validate_default.py                      # the default scenario -> docs/validation.md
    .venv/bin/python experiments/validate_default.py --scenario finland_2023 --doc docs/worlds/finland_2023.md

Runs the scenario (its own population size) with eight seeds and compares every target of its
world's record (``world.record``) with the model's version of it (sim/studies/targets.py), then
rewrites the generated part of the page (between the two markers). Extra ``key=value`` arguments
are Hydra overrides (e.g. a parameter set to check).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.running.docs import replace_section
from sim.studies.targets import DEFAULT_SEEDS, run_default_seeds

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- table:begin -->", "<!-- table:end -->"


def fmt(x: float) -> str:
    return f"{x:.2f}" if abs(x) < 10 else f"{x:,.0f}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="validate_default.py", description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=None, help="scenario (configs/scenario/); default: the default config's")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "validation.md", help="page to update (default %(default)s)")
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, key=value")
    args = ap.parse_args(argv)
    overrides = ([f"scenario={args.scenario}"] if args.scenario else []) + list(args.overrides)
    c = run_default_seeds(overrides=overrides)
    lines = [f"Model: mean over {len(DEFAULT_SEEDS)} seeds ({DEFAULT_SEEDS[0]}..{DEFAULT_SEEDS[-1]}), "
             "with the 5-95 % range across them.", "",
             "| target | period | record (range) | model mean (5-95 %) | tolerance band | within |",
             "|---|---|---:|---:|---:|:---:|"]
    for r in c.itertuples():
        rng = fmt(r.record) if r.low == r.high else f"{fmt(r.record)} ({fmt(r.low)}–{fmt(r.high)})"
        lines.append(f"| {r.metric} | {r.period} | {rng} | {fmt(r.model)} ({fmt(r.model_p5)}–{fmt(r.model_p95)}) | {fmt(r.band_low)}–{fmt(r.band_high)} | "
                     f"{'yes' if r.within else '**no**'} |")
    table = "\n".join(lines) + f"\n\n{int(c.within.sum())} of {len(c)} targets within tolerance.\n"
    print(table)
    replace_section(args.doc, BEGIN, END, table)
    print(f"updated {args.doc}")


if __name__ == "__main__":
    main()
