"""Sweeps: what each job of a Hydra multirun does before and after its run, and the sweep folder.

``corridor -m key=a,b ...`` runs one job per combination through whichever Hydra launcher is
chosen (``hydra/launcher=joblib``, ``submitit_local``, ``submitit_slurm``, ``ray``). Every job,
on every launcher, enters :func:`run_sweep_job` (called by ``sim.cli``'s task function), which
makes a sweep safe to interrupt and to run again:

- **nothing redone**: the job's resolved config is hashed (:func:`config_hash`); a run with the
  same hash already complete in the sweep folder is not run again;
- **nothing lost**: a run that fails (a bad value, an exception, a ``sys.exit``) is recorded in
  the job's ``job.json`` (overrides, seed, error, traceback) and the sweep goes on;
- **progress**: each job drops a tiny event file that the main process counts
  (:mod:`sim.callbacks`), so progress is reported as whole log lines from one process.

The sweep folder (``hydra.sweep.dir``, or ``output.dir`` if set)::

    <root>/<job>/            one job: Hydra's .hydra/ and log, the results folder of the run
                             (docs/outputs.md), and job.json (this module's record)
    <root>/.corridor/plan.json            the sweep's jobs (written when the multirun starts)
    <root>/.corridor/done/<hash>.json     index of complete runs, for the skip check
    <root>/.corridor/events/              one empty file per job start/end (progress)
    <root>/runs.parquet, daily.parquet    the gathered tables (sim.sweep_gather)

A job whose numbered folder already holds a *different* complete run (the same folder reused for
a sweep with other overrides) writes its results to ``<job>-<hash[:8]>`` instead, so nothing is
overwritten. A job writes no figures unless the command line sets ``output.figures``
(:data:`SWEEP_DEFAULTS`).

This module imports only the standard library and :mod:`sim.config` at import time: a job that
is skipped never imports Mesa, pandas or the model.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gc
import hashlib
import json
import logging
import os
import socket
import sys
import time
import traceback
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.config import Config, ConfigError, load_config, set_dotted, to_dict

log = logging.getLogger("corridor.sweep")

STATE_DIR = ".corridor"
JOB_FILE = "job.json"
# keys left out of the config hash: they change what is written, not what is simulated
HASH_EXCLUDED = ("output",)
# a sensitivity design row (+sensitivity.row=K in a sensitivity sweep), removed before the model sees it
DESIGN_SECTION = "sensitivity"
# where a sweep's job differs from a single run unless the command line sets the key: figures
# (five PNGs, seconds per run and matplotlib in every worker) are for reading one run
SWEEP_DEFAULTS: dict[str, Any] = {"output.figures": False}

# runs a checked config into a results folder, returns the summary (sim.cli passes its own)
RunOne = Callable[[Config, Path], dict]


# --------------------------------------------------------------------------------------
# the config hash
# --------------------------------------------------------------------------------------


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def config_hash(cfg: Config | dict) -> str:
    """SHA-256 (hex) of the resolved, checked config, seed included, ``output.*`` left out.

    The config goes through :func:`sim.config.load_config` first, so two spellings of one value
    (``network_gain=5`` and ``5.0``, a date as text or as a date) hash alike. ``output.*`` (the
    folder, figures, CSV, progress bar) is left out: it does not change what is simulated.
    """
    return checked_hash(load_config(cfg))


def checked_hash(cfg: Config) -> str:
    """:func:`config_hash` of a config that :func:`sim.config.load_config` returned (a sweep's
    job checks its config once and hashes it without checking it again)."""
    plain = to_dict(cfg)
    for key in HASH_EXCLUDED:
        plain.pop(key, None)
    return hashlib.sha256(_canonical(plain).encode()).hexdigest()


def raw_hash(data: dict) -> str:
    """Hash of a config that does not load (so a failed job still has a key)."""
    plain = {k: v for k, v in data.items() if k not in HASH_EXCLUDED}
    return hashlib.sha256(_canonical(plain).encode()).hexdigest()


# --------------------------------------------------------------------------------------
# the job's config: Hydra's composition, plus a sensitivity design row
# --------------------------------------------------------------------------------------


DESIGN_FILE = "sensitivity/design.csv"  # in the sweep folder, written by the sensitivity callback


def job_data(composed: Any, hc: Any = None) -> dict:
    """The composed Hydra config as the plain dict the model checks.

    Removes Hydra's own keys and a ``sensitivity`` section (``+sensitivity.row=17``, added by a
    sensitivity sweep): the row's parameter values are set first (:func:`apply_design_row`),
    from ``sensitivity.design`` or, in a sweep, the sweep folder's ``sensitivity/design.csv``.
    """
    from omegaconf import OmegaConf

    data = (
        OmegaConf.to_container(composed, resolve=True)
        if not isinstance(composed, dict)
        else dict(composed)
    )
    data.pop("hydra", None)
    section = data.pop(DESIGN_SECTION, None)
    if section is None:
        return data
    if not isinstance(section, dict) or set(section) - {"row", "design"}:
        raise ConfigError(
            f"{DESIGN_SECTION}: only row and design may be set here (a design row of a sensitivity sweep)"
        )
    if section.get("row") is None:
        return data
    design = section.get("design")
    if not design:
        if hc is None:
            raise ConfigError(
                f"{DESIGN_SECTION}.row: set, but no design file: add +{DESIGN_SECTION}.design=PATH"
            )
        design = sweep_root(data, hc) / DESIGN_FILE
    apply_design_row(data, design, int(section["row"]))
    return data


_design_cache: dict[tuple[str, int], tuple[list[str], list[list[str]]]] = {}


def read_design(path: str | Path) -> tuple[list[str], list[list[str]]]:
    """A design file (CSV: a header of dotted config keys, one row per run), cached per process."""
    p = Path(path)
    try:
        key = (str(p.resolve()), p.stat().st_mtime_ns)
    except OSError as e:
        raise ConfigError(f"{DESIGN_SECTION}.design: cannot read {path}: {e}") from e
    if key not in _design_cache:
        with p.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        if not rows:
            raise ConfigError(f"{DESIGN_SECTION}.design: {path} is empty")
        _design_cache.clear()  # one design per sweep: keep only the latest
        _design_cache[key] = (rows[0], rows[1:])
    return _design_cache[key]


def schema_type(dotted: str) -> Any:
    """The schema type of a dotted config key (``intention.network_gain`` -> float), or None."""
    cls: Any = Config
    for part in dotted.split("."):
        if not dataclasses.is_dataclass(cls):
            return None
        hints = typing.get_type_hints(cls)
        if part not in hints:
            return None
        cls = hints[part]
    return cls


def apply_design_row(data: dict, design: str | Path, row: int) -> dict[str, Any]:
    """Set the values of design row ``row`` into ``data``; return them (key -> value).

    Whole-number keys of the schema (``int``) are rounded to the nearest integer, since a
    sampler draws reals.
    """
    header, rows = read_design(design)
    if not 0 <= row < len(rows):
        raise ConfigError(
            f"{DESIGN_SECTION}.row: {row} is outside the design ({len(rows)} rows in {design})"
        )
    values: dict[str, Any] = {}
    for key, text in zip(header, rows[row], strict=True):
        value: Any = float(text)
        if schema_type(key) is int:
            value = int(round(value))
        set_dotted(data, key, value)
        values[key] = value
    return values


# --------------------------------------------------------------------------------------
# the sweep folder
# --------------------------------------------------------------------------------------


def _write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class SweepState:
    """The bookkeeping folder of a sweep, ``<root>/.corridor``.

    Attributes:
        root: the sweep folder (absolute).
        dir: ``root/.corridor``.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(os.path.abspath(root))
        self.dir = self.root / STATE_DIR

    # -- the plan (written by the main process when the multirun starts)
    def write_plan(self, jobs: list[list[str]] | None) -> None:
        _write_json(
            self.dir / "plan.json",
            {
                "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "total": None if jobs is None else len(jobs),
                "jobs": jobs,
            },
        )

    def read_plan(self) -> dict | None:
        return read_json(self.dir / "plan.json")

    # -- the index of complete runs
    def mark_done(self, h: str, results: Path, record: dict) -> None:
        _write_json(
            self.dir / "done" / f"{h}.json",
            {
                "results": os.path.relpath(results, self.root),
                "job": record.get("job"),
                "overrides": record.get("overrides"),
            },
        )

    def lookup_done(self, h: str) -> Path | None:
        """The results folder of a complete run with hash ``h``, if the sweep has one."""
        entry = read_json(self.dir / "done" / f"{h}.json")
        if not entry:
            return None
        results = self.root / entry["results"]
        return results if is_complete(results, h) else None

    # -- progress events: one empty file per job start and end
    def event(self, kind: str, job: str) -> None:
        d = self.dir / "events"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{time.time_ns()}-{os.getpid()}-{job}.{kind}").touch()

    def clear_events(self) -> None:
        d = self.dir / "events"
        if d.is_dir():
            for p in d.iterdir():
                p.unlink(missing_ok=True)

    def count_events(self) -> dict[str, int]:
        counts = {"start": 0, "complete": 0, "skipped": 0, "failed": 0}
        try:
            names = os.listdir(self.dir / "events")
        except OSError:
            return counts
        for name in names:
            kind = name.rpartition(".")[2]
            if kind in counts:
                counts[kind] += 1
        return counts


