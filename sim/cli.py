"""The command line: ``corridor [key=value ...]`` (or ``python -m sim``).

Hydra composes ``configs/config.yaml`` with the overrides; this module only converts the
result to a plain dict, checks it completely (:func:`sim.config.load_config` and
:func:`sim.model.check_config`) before any run starts, and hands it to :func:`sim.run.run`::

    corridor                                     # the default run (2021 baseline)
    corridor population.size=20000 run.end=2021-09-30
    corridor output.dir=results/my_run           # results here instead of results/runs/<now>
    corridor -m run.seed=1,2,3                   # a sweep: one results folder per job
    corridor --cfg job                           # print the composed config and stop

Exit codes: 0 done; 1 the run failed; 2 the configuration or the results folder is wrong
(an unknown key, also one added with ``+key=value``; a wrong type; a value out of range; a
folder that already holds results). Nothing is written when the exit code is 2.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.compose import CONFIG_DIR
from sim.config import ConfigError, load_config

log = logging.getLogger("corridor")

EXIT_FAILED = 1
EXIT_USAGE = 2

_job_started = False  # set once Hydra has composed the config and called the job


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
    """One job: check the config, run, write the results folder, print the summary."""
    global _job_started
    _job_started = True
    from sim.model import check_config
    from sim.run import ResultsExistError, check_out_dir, format_summary, run

    data = OmegaConf.to_container(composed, resolve=True)
    data.pop("hydra", None)
    try:
        cfg = load_config(data)
        check_config(cfg)
    except ConfigError as e:
        _fail(f"configuration error: {e}")

    hc = HydraConfig.get()
    out = _out_dir(cfg.output.dir, hc)
    try:
        check_out_dir(out.resolve())
    except ResultsExistError as e:
        _fail(str(e))

    progress = cfg.output.progress and hc.mode != RunMode.MULTIRUN
    log.info(
        "running %s (seed %d, %d days, %d people) into %s",
        cfg.scenario,
        cfg.run.seed,
        cfg.n_days,
        cfg.population.size,
        out,
    )
    try:
        result = run(cfg, out_dir=out, progress=progress)
    except ConfigError as e:  # a check that only the full model makes
        _fail(f"configuration error: {e}")
    except ResultsExistError as e:  # someone wrote results there while we ran
        _fail(str(e))
    print(format_summary(result.summary, result.meta))
    print(f"\nResults: {result.out_dir}")
    return result.summary


def main() -> None:
    """Console entry point (``corridor``, ``python -m sim``).

    Hydra reports errors it finds while composing (a malformed override, a key missing from
    the config written without ``+``, an unknown config group) itself and exits with 1; they
    are errors in the command, so they exit with 2 here, like every other configuration error.
    """
    try:
        run_job()
    except SystemExit as e:
        if e.code not in (0, None) and not _job_started:
            print(
                "corridor: configuration error (see the message above); nothing was run",
                file=sys.stderr,
            )
            sys.exit(EXIT_USAGE)
        raise


if __name__ == "__main__":
    main()
