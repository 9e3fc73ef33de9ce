"""Sweeps: Hydra multirun on every launcher, one table per sweep, resume, failures, progress.

Protects (issue 4): any key is sweepable; the joblib, submitit_local and Ray launchers each run a
real small sweep selected by one override (Ray on a cluster this test starts and stops on
127.0.0.1); a sweep is gathered into runs.parquet (one row per run: overrides, seed, config
hash, summary metrics, status) and daily.parquet (keyed by run), and gathering again never
duplicates a row; a failed job is recorded with its error and traceback and the sweep goes on;
running a sweep again skips what is complete, also after the sweep was killed midway; progress
is reported as whole lines.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.model.config import load_config
from sim.studies.callbacks import representative_jobs
from sim.studies.gather import gather
from sim.studies.gather import main as gather_main
from sim.studies.sweep import (
    SweepState,
    apply_design_row,
    apply_sweep_defaults,
    checked_hash,
    config_hash,
    job_data,
    plan_jobs,
    schema_type,
)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# a small, quick world: 2,000 people, Jan-May 2021, only the lever the sweeps move
QUICK = [
    "population.size=2000",
    "output.figures=false",
    "output.csv=false",
    "scenario=no_levers",
    "run.end=2021-05-31",
    "levers.iraq_flight_suspension.enabled=true",
]
SUSPENSION = "levers.iraq_flight_suspension.when.start"
DAYS = 151


def quick(args: list[str]) -> list[str]:
    """QUICK, the suspension dated inside the window (unless ``args`` sweep its date), and ``args``."""
    date = [] if any(a.startswith(SUSPENSION + "=") for a in args) else [f"{SUSPENSION}=2021-04-01"]
    return [*QUICK, *date, *args]


PROGRESS = re.compile(r"^\[[\d\- :,]+\]\[corridor sweep\] ")


def sweep(
    args: list[str], root: Path, cwd: Path, env: dict | None = None, timeout: float = 240, **popen
) -> subprocess.CompletedProcess:
    """``python -m sim -m <args>`` into the sweep folder ``root``, progress every second."""
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        *quick(args),
        f"hydra.sweep.dir={root}",
        "hydra.callbacks.sweep.progress_seconds=1",
    ]
    full_env = {**os.environ, **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, **popen
    )


def runs(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / "runs.parquet")


def assert_complete_once(root: Path, n: int) -> pd.DataFrame:
    """Every job complete, each config exactly once in both tables."""
    r = runs(root)
    assert len(r) == n, r[["job", "status", "overrides"]]
    assert (r["status"] == "complete").all(), r[["job", "status", "error"]]
    assert r["config_hash"].is_unique and r["overrides"].is_unique
    daily = pd.read_parquet(root / "daily.parquet", columns=["config_hash", "job", "date"])
    assert daily.groupby("config_hash").size().to_dict() == dict.fromkeys(r["config_hash"], DAYS)
    assert not daily.duplicated(["config_hash", "date"]).any()
    return r


# ---- the config hash, design rows, the plan ------------------------------------------------------


def test_config_hash_is_of_what_is_simulated(tiny_config) -> None:
    """Protects the skip check: the same run spelt two ways hashes alike; the seed and any model
    value change it; output settings (folder, figures) do not."""
    base = tiny_config()
    h = config_hash(base)
    assert h == config_hash(tiny_config(intention__network_gain=base["intention"]["network_gain"]))
    assert config_hash(tiny_config(intention__network_gain=5)) == config_hash(
        tiny_config(intention__network_gain=5.0)
    )
    assert h == config_hash(tiny_config(output__dir="elsewhere", output__figures=True))
    assert h != config_hash(tiny_config(run__seed=base["run"]["seed"] + 1))
    assert h != config_hash(tiny_config(border__attempt_prob_per_day=0.07))
    # a job hashes the config it checked without checking it again: the same hash
    assert checked_hash(load_config(base)) == h
    assert checked_hash(load_config(tiny_config(intention__network_gain=5))) == config_hash(
        tiny_config(intention__network_gain=5.0)
    )


def test_design_row_sets_values_and_rounds_whole_numbers(tmp_path: Path, tiny_config) -> None:
    """Protects sensitivity sweeps: +sensitivity.row=K sets the row's values, whole-number keys
    rounded; a row outside the design is a configuration error."""
    design = tmp_path / "design.csv"
    design.write_text("intention.network_gain,purchase.hub_extra_days\n4.5,2.6\n7.25,3.2\n")
    assert (
        schema_type("purchase.hub_extra_days") is int
        and schema_type("intention.network_gain") is float
    )
    data = job_data(tiny_config(sensitivity={"row": 1, "design": str(design)}))
    assert "sensitivity" not in data
    assert data["intention"]["network_gain"] == 7.25 and data["purchase"]["hub_extra_days"] == 3
    from sim.model.config import ConfigError

    with pytest.raises(ConfigError, match="outside the design"):
        apply_design_row(tiny_config(), design, 2)


def test_plan_and_group_validation() -> None:
    """Protects the progress total (the plan of a sweep) and the up-front check that composes
    one job per combination of config-group choices, not every job."""
    from hydra import compose, initialize_config_dir

    from sim.running.compose import CONFIG_DIR

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", return_hydra_config=True)
    # what Hydra's multirun holds: the sweep's arguments as typed
    from omegaconf import open_dict

    with open_dict(cfg):
        cfg.hydra.overrides.task = ["run.seed=1,2,3", "scenario=baseline_2021,no_levers"]
    jobs = plan_jobs(cfg)
    assert len(jobs) == 6 and jobs[0] == ["run.seed=1", "scenario=baseline_2021"]
    reps = representative_jobs(jobs, lambda key: key == "scenario")
    assert reps == [["run.seed=1", "scenario=baseline_2021"], ["run.seed=1", "scenario=no_levers"]]


def test_config_file_cache_composes_what_hydra_composes(tmp_path: Path, monkeypatch) -> None:
    """Protects the per-process cache of parsed YAML files (sim.running.compose.install_config_cache,
    which every job of a sweep composes through): the same full config (Hydra's node included)
    as Hydra's own parsing for several groups and overrides, a fresh object every time, and a
    file edited in between is read again."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    import sim.running.compose
    from sim.running.compose import CONFIG_DIR, compose_dict, install_config_cache

    assert install_config_cache() and install_config_cache()  # idempotent
    cached = OmegaConf.__dict__["load"]
    uncached = staticmethod(cached.__func__.__wrapped__)
    jobs = [
        [],
        ["scenario=no_levers", "run.seed=3"],
        ["experiment=sensitivity", "+sensitivity.row=3"],
        ["hydra/launcher=joblib", f"{SUSPENSION}=2021-07-01"],
    ]

    def full(overrides: list[str]) -> str:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return OmegaConf.to_yaml(compose("config", overrides, return_hydra_config=True))

    with monkeypatch.context() as m:
        m.setattr(OmegaConf, "load", uncached)
        expected = [full(o) for o in jobs]
    for _ in range(2):  # the second round is served from the cache
        assert [full(o) for o in jobs] == expected
    a, b = compose_dict(), compose_dict()
    a["population"]["size"] = -1
    assert b["population"]["size"] != -1  # a fresh object each time

    configs = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, configs)
    monkeypatch.setattr(sim.running.compose, "CONFIG_DIR", configs)
    assert compose_dict()["population"]["size"] == 250000
    main = configs / "config.yaml"
    main.write_text(main.read_text().replace("size: 250000 ", "size: 12345  "))
    assert compose_dict()["population"]["size"] == 12345


