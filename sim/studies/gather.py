"""Gather a sweep folder into two tables: ``runs.parquet`` and ``daily.parquet``.

Runs when a multirun ends (the Hydra callback in :mod:`sim.studies.callbacks`) and on demand, for a
sweep still running, interrupted or killed::

    corridor-gather results/multirun/2026-11-23/10-00-00-000000
    corridor-gather <sweep folder> --no-daily          # the runs table only

``runs.parquet``: one row per job of the sweep, with

- ``job`` (its folder), ``job_num``, ``status`` (``complete``, ``failed``, ``incomplete`` =
  started but no result: still running or killed, ``pending`` = planned, never started),
- ``config_hash`` (:func:`sim.studies.sweep.config_hash`), ``seed``, ``overrides`` (as typed),
- one column per overridden key (``run.seed``, ``levers.x.when.start``; numbers where every
  value is a number),
- every key of the run's ``summary.json`` (``got_through``, ``peak_in_transit_country``, ...),
- from ``run.json``: ``scenario``, ``population_size``, ``wall_seconds``, ``git_revision``,
  ``git_dirty``; ``reused_from`` (a job whose config had already run elsewhere in the folder),
- for failed jobs: ``error`` and ``traceback``.

``daily.parquet``: the daily tables of every complete run (``docs/outputs.md``), one block of
rows per config hash, with ``config_hash`` and ``job`` first.

Both files are written fresh each time (to a temporary name, then moved into place), so
gathering again never duplicates a row. A job folder seen twice with the same overrides (a
sweep run again into the same folder with jobs renumbered) counts once.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.studies.sweep import JOB_FILE, STATE_DIR, SweepState, read_json, results_hash

STATUS_ORDER = {"complete": 0, "failed": 1, "incomplete": 2, "pending": 3}
RUN_META = ("scenario", "population_size", "wall_seconds", "git_revision", "git_dirty")
_OV = "\x00override:"  # a temporary prefix: override columns before they get their names
FIRST_COLUMNS = ["job", "job_num", "status", "config_hash", "seed", "overrides"]


@dataclass
class Gathered:
    """What :func:`gather` wrote.

    Attributes:
        root: the sweep folder.
        runs: the runs table (pandas DataFrame), as written to ``runs.parquet``.
        counts: jobs per status.
        daily_rows: rows written to ``daily.parquet`` (0 if not gathered).
        files: paths written.
    """

    root: Path
    runs: Any
    counts: dict[str, int]
    daily_rows: int = 0
    files: list[Path] = field(default_factory=list)

    def line(self) -> str:
        parts = [
            f"{n} {s}"
            for s, n in sorted(self.counts.items(), key=lambda kv: STATUS_ORDER[kv[0]])
            if n
        ]
        return f"{len(self.runs)} jobs ({', '.join(parts) or 'none'})"


def _job_folders(root: Path) -> list[Path]:
    """Folders of jobs: immediate sub-folders with a job record, Hydra's .hydra or results."""
    out = []
    for d in root.iterdir():
        if not d.is_dir() or d.name.startswith(".") or d.name == STATE_DIR:
            continue
        if (d / JOB_FILE).is_file() or (d / ".hydra").is_dir() or (d / "summary.json").is_file():
            out.append(d)
    return out


def _hydra_overrides(d: Path) -> list[str] | None:
    p = d / ".hydra" / "overrides.yaml"
    if not p.is_file():
        return None

    try:
        return [str(o) for o in (yaml.safe_load(p.read_text(encoding="utf-8")) or [])]
    except yaml.YAMLError:
        return None


def _job_record(root: Path, d: Path) -> dict[str, Any]:
    """One job folder as a record: its job.json, corrected by what the folder holds."""
    rec = dict(read_json(d / JOB_FILE) or {})
    rec.setdefault("job", d.name)
    if rec.get("overrides") is None:
        rec["overrides"] = _hydra_overrides(d) or []
    if rec.get("job_num") is None:
        head = d.name.split("-")[0]
        rec["job_num"] = int(head) if head.isdigit() else None
    results = root / rec["reused_from"] if rec.get("reused_from") else d
    if (results / "summary.json").is_file():
        # complete, also when the job was killed after its results were written but before its
        # record was: the results folder is written all or nothing, summary.json last
        if rec.get("status") != "complete" or not rec.get("config_hash"):
            rec["config_hash"] = results_hash(results) or rec.get("config_hash")
        rec["status"] = "complete"
        rec["_results"] = results
    elif rec.get("status") not in ("failed",):
        rec["status"] = "incomplete"
    return rec