def is_complete(folder: Path, h: str | None = None) -> bool:
    """``folder`` holds a complete results folder (``summary.json`` is written last), of the
    config with hash ``h`` if given."""
    if not (folder / "summary.json").is_file():
        return False
    if h is None:
        return True
    return results_hash(folder) == h


def results_hash(folder: Path) -> str | None:
    """The config hash of a results folder: from its ``job.json``, else from its ``config.yaml``."""
    rec = read_json(folder / JOB_FILE)
    if (
        rec
        and rec.get("config_hash")
        and not rec.get("reused_from")
        and rec.get("status") == "complete"
    ):
        return rec["config_hash"]
    cfg_file = folder / "config.yaml"
    if not cfg_file.is_file():
        return None
    import yaml

    try:
        return config_hash(yaml.safe_load(cfg_file.read_text(encoding="utf-8")))
    except (ConfigError, yaml.YAMLError, OSError):
        return None


def holds_results(folder: Path) -> bool:
    from sim.run import RESULT_FILES

    return folder.is_dir() and any((folder / n).exists() for n in RESULT_FILES)


# --------------------------------------------------------------------------------------
# one job of a sweep
# --------------------------------------------------------------------------------------


def sweep_root(data: dict, hc: Any) -> Path:
    """The sweep folder: ``output.dir`` if set, else ``hydra.sweep.dir`` (absolute)."""
    out = (data.get("output") or {}).get("dir") or ""
    return Path(os.path.abspath(out or str(hc.sweep.dir)))