def test_sweeps_write_no_figures_unless_asked(tmp_path: Path, tiny_config) -> None:
    """Protects the sweep default of docs/sweeps.md: a sweep's job writes no figures (the rest of
    its results folder as for a single run) unless the command line sets output.figures."""
    data = tiny_config(output__figures=True)
    apply_sweep_defaults(data, ["run.seed=1"])
    assert data["output"]["figures"] is False
    data = tiny_config(output__figures=True)
    apply_sweep_defaults(data, ["run.seed=1", "output.figures=true"])
    assert data["output"]["figures"] is True

    root = tmp_path / "sweep"
    trivial = ["population.size=100", "scenario=no_levers", "run.end=2021-01-02"]
    p = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *trivial, "run.seed=1,2", f"hydra.sweep.dir={root}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    for job in ("0", "1"):
        files = {f.name for f in (root / job).iterdir()}
        assert {"daily.parquet", "daily.csv", "summary.json", "config.yaml", "run.json"} <= files
        assert "figures" not in files
        assert "figures: false" in (root / job / "config.yaml").read_text()


def test_shipped_launcher_presets_compose() -> None:
    """Protects the documented presets: hydra/launcher=slurm (SLURM via submitit; no SLURM here
    to run it) and hydra/launcher=ray_cluster (a running Ray cluster at RAY_ADDRESS)."""
    env = {**os.environ, "RAY_ADDRESS": "127.0.0.1:6379"}
    for preset, expect in [("slurm", "SlurmLauncher"), ("ray_cluster", "RayLauncher")]:
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "sim",
                f"hydra/launcher={preset}",
                "--cfg",
                "hydra",
                "--resolve",
                "-p",
                "hydra.launcher",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
        )
        assert p.returncode == 0, p.stderr
        assert expect in p.stdout
    assert "object_store_memory: null" in p.stdout and "address: 127.0.0.1:6379" in p.stdout


