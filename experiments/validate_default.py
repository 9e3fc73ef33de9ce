"""The default scenario beside the record: writes the table in docs/validation.md.

    .venv/bin/python experiments/validate_default.py

Runs the default 2021 scenario (250,000 people) with eight seeds and compares every target of
data/observed/targets_2021.csv with the model's version of it (sim/studies/targets.py), then rewrites
the generated part of docs/validation.md (between the two markers).
"""

from __future__ import annotations

from pathlib import Path

from sim.running.docs import replace_section
from sim.studies.targets import DEFAULT_SEEDS, run_default_seeds

DOC = Path(__file__).resolve().parent.parent / "docs" / "validation.md"
BEGIN, END = "<!-- table:begin -->", "<!-- table:end -->"


def fmt(x: float) -> str:
    return f"{x:.2f}" if abs(x) < 10 else f"{x:,.0f}"


def main() -> None:
    c = run_default_seeds()
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
    replace_section(DOC, BEGIN, END, table)
    print(f"updated {DOC}")


if __name__ == "__main__":
    main()