def job_results_dir(data: dict, hc: Any) -> Path:
    """Where a job's results go: Hydra's job folder, or ``<output.dir>/<job number>``."""
    out = (data.get("output") or {}).get("dir") or ""
    if out:
        return Path(os.path.abspath(out)) / str(hc.job.num)
    return Path(hc.runtime.output_dir)


def apply_sweep_defaults(data: dict, overrides: list[str]) -> None:
    """Set :data:`SWEEP_DEFAULTS` in a job's config, except the keys its overrides set."""
    typed = {o.partition("=")[0].lstrip("+~") for o in overrides}
    for key, value in SWEEP_DEFAULTS.items():
        if key not in typed:
            set_dotted(data, key, value)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run_sweep_job(composed: Any, hc: Any, run_one: RunOne) -> dict[str, Any]:
    """Run one job of a sweep: skip it if complete, record it if it fails; never raise.

    Args:
        composed: the job's config as Hydra composed it (or a plain dict).
        hc: Hydra's config of this job (``HydraConfig.get()``).
        run_one: runs the checked config into a results folder and returns the summary;
            raises on any failure (``sim.cli`` passes its own run function).

    Returns:
        the run's summary (read back from ``summary.json`` when skipped), or
        ``{"status": "failed", "error": ...}``.
    """
    from omegaconf import OmegaConf

    design_error: ConfigError | None = None
    try:
        data = job_data(composed, hc)
    except ConfigError as e:  # a bad design row: recorded below as this job's failure
        design_error = e
        data = (
            OmegaConf.to_container(composed, resolve=True)
            if not isinstance(composed, dict)
            else dict(composed)
        )
        data.pop("hydra", None)
    state = SweepState(sweep_root(data, hc))
    out = job_results_dir(data, hc)
    overrides = [str(o) for o in hc.overrides.task]
    apply_sweep_defaults(data, overrides)
    record: dict[str, Any] = {
        "status": "running",
        "job": out.name,
        "job_num": int(hc.job.num),
        "overrides": overrides,
        "seed": (data.get("run") or {}).get("seed"),
        "config_hash": None,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": _now(),
    }
    t0 = time.perf_counter()
    state.event("start", out.name)
    try:
        if design_error is not None:
            raise design_error
        cfg = load_config(data)
    except ConfigError as e:
        record["config_hash"] = raw_hash(data)
        return _failed(state, out, record, e, t0)
    h = record["config_hash"] = checked_hash(cfg)
    record["seed"] = cfg.run.seed

    found = out if is_complete(out, h) else state.lookup_done(h)
    if found is not None:
        old = read_json(out / JOB_FILE) or {}
        if not (found == out and old.get("status") == "complete" and old.get("config_hash") == h):
            # no record of the run here yet (killed after its results were written, or the run
            # is another job's): write one; an existing complete record is left as it was
            record.update(status="complete", finished_at=_now(), skipped=True)
            if found != out:
                record["reused_from"] = os.path.relpath(found, state.root)
            out.mkdir(parents=True, exist_ok=True)
            _write_json(out / JOB_FILE, record)
        state.mark_done(h, found, record)
        state.event("skipped", out.name)
        log.info(
            "job %s: skipped, complete already in %s (config %s)", out.name, found.name, h[:12]
        )
        return read_json(found / "summary.json") or {}

    if holds_results(out):  # the folder holds another config's run: keep it, write beside it
        out = out.with_name(f"{out.name}-{h[:8]}")
        record["job"] = out.name
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / JOB_FILE, record)
    try:
        summary = run_one(cfg, out)
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - a job's failure (also sys.exit) is recorded, not raised
        return _failed(state, out, record, e, t0)
    record.update(
        status="complete", finished_at=_now(), wall_seconds=round(time.perf_counter() - t0, 3)
    )
    _write_json(out / JOB_FILE, record)
    state.mark_done(h, out, record)
    state.event("complete", out.name)
    log.info("job %s: complete in %.1f s (config %s)", out.name, time.perf_counter() - t0, h[:12])
    return summary


