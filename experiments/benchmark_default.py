"""Benchmark: wall time and peak memory of the default 2021 scenario, by population size.

Each size runs three times, each in a fresh process (so peak RSS is that run's own; the fastest
run is kept: other work on the shared cores only adds time), the whole default scenario
(2021-01-01 to 2022-02-28, 424 days) with the default seed, figures and files off. Prints a
table and writes it to docs/benchmark.md with the command that made it:

    .venv/bin/python experiments/benchmark_default.py            # 100k, 250k, 1M
    .venv/bin/python experiments/benchmark_default.py 250000     # chosen sizes
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmark.md"

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from sim.running.compose import compose
from sim.model.model import MigrationModel
t_import = time.perf_counter() - t0
cfg = compose([f"population.size={int(sys.argv[1])}"])
t1 = time.perf_counter()
model = MigrationModel(cfg)
t_build = time.perf_counter() - t1
t2 = time.perf_counter()
model.run()
t_run = time.perf_counter() - t2
daily = model.recorder.frame()
print(json.dumps({
    "n": int(sys.argv[1]), "days": len(daily), "import_s": t_import, "build_s": t_build, "run_s": t_run,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "population_bytes_per_person": model.people.nbytes() / model.people.n,
    "arrivals": int(daily["arrivals"].sum()),
}))
"""


def measure(n: int) -> dict:
    load = os.getloadavg()[0]
    out = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"load": load}


def main(sizes: list[int], repeat: int = 3) -> None:
    # the least of `repeat` runs per size: other work on the shared cores only ever adds time
    rows = [min((measure(n) for _ in range(repeat)), key=lambda r: r["run_s"]) for n in sizes]
    head = "| people | days | import (s) | build (s) | run (s) | person-days/s | peak RSS (MiB) | population B/person | load |"
    lines = [head, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['days']} | {r['import_s']:.2f} | {r['build_s']:.2f} | {r['run_s']:.1f} | "
                     f"{r['n'] * r['days'] / r['run_s'] / 1e6:.1f} M | {r['peak_rss_mib']:.0f} | {r['population_bytes_per_person']:.0f} | "
                     f"{r['load']:.1f} |")
    table = "\n".join(lines)
    print(table)
    cmd = "python experiments/benchmark_default.py " + " ".join(map(str, sizes))
    OUT.write_text(
        "# Benchmark: the default scenario\n\n"
        f"Command: `{cmd}` (one process per run, one core; the least of 3 runs per size), on {platform.machine()} "
        f"{platform.python_implementation()} {platform.python_version()}, {time.strftime('%Y-%m-%d')}.\n\n"
        "The default 2021 scenario, 1 Jan 2021 to 28 Feb 2022. 'run' is stepping only; 'import' is "
        "loading the packages; 'peak RSS' is the whole process; 'load' is the machine's 1-minute load average "
        "when the run started (the 2 cores are shared with other work: timings under load are pessimistic).\n\n"
        + table + "\n"
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 250_000, 1_000_000])