def _override_columns(overrides: list[str]) -> dict[str, str]:
    cols = {}
    for o in overrides:
        key, sep, value = o.partition("=")
        if not sep:
            continue
        cols[key.lstrip("+~").split("@")[0]] = value
    return cols


def collect(root: Path | str) -> list[dict[str, Any]]:
    """Every job of the sweep folder, one record each (no files written)."""
    root = Path(os.path.abspath(root))
    planned = [list(ov) for ov in (SweepState(root).read_plan() or {}).get("jobs") or []]
    records = [_job_record(root, d) for d in _job_folders(root)]
    for rec in records:
        # a folder caught between its creation and its first record (killed, or still starting)
        # says nothing of its overrides: its number places it in the plan
        n = rec.get("job_num")
        if not rec["overrides"] and n is not None and 0 <= n < len(planned):
            rec["overrides"] = planned[n]
    # one record per set of overrides: the best status, then own results, then the first folder
    best: dict[tuple[str, ...], dict[str, Any]] = {}
    for rec in sorted(
        records,
        key=lambda r: (
            STATUS_ORDER[r["status"]],
            bool(r.get("reused_from")),
            r.get("job_num") or 0,
            r["job"],
        ),
    ):
        best.setdefault(tuple(rec["overrides"]), rec)
    for i, ov in enumerate(planned):
        if tuple(ov) not in best:
            best[tuple(ov)] = {
                "job": None,
                "job_num": i,
                "status": "pending",
                "overrides": list(ov),
            }
    return sorted(
        best.values(),
        key=lambda r: (r.get("job_num") is None, r.get("job_num") or 0, r["job"] or ""),
    )


def _numeric_or_text(col: Any) -> Any:

    present = col.dropna()
    if len(present) == 0:
        return col
    num = pd.to_numeric(present, errors="coerce")
    if num.notna().all():
        return pd.to_numeric(col, errors="coerce")
    return col.astype("string")


def runs_table(records: list[dict[str, Any]]) -> Any:
    """The runs table (a pandas DataFrame) from :func:`collect`'s records."""

    rows = []
    override_keys: list[str] = []
    for rec in records:
        row: dict[str, Any] = {
            "job": rec.get("job"),
            "job_num": rec.get("job_num"),
            "status": rec["status"],
            "config_hash": rec.get("config_hash"),
            "seed": rec.get("seed"),
            "overrides": " ".join(rec.get("overrides") or []),
        }
        for k, v in _override_columns(rec.get("overrides") or []).items():
            if k not in override_keys:
                override_keys.append(k)
            row[_OV + k] = v
        results = rec.get("_results")
        if results is not None:
            row.update(read_json(results / "summary.json") or {})
            meta = read_json(results / "run.json") or {}
            for k in RUN_META:
                row[k] = meta.get(k)
            if row.get("seed") is None:
                row["seed"] = meta.get("seed")
        row["reused_from"] = rec.get("reused_from")
        row["error"] = rec.get("error")
        row["traceback"] = rec.get("traceback")
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=FIRST_COLUMNS)
    # override columns under the key's own name, unless a metric has that name
    rename = {}
    for k in override_keys:
        rename[_OV + k] = k if k not in df.columns else f"override:{k}"
    df = df.rename(columns=rename)
    for k in rename.values():
        df[k] = _numeric_or_text(df[k])
    df["job_num"] = df["job_num"].astype("Int64")
    df["seed"] = pd.to_numeric(df["seed"], errors="coerce").astype("Int64")
    for c in ("job", "status", "config_hash", "overrides", "reused_from", "error", "traceback"):
        df[c] = df[c].astype("string")
    if "git_dirty" in df:
        df["git_dirty"] = df["git_dirty"].astype("boolean")
    for c in ("scenario", "git_revision", "peak_in_transit_country_date"):
        if c in df:
            df[c] = df[c].astype("string")
    lead = FIRST_COLUMNS + list(rename.values())
    return df[lead + [c for c in df.columns if c not in lead]]


def _replace(tmp: Path, dest: Path) -> None:
    os.replace(tmp, dest)


# rows of daily.parquet written at once (one row group): ~77 runs of the 2021 window, ~40 MB
DAILY_ROWS_PER_GROUP = 1 << 15


