"""Benchmark: the vectorised model against the object-per-agent reference, by population size.

Runs the default 2021 scenario (1 Jan 2021 to 28 Feb 2022) with ``population.size=N`` — the
vectorised model (``sim.model.model.MigrationModel``) at 10^4, 10^5, 10^6 and 10^7 people and the
reference implementation (``sim.engines.reference.ReferenceModel``: every person a Mesa agent) at 10^4
and 10^5 — each in a fresh child process on one core (so its peak RSS is its own), and prints
and writes to ``docs/performance.md`` (between its ``benchmark`` markers, with the command):

- person-days per second (people x days / seconds stepping);
- memory per person: the Population arrays (``model.people.nbytes()``) for the vectorised
  model; the growth of the process while the model is built, and the process's peak RSS above
  its size before building, for both;
- the ratio of the two implementations at the sizes both ran;
- the share of the stepping time in each phase (levers, institutions, migrant transitions,
  allocation, border, recording), measured in a second run of each (the speed above comes from
  a run without timers) by wrapping the model's phase methods, the allocation kernels and the
  recorder with a timer (exclusive time: allocation inside a phase counts as allocation);
- the vectorised model with both engines (``run.engine=numba``: sizes ``--sizes``; numpy:
  ``--numpy-sizes``), the numba one after a small warm-up run that loads its kernels (reported
  apart: a once-per-process cost);
- the day fitted as a fixed cost plus a cost per person, and what 100× at 10^5 asks of each.

A size above ``population.pool`` (250,000) samples the same world more finely: each row is a
fraction of a person. ``--reference-days D`` runs the reference for D days only and
extrapolates per person-day (the table says so)::

    .venv/bin/python experiments/benchmark_reference.py
    .venv/bin/python experiments/benchmark_reference.py --sizes 10000 100000 --reference-sizes 10000
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import mesa
import numpy as np

import sim.engines.reference
import sim.model.model
import sim.model.recorder
import sim.model.rules
from sim.engines import compiled
from sim.engines.reference import ReferenceModel
from sim.model.model import MigrationModel
from sim.running.benchmark import cost_model
from sim.running.compose import compose
from sim.running.docs import replace_section

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "performance.md"
START, END = "<!-- benchmark:start -->", "<!-- benchmark:end -->"

# phase methods of the model, by category (names absent from a model are skipped)
CATEGORIES = {
    "levers": ["pull_levers"],
    "institutions": ["states_decide", "publish_flights"],
    "migrant transitions": ["sell_packages", "intend", "apply_for_visas", "collect_visas", "fly",
                            "live_in_transit_country", "go_home", "go_to_border"],
    "allocation": ["allocate_fifo", "allocate_by_group"],
    "border": ["resolve_border"],
    "recording": ["start_day", "end_day", "collect"],
}


# ---- the child: one run, timed -------------------------------------------------------------------


class PhaseClock:
    """Exclusive wall time per wrapped function (time in a wrapped callee goes to the callee)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._children: list[float] = []

    def wrap(self, name: str, fn):
        clock = self

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            clock._children.append(0.0)
            try:
                return fn(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t0
                inner = clock._children.pop()
                clock.seconds[name] += dt - inner
                clock.calls[name] += 1
                if clock._children:
                    clock._children[-1] += dt

        return timed


def instrument(model_class: type, clock: PhaseClock) -> None:
    """Wrap the day's phases, the allocation kernels and the recorder's methods with ``clock``."""
    for names in CATEGORIES.values():
        for name in names:
            if name in ("start_day", "end_day"):
                setattr(sim.model.recorder.Recorder, name, clock.wrap(name, getattr(sim.model.recorder.Recorder, name)))
            elif name == "collect":
                mesa.DataCollector.collect = clock.wrap(name, mesa.DataCollector.collect)
            elif name.startswith("allocate_"):
                for module in (*sim.model.rules.KERNEL_MODULES, sim.engines.reference):
                    if hasattr(module, name):
                        setattr(module, name, clock.wrap(name, getattr(module, name)))
            elif model_class is not MigrationModel and hasattr(model_class, name):
                setattr(model_class, name, clock.wrap(name, getattr(model_class, name)))  # the reference's own phase
    # the model runs the registry it finds in sim.model.model (the reference takes its own
    # methods for the migrant phases, wrapped above, and these for the others)
    sim.model.model.PHASES = tuple(replace(phase, run=clock.wrap(phase.name, phase.run)) for phase in sim.model.model.PHASES)


def rss_bytes() -> int:
    """Resident set size of this process now."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def child(kind: str, n: int, days: int | None, phases: bool) -> None:
    """One run in this process; prints one JSON line."""

    model_class = {"vectorised": MigrationModel, "numpy": MigrationModel, "reference": ReferenceModel}[kind]
    engine = ["run.engine=numpy"] if kind == "numpy" else ["run.engine=numba"] if kind == "vectorised" else []
    # the compiled engine loads (or, the first time, compiles) its kernels on their first call: a
    # once-per-process cost, paid here by a small run of the same scenario and reported apart
    warm_up_s = 0.0
    if kind == "vectorised" and compiled.available():
        t = time.perf_counter()
        MigrationModel(compose(["population.size=20000", *engine])).run()
        gc.collect()
        warm_up_s = time.perf_counter() - t
    clock = PhaseClock()
    if phases:
        instrument(model_class, clock)
    cfg = compose([f"population.size={n}", *engine])
    rss_before = rss_bytes()
    t0 = time.perf_counter()
    model = model_class(cfg)
    build_s = time.perf_counter() - t0
    rss_built = rss_bytes()
    n_days = cfg.n_days if days is None else min(days, cfg.n_days)
    t1 = time.perf_counter()
    for _ in range(n_days):
        model.step()
    run_s = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    people = model.people
    print(json.dumps({
        "kind": kind, "n": n, "days": n_days, "full_days": cfg.n_days, "build_s": build_s, "run_s": run_s,
        "warm_up_s": warm_up_s, "engine": "reference" if kind == "reference" else
        model.cfg.run.engine,
        "population_bytes": int(people.nbytes()) if hasattr(people, "nbytes") else None,
        "rss_before": rss_before, "rss_built": rss_built, "peak_rss": peak,
        "phase_s": dict(clock.seconds), "phase_calls": dict(clock.calls),
        "arrivals": int(np.sum([r["arrivals"] for r in model.recorder.rows])),
    }))


# ---- the parent: runs and tables --------------------------------------------------------------


def run_child(kind: str, n: int, days: int | None, phases: bool) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(n), str(days or 0), str(int(phases))]
    load = os.getloadavg()[0]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{kind} {n}: failed\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["load_before"] = load
    return row


def measure(kind: str, n: int, days: int | None) -> dict:
    """Two runs in fresh processes: one timed as it is (the speed and memory reported), one with
    the phase timers (where the time goes; the timers add about a microsecond a call)."""
    row = run_child(kind, n, days, phases=False)
    timed = run_child(kind, n, days, phases=True)
    row["phase_s"], row["phase_run_s"] = timed["phase_s"], timed["run_s"]
    row["person_days_per_s"] = row["n"] * row["days"] / row["run_s"]
    print(f"  {kind:10s} {n:>12,}  {row['days']} days  {row['run_s']:8.2f} s  "
          f"{row['person_days_per_s'] / 1e6:8.2f} M person-days/s  peak {row['peak_rss'] / 2**20:,.0f} MiB",
          flush=True)
    return row


def fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def label(r: dict) -> str:
    """What ran: the reference, or the vectorised model with its engine (``run.engine``)."""
    return "reference" if r["kind"] == "reference" else f"vectorised ({r['engine']})"


def tables(rows: list[dict]) -> str:
    lines = ["| implementation | people | days run | kernels' warm-up (s) | build (s) | stepping (s) | person-days/s | "
             "population arrays (B/person) | built model (B/person) | peak RSS (MiB) | peak above start (B/person) | load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        arrays = f"{r['population_bytes'] / r['n']:.0f}" if r["population_bytes"] is not None else "—"
        built = (r["rss_built"] - r["rss_before"]) / r["n"]
        above = (r["peak_rss"] - r["rss_before"]) / r["n"]
        days = f"{r['days']}" + ("" if r["days"] == r["full_days"] else f" of {r['full_days']} (extrapolated)")
        warm = f"{r['warm_up_s']:.2f}" if r.get("warm_up_s") else "—"
        lines.append(f"| {label(r)} | {r['n']:,} | {days} | {warm} | {r['build_s']:.2f} | {r['run_s']:.2f} | "
                     f"{fmt_rate(r['person_days_per_s'])} | {arrays} | {built:,.0f} | {r['peak_rss'] / 2**20:,.0f} | "
                     f"{above:,.0f} | {r['load_before']:.1f} |")
    out = "\n".join(lines)

    vec = {r["n"]: r for r in rows if r["kind"] == "vectorised"}
    ref = {r["n"]: r for r in rows if r["kind"] == "reference"}
    npy = {r["n"]: r for r in rows if r["kind"] == "numpy"}
    both = sorted(set(vec) & set(ref))
    if both:
        engine = vec[both[0]]["engine"]
        out += "\n\nThe implementations side by side (same scenario, same size, one core each):\n\n"
        out += (f"| people | vectorised ({engine}) person-days/s | vectorised (numpy) person-days/s | "
                "reference person-days/s | ratio | ratio, numpy engine | memory ratio (reference built model ÷ population arrays) |\n")
        out += "|---:|---:|---:|---:|---:|---:|---:|\n"
        for n in both:
            v, r = vec[n], ref[n]
            mem_v = v["population_bytes"] / n
            mem_r = (r["rss_built"] - r["rss_before"]) / n
            p_rate = fmt_rate(npy[n]["person_days_per_s"]) if n in npy else "—"
            p_ratio = f"{npy[n]['person_days_per_s'] / r['person_days_per_s']:,.0f}×" if n in npy else "—"
            out += (f"| {n:,} | {fmt_rate(v['person_days_per_s'])} | {p_rate} | {fmt_rate(r['person_days_per_s'])} | "
                    f"**{v['person_days_per_s'] / r['person_days_per_s']:,.0f}×** | {p_ratio} | {mem_r / mem_v:,.0f}× |\n")

    out += ("\n\nWhere the stepping time goes (share of stepping time, exclusive of wrapped callees; from a second "
            "run of each, with the phase timers):\n\n")
    short = {"reference": "ref.", "numba": "nb.", "numpy": "np."}
    head = "| phase | " + " | ".join(f"{short[r['engine']]} {r['n']:,}" for r in rows) + " |"
    out += head + "\n|---|" + "---:|" * len(rows) + "\n"
    for cat, names in CATEGORIES.items():
        cells = []
        for r in rows:
            s = sum(r["phase_s"].get(nm, 0.0) for nm in names)
            cells.append(f"**{100 * s / r['phase_run_s']:.1f}%**")
        out += f"| **{cat}** | " + " | ".join(cells) + " |\n"
        for nm in names:
            if any(nm in r["phase_s"] for r in rows):
                out += f"| &nbsp;&nbsp;{nm} | " + " | ".join(
                    f"{100 * r['phase_s'].get(nm, 0.0) / r['phase_run_s']:.1f}%" for r in rows) + " |\n"
    cells = [f"{100 * (r['phase_run_s'] - sum(r['phase_s'].values())) / r['phase_run_s']:.1f}%" for r in rows]
    out += "| other (the step loop, Mesa) | " + " | ".join(cells) + " |\n"
    out += "| *per day, all phases (ms)* | " + " | ".join(f"{1000 * r['run_s'] / r['days']:,.1f}" for r in rows) + " |\n"
    return out


def pair_ratios(rows: list[dict], n: int = 10**5) -> list[float]:
    """The vectorised model's speed over the reference's at ``n`` people, for the pair in the tables
    and each extra pair (``--pairs``: the two run one after the other, so each pair shares the
    machine's state of the moment)."""
    vec = next(r for r in rows if r["kind"] == "vectorised" and r["n"] == n)
    ref = next(r for r in rows if r["kind"] == "reference" and r["n"] == n)
    pairs = [(vec["run_s"], ref["run_s"]), *ref.get("extra_pairs", [])]
    return [(n * vec["days"] / v) / (n * ref["days"] / r) for v, r in pairs]


def targets(rows: list[dict]) -> str:
    """Issue 6's targets against these numbers."""
    vec = {r["n"]: r for r in rows if r["kind"] == "vectorised"}
    ref = {r["n"]: r for r in rows if r["kind"] == "reference"}
    lines = ["| target (issue 6) | measured | met |", "|---|---|---|"]

    def add(what: str, measured: str, ok: bool | None) -> None:
        lines.append(f"| {what} | {measured} | {'yes' if ok else 'no' if ok is not None else '—'} |")

    if 10**6 in vec:
        x = vec[10**6]["person_days_per_s"]
        add("≥ 25 M person-days/s at 10^6 people", fmt_rate(x), x >= 25e6)
    if 10**5 in vec and 10**5 in ref:
        ratios = pair_ratios(rows)
        x = statistics.median(ratios)
        shown = f"{x:,.0f}× (median of {len(ratios)} pairs: {', '.join(f'{r:,.0f}×' for r in ratios)})" if len(ratios) > 1 \
            else f"{x:,.0f}×"
        add("≥ 100× the reference at 10^5 people", shown, x >= 100)
    b = max((r["population_bytes"] / r["n"] for r in vec.values()), default=None)
    if b is not None:
        add("≤ 128 bytes per person of model memory", f"{b:.0f} B (population arrays)", b <= 128)
    if 10**7 in vec:
        r = vec[10**7]
        add("10^7 people through the whole scenario within 24 GiB",
            f"{r['days']} days, peak RSS {r['peak_rss'] / 2**30:.2f} GiB", r["days"] == r["full_days"] and r["peak_rss"] < 24 * 2**30)
    ns = sorted(vec)
    if len(ns) >= 2:
        per = [1e9 * vec[n]["run_s"] / (n * vec[n]["days"]) for n in ns]
        add("cost linear in people (ns per person-day by size)",
            ", ".join(f"{n:.0e}: {p:.0f}" for n, p in zip(ns, per, strict=True)), None)
    return "\n".join(lines)


def write_doc(rows: list[dict], argv: list[str]) -> None:

    cmd = ".venv/bin/python experiments/benchmark_reference.py" + ("" if not argv else " " + " ".join(argv))
    loads = [r["load_before"] for r in rows]
    section = (
        f"Made by `{cmd}` on {time.strftime('%Y-%m-%d')}, {platform.machine()} {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cores, one run per process on one core. The default 2021 "
        "scenario (1 Jan 2021 to 28 Feb 2022) with `population.size=N`; sizes above the 250,000 pool sample the same "
        "world more finely. 'person-days/s' is people × days ÷ stepping time; 'population arrays' is "
        "`model.people.nbytes()`; 'built model' is the process's growth while the model is built (for the reference: "
        "its agents, their attributes and Mesa's registries); 'peak above start' is peak RSS minus the RSS before "
        "building (it includes the daily table and the day's temporaries; at 10^4 fixed costs dominate it). "
        f"'load' is the machine's 1-minute load average when the run started (other work shared the 2 cores: "
        f"{min(loads):.1f}–{max(loads):.1f}); timings under load are pessimistic.\n\n"
        + tables(rows) + "\n\n" + targets(rows) + "\n\n" + cost_model(rows)
    )
    replace_section(OUT, START, END, section)
    print(f"wrote {OUT}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) or None, sys.argv[5] == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**4, 10**5, 10**6, 10**7],
                        help="population sizes for the vectorised model")
    parser.add_argument("--numpy-sizes", type=int, nargs="*", default=[10**4, 10**5, 10**6],
                        help="population sizes for the vectorised model with run.engine=numpy (the pure-numpy path)")
    parser.add_argument("--pairs", type=int, default=3,
                        help="pairs (reference, vectorised) at 10^5 people for the ratio (median reported)")
    parser.add_argument("--reference-sizes", type=int, nargs="*", default=[10**4, 10**5],
                        help="population sizes for the reference implementation")
    parser.add_argument("--reference-days", type=int, default=None,
                        help="run the reference this many days only and extrapolate per person-day")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()
    rows = []
    for n in args.reference_sizes:
        rows.append(measure("reference", n, args.reference_days))
    for n in args.sizes:
        rows.append(measure("vectorised", n, None))
    for n in args.numpy_sizes:
        rows.append(measure("numpy", n, None))
    ref5 = next((r for r in rows if r["kind"] == "reference" and r["n"] == 10**5), None)
    if ref5 is not None and 10**5 in args.sizes:
        # more pairs at 10^5, each the reference then the vectorised model (the ratio is the target)
        ref5["extra_pairs"] = []
        for _ in range(args.pairs - 1):
            r = run_child("reference", 10**5, args.reference_days, phases=False)["run_s"]
            v = run_child("vectorised", 10**5, None, phases=False)["run_s"]
            ref5["extra_pairs"].append((v, r))
            print(f"  pair at 10^5: reference {r:.2f} s, vectorised {v:.3f} s", flush=True)
    rows.sort(key=lambda r: (["vectorised", "numpy", "reference"].index(r["kind"]), r["n"]))
    print()
    print(tables(rows))
    print()
    print(targets(rows))
    print()
    print(cost_model(rows))
    if not args.no_write:
        write_doc(rows, sys.argv[1:])


if __name__ == "__main__":
    main()