# ---- real sweeps ------------------------------------------------------------------------------


@pytest.mark.slow
def test_failures_are_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    """Protects 'nothing lost': a job with a bad value fails alone, is recorded (overrides, seed,
    error, traceback), the others complete, the command exits 1; gathering again (the command)
    writes the same rows, never more."""
    root = tmp_path / "sweep"
    p = sweep(["run.seed=1,2", "border.attempt_prob_per_day=0.05,1.5"], root, tmp_path)
    assert p.returncode == 1, p.stderr[-3000:]
    r = runs(root)
    assert len(r) == 4 and r["status"].value_counts().to_dict() == {"complete": 2, "failed": 2}
    bad = r[r["status"] == "failed"]
    assert (bad["border.attempt_prob_per_day"] == 1.5).all() and sorted(bad["seed"]) == [1, 2]
    assert bad["error"].str.contains("border.attempt_prob_per_day: 1.5 is out of range").all()
    assert bad["traceback"].str.contains("Traceback").all()
    assert "2 jobs failed" in p.stderr
    before = pd.read_parquet(root / "daily.parquet")
    assert gather_main([str(root)]) == 1  # not all complete
    assert len(runs(root)) == 4 and pd.read_parquet(root / "daily.parquet").equals(before)
    assert len(before) == 2 * DAYS


