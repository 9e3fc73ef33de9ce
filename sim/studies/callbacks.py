"""The Hydra callback of a sweep: plan, progress, and one table when the multirun ends.

``configs/config.yaml`` registers it::

    hydra:
      callbacks:
        sweep:
          _target_: sim.studies.callbacks.SweepCallback

In the main process of ``corridor -m ...``, whichever launcher runs the jobs:

- **start**: takes the sweep folder's lock (:func:`sim.studies.sweep.claim_sweep`): if another live
  sweep, or a job of a killed one, is working in the folder, ``corridor`` stops with exit code
  2 and a message naming the folder and the process, before anything is written. Then writes
  the sweep's plan (every job's overrides) to ``<sweep>/.corridor/plan.json`` and starts a thread that reports progress: ``corridor sweep: 7/12 runs done (3 skipped:
  complete already), 1 failed, 2 running``. Each line is one whole log record from this one
  process (jobs only drop event files), so lines from parallel jobs never garble it;
- **each job** (where it runs): holds the folder's jobs lock while it runs, and stops its
  process if the sweep's main process is gone (:func:`sim.studies.sweep.enter_job`);
- **end**: reports the last line and gathers the sweep folder into ``runs.parquet`` and
  ``daily.parquet`` (:mod:`sim.studies.gather`), then releases the lock. If any job failed,
  ``corridor`` then exits 1.

Settings (``hydra.callbacks.sweep.<name>=...``):

- ``gather`` (true): gather when the multirun ends;
- ``daily`` (true): gather the daily tables too (large for thousands of runs);
- ``progress_seconds`` (5): at most one progress line per this many seconds (0: no progress);
- ``lock_wait`` (10): seconds a new sweep waits for the jobs of a killed sweep of the same
  folder to stop before it refuses (:func:`sim.studies.sweep.claim_sweep`);
- ``watchdog`` (true): a worker the sweep started on this machine stops within a quarter of a
  second when the sweep's main process ends, also mid-job, and a job whose main process is gone
  does not start (false: only the folder's locks guard it; for containers that share a host
  name but not process ids);
- ``validate`` (``groups``): Hydra composes every job's config in the main process before it
  launches any (about 0.2 s each, serial: ~7 minutes for 2,000 jobs). ``groups`` composes only
  one job per combination of config-group choices (``scenario=...``, ``hydra/launcher=...``):
  the other overrides set values of keys that exist in every job, so they compose alike, and
  every job checks its own values anyway (a bad one is a recorded failure). ``all`` keeps
  Hydra's check of every job.

Only the main process imports this module at start-up; it stays light (pandas and pyarrow are
imported when gathering).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.experimental.callback import Callback
from hydra.plugins.sweeper import Sweeper
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.studies.gather import gather
from sim.studies.sensitivity import analyze, folder_spec, spec_from, write_design, write_report
from sim.studies.sweep import (
    DESIGN_SECTION,
    SweepBusy,
    SweepState,
    claim_sweep,
    enter_job,
    leave_job,
    plan_jobs,
    release_sweep,
)

log = logging.getLogger("corridor.sweep")

# the outcome of the last multirun in this process (read by sim.running.cli to choose the exit code)
last_sweep: dict[str, Any] = {}


def sweep_root_of(config: DictConfig) -> Path:
    """The sweep folder of a multirun config: ``output.dir`` if set, else ``hydra.sweep.dir``."""
    out = OmegaConf.select(config, "output.dir", default="") or ""
    return Path(os.path.abspath(str(out) or str(config.hydra.sweep.dir)))


def jobs_started() -> int:
    """Jobs that started in the last multirun of this process (0 if none)."""
    if not last_sweep.get("root"):
        return 0

    return SweepState(last_sweep["root"]).count_events()["start"]


def failed_jobs() -> int:
    """Jobs that failed in the last multirun of this process (0 if none ran)."""
    return int(last_sweep.get("failed", 0))


# --------------------------------------------------------------------------------------
# progress
# --------------------------------------------------------------------------------------


def _progress_logger() -> logging.Logger:
    """A logger writing whole lines to stderr, apart from the jobs' logging (which Hydra
    reconfigures per job, and which goes to stdout and to each job's log file)."""
    lg = logging.getLogger("corridor.sweep.progress")
    if not lg.handlers:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("[%(asctime)s][corridor sweep] %(message)s"))
        lg.addHandler(h)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    return lg