def write_daily(records: list[dict[str, Any]], dest: Path) -> int:
    """Write the daily tables of the complete runs, one block per config hash; return rows.

    The runs' tables are read one by one and written in row groups of about
    ``DAILY_ROWS_PER_GROUP`` rows (not one per run: a row group per one-day run made gathering
    cost ~50 ms per run), so memory stays bounded for thousands of runs.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    blocks: list[tuple[str, str, Path]] = []
    seen: set[str] = set()
    for rec in records:
        h, results = rec.get("config_hash"), rec.get("_results")
        if rec["status"] != "complete" or results is None or not h or h in seen:
            continue
        if not (results / "daily.parquet").is_file():
            continue
        seen.add(h)
        blocks.append((h, results.name, results / "daily.parquet"))
    if not blocks:
        dest.unlink(missing_ok=True)
        return 0
    key_fields = [pa.field("config_hash", pa.string()), pa.field("job", pa.string())]
    schemas = [pq.read_schema(p) for _, _, p in blocks]
    schema = pa.unify_schemas([pa.schema(key_fields), *schemas], promote_options="permissive")
    schema = pa.schema(key_fields + [f for f in schema if f.name not in ("config_hash", "job")])
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    n = 0
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            group: list[Any] = []
            rows = 0
            for h, job, path in blocks:
                t = pq.ParquetFile(path).read()
                index = {name: i for i, name in enumerate(t.schema.names)}
                cols = []
                for f in schema:
                    if f.name == "config_hash":
                        cols.append(pa.array([h] * t.num_rows, pa.string()))
                    elif f.name == "job":
                        cols.append(pa.array([job] * t.num_rows, pa.string()))
                    elif f.name in index:
                        col = t.column(index[f.name])
                        cols.append(col if col.type == f.type else col.cast(f.type))
                    else:
                        cols.append(pa.nulls(t.num_rows, f.type))
                group.append(pa.Table.from_arrays(cols, schema=schema))
                rows += t.num_rows
                if rows >= DAILY_ROWS_PER_GROUP:
                    writer.write_table(pa.concat_tables(group))
                    n, group, rows = n + rows, [], 0
            if group:
                writer.write_table(pa.concat_tables(group))
                n += rows
        _replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def gather(root: Path | str, daily: bool = True) -> Gathered:
    """Gather the sweep folder ``root`` into ``runs.parquet`` (and ``daily.parquet``).

    Args:
        root: the sweep folder (``hydra.sweep.dir`` or the sweep's ``output.dir``).
        daily: also write ``daily.parquet`` (all complete runs' daily tables).

    Returns:
        what was written (:class:`Gathered`).
    """
    root = Path(os.path.abspath(root))
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such sweep folder")
    records = collect(root)
    df = runs_table(records)
    dest = root / "runs.parquet"
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        df.to_parquet(tmp, index=False)
        _replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    counts = {s: int((df["status"] == s).sum()) for s in STATUS_ORDER} if len(df) else {}
    out = Gathered(root=root, runs=df, counts=counts, files=[dest])
    if daily:
        out.daily_rows = write_daily(records, root / "daily.parquet")
        if out.daily_rows:
            out.files.append(root / "daily.parquet")
    return out


def main(argv: list[str] | None = None) -> int:
    """``corridor-gather SWEEP_DIR [--no-daily]``: exit 0 if every job is complete, else 1."""
    ap = argparse.ArgumentParser(
        prog="corridor-gather",
        description="Gather a sweep folder (complete, partial or interrupted) into runs.parquet "
        "and daily.parquet. Safe to run again, also while the sweep runs: the files are written fresh.",
    )
    ap.add_argument("sweep_dir", type=Path, help="the sweep folder (hydra.sweep.dir)")
    ap.add_argument("--no-daily", action="store_true", help="write runs.parquet only")
    args = ap.parse_args(argv)
    try:
        g = gather(args.sweep_dir, daily=not args.no_daily)
    except FileNotFoundError as e:
        print(f"corridor-gather: {e}", file=sys.stderr)
        return 2
    print(f"corridor-gather: {g.line()}")
    for p in g.files:
        print(f"  {p}")
    failed = g.runs[g.runs["status"] == "failed"] if len(g.runs) else g.runs
    for _, r in failed.iterrows():
        print(f"  failed: job {r['job']} ({r['overrides']}): {r['error']}")
    return 0 if g.counts.get("complete", 0) == len(g.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
