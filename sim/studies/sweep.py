"""Sweeps: what each job of a Hydra multirun does before and after its run, and the sweep folder.

``corridor -m key=a,b ...`` runs one job per combination through whichever Hydra launcher is
chosen (``hydra/launcher=joblib``, ``submitit_local``, ``submitit_slurm``, ``ray``). Every job,
on every launcher, enters :func:`run_sweep_job` (called by ``sim.running.cli``'s task function), which
makes a sweep safe to interrupt and to run again:

- **nothing redone**: the job's resolved config is hashed (:func:`config_hash`); a run with the
  same hash already complete in the sweep folder is not run again;
- **nothing lost**: a run that fails (a bad value, an exception, a ``sys.exit``) is recorded in
  the job's ``job.json`` (overrides, seed, error, traceback) and the sweep goes on;
- **progress**: each job drops a tiny event file that the main process counts
  (:mod:`sim.studies.callbacks`), so progress is reported as whole log lines from one process.

The sweep folder (``hydra.sweep.dir``, or ``output.dir`` if set)::

    <root>/<job>/            one job: Hydra's .hydra/ and log, the results folder of the run
                             (docs/outputs.md), and job.json (this module's record)
    <root>/.corridor/lock, owner.json     the live sweep of the folder (see below)
    <root>/.corridor/jobs.lock            held (shared) by every running job
    <root>/.corridor/plan.json            the sweep's jobs (written when the multirun starts)
    <root>/.corridor/done/<hash>.json     index of complete runs, for the skip check
    <root>/.corridor/events/              one empty file per job start/end (progress)
    <root>/runs.parquet, daily.parquet    the gathered tables (sim.studies.gather)

**One live sweep per folder** (:func:`claim_sweep`): the sweep's main process holds an
exclusive ``flock`` on ``.corridor/lock`` while it runs (the kernel releases it however the
process ends) and every job holds ``.corridor/jobs.lock`` shared while it runs
(:func:`enter_job`). A second sweep of the folder refuses (exit 2, naming the live process)
while either is held, before it writes anything; it waits a few seconds for the jobs of a
sweep whose main process was killed. Those jobs do not outlive it: a worker on the same host
stops within a quarter of a second of its main process ending (:func:`watch_owner`, also
mid-job: its results folder is written all or nothing), and a job whose sweep is over never
starts. So a killed sweep leaves only complete runs (kept, skipped by the next sweep) and
unfinished ones (run again).

A job whose numbered folder already holds a *different* complete run (the same folder reused for
a sweep with other overrides) writes its results to ``<job>-<hash[:8]>`` instead, so nothing is
overwritten. A job writes no figures unless the command line sets ``output.figures``
(:data:`SWEEP_DEFAULTS`).

This module imports only the standard library and :mod:`sim.model.config` at import time: a job that
is skipped never imports Mesa, pandas or the model.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import hashlib
import json
import logging
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from sim.model.config import (
    Config,
    ConfigError,
    check_number,
    load_config,
    sampled_value,
    schema_type,  # noqa: F401  (part of this module's API: the sweeps' whole-number keys)
    set_dotted,
    to_dict,
)
from sim.running.paths import RESULT_FILES

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

# runs a checked config into a results folder, returns the summary (sim.running.cli passes its own)
RunOne = Callable[[Config, Path], dict]


# --------------------------------------------------------------------------------------
# the config hash
# --------------------------------------------------------------------------------------


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def config_hash(cfg: Config | dict) -> str:
    """SHA-256 (hex) of the resolved, checked config, seed included, ``output.*`` left out.

    The config goes through :func:`sim.model.config.load_config` first, so two spellings of one value
    (``network_gain=5`` and ``5.0``, a date as text or as a date) hash alike. ``output.*`` (the
    folder, figures, CSV, progress bar) is left out: it does not change what is simulated.
    """
    return checked_hash(load_config(cfg))


def checked_hash(cfg: Config) -> str:
    """:func:`config_hash` of a config that :func:`sim.model.config.load_config` returned (a sweep's
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
        value = sampled_value(key, check_number(text, f"{design}: row {row}: {key}", text=True))  # finite, or refused
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

    try:
        return config_hash(yaml.safe_load(cfg_file.read_text(encoding="utf-8")))
    except (ConfigError, yaml.YAMLError, OSError):
        return None


def holds_results(folder: Path) -> bool:

    return folder.is_dir() and any((folder / n).exists() for n in RESULT_FILES)


# --------------------------------------------------------------------------------------
# one live sweep per folder: the lock, and jobs that stop when their sweep is gone
# --------------------------------------------------------------------------------------

LOCK_FILE = "lock"  # <root>/.corridor/lock: held (exclusive) by the sweep's main process
JOBS_LOCK_FILE = "jobs.lock"  # <root>/.corridor/jobs.lock: held (shared) by each running job
OWNER_FILE = "owner.json"  # who holds the lock: pid, process start, host, token, command
WATCH_SECONDS = 0.25  # how often a worker checks that its sweep's main process is alive
LOCK_WAIT_SECONDS = 10.0  # how long a new sweep waits for the jobs of a killed one to stop
EXIT_STOPPED = 3  # a worker that stops because its sweep is gone

try:
    import fcntl
except ImportError:  # not POSIX: sweeps are not guarded
    fcntl = None  # type: ignore[assignment]

_PROC = os.path.isdir("/proc/self")


class SweepBusy(SystemExit):
    """The sweep folder is in use by a live sweep (or by jobs of a killed one): exit code 2.

    ``message`` says which folder and which processes; :class:`sim.studies.callbacks.SweepCallback`
    prints it before anything is written to the folder.
    """

    reported = True  # the message is printed already

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot; None without /proc): with the
    pid, it names one process even when pids are reused."""
    fields = _proc_stat(pid) if _PROC else None
    return int(fields[19]) if fields else None


def process_alive(pid: int, start: int | None = None) -> bool:
    """Process ``pid`` runs (not a zombie), and is the one that started at ``start`` if given."""
    if _PROC:
        fields = _proc_stat(pid)
        if fields is None or fields[0] in ("Z", "X", "x"):
            return False
        return start is None or int(fields[19]) == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_holders(path: Path) -> list[int]:
    """Pids holding an flock on ``path`` (from /proc/locks; empty where there is none)."""
    try:
        ino = str(os.stat(path).st_ino)
        text = Path("/proc/locks").read_text()
    except OSError:
        return []
    pids = set()
    for line in text.splitlines():
        parts = line.split()
        # "12: FLOCK  ADVISORY  READ  4242 00:2f:1312 0 EOF"; waiters are marked "->"
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == ino:
            if parts[4].isdigit():
                pids.add(int(parts[4]))
    pids.discard(os.getpid())
    return sorted(pids)


def _flock_within(fd: int, op: int, seconds: float) -> bool:
    """Take ``op`` (an flock operation) on ``fd``, trying for up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, op | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def _program() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return "python -m sim" if name == "__main__.py" else name


