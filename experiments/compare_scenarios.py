"""Compare scenarios with the baseline: run an ensemble and write the comparison report.

Runs every scenario of the library (``configs/scenario/``) with the same seeds, in parallel on
the local cores, and writes a Markdown report with figures, the effects table and the runs'
summary table (docs/counterfactuals.md describes them):

    .venv/bin/python experiments/compare_scenarios.py                       # all, 20 seeds, 50,000 people
    .venv/bin/python experiments/compare_scenarios.py --scenarios no_repatriation,early_repatriation \\
        --seeds 10 --size 20000 --jobs 2 --out results/reports/repatriation

Every scenario name and config is checked before any run starts (exit code 2 on a bad input).
The baseline (``--baseline``; default: the scenarios' own, the ``meta.baseline`` of the first
scenario named, or of the default config's scenario for ``all``) is added to the scenarios when
missing.
Extra arguments ``key=value`` are Hydra overrides applied to every scenario, e.g.
``intention.network_gain=4``. ``--posterior data/calibration/full`` draws one parameter set
per seed from a calibration's posterior (the same set for every scenario of that seed), so the
effects' intervals include the parameters' uncertainty (docs/calibration.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from sim.studies.ensemble import DEFAULT_SEEDS, DEFAULT_SIZE, default_jobs

    ap = argparse.ArgumentParser(
        prog="compare_scenarios.py",
        description="Run scenarios with paired seeds and write a comparison report against the baseline.",
    )
    ap.add_argument(
        "--scenarios",
        default="all",
        help="comma-separated scenario names (files of configs/scenario/), or 'all' (default): every scenario "
        "whose meta.baseline is the baseline",
    )
    ap.add_argument(
        "--seeds",
        type=int,
        default=DEFAULT_SEEDS,
        help=f"seeds per scenario: 1..N, the same for every scenario (default {DEFAULT_SEEDS})",
    )
    ap.add_argument(
        "--size",
        type=int,
        default=DEFAULT_SIZE,
        help=f"simulated people per run, population.size (default {DEFAULT_SIZE:,})",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        help=f"worker processes (default: every core here, {default_jobs()})",
    )
    ap.add_argument(
        "--baseline",
        default=None,
        help="the scenario compared against (default: the meta.baseline of the first scenario named, "
        "or of the default config's scenario for 'all')",
    )
    ap.add_argument(
        "--out",
        default=None,
        help="report folder (default results/reports/<date>_<time>); must not hold a report.md",
    )
    ap.add_argument(
        "--posterior",
        type=Path,
        default=None,
        help="a calibration folder (corridor-calibrate; the defaults' own: data/calibration/full): replicate i runs "
        "every scenario with seed i and the i-th parameter set drawn from its posterior, so effect "
        "intervals include parameter uncertainty",
    )
    ap.add_argument("overrides", nargs="*", help="Hydra overrides for every scenario, key=value")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from sim.model.config import ConfigError
    from sim.running.compose import compose
    from sim.running.labels import baseline_of
    from sim.studies.ensemble import check_scenario_names, list_scenarios, prepare, run_configs
    from sim.studies.report import write_report

    args = parse_args(argv)
    command = "python experiments/compare_scenarios.py" + (
        " " + shlex.join(argv if argv is not None else sys.argv[1:])
        if (argv or sys.argv[1:])
        else ""
    )
    names = (
        list_scenarios()
        if args.scenarios == "all"
        else [s.strip() for s in args.scenarios.split(",") if s.strip()]
    )
    try:
        first = [] if args.scenarios == "all" else [f"scenario={check_scenario_names(names)[0]}"]
        baseline = args.baseline or baseline_of(compose(first))
        if args.scenarios == "all":  # the baseline's family: the scenarios compared with it (their meta.baseline)
            names = [n for n in names if n == baseline or baseline_of(compose([f"scenario={n}"])) == baseline]
    except ConfigError as e:
        print(f"compare_scenarios: configuration error: {e}", file=sys.stderr)
        return 2
    if baseline not in names:
        names.insert(0, baseline)
    elif names[0] != baseline:
        names.remove(baseline)
        names.insert(0, baseline)
    out = (
        Path(args.out)
        if args.out
        else ROOT / "results" / "reports" / dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    )
    if (out / "report.md").exists():
        print(
            f"compare_scenarios: {out} already holds a report; choose another --out",
            file=sys.stderr,
        )
        return 2

    t0 = time.perf_counter()
    try:
        if args.seeds < 1 or args.jobs < 1:
            raise ConfigError("--seeds and --jobs must be at least 1")
        configs = prepare(names, args.overrides, args.size)
        draws = None
        if args.posterior is not None:
            from sim.studies.calibration import read_calibration

            draws = read_calibration(args.posterior).draws(args.seeds, seed=args.seeds)
    except ConfigError as e:
        print(f"compare_scenarios: configuration error: {e}", file=sys.stderr)
        return 2
    checked = time.perf_counter() - t0
    print(
        f"checked {len(configs)} scenarios in {checked:.1f} s; running {len(configs)} × {args.seeds} runs "
        f"of {args.size:,} people on {args.jobs} processes",
        file=sys.stderr,
    )
    ens = run_configs(configs, args.seeds, n_jobs=args.jobs, progress=True, draws=draws)
    ens.check_seconds = checked
    print(
        f"ran {len(ens.runs)} runs in {ens.seconds:.0f} s ({len(ens.failures)} failed); writing the report",
        file=sys.stderr,
    )
    paths = write_report(ens, out, baseline=baseline, command=command)
    total = time.perf_counter() - t0
    print(f"report: {paths[0]}  ({len(paths)} files, {total:.0f} s in all)")
    for f in ens.failures:
        print(f"  failed: {f.scenario} seed {f.seed}: {f.error_type}: {f.message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