_modules_when_frozen = 0


def freeze_long_lived() -> None:
    """After a sweep job: keep what the process imported out of the garbage collector's way.

    A process that runs many jobs (a joblib or Ray worker, the basic launcher's) holds ~150,000
    long-lived objects (Hydra, Mesa, pandas, parsed configs), and every full collection walks
    them all: ~0.1 s, about once every two trivial jobs. When a job has imported new modules
    (the first run in the process), this collects once and freezes what survives
    (``gc.freeze``: later collections skip it); the job's garbage is collected first, so none
    of it is kept. Later jobs' garbage is collected as usual.
    """
    global _modules_when_frozen
    if len(sys.modules) - _modules_when_frozen < 20:
        return
    gc.collect()
    gc.freeze()
    _modules_when_frozen = len(sys.modules)


def _failed(
    state: SweepState, out: Path, record: dict, e: BaseException, t0: float
) -> dict[str, Any]:
    if isinstance(e, SystemExit):
        error = f"SystemExit: exit code {e.code} (the message is in the job's log)"
    else:
        error = f"{type(e).__name__}: {e}"
    record.update(
        status="failed",
        error=error,
        traceback="".join(traceback.format_exception(e)),
        finished_at=_now(),
        wall_seconds=round(time.perf_counter() - t0, 3),
    )
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / JOB_FILE, record)
    state.event("failed", out.name)
    log.error("job %s: failed: %s", out.name, error.splitlines()[0] if error else "")
    return {"status": "failed", "error": error}


# --------------------------------------------------------------------------------------
# the plan of a sweep (the jobs Hydra's basic sweeper will launch)
# --------------------------------------------------------------------------------------


def plan_jobs(config: Any) -> list[list[str]] | None:
    """The override lists of every job of a multirun, as Hydra's basic sweeper makes them.

    ``config`` is the multirun's config (with ``hydra``). Returns None for another sweeper
    (an optimiser decides its jobs as it goes).
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    target = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
    if not target.endswith("BasicSweeper"):
        return None
    params = OmegaConf.select(config, "hydra.sweeper.params", default=None) or {}
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    parsed = OverridesParser.create().parse_overrides(args)
    (jobs,) = BasicSweeper.split_arguments(parsed, None)
    return [list(j) for j in jobs]
