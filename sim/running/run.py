"""Run one simulation to the end and write its results folder.

This is the library's front door and it does not import Hydra: :func:`run` takes a plain
:class:`sim.model.config.Config` (from :func:`sim.running.compose.compose`, from :func:`load_config` on a
dict, or from a results folder's ``config.yaml``) and works the same from a notebook, a test,
a script or the command line (``sim.running.cli``)::

    from sim.running.compose import compose
    from sim.running.labels import Labels
    from sim.running.run import run, format_summary
    cfg = compose(["population.size=20000"])
    result = run(cfg, out_dir=Path("results/mine"))
    print(format_summary(result.summary, result.meta, Labels.of(cfg)))

A results folder (``docs/outputs.md`` describes every file, column and key)::

    daily.parquet   the daily table, one row per simulated day
    daily.csv       the same table as CSV (if ``output.csv``)
    summary.json    run totals (sim.model.recorder.summarize)
    config.yaml     the resolved config; load_config(yaml.safe_load(...)) runs it again
    run.json        provenance: seed, code version, git revision, library versions, timing
    figures/*.png   figures for readers (if ``output.figures``; see sim.running.figures)

Results are never half-written: everything is written into a hidden staging folder inside
``out_dir`` and moved into place only when all of it exists, ``summary.json`` last. A folder
that already holds results is refused (:class:`ResultsExistError`) before the run starts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from sim.model.config import Config, load_config, to_dict
from sim.model.model import MigrationModel
from sim.model.recorder import summarize
from sim.running.compose import compose
from sim.running.labels import Labels
from sim.running.paths import RESULT_FILES, ResultsExistError, check_out_dir  # noqa: F401  (part of this module's API)

if TYPE_CHECKING:  # pandas is imported with the model, when a run starts
    import pandas as pd

log = logging.getLogger(__name__)

# every name a results folder may hold; a folder holding any of them is not written to again
STAGING_PREFIX = ".partial-"


@dataclass
class RunResult:
    """What one run produced.

    Attributes:
        daily: the daily table (one row per day; columns in ``docs/outputs.md``).
        summary: run totals (the content of ``summary.json``).
        meta: provenance (the content of ``run.json``).
        out_dir: the results folder, or ``None`` if nothing was written.
        files: the files written, relative to ``out_dir``.
    """

    daily: pd.DataFrame
    summary: dict[str, Any]
    meta: dict[str, Any]
    out_dir: Path | None = None
    files: list[str] = field(default_factory=list)


def default_config(overrides: list[str] | None = None) -> Config:
    """The default run (``configs/config.yaml``), with Hydra-style overrides.

    Composing the YAML files needs Hydra's compose API, which is imported only when this is
    called; :func:`run` itself never needs Hydra.
    """

    return compose(overrides)


# --------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------


def run(cfg: Config | dict, out_dir: Path | str | None = None, progress: bool = False) -> RunResult:
    """Build the model, step it to the end of the window and (if ``out_dir``) write results.

    Args:
        cfg: the run's config (a :class:`Config`, or a nested dict checked by ``load_config``).
        out_dir: the results folder; ``None`` writes nothing. It may exist (Hydra creates its
            run folder first) but must not already hold results.
        progress: show a progress bar on a terminal (never when stderr is not a terminal).

    Returns:
        the :class:`RunResult`.

    Raises:
        sim.model.config.ConfigError: the config is wrong (before any day is simulated).
        ResultsExistError: ``out_dir`` already holds results (before any day is simulated).
    """
    return run_checked(load_config(cfg), out_dir, progress)


def run_checked(
    cfg: Config, out_dir: Path | str | None = None, progress: bool = False
) -> RunResult:
    """:func:`run` for a config that :func:`sim.model.config.load_config` returned, not checked again
    (the command line and sweeps check each config once, before the run)."""


    out = Path(out_dir).resolve() if out_dir is not None else None
    if out is not None:
        check_out_dir(out)

    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    model = MigrationModel(cfg)
    with (
        logging_redirect_tqdm(),
        tqdm(
            total=cfg.n_days,
            unit="day",
            desc="corridor",
            disable=None if progress else True,
            leave=False,
        ) as bar,
    ):
        model.run(progress=lambda: bar.update(1))
    daily = model.recorder.frame()
    summary = summarize(daily, list(model.world.segment_ids))
    meta = provenance(cfg, started, time.perf_counter() - t0)
    result = RunResult(daily=daily, summary=summary, meta=meta)
    del model
    if out is not None:
        result.files = write_results(out, cfg, daily, summary, meta)
        result.out_dir = out
    return result


# --------------------------------------------------------------------------------------
# provenance
# --------------------------------------------------------------------------------------


# how long one reading of the checkout's git state is reused in a process: the jobs of a sweep
# (many per second in one worker) ask git once a minute, a notebook rerun later asks again
GIT_STATE_SECONDS = 60.0
_git_state: dict[Path, tuple[float, dict[str, Any]]] = {}


def git_revision(where: Path | None = None) -> dict[str, Any]:
    """``{"revision": sha, "dirty": bool}`` of the checkout the code runs from.

    ``revision`` is ``"unknown"`` (and ``dirty`` ``None``) when the code is not in a git
    checkout or git is not installed. ``dirty`` counts uncommitted and untracked files.

    Asking git costs two processes (~10 ms); a process reuses its answer for
    ``GIT_STATE_SECONDS``, so a sweep's jobs do not ask it again for every run.
    """
    where = where or Path(__file__).resolve().parent
    now = time.monotonic()
    hit = _git_state.get(where)
    if hit is not None and now - hit[0] < GIT_STATE_SECONDS:
        return dict(hit[1])
    state = _ask_git(where)
    _git_state[where] = (now, state)
    return dict(state)


def _ask_git(where: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=where, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        rev = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return {"revision": "unknown", "dirty": None}
    return {"revision": rev, "dirty": dirty}


@cache
def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _command() -> str:
    """The command line that started this process (``python -m sim ...`` for the module)."""
    if not sys.argv or not sys.argv[0]:
        return ""
    name = Path(sys.argv[0]).name
    name = "python -m sim" if name == "__main__.py" else name
    return " ".join([name, *sys.argv[1:]])


def provenance(cfg: Config, started: dt.datetime, wall_seconds: float) -> dict[str, Any]:
    """The content of ``run.json``: what ran, from which code, on what, and how long it took."""
    git = git_revision()
    return {
        "seed": cfg.run.seed,
        "scenario": cfg.scenario,
        "world": cfg.world.name,
        "run_start": cfg.run.start.isoformat(),
        "run_end": cfg.run.end.isoformat(),
        "days": cfg.n_days,
        "population_size": cfg.population.size,
        "population_pool": cfg.population.pool,
        "corridor_version": _version("corridor"),
        "git_revision": git["revision"],
        "git_dirty": git["dirty"],
        "python": platform.python_version(),
        "mesa": _version("mesa"),
        "numpy": _version("numpy"),
        "pandas": _version("pandas"),
        "platform": platform.platform(),
        "command": _command(),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(wall_seconds, 3),
    }


# --------------------------------------------------------------------------------------
# writing, all or nothing
# --------------------------------------------------------------------------------------


def write_results(
    out_dir: Path, cfg: Config, daily: pd.DataFrame, summary: dict[str, Any], meta: dict[str, Any]
) -> list[str]:
    """Write a results folder all or nothing; return the files written (relative paths).

    Every file is first written into a staging folder inside ``out_dir`` (same file system),
    then moved into place with ``os.replace``, ``summary.json`` last, so a folder with a
    ``summary.json`` is complete. On any error the staging folder is removed, and so is
    ``out_dir`` if this call created it and it is still empty.
    """
    check_out_dir(out_dir)
    log.info("writing results to %s", out_dir)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
    try:
        writers: list[tuple[str, Callable[[Path], None]]] = [
            ("daily.parquet", lambda p: daily.to_parquet(p, index=False)),
        ]
        if cfg.output.csv:
            writers.append(("daily.csv", lambda p: daily.to_csv(p, index=False)))
        writers += [
            ("config.yaml", lambda p: p.write_text(config_yaml(cfg), encoding="utf-8")),
            ("run.json", lambda p: _write_json(p, meta)),
            ("summary.json", lambda p: _write_json(p, summary)),
        ]
        for name, write in writers:
            write(staging / name)
        files = [name for name, _ in writers]
        if cfg.output.figures:
            from sim.running.figures import write_figures

            (staging / "figures").mkdir()
            subtitle = (
                f"scenario {cfg.scenario}, seed {cfg.run.seed}, "
                f"{cfg.population.size:,} people in the pool who might leave"
            )
            route_origin = {r.id: r.origin for r in cfg.world.routes}
            pngs = write_figures(daily, staging / "figures", subtitle, route_origin, Labels.of(cfg))
            files[-1:-1] = [f"figures/{p.name}" for p in pngs]
        check_out_dir(out_dir)  # nobody wrote results there while we ran
        for name in files:  # summary.json is last: its presence marks a complete folder
            (out_dir / name).parent.mkdir(exist_ok=True)
            os.replace(staging / name, out_dir / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created and out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return files


def config_yaml(cfg: Config) -> str:
    """The resolved config as YAML (``config.yaml``): ``yaml.safe_dump``'s text, written by
    libyaml's emitter when PyYAML has it (the same text, ~4x faster than the Python one)."""

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(to_dict(cfg), Dumper=dumper, sort_keys=False, allow_unicode=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------
# the terminal summary
# --------------------------------------------------------------------------------------


# summary values that are not counts of people (not scaled from rows to real people)
RATIOS = frozenset({"days", "mean_attempts_per_person"})
# the distribution of attempts per person who tried, as printed: (label, column suffix)
TRIED_LABELS = (("1:", "1"), ("2:", "2"), ("3-5:", "3to5"), ("6-10:", "6to10"), ("11+:", "11plus"))

def _n(x: float) -> str:
    return f"{x:,.0f}"


def format_summary(
    summary: dict[str, Any], meta: dict[str, Any] | None = None, labels: Labels | None = None
) -> str:
    """The run's key numbers as a plain-text table for the terminal, in the words of the run's
    world (``labels``: ``Labels.of(cfg)``; neutral words if None)."""
    say = (labels or Labels()).say
    lines: list[str] = []
    size = (meta or {}).get("population_size", 0)
    pool = (meta or {}).get("population_pool", size)
    # the summary's counts are rows of the sample: in real people they are rows x pool/size
    per_row = pool / size if size and pool and size != pool else 1.0
    s = {k: (v * per_row if isinstance(v, int | float) and not isinstance(v, bool) and k not in RATIOS else v)
         for k, v in summary.items()}
    if meta:
        sample = (f"{_n(size)} people" if per_row == 1.0 else
                  f"{_n(size)} rows for a pool of {_n(pool)} people; counts below in real people")
        lines.append(
            f"Corridor run: scenario {meta.get('scenario', '?')}, seed {meta.get('seed', '?')}, "
            f"{meta.get('run_start', '?')} to {meta.get('run_end', '?')} "
            f"({s.get('days', '?')} days, {sample})"
        )
        lines.append("")

    rows = [
        (say("Arrivals in {city}"), s["arrivals"], ""),
        (say("People in {transit} at the peak"), s["peak_in_transit_country"], f"on {s['peak_in_transit_country_date']}"),
        (say("Person-days in {transit}"), s["person_days_in_transit_country"], ""),
        (
            say("Reached {destination}"),
            s["reached_destination"],
            f"caught and kept {_n(s['caught'])}, unseen {_n(s['got_through'])}"
            + (f", registered at crossing points {_n(s['applied'])}" if s.get("applied") else ""),
        ),
        ("Deaths at the border", s["deaths"], ""),
        *([("People who tried to cross", s["people_attempted"],
            f"{s['mean_attempts_per_person']:.1f} attempts each on average; by attempts made: "
            + ", ".join(f"{k} {_n(s[f'people_tried_{c}'])}" for k, c in TRIED_LABELS))]
          if s.get("people_attempted") else []),
        ("Repatriated (free flights)", s["repatriated"], ""),
        ("Went home on their own ticket", s["returned_own_ticket"], ""),
    ]
    money = [
        ("  to travel agencies", s["paid_agencies_usd"], "packages and detours via hubs"),
        ("    of which airline fares", s["paid_airlines_usd"], "paid on through the packages"),
        ("  to smugglers", s["paid_smugglers_usd"], ""),
        *([("  for visas bought outside the package", s["paid_visas_usd"], "")] if s.get("paid_visas_usd") else []),
        *([("  for legs to the border", s["paid_legs_usd"], "drivers, taxis, bicycles")] if s.get("paid_legs_usd") else []),
        *([("  for attempts across fences", s["paid_attempts_usd"], "ladders, cutters, guides")]
          if s.get("paid_attempts_usd") else []),
    ]
    width = max(len(r[0]) for r in rows + money)
    nw = max(len(_n(r[1])) for r in rows + money)
    for label, value, note in rows:
        lines.append(f"{label:<{width}}  {_n(value):>{nw}}  {note}".rstrip())

    segments = [k.removeprefix("attempts_") for k in s if k.startswith("attempts_")]
    if segments:
        cols = ("attempts", "turned_back", "caught", "got_through", "deaths") + (("applied",) if s.get("applied") else ())
        heads = ("attempts", "turned back", "caught, kept", "got through", "deaths", "registered")[:len(cols)]
        sw = max(len("Border segment"), *(len(g) for g in segments))
        cw = max(len(h) for h in heads)
        lines += ["", f"{'Border segment':<{sw}}" + "".join(f"  {h:>{cw}}" for h in heads)]
        for g in segments:
            lines.append(f"{g:<{sw}}" + "".join(f"  {_n(s[f'{c}_{g}']):>{cw}}" for c in cols))
        lines.append(f"{'all':<{sw}}" + "".join(f"  {_n(s[c]):>{cw}}" for c in cols))

    lines += ["", "Money paid by migrants (USD)"]
    for label, value, note in money:
        lines.append(f"{label:<{width}}  {_n(value):>{nw}}  {note}".rstrip())
    return "\n".join(lines)


# the regression baseline: the default scenario at this size, compared exactly by
# tests/test_regression.py and rewritten only by scripts/update_regression_baseline.py
REGRESSION_OVERRIDES = ["population.size=20000"]


def regression_table() -> Any:
    """The default scenario at 20,000 people, its integer columns summed by month (a pandas
    DataFrame indexed by month)."""


    model = MigrationModel(compose(REGRESSION_OVERRIDES))
    model.run()
    daily = model.recorder.frame()
    ints = [c for c in daily.columns if pd.api.types.is_integer_dtype(daily[c]) and c != "day"]
    out = daily[ints].groupby(daily["date"].str[:7]).sum()
    out.index.name = "month"
    return out
