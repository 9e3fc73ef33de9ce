"""``corridor-calibrate``: run the calibration's fits and write the validation report.

The command sits above both halves it joins: the fit (:mod:`sim.studies.calibration`, ABC-SMC)
and the report (:mod:`sim.studies.calibration_report`), so neither imports the other back.
docs/calibration.md says what it does and how to read its results.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from sim.model.config import ConfigError
from sim.running.paths import CONFIG_DIR
from sim.running.preflight import preflight
from sim.studies.calibration import (
    DEFAULT_SPEC,
    RESULTS,
    calibrate,
    check_folder,
    load_spec,
    read_calibration,
    sweep_command,
)
from sim.studies.calibration_report import write_report

# the two fits: every target (the defaults come from it), and, when the spec names a day
# (held_out_from), only the targets ending before it, to see how well the model predicts what it
# was not fitted to; that check runs on a smaller budget (64 particles, 4 generations), since it
# is a check and not the source of defaults
FITS: dict[str, dict[str, Any]] = {
    "full": {},
    "held-out": {"particles": 64, "max_generations": 4},
}


def main(argv: list[str] | None = None) -> int:
    """``corridor-calibrate``: the full fit, the out-of-sample fit, and the validation report."""
    ap = argparse.ArgumentParser(
        prog="corridor-calibrate",
        description=(
            "Calibrate the free parameters of configs/calibration/default.yaml with ABC-SMC, each generation "
            "a Hydra sweep (local cores by default; add hydra/launcher=... for a cluster). Runs two fits: 'full' "
            "(every target) and 'held-out' (the targets ending before the spec's held_out_from, to predict the "
            "rest; only if the spec names that day), then writes the validation report. Running the same command "
            "again resumes where it stopped."
        ),
    )
    ap.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="calibration spec (default %(default)s)")
    ap.add_argument("--dir", type=Path, default=RESULTS, help="folder of the fits (default %(default)s)")
    ap.add_argument("--only", choices=sorted(FITS), help="run only this fit")
    ap.add_argument("--particles", type=int, help="override the spec's particles")
    ap.add_argument("--max-generations", type=int, help="override the spec's max_generations")
    ap.add_argument("--size", type=int, help="override the spec's size (population.size per run)")
    ap.add_argument("--no-report", action="store_true", help="do not write the validation report")
    ap.add_argument("--report-only", action="store_true", help="only write the report from finished fits in --dir")
    ap.add_argument("--report-seeds", type=int, default=8, help="seeds of the best set in the report (default 8)")
    ap.add_argument("--report-draws", type=int, default=32, help="posterior draws in the report (default 32)")
    ap.add_argument("overrides", nargs="*", help="Hydra overrides for the sweeps' launcher (hydra/launcher=joblib, ...)")
    args = ap.parse_args(argv)

    launcher = list(args.overrides)
    if not any(o.startswith("hydra/launcher=") for o in launcher):
        launcher.insert(0, "hydra/launcher=joblib")
    changes = {"particles": args.particles, "max_generations": args.max_generations, "size": args.size}
    fits = [args.only] if args.only else list(FITS)
    try:
        specs = {name: load_spec(args.spec, **(FITS[name] | {k: v for k, v in changes.items() if v is not None}))
                 for name in fits}
        if "held-out" in specs:  # the held-out fit sees the targets before the spec's day, if it names one
            cut = specs["held-out"].held_out_from
            if cut is None:
                del specs["held-out"]
            else:
                specs["held-out"].fit_before = cut
        for name, spec in specs.items():  # check every folder before any run
            path = Path(args.dir) / name / "spec.json"
            if path.is_file():
                check_folder(path.parent, spec)
            if not args.report_only:  # the sweeps' command as Hydra will see it (sim/running/preflight.py)
                cmd = sweep_command(Path(os.path.abspath(Path(args.dir) / name)), spec, 1, launcher)
                preflight(cmd[3:], CONFIG_DIR)
    except ConfigError as e:
        print(f"corridor-calibrate: {e}", file=sys.stderr)
        return 2
    results = {}
    for name, spec in specs.items():
        if args.report_only:
            try:
                results[name] = read_calibration(Path(args.dir) / name)
            except ConfigError as e:
                print(f"corridor-calibrate: {e}", file=sys.stderr)
                return 2
            continue
        try:
            results[name] = calibrate(spec, Path(args.dir) / name, launcher)
        except (ConfigError, RuntimeError) as e:
            print(f"corridor-calibrate: {e}", file=sys.stderr)
            return 1
        print(f"corridor-calibrate: {name}: best set {json.dumps(results[name].best['parameters'])} "
              f"(mean distance {results[name].best['mean_distance']:.3f})")
    if not args.no_report and "full" in results:
        paths = write_report(results["full"], results.get("held-out"), seeds=args.report_seeds,
                             draws=args.report_draws)
        for p in paths:
            print(f"  {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