class ProgressMonitor:
    """Counts the jobs' event files and reports ``done/total`` as whole log lines.

    Args:
        state: the sweep's :class:`sim.studies.sweep.SweepState`.
        total: jobs in the sweep (None if unknown).
        every_seconds: at most one line per this many seconds (a last line always comes).
    """

    def __init__(self, state: Any, total: int | None, every_seconds: float = 5.0) -> None:
        self.state, self.total, self.every = state, total, every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="corridor-sweep-progress", daemon=True
        )
        self._last: tuple[int, ...] | None = None
        self._last_time = 0.0
        self._t0 = time.monotonic()
        self.log = _progress_logger()

    def start(self) -> ProgressMonitor:
        self._thread.start()
        return self

    def counts(self) -> dict[str, int]:
        return self.state.count_events()

    def line(self, c: dict[str, int]) -> str:
        done = c["complete"] + c["skipped"]
        ended = done + c["failed"]
        running = max(c["start"] - ended, 0)
        total = "?" if self.total is None else str(self.total)
        parts = [f"{done}/{total} runs done"]
        if c["skipped"]:
            parts[0] += f" ({c['skipped']} skipped: complete already)"
        parts.append(f"{c['failed']} failed")
        if running:
            parts.append(f"{running} running")
        elapsed = time.monotonic() - self._t0
        if self.total and c["complete"] and ended < self.total:
            rate = c["complete"] / elapsed
            left = self.total - ended
            parts.append(f"~{left / rate / 60:.1f} min left")
        parts.append(f"{elapsed:.0f} s")
        return ", ".join(parts)

    def report(self, force: bool = False) -> None:
        c = self.counts()
        key = (c["start"], c["complete"], c["skipped"], c["failed"])
        now = time.monotonic()
        if force or (key != self._last and now - self._last_time >= self.every):
            self._last, self._last_time = key, now
            self.log.info(self.line(c))

    def _loop(self) -> None:
        while not self._stop.wait(min(1.0, self.every)):
            try:
                self.report()
            except Exception:  # noqa: BLE001 - progress must never stop a sweep
                pass

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join(timeout=5)
        self.report(force=True)
        return self.counts()


# --------------------------------------------------------------------------------------
# checking the jobs' configs before launching: one per combination of group choices
# --------------------------------------------------------------------------------------


def representative_jobs(batch: list[list[str]], is_group: Any) -> list[list[str]]:
    """The first job of each distinct combination of config-group overrides in ``batch``."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for job in batch:
        sig = []
        for o in job:
            key = o.partition("=")[0].lstrip("+~").split("@")[0]
            if is_group(key):
                sig.append(o)
        if tuple(sig) not in seen:
            seen.add(tuple(sig))
            out.append(job)
    return out


def _install_group_validation() -> None:
    """Make Hydra's basic sweeper compose one job per combination of group choices, not all."""

    if getattr(BasicSweeper, "_corridor_validation", False):
        return

    def validate_batch_is_legal(self: Any, batch: Any) -> None:
        repo = self.hydra_context.config_loader.repository
        jobs = representative_jobs([list(j) for j in batch], repo.group_exists)
        Sweeper.validate_batch_is_legal(self, jobs)

    BasicSweeper.validate_batch_is_legal = validate_batch_is_legal  # type: ignore[method-assign]
    BasicSweeper._corridor_validation = True  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------
# the callback
# --------------------------------------------------------------------------------------


