"""The sensitivity example of docs/sweeps.md: a small Sobol and a small Morris design, run locally.

Runs ``corridor-sensitivity`` twice (joblib launcher, both cores) with the parameters and ranges of
``configs/experiment/sensitivity.yaml``, copies the bar charts and convergence plots into
``docs/figures/`` and writes the indices into docs/sweeps.md between the sensitivity markers::

    .venv/bin/python experiments/sensitivity.py                    # Sobol N=16 (128 runs), Morris r=8 (56 runs)
    .venv/bin/python experiments/sensitivity.py --sobol-n 64 --morris-n 20 population.size=20000

Results go to ``results/sensitivity/<method>-n<N>``; running the script again resumes them
(complete rows are skipped) and rewrites the report.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "sweeps.md"
FIGURES = ROOT / "docs" / "figures"
BEGIN, END = "<!-- sensitivity:begin -->", "<!-- sensitivity:end -->"


def run(method: str, n: int, overrides: list[str]) -> tuple[Path, float]:
    out = ROOT / "results" / "sensitivity" / f"{method}-n{n}"
    t = time.perf_counter()
    cmd = [
        sys.executable,
        "-m",
        "sim.studies.sensitivity",
        "--method",
        method,
        "--n",
        str(n),
        "--dir",
        str(out),
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "hydra.callbacks.sweep.progress_seconds=30",
        *overrides,
    ]
    subprocess.run(cmd, cwd=ROOT, check=True)
    return out, time.perf_counter() - t


def table(path: Path, method: str) -> str:
    df = pd.read_csv(path)
    cols = (
        ["S1", "S1_conf", "ST", "ST_conf"]
        if method == "sobol"
        else ["mu_star", "mu_star_conf", "sigma"]
    )
    lines = ["| output | parameter | " + " | ".join(cols) + " |", "|---|---|" + "---:|" * len(cols)]
    for _, r in df.iterrows():
        fmt = "{:.2f}" if method == "sobol" else "{:,.0f}"
        lines.append(
            f"| {r['output']} | `{r['parameter']}` | "
            + " | ".join(fmt.format(r[c]) for c in cols)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sobol-n", type=int, default=16)
    ap.add_argument("--morris-n", type=int, default=8)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides for both sweeps")
    args = ap.parse_args()
    FIGURES.mkdir(parents=True, exist_ok=True)
    parts = []
    for method, n in (("sobol", args.sobol_n), ("morris", args.morris_n)):
        out, _ = run(method, n, args.overrides)
        sens = out / "sensitivity"
        for kind in ("indices", "convergence"):
            shutil.copy(sens / f"{method}_{kind}.png", FIGURES / f"sensitivity_{method}_{kind}.png")
        verdict = pd.read_csv(sens / "verdict.csv")
        runs = pd.read_parquet(out / "runs.parquet")
        size = int(runs["population_size"].dropna().iloc[0]) if "population_size" in runs else 0
        ok = (runs["status"] == "complete").sum()
        cpu_min = runs["wall_seconds"].sum() / 60
        parts += [
            f"**{method.capitalize()}**, N = {n}: {ok} runs of {size:,} people, whose simulations add up to "
            f"{cpu_min:.1f} CPU-minutes (about {cpu_min / 2:.0f} minutes on 2 cores, plus the per-job overhead "
            f"below); report `results/sensitivity/{method}-n{n}/sensitivity/report.md`:",
            "",
            table(sens / "indices.csv", method),
            "",
            "Converged (no index moved more than the tolerance from N/2 to N): "
            + "; ".join(
                f"{v['output']} {'yes' if v['converged'] else 'no'} ({v['max_change']:.2f})"
                for _, v in verdict.iterrows()
            )
            + ".",
            "",
            f"![{method} indices](figures/sensitivity_{method}_indices.png)",
            "",
            f"![{method} convergence](figures/sensitivity_{method}_convergence.png)",
            "",
        ]
    cmd = (
        "python experiments/sensitivity.py"
        + (
            f" --sobol-n {args.sobol_n} --morris-n {args.morris_n}"
            if (args.sobol_n, args.morris_n) != (16, 8)
            else ""
        )
        + "".join(f" {o}" for o in args.overrides)
    )
    text = (
        "\n".join([f"Made by `{cmd}` on {time.strftime('%Y-%m-%d')}.", "", *parts]).rstrip() + "\n"
    )
    from sim.running.docs import replace_section

    replace_section(DOC, BEGIN, END, text)
    print(f"written to {DOC} and {FIGURES}")


if __name__ == "__main__":
    main()
