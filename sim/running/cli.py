"""The command line: ``corridor [key=value ...]`` (or ``python -m sim``).

Hydra composes ``configs/config.yaml`` with the overrides; this module only converts the
result to a plain dict, checks it completely (:func:`sim.model.config.load_config` and
:func:`sim.model.model.check_config`) before any run starts, and hands it to :func:`sim.running.run.run`::

    corridor                                     # the default run (configs/config.yaml's scenario)
    corridor population.size=20000 run.seed=7
    corridor output.dir=results/my_run           # results here instead of results/runs/<now>
    corridor -m run.seed=1,2,3                   # a sweep: one results folder per job
    corridor --cfg job                           # print the composed config and stop

Before Hydra runs anything, :func:`sim.running.preflight.preflight` composes the command's config as
Hydra will and checks it: nothing in a config file or on the command line may name code to run
(only the project's own callbacks and launchers), a single run's config is checked completely,
and the results folder must be new and writable.

Exit codes: 0 done; 1 the run failed, or jobs of a sweep failed (each recorded in the
sweep's ``runs.parquet``; see docs/sweeps.md); 2 the configuration or the results folder is wrong
(an unknown key, also one added with ``+key=value``; a wrong type; a value out of range; code
named in a config; a folder that already holds results or cannot be written). Nothing is
written when the exit code is 2.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.model.config import Config, ConfigError, load_config
from sim.running.compose import CONFIG_DIR, install_config_cache
from sim.running.labels import Labels
from sim.running.paths import ResultsExistError, check_out_dir
from sim.running.preflight import run_preflight

# Hydra composes every job of a sweep anew, parsing each YAML file again: parse them once per
# process (the main one and every worker: unpickling a job's task function imports this module)
install_config_cache()

log = logging.getLogger("corridor")

EXIT_FAILED = 1
EXIT_USAGE = 2

_job_started = False  # set once Hydra has composed the config and called the job
_checked = False  # the preflight checked the single run's config completely


def _fail(message: str) -> None:
    print(f"corridor: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def _out_dir(cfg_dir: str, hc: Any) -> Path:
    """``output.dir`` if set (in a sweep, one sub-folder per job), else Hydra's job folder."""
    if not cfg_dir:
        return Path(hc.runtime.output_dir)
    out = Path(cfg_dir)
    if hc.mode == RunMode.MULTIRUN:
        out = out / str(hc.job.num)
    return out


# an absolute path: a relative one ("../configs") resolves against the *module* when the code
# runs as ``corridor`` or ``python -m sim`` and Hydra then looks for a package named configs
@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def run_job(composed: DictConfig) -> dict[str, Any]:
    """One job: check the config, run, write the results folder, print the summary.

    In a sweep (``-m``) the job goes through :func:`sim.studies.sweep.run_sweep_job` on every launcher:
    a run already complete in the sweep folder is skipped, a failure is recorded and the
    sweep goes on, and the summary is not printed (parallel jobs would interleave it).
    """
    global _job_started
    _job_started = True

    # the model, the run's writers and the sweep's job rules load when a job runs, not when the
    # command line starts (`corridor --help`, a sweep's main process: Hydra alone)
    from sim.studies.sweep import freeze_long_lived, job_data, run_sweep_job

    hc = HydraConfig.get()
    if hc.mode == RunMode.MULTIRUN:
        # the model checks the config again when it is built: in a sweep that check is enough
        # (a failure is recorded either way), so the probe model of check_config is not built
        try:
            return run_sweep_job(
                composed, hc, lambda cfg, out: _run(cfg, out, quiet=True, probe=False)
            )
        finally:
            freeze_long_lived()

    try:
        data = job_data(composed, hc)  # also sets a sensitivity design row (docs/sweeps.md)
        return _run(load_config(data), None, quiet=False, probe=not _checked)
    except ConfigError as e:
        _fail(f"configuration error: {e}")
    except ResultsExistError as e:
        _fail(str(e))


def _run(cfg: Config, out: Path | None, quiet: bool, probe: bool = True) -> dict[str, Any]:
    """Check ``cfg`` (from :func:`load_config`) completely, run it into ``out`` (default: from
    ``output.dir`` or Hydra's job folder) and return the summary. Raises ConfigError or
    ResultsExistError."""

    from sim.model.model import check_config
    from sim.running.run import format_summary, run_checked

    if probe:
        check_config(cfg)
    hc = HydraConfig.get()
    out = out if out is not None else _out_dir(cfg.output.dir, hc)
    check_out_dir(out.resolve())

    progress = cfg.output.progress and hc.mode != RunMode.MULTIRUN
    log.info(
        "running %s (seed %d, %d days, %d people) into %s",
        cfg.scenario,
        cfg.run.seed,
        cfg.n_days,
        cfg.population.size,
        out,
    )
    result = run_checked(cfg, out_dir=out, progress=progress)
    if not quiet:
        print(format_summary(result.summary, result.meta, Labels.of(cfg)))
        print(f"\nResults: {result.out_dir}")
    return result.summary


def main() -> None:
    """Console entry point (``corridor``, ``python -m sim``).

    Hydra reports errors it finds while composing (a malformed override, a key missing from
    the config written without ``+``, an unknown config group) itself and exits with 1; they
    are errors in the command, so they exit with 2 here, like every other configuration error.
    """
    global _checked

    checked = run_preflight("corridor")
    _checked = checked.checked
    sys.argv = [sys.argv[0], *checked.argv]
    try:
        run_job()
    except SystemExit as e:
        if getattr(e, "reported", False):  # said what it refused already (a sweep folder in use)
            raise
        sweep = sys.modules.get("sim.studies.callbacks")
        if e.code not in (0, None) and sweep is not None and sweep.jobs_started():
            print(
                "corridor: the sweep stopped (see the message above); "
                "the same command again resumes it",
                file=sys.stderr,
            )
            sys.exit(EXIT_FAILED)
        if e.code not in (0, None) and not _job_started:
            print(
                "corridor: configuration error (see the message above); nothing was run",
                file=sys.stderr,
            )
            sys.exit(EXIT_USAGE)
        raise
    sweep = sys.modules.get("sim.studies.callbacks")  # loaded by Hydra in a multirun (configs/config.yaml)
    if sweep is not None and sweep.failed_jobs():
        sys.exit(EXIT_FAILED)  # a sweep with failed jobs (recorded in runs.parquet)


if __name__ == "__main__":
    main()
