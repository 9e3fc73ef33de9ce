"""Benchmark: sweep throughput on this machine and the overhead of one job.

Measures, each with real ``corridor -m`` sweeps (fresh sweep folders under a temporary folder):

1. **throughput**: runs per hour of the 2021 scenario (the default window, 424 days) at
   ``--people`` people (default 10^5) through the joblib launcher on 2 workers; end to end (from
   the command to the gathered tables) and in steady state (between the first and the last run
   finishing, so the workers' start-up is left out);
2. **per-job overhead**: sweeps of trivial jobs (100 people, one day), so nearly all of a job's
   time is overhead: (X(N jobs) - X(k jobs)) / (N - k) for the wall time and the CPU time of
   the whole process tree, with k the launcher's workers (2 for joblib: both workers start and
   import the model in both sweeps, so that once-per-worker cost is not counted per job; 1
   otherwise), for the joblib launcher (workers reused), the basic launcher (in-process),
   submitit_local (a new process per job), and the same N-job sweep run again (resumed: every
   job skipped as complete). Each sweep is measured ``--repeat`` times and the least kept (the
   machine is shared: other work only ever adds time);
3. **the parts of that overhead**: a fresh process's start and imports, and Hydra's composition
   of one job's config (what every launcher does per job).

Prints a table and writes it into docs/sweeps.md between the benchmark markers, with the
command and the machine's 1-minute load average before and after (the machine may be shared:
above 2 the numbers are slower than the machine)::

    .venv/bin/python experiments/benchmark_throughput.py                 # about 5 minutes
    .venv/bin/python experiments/benchmark_throughput.py --runs 16 --people 100000
    .venv/bin/python experiments/benchmark_throughput.py --overhead-only --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "sweeps.md"
BEGIN, END = "<!-- benchmark:begin -->", "<!-- benchmark:end -->"
PY = sys.executable
TRIVIAL = ["population.size=100", "scenario=no_levers", "run.end=2021-01-01"]
OFF = ["output.figures=false", "output.csv=false", "hydra.callbacks.sweep.progress_seconds=0"]


def sweep(args: list[str], root: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process tree) of one ``corridor -m`` sweep."""
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(
        [PY, "-m", "sim", "-m", *OFF, *args, f"hydra.sweep.dir={root}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"sweep failed: {' '.join(args)}\n{p.stderr[-3000:]}")
    return wall, (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)


def event_times(root: Path, kind: str) -> list[float]:
    """Times (s) of the jobs' events of one kind (the file names start with time_ns)."""
    d = root / ".corridor" / "events"
    return sorted(
        int(p.name.split("-")[0]) / 1e9 for p in d.iterdir() if p.name.endswith("." + kind)
    )


def throughput(tmp: Path, people: int, runs: int) -> dict:
    root = tmp / "throughput"
    wall, cpu = sweep(
        [
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            f"population.size={people}",
            f"run.seed=range(1,{runs + 1})",
        ],
        root,
    )
    done = event_times(root, "complete")
    sims = [
        json.loads((root / str(i) / "run.json").read_text())["wall_seconds"] for i in range(runs)
    ]
    steady = (len(done) - 2) / (done[-1] - done[1]) * 3600 if len(done) > 3 else float("nan")
    sim = statistics.mean(sims)
    return {
        "wall": wall,
        "per_hour": runs / wall * 3600,
        "steady_per_hour": steady,
        "sim_s": sim,
        "ideal_per_hour": 2 * 3600 / sim,
        "worker_s_per_job": 2 * 3600 / steady - sim,
    }


def overhead(tmp: Path, name: str, launcher: list[str], n: int, k: int, repeat: int) -> dict:
    """Per-job cost of a launcher from sweeps of trivial jobs: (X(N) - X(k)) / (N - k), with
    X the least of ``repeat`` measurements of each sweep (each with fresh sweep folders)."""
    slug = name.split()[0]
    got: dict[str, list[float]] = {}
    for r in range(repeat):
        wk, ck = sweep([*launcher, *TRIVIAL, f"run.seed=range(0,{k})"], tmp / f"{slug}-{r}-k")
        root = tmp / f"{slug}-{r}-n"
        wn, cn = sweep([*launcher, *TRIVIAL, f"run.seed=range(1,{n + 1})"], root)
        ws, cs = sweep([*launcher, *TRIVIAL, f"run.seed=range(1,{n + 1})"], root)  # all skipped
        for key, value in {"wk": wk, "ck": ck, "wn": wn, "cn": cn, "ws": ws, "cs": cs}.items():
            got.setdefault(key, []).append(value)
    x = {key: min(v) for key, v in got.items()}
    return {
        "name": name,
        "n": n,
        "k": k,
        "startup": x["wk"],
        "wall": (x["wn"] - x["wk"]) / (n - k),
        "cpu": (x["cn"] - x["ck"]) / (n - k),
        "wall_skipped": (x["ws"] - x["wk"]) / (n - k),
        "cpu_skipped": (x["cs"] - x["ck"]) / (n - k),
    }


def process_parts() -> dict:
    def cold(code: str, reps: int = 3) -> float:
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            subprocess.run([PY, "-c", code], cwd=ROOT, check=True)
            ts.append(time.perf_counter() - t)
        return min(ts)

    bare = cold("pass")
    cli = cold("import sim.running.cli")
    job = cold("import sim.running.cli, sim.studies.sweep, sim.running.run, sim.model.model")
    probe = subprocess.run(
        [
            PY,
            "-c",
            """
import time
from hydra import compose, initialize_config_dir
from sim.running.compose import CONFIG_DIR, install_config_cache
def each():
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        compose("config", overrides=["run.seed=0"])
        ts = []
        for i in range(10):
            t = time.perf_counter()
            compose("config", overrides=[f"run.seed={i}"])
            ts.append(time.perf_counter() - t)
    return min(ts)
print(each())  # Hydra parsing every file again
install_config_cache()  # what sim.running.cli does in every process
print(each())
""",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    *_, plain, cached = probe.stdout.strip().splitlines()
    return {
        "python": bare,
        "imports_cli": cli - bare,
        "imports_job": job - bare,
        "compose": float(cached),
        "compose_uncached": float(plain),
    }


def overhead_table(heads: list[dict]) -> list[str]:
    return [
        "**Per-job overhead**: sweeps of N trivial jobs (100 people, one day) against a sweep of "
        "k jobs (k = the launcher's workers), (X(N) − X(k)) / (N − k), each X the least of "
        f"{heads[0]['repeat']} measurements; CPU is the whole process tree's (all workers); "
        "resumed is the N-job sweep run again, every job skipped as complete:",
        "",
        "| launcher | N | k | start-up (k-job sweep, wall) | per job, wall | per job, CPU "
        "| per job resumed, wall | per job resumed, CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {h['name']} | {h['n']} | {h['k']} | {h['startup']:.1f} s | {h['wall']:.2f} s "
            f"| {h['cpu']:.2f} s | {h['wall_skipped']:.2f} s | {h['cpu_skipped']:.2f} s |"
            for h in heads
        ],
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=10, help="runs in the throughput sweep")
    ap.add_argument("--jobs", type=int, default=20, help="trivial jobs per overhead sweep")
    ap.add_argument("--repeat", type=int, default=2, help="overhead measurements (least kept)")
    ap.add_argument(
        "--overhead-only", action="store_true", help="no throughput sweep (implies --no-write)"
    )
    ap.add_argument(
        "--no-write", action="store_true", help="print only; do not edit docs/sweeps.md"
    )
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="corridor-bench-") as t:
        tmp = Path(t)
        parts = process_parts()
        heads = [
            overhead(
                tmp,
                "joblib (2 workers, reused)",
                ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
                args.jobs,
                2,
                args.repeat,
            ),
            overhead(tmp, "basic (in the main process)", [], args.jobs, 1, args.repeat),
            overhead(
                tmp,
                "submitit_local (a process per job)",
                ["hydra/launcher=submitit_local"],
                max(args.jobs // 2, 3),
                1,
                args.repeat,
            ),
        ]
        for h in heads:
            h["repeat"] = args.repeat
        tp = None if args.overhead_only else throughput(tmp, args.people, args.runs)
    load1 = os.getloadavg()[0]

    cmd = "python experiments/benchmark_throughput.py" + (
        f" --people {args.people} --runs {args.runs} --jobs {args.jobs} --repeat {args.repeat}"
        if (args.people, args.runs, args.jobs, args.repeat) != (100_000, 10, 20, 2)
        else ""
    )
    lines = [
        f"Command: `{cmd}`, on {platform.machine()} CPython {platform.python_version()}, "
        f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}; 1-minute load average {load0:.1f} "
        f"before, {load1:.1f} after (the machine is shared: above 2 the numbers are slower than "
        "the machine).",
        "",
    ]
    if tp is not None:
        lines += [
            f"**Throughput**, the 2021 scenario (424 days) at {args.people:,} people, joblib on 2 "
            f"workers, {args.runs} runs:",
            "",
            "| measure | value |",
            "|---|---:|",
            f"| end to end (command to gathered tables) | {tp['per_hour']:,.0f} runs/hour ({tp['wall']:.1f} s) |",
            f"| steady state (between the first and the last run finishing) | {tp['steady_per_hour']:,.0f} runs/hour |",
            f"| one run's simulation (mean `wall_seconds` of run.json) | {tp['sim_s']:.2f} s |",
            f"| the model alone on 2 cores (2 × 3600 / that) | {tp['ideal_per_hour']:,.0f} runs/hour |",
            f"| overhead per job in the workers (2 × 3600 / steady rate − simulation) | {tp['worker_s_per_job']:.2f} s |",
            "",
        ]
    lines += [
        *overhead_table(heads),
        "",
        "**Parts of it**: a fresh Python process "
        f"{parts['python']:.2f} s; importing the command line (`sim.running.cli`: Hydra) {parts['imports_cli']:.2f} s; "
        f"everything a job imports (`sim.model.model`: Mesa, pandas, numpy) {parts['imports_job']:.2f} s; "
        f"Hydra's composition of one job's config {parts['compose']:.2f} s "
        f"({parts['compose_uncached']:.2f} s when Hydra parses every YAML file again).",
    ]
    text = "\n".join(lines)
    print(text)
    if not (args.no_write or args.overhead_only):
        from sim.running.docs import replace_section

        replace_section(DOC, BEGIN, END, text)
        print(f"\nwritten to {DOC}")


if __name__ == "__main__":
    main()