class SweepCallback(Callback):
    """Plan, progress and gathering of a multirun (see the module docstring)."""

    def __init__(
        self,
        gather: bool = True,
        daily: bool = True,
        progress_seconds: float = 5.0,
        validate: str = "groups",
        lock_wait: float = 10.0,
        watchdog: bool = True,
    ) -> None:
        if validate not in ("groups", "all"):
            raise ValueError(f"hydra.callbacks.sweep.validate: {validate!r}; allowed: groups, all")
        self.gather, self.daily = gather, daily
        self.progress_seconds, self.validate = float(progress_seconds), validate
        self.lock_wait, self.watchdog = float(lock_wait), bool(watchdog)
        self._monitor: ProgressMonitor | None = None
        self._root: Path | None = None
        # the sweep's owner record (sim.studies.sweep.claim_sweep), pickled with every job
        self._owner: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # launchers pickle the callbacks with every job (joblib, submitit, ray): the monitor
        # (a thread) stays in the main process
        state = dict(self.__dict__)
        state["_monitor"] = None
        return state

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:

        last_sweep.clear()
        root = sweep_root_of(config)
        try:
            # before anything is written: one live sweep per folder
            self._owner = claim_sweep(root, wait=self.lock_wait)
        except SweepBusy as e:
            print(f"corridor: {e.message}", file=sys.stderr)
            raise
        self._root = root
        last_sweep["root"] = str(self._root)
        state = SweepState(self._root)
        try:
            jobs = plan_jobs(config)
        except Exception as e:  # noqa: BLE001 - Hydra reports a bad sweep itself, right after
            log.debug("could not plan the sweep: %s", e)
            jobs = None
        state.write_plan(jobs)
        state.clear_events()
        if self.validate == "groups":
            _install_group_validation()
        if self.progress_seconds > 0:
            self._monitor = ProgressMonitor(
                state, None if jobs is None else len(jobs), self.progress_seconds
            )
            self._monitor.log.info(
                "%s jobs into %s", "?" if jobs is None else len(jobs), self._root
            )
            self._monitor.start()

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        """In the process that runs the job: hold the folder's jobs lock while it runs; stop
        this process if the sweep is over, or when its main process ends
        (:func:`sim.studies.sweep.enter_job`)."""
        if self._owner is None:  # a single run, or a launcher that skipped the multirun start
            return

        job = OmegaConf.select(config, "hydra.job.num", default=None)
        enter_job(self._owner, None if job is None else str(job), watchdog=self.watchdog)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        """Release the job's lock; drop the two copies of the job's whole config Hydra puts in
        its JobReturn.

        The main process of a sweep keeps every job's JobReturn until the sweep (or the batch)
        ends, and launchers pickle them back to it; nothing reads these configs after the job
        (the job's own folder has them), so thousands of jobs would only fill the memory.
        """

        if self._owner is not None:

            leave_job()
        if OmegaConf.select(config, "hydra.mode") == RunMode.MULTIRUN:
            job_return.cfg = None
            job_return.hydra_cfg = None

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:

        root = self._root or sweep_root_of(config)
        try:
            self._end(root)
        finally:
            release_sweep(root)  # after gathering: the folder is free for the next sweep

    def _end(self, root: Path) -> None:

        counts = self._monitor.stop() if self._monitor else SweepState(root).count_events()
        last_sweep.update(counts, root=str(root))
        if not self.gather:
            return

        g = gather(root, daily=self.daily)
        last_sweep["failed"] = g.counts.get("failed", 0)
        msg = f"gathered {g.line()} into " + ", ".join(p.name for p in g.files) + f" in {root}"
        _progress_logger().info(msg)
        if last_sweep["failed"]:
            _progress_logger().info(
                "%d jobs failed: see the status, error and traceback columns of runs.parquet; "
                "run the same command again to retry them (complete runs are skipped)",
                last_sweep["failed"],
            )


class SensitivityCallback(Callback):
    """A sensitivity sweep (``experiment=sensitivity``; :mod:`sim.studies.sensitivity`).

    When the multirun starts, writes the design into ``<sweep>/sensitivity/`` (a design the
    folder already holds is kept: it is what the jobs' rows index); when it ends, analyses the
    complete rows and writes the report. Its settings are the analysis (method, n, parameters
    with ranges, outputs, ...), declared in ``configs/experiment/sensitivity.yaml``.
    """

    def __init__(self, **settings: Any) -> None:

        self.spec = spec_from(settings)

    def _active(self, config: DictConfig) -> bool:

        task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
        return any(str(o).lstrip("+").startswith(f"{DESIGN_SECTION}.row=") for o in task)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:

        if not self._active(config):
            log.warning(
                "experiment=sensitivity without +sensitivity.row=...: no design rows are swept "
                "(use corridor-sensitivity)"
            )
            return
        root = sweep_root_of(config)
        if folder_spec(root) is None:
            write_design(root, self.spec)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:

        root = sweep_root_of(config)
        spec = folder_spec(root)
        if not self._active(config) or spec is None:
            return
        a = analyze(root, spec)
        files = write_report(root, a)
        _progress_logger().info(
            "sensitivity: %d/%d rows complete, analysed N = %d; report %s",
            a.rows_complete,
            spec.rows,
            a.n_used,
            files[-1],
        )