# folders whose lock this process holds: str(root) -> (fd of the lock file, owner record)
_held: dict[str, tuple[int, dict[str, Any]]] = {}


def _busy_message(root: Path, owner: dict | None) -> str:
    lock = root / STATE_DIR / LOCK_FILE
    if owner and owner.get("pid") and owner.get("host") == socket.gethostname():
        if process_alive(int(owner["pid"]), owner.get("start")):
            return (
                f"the sweep folder {root} is in use by a live sweep: process {owner['pid']} "
                f"on {owner['host']}, started {owner.get('started_at')} "
                f"({owner.get('command') or '?'}). Wait for it to end or stop it "
                f"(kill {owner['pid']}; its workers stop with it), then run the command again; "
                "nothing was written"
            )
    if owner and owner.get("host") and owner.get("host") != socket.gethostname():
        return (
            f"the sweep folder {root} is in use by a live sweep: process {owner.get('pid')} on "
            f"host {owner['host']}, started {owner.get('started_at')}. Wait for it to end or "
            "stop it, then run the command again; nothing was written"
        )
    holders = ", ".join(map(str, lock_holders(lock))) or "?"
    return (
        f"the sweep folder {root} is in use by another corridor process (process {holders} "
        f"holds {lock}). Wait for it to end or stop it, then run the command again; "
        "nothing was written"
    )


