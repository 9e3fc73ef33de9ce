"""A killed sweep: its workers die with it, and its folder stays one sweep's at a time.

Protects (the issue "killing a joblib sweep's top process leaves its workers running": a rerun
then worked in the same folder while they finished their jobs, "14/12 runs done"): for SIGTERM
and SIGKILL to the sweep's main process alone,

- every worker process of the joblib launcher ends within a bounded time (each stops within a
  quarter of a second of its main process, also mid-job: sim.studies.sweep.watch_owner);
- while the sweep's main process lives, or while a job of the killed sweep still runs (a worker
  held stopped with SIGSTOP, so the test does not race it), the same command refuses with exit
  code 2, names the folder and the live process, and writes nothing (sim.studies.sweep.claim_sweep);
- once they are gone the same command resumes: every run exactly once in runs.parquet and
  daily.parquet, the runs complete before the kill skipped, progress never above the total.

Linux only (/proc: the tests find the workers as the main process's descendants).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_sweeps import assert_complete_once, quick, sweep  # tests/ is on sys.path

from sim.studies.sweep import JOBS_LOCK_FILE, STATE_DIR, SweepState, lock_holders

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc"),
]

N = 8
ARGS = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"run.seed=range(1,{N + 1})"]
SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGKILL, id="SIGKILL")]
BOUND = 60.0  # seconds: the most any wait below may take (each returns as soon as it can)


def wait_for(cond: Callable[[], bool], timeout: float = BOUND) -> bool:
    """Poll ``cond`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (its joblib workers, loky's resource tracker)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in found:
                found.add(c)
                todo.append(c)
    return {p for p in found if alive(p)}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file of the sweep folder with its size and modification time."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath, f)
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def done(root: Path) -> int:
    d = root / STATE_DIR / "done"
    return len(list(d.glob("*.json"))) if d.is_dir() else 0


def start_sweep(root: Path, tmp_path: Path) -> subprocess.Popen:
    """The sweep in its own session (so killing its main process alone orphans its workers,
    as a kill from another terminal does), output to first.log."""
    cmd = [sys.executable, "-m", "sim", "-m", *quick(ARGS), f"hydra.sweep.dir={root}"]
    with (tmp_path / "first.log").open("w") as out:
        return subprocess.Popen(
            cmd, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def running_jobs(root: Path) -> set[int]:
    """Processes holding the folder's jobs lock: jobs running right now."""
    return set(lock_holders(root / STATE_DIR / JOBS_LOCK_FILE))


def wait_midway(first: subprocess.Popen, root: Path, tmp_path: Path, k: int) -> None:
    """Until ``k`` runs are complete and a job is running."""
    ok = wait_for(
        lambda: first.poll() is not None or (done(root) >= k and bool(running_jobs(root)))
    )
    log = (tmp_path / "first.log").read_text()[-3000:]
    assert ok and first.poll() is None, log


def kill_main(first: subprocess.Popen, sig: signal.Signals) -> None:
    os.kill(first.pid, sig)  # the main process only, as `kill PID` does
    first.wait(timeout=BOUND)
    assert first.returncode == -sig


def assert_resumes(root: Path, tmp_path: Path, n_before: int) -> None:
    """The same command again: every run once, the earlier complete ones skipped."""
    p = sweep(ARGS, root, tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert_complete_once(root, N)
    assert f"{N}/{N} runs done" in p.stderr
    counts = [int(m) for m in re.findall(r"\] (\d+)/\d+ runs done", p.stderr)]
    assert counts and max(counts) == N, p.stderr[-3000:]
    events = SweepState(root).count_events()
    assert events["start"] == N and events["complete"] + events["skipped"] == N, events
    assert events["skipped"] >= n_before, events
    records = [json.loads((root / str(i) / "job.json").read_text()) for i in range(N)]
    assert all(rec["status"] == "complete" for rec in records)


@pytest.mark.parametrize("sig", SIGNALS)
def test_killed_sweep_rerun_at_once_resumes_and_no_worker_survives(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """Kill the main process of a joblib sweep midway and run the same command at once (not
    waiting for anything): it runs alone in the folder (no job of the killed sweep counted in
    its progress or its tables) and resumes to N/N; no worker of the killed sweep survives."""
    root = tmp_path / "sweep"
    first = start_sweep(root, tmp_path)
    try:
        wait_midway(first, root, tmp_path, 2)
        workers = descendants(first.pid)
        assert workers, "no worker processes found"
        kill_main(first, sig)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    n_before = done(root)
    assert 2 <= n_before < N, (tmp_path / "first.log").read_text()[-3000:]
    assert not (root / "runs.parquet").exists()  # killed before its end: nothing gathered
    assert_resumes(root, tmp_path, n_before)
    assert wait_for(lambda: not any(alive(w) for w in workers)), [w for w in workers if alive(w)]


@pytest.mark.parametrize("sig", SIGNALS)
def test_rerun_refuses_while_the_sweep_or_its_workers_live(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """The same command refuses (exit 2, the folder and the live process named, nothing written)
    while the sweep's main process lives, and after it is killed while a worker of it still runs
    a job (held stopped by the test); once that worker is let go it stops by itself, and the
    same command resumes to N/N."""
    root = tmp_path / "sweep"
    first = start_sweep(root, tmp_path)
    stopped: set[int] = set()
    try:
        # hold every worker still while one of them is in the middle of a run
        while True:
            wait_midway(first, root, tmp_path, 1)
            stopped = descendants(first.pid)
            for w in stopped:
                os.kill(w, signal.SIGSTOP)
            held = running_jobs(root) & stopped
            held_jobs = {  # job -> pid: the runs the held workers are in
                rec["job"]: rec["pid"]
                for f in root.glob("*/job.json")
                if (rec := json.loads(f.read_text())).get("status") == "running"
                and rec.get("pid") in held
            }
            if held_jobs:
                break
            for w in stopped:  # between two runs: let them go on, try again
                os.kill(w, signal.SIGCONT)
            stopped = set()
        before = snapshot(root)
        n_held = done(root)

        live = sweep(ARGS, root, tmp_path)
        assert live.returncode == 2, live.stderr[-3000:]
        assert f"the sweep folder {root} is in use by a live sweep: process {first.pid}" in (
            live.stderr
        )
        assert "nothing was written" in live.stderr
        assert snapshot(root) == before

        kill_main(first, sig)
        orphan = sweep([*ARGS, "++hydra.callbacks.sweep.lock_wait=0.5"], root, tmp_path)
        assert orphan.returncode == 2, orphan.stderr[-3000:]
        named = re.search(r"a sweep whose main process is gone: process ([\d, ]+)", orphan.stderr)
        assert named, orphan.stderr[-3000:]
        assert {int(p) for p in named.group(1).split(", ")} == held
        assert str(root) in orphan.stderr and "nothing was written" in orphan.stderr
        assert snapshot(root) == before
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
        for w in stopped:
            if alive(w):
                os.kill(w, signal.SIGCONT)
    # let go, the workers notice their main process is gone and stop by themselves, the ones
    # held mid-job without finishing it (their runs are left to the next sweep)
    assert wait_for(lambda: not any(alive(w) for w in stopped)), [w for w in stopped if alive(w)]
    log = (tmp_path / "first.log").read_text()
    for job, pid in held_jobs.items():
        said = f"the sweep's main process {first.pid} is gone: worker {pid} stops, job {job} left"
        assert said in log, log[-3000:]
        assert json.loads((root / job / "job.json").read_text())["status"] == "running"
    n_before = done(root)
    assert n_before == n_held and 1 <= n_before < N
    assert_resumes(root, tmp_path, n_before)