@pytest.mark.slow
def test_joblib_grid_over_lever_dates_and_seeds_then_skips_when_run_again(tmp_path: Path) -> None:
    """Protects the README's grid sweep (a lever date by seed) through the joblib launcher, the
    gathered tables (one row per run, the swept keys as columns, metrics, daily keyed by run),
    whole-line progress, and that the same sweep run again runs nothing."""
    root = tmp_path / "grid"
    args = [
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"{SUSPENSION}=2021-03-01,2021-04-15",
        "run.seed=1,2",
    ]
    p = sweep(args, root, tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    r = assert_complete_once(root, 4)
    assert sorted(r[SUSPENSION]) == ["2021-03-01", "2021-03-01", "2021-04-15", "2021-04-15"]
    assert sorted(r["run.seed"]) == [1, 1, 2, 2] and (r["seed"] == r["run.seed"]).all()
    assert {"got_through", "peak_in_transit_country", "repatriated", "wall_seconds"} <= set(r.columns)
    assert (r["days"] == DAYS).all()
    lines = [ln for ln in p.stderr.splitlines() if "[corridor sweep]" in ln]
    assert lines and all(PROGRESS.match(ln) for ln in lines), lines  # whole lines, nothing glued on
    assert any("4/4 runs done, 0 failed" in ln for ln in lines)
    assert "gathered 4 jobs (4 complete)" in p.stderr

    again = sweep(args, root, tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "4/4 runs done (4 skipped: complete already)" in again.stderr
    assert (
        "running baseline" not in again.stdout + again.stderr
        and "running no_levers" not in again.stdout
    )
    assert_complete_once(root, 4)


@pytest.mark.slow
def test_submitit_local_launcher(tmp_path: Path) -> None:
    """Protects hydra/launcher=submitit_local (the SLURM launcher's local twin): a real sweep,
    gathered; and that a run's results do not depend on the launcher: the same sweep through
    the basic launcher (every job in one process, which reuses what it parsed and read) gives
    the same daily tables and totals as submitit's (a fresh process per job)."""
    root = tmp_path / "submitit"
    p = sweep(["hydra/launcher=submitit_local", "run.seed=1,2"], root, tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    r = assert_complete_once(root, 2)

    basic = tmp_path / "basic"
    p = sweep(["run.seed=1,2"], basic, tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    b = assert_complete_once(basic, 2)
    per_run = [c for c in r.columns if c not in ("job", "wall_seconds")]
    assert b[per_run].equals(r[per_run])

    def daily(folder: Path) -> pd.DataFrame:
        d = pd.read_parquet(folder / "daily.parquet").drop(columns="job")
        return d.sort_values(["config_hash", "date"], ignore_index=True)

    pd.testing.assert_frame_equal(daily(basic), daily(root))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    # local-only Ray: every address is the loopback one (else Ray picks the machine's own IP)
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "token",
    # the cluster's token, made here for this test run (Ray would otherwise look for one in
    # ~/.ray/auth_token, which a fresh machine does not have)
    "RAY_AUTH_TOKEN": secrets.token_hex(32),
    "RAY_COLOR_PREFIX": "0",
}


@pytest.fixture
def ray_cluster(tmp_path: Path):
    """A Ray head node on 127.0.0.1 (its own process group), stopped after the test."""
    port = _free_port()
    log = tmp_path / "ray-head.log"
    # Ray's session folder, removed afterwards (short: Ray's socket paths must stay < 108 bytes)
    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    cmd = [
        str(VENV_BIN / "ray"),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        "--num-cpus=2",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp}",
    ]
    with log.open("w") as f:
        head = subprocess.Popen(
            cmd,
            stdout=f,
            stderr=subprocess.STDOUT,
            env={**os.environ, **RAY_ENV},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while (
            "block forever" not in log.read_text()
            and head.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.5)
        assert head.poll() is None and "block forever" in log.read_text(), log.read_text()[-3000:]
        assert "Local node IP: 127.0.0.1" in re.sub(r"\x1b\[[0-9;]*m", "", log.read_text())
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)  # ray start --block stops the processes it started
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(head.pid, signal.SIGKILL)  # whatever is left of this group
        except ProcessLookupError:
            pass
        head.wait(timeout=10)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.slow
def test_ray_launcher_on_a_local_cluster(tmp_path: Path, ray_cluster: str) -> None:
    """Protects hydra/launcher=ray_cluster: a real sweep on a running Ray cluster (started by the
    fixture on 127.0.0.1, usage stats off), with the pitfalls of docs/sweeps.md handled by the
    preset (object_store_memory) and the command (absolute sweep folder, token auth)."""
    root = tmp_path / "ray"
    p = sweep(
        ["hydra/launcher=ray_cluster", "run.seed=1,2"],
        root,
        tmp_path,
        env={**RAY_ENV, "RAY_ADDRESS": ray_cluster},
        timeout=300,
    )
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    assert "Connected to Ray cluster" in p.stdout + p.stderr
    assert_complete_once(root, 2)


@pytest.mark.slow
def test_killed_sweep_resumes_with_every_run_once(tmp_path: Path) -> None:
    """Protects 'nothing redone': a joblib sweep killed midway (SIGKILL to its process group)
    and run again ends with every run present exactly once; the runs complete before the kill
    are skipped, not run again."""
    root = tmp_path / "killed"
    args = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "run.seed=range(1,9)"]
    cmd = [sys.executable, "-m", "sim", "-m", *quick(args), f"hydra.sweep.dir={root}"]
    done = root / ".corridor" / "done"
    with (tmp_path / "first.log").open("w") as out:
        first = subprocess.Popen(
            cmd, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and first.poll() is None:
                if done.is_dir() and len(list(done.glob("*.json"))) >= 2:
                    break
                time.sleep(0.05)
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
    n_before = len(list(done.glob("*.json")))
    assert 2 <= n_before < 8, (tmp_path / "first.log").read_text()[-3000:]
    assert not (root / "runs.parquet").exists()  # killed before its end: nothing gathered

    # a partial sweep gathers on demand: what finished is complete, the rest incomplete or pending
    assert gather_main([str(root)]) == 1
    partial = runs(root)
    assert len(partial) == 8 and (partial["status"] == "complete").sum() >= n_before
    assert set(partial["status"]) <= {"complete", "incomplete", "pending"}

    p = sweep(args, root, tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert_complete_once(root, 8)
    skipped = SweepState(root).count_events()["skipped"]
    assert skipped >= n_before, p.stderr[-2000:]
    records = [json.loads((root / str(i) / "job.json").read_text()) for i in range(8)]
    assert all(rec["status"] == "complete" for rec in records)


def test_gather_of_an_empty_or_missing_folder(tmp_path: Path) -> None:
    """Protects the command on a sweep that has not started: no rows, a clear exit code."""
    assert gather_main([str(tmp_path / "nowhere")]) == 2
    g = gather(tmp_path)
    assert (
        len(g.runs) == 0
        and (tmp_path / "runs.parquet").exists()
        and not (tmp_path / "daily.parquet").exists()
    )


def test_a_job_folder_caught_before_its_first_record_is_its_planned_job(tmp_path: Path) -> None:
    """Protects 'one row per run' for a sweep killed while a job was starting: its folder exists
    but holds no record and no overrides yet; its number places it in the plan, so it is that
    job, incomplete, not a ninth row beside the job still counted pending."""
    plan = [[f"run.seed={s}"] for s in range(1, 5)]
    SweepState(tmp_path).write_plan(plan)
    (tmp_path / "2" / ".hydra").mkdir(parents=True)
    records = gather(tmp_path).runs
    assert len(records) == 4
    by_num = records.set_index("job_num")["status"].to_dict()
    assert by_num == {0: "pending", 1: "pending", 2: "incomplete", 3: "pending"}
    assert records.set_index("job_num").loc[2, "overrides"] == "run.seed=3"