def claim_sweep(root: Path | str, wait: float = LOCK_WAIT_SECONDS) -> dict[str, Any]:
    """Make this process the one live sweep of the folder ``root``; return its owner record.

    Called by the sweep's main process before anything is written to the folder
    (:meth:`sim.studies.callbacks.SweepCallback.on_multirun_start`). It takes an exclusive ``flock`` on
    ``<root>/.corridor/lock``, held until :func:`release_sweep` or until the process ends (the
    kernel releases it however the process dies, also on SIGKILL). Then it waits up to ``wait``
    seconds for jobs still running from an earlier sweep of the folder whose main process is
    gone (each job holds ``jobs.lock`` shared while it runs, :func:`enter_job`; corridor's
    workers stop within a second of their main process, :func:`watch_owner`), and records
    itself in ``owner.json`` (pid, process start, host, a fresh token, command).

    Raises:
        SweepBusy: another live sweep holds the folder, or jobs of a killed sweep are still
            running after ``wait`` seconds; the message names the folder and the processes.
    """
    root = Path(os.path.abspath(root))
    key = str(root)
    if key in _held:  # this process runs the folder's sweep already (several multiruns)
        return _held[key][1]
    owner: dict[str, Any] = {
        "root": key,
        "pid": os.getpid(),
        "start": process_start(os.getpid()),
        "host": socket.gethostname(),
        "token": os.urandom(8).hex(),
        "started_at": _now(),
        "command": " ".join([_program(), *sys.argv[1:]]),
    }
    if fcntl is None:
        return owner
    d = root / STATE_DIR
    d.mkdir(parents=True, exist_ok=True)  # a refusal finds both there already: writes nothing
    fd = os.open(d / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepBusy(_busy_message(root, read_json(d / OWNER_FILE))) from None
        except OSError as e:  # a file system without locks (some cluster ones)
            log.warning("%s: no file locks here (%s): nothing keeps a second sweep out", d, e)
            os.close(fd)
            _write_json(d / OWNER_FILE, owner)
            return owner
        jobs = os.open(d / JOBS_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _flock_within(jobs, fcntl.LOCK_EX, 0):
                stale = lock_holders(d / JOBS_LOCK_FILE)
                log.warning(
                    "waiting up to %g s for jobs of an earlier sweep of %s to stop (process %s)",
                    wait,
                    root,
                    ", ".join(map(str, stale)) or "?",
                )
                if not _flock_within(jobs, fcntl.LOCK_EX, wait):
                    stale = lock_holders(d / JOBS_LOCK_FILE)
                    pids = ", ".join(map(str, stale)) or "? (on another host)"
                    stop = f" (kill {' '.join(map(str, stale))})" if stale else ""
                    raise SweepBusy(
                        f"the sweep folder {root} still has jobs running of a sweep whose main "
                        f"process is gone: process {pids} (waited {wait:g} s for them to stop). "
                        f"Wait for them or stop them{stop}, then run the command again; "
                        "nothing was written"
                    )
            # holding both locks: no job of another sweep is running or can start here
            _write_json(d / OWNER_FILE, owner)
        finally:
            os.close(jobs)  # this sweep's jobs take it shared
    except BaseException:
        os.close(fd)
        raise
    _held[key] = (fd, owner)
    return owner


def release_sweep(root: Path | str) -> None:
    """Release the folder's lock taken by :func:`claim_sweep` (after the sweep is gathered)."""
    held = _held.pop(str(Path(os.path.abspath(root))), None)
    if held is not None:
        os.close(held[0])


# in a process that runs jobs: the lock of the running job, and the watched main process
_job_lock: int | None = None
_watch: dict[str, Any] = {"owner": None, "in_job": False, "thread": None}


def owner_gone(owner: dict[str, Any], check_pid: bool = True) -> str | None:
    """Why the sweep ``owner`` (:func:`claim_sweep`'s record) is over, or None if it is not:
    another sweep took its folder over, or (``check_pid``) its main process, on this host, is
    gone."""
    current = read_json(Path(owner["root"]) / STATE_DIR / OWNER_FILE) or {}
    if current.get("token") and current["token"] != owner["token"]:
        return f"another sweep (process {current.get('pid')}) took over {owner['root']}"
    if (
        check_pid
        and owner.get("host") == socket.gethostname()
        and not process_alive(int(owner["pid"]), owner.get("start"))
    ):
        return f"the sweep's main process {owner['pid']} is gone"
    return None


def _stop(reason: str, job: str | None) -> None:
    """End this worker process at once (its sweep is over)."""
    if job is not None:
        left = f"job {job} left unfinished (the same command again runs it)"
        sys.stderr.write(f"corridor sweep: {reason}: worker {os.getpid()} stops, {left}\n")
        sys.stderr.flush()
    os._exit(EXIT_STOPPED)


def _watch_loop() -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        owner = _watch["owner"]
        if owner is not None and not process_alive(int(owner["pid"]), owner.get("start")):
            job = _watch.get("job") if _watch["in_job"] else None
            _stop(f"the sweep's main process {owner['pid']} is gone", job)


def descends_from(pid: int) -> bool:
    """This process is a descendant of process ``pid`` (its parent without /proc)."""
    if not _PROC:
        return os.getppid() == pid
    p = os.getpid()
    for _ in range(256):
        fields = _proc_stat(p)
        if fields is None:
            return False
        p = int(fields[1])
        if p == pid:
            return True
        if p <= 1:
            return False
    return False


def watch_owner(owner: dict[str, Any]) -> None:
    """In a worker process the sweep's main process started (joblib's workers, submitit_local's
    jobs, a local Ray's workers): stop this process (``os._exit``) within
    :data:`WATCH_SECONDS` of the main process ending, however it ended (SIGTERM, SIGKILL, a
    crash), also in the middle of a job. One daemon thread per process. Processes that are
    not its descendants (a running Ray cluster's, SLURM's) are left alone: their jobs still
    hold the jobs lock while they run, and start no job once their sweep is over."""
    pid = int(owner["pid"])
    if owner.get("host") != socket.gethostname() or pid == os.getpid():
        return
    if _watch["owner"] is None or _watch["owner"]["pid"] != pid:
        if not descends_from(pid):
            return
    _watch["owner"] = owner
    if _watch["thread"] is None or not _watch["thread"].is_alive():

        _watch["thread"] = threading.Thread(
            target=_watch_loop, name="corridor-sweep-watchdog", daemon=True
        )
        _watch["thread"].start()


def enter_job(owner: dict[str, Any], job: str | None = None, watchdog: bool = True) -> None:
    """Before a job of the sweep ``owner`` runs (in the process that runs it).

    Takes ``jobs.lock`` shared for the job (a new sweep of the folder waits for it, and cannot
    take the folder over while it is held); then, if the sweep is over (:func:`owner_gone`: its
    main process died, or another sweep has the folder), ends this process before the job
    writes anything; else starts :func:`watch_owner`. With ``watchdog`` false only the lock
    and the takeover are checked (for hosts where a pid of the main process means nothing
    to the workers, e.g. containers sharing a host name): a worker whose main process dies
    then runs on until a new sweep of the folder takes over, which waits for its running job.
    """
    leave_job()
    if fcntl is None or int(owner["pid"]) == os.getpid():  # no locks, or the job runs in the
        return  # sweep's main process (the basic launcher), which holds the folder's lock
    global _job_lock
    path = Path(owner["root"]) / STATE_DIR / JOBS_LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # the folder is gone or read-only: nothing to guard
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # a new sweep holds it exclusive only while it takes over
        _job_lock = fd
    except OSError:  # a file system without locks
        os.close(fd)
    reason = owner_gone(owner, check_pid=watchdog)
    if reason is not None:
        _stop(reason, job)
    _watch.update(in_job=True, job=job)
    if watchdog:
        watch_owner(owner)


def leave_job() -> None:
    """After a job: release its ``jobs.lock`` (the watchdog goes on while the process lives)."""
    global _job_lock
    _watch["in_job"] = False
    if _job_lock is not None:
        os.close(_job_lock)
        _job_lock = None


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
            raises on any failure (``sim.running.cli`` passes its own run function).

    Returns:
        the run's summary (read back from ``summary.json`` when skipped), or
        ``{"status": "failed", "error": ...}``.
    """

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

    target = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
    if not target.endswith("BasicSweeper"):
        return None
    params = OmegaConf.select(config, "hydra.sweeper.params", default=None) or {}
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    parsed = OverridesParser.create().parse_overrides(args)
    (jobs,) = BasicSweeper.split_arguments(parsed, None)
    return [list(j) for j in jobs]
