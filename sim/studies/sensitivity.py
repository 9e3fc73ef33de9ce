"""Global sensitivity analysis (SALib): a design, a sweep over its rows, indices and a report.

The free parameters and their ranges are declared in ``configs/experiment/sensitivity.yaml``
(under ``hydra.callbacks.sensitivity``). One command samples the design, runs it as a Hydra sweep
on any launcher, and writes the report::

    corridor-sensitivity --method sobol --n 16                      # 16*(k+2) runs, local cores
    corridor-sensitivity --method morris --n 10 hydra/launcher=joblib population.size=20000
    corridor-sensitivity --method sobol --n 1024 hydra/launcher=submitit_slurm ...   # a cluster
    corridor-sensitivity --analyze-only --dir results/sensitivity/sobol-n16         # (partial) sweep

How it fits together:

1. when the sweep starts, :class:`sim.studies.callbacks.SensitivityCallback` writes the design
   (``<sweep>/sensitivity/design.csv``: a header of config keys, one row per run) with
   :func:`write_design` (Sobol: Saltelli's scheme without second order; Morris: trajectories);
2. each job is one row, ``+sensitivity.row=K`` (the command sweeps ``range(0, rows)``);
   :func:`sim.studies.sweep.job_data` sets the row's values (whole-number keys rounded) before the config
   is checked and hashed, so a resumed sweep skips the rows already run;
3. when the sweep ends, the callback calls :func:`analyze` and :func:`write_report`:
   ``<sweep>/sensitivity/indices.csv``, ``convergence.csv``, ``report.md`` and the bar charts
   ``<method>_indices.png`` and ``<method>_convergence.png`` (``verdict.csv``: converged or not).

Convergence: a Sobol design of N base samples holds the designs of N/2, N/4, ... as its first
rows (the same scrambled Sobol sequence), and the first r/2 trajectories of a Morris design are
themselves a design; the indices are recomputed on those prefixes. The analysis has converged
when no index moved by more than ``tolerance`` from N/2 to N (Morris: mu* divided by the
largest mu* of that output).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.model.config import ConfigError, check_number
from sim.running.compose import compose_with_hydra, config_dir
from sim.running.paths import PROJECT_DIR
from sim.running.preflight import run_preflight
from sim.studies.gather import collect, runs_table
from sim.studies.sweep import DESIGN_FILE, DESIGN_SECTION
from sim.studies.sweep import read_design as read_rows

ROOT = PROJECT_DIR  # the checkout, or the working directory of an installed wheel (sim/running/paths.py)
METHODS = ("sobol", "morris")
SPEC_KEY = "hydra.callbacks.sensitivity"  # where the spec is set (configs/experiment/sensitivity.yaml)


@dataclass
class Spec:
    """A sensitivity analysis: method, size, free parameters with ranges, outputs."""

    method: str = "sobol"
    n: int = 16
    seed: int = 20211118
    morris_levels: int = 4
    conf_level: float = 0.95
    tolerance: float = 0.05
    outputs: list[str] = field(
        default_factory=lambda: ["got_through", "peak_in_transit_country", "repatriated"]
    )
    parameters: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check the spec; every number through the schema's rule (:func:`sim.model.config.check_number`:
        finite, of its type, in range). Raises ConfigError (a ValueError) naming the key."""


        where = SPEC_KEY
        if self.method not in METHODS:
            raise ConfigError(
                f"{where}.method: {self.method!r} is not allowed; allowed: {', '.join(METHODS)}"
            )
        self.n = check_number(self.n, f"{where}.n", lo=2, whole=True)
        self.seed = check_number(self.seed, f"{where}.seed", lo=0, whole=True)
        self.morris_levels = check_number(
            self.morris_levels, f"{where}.morris_levels", lo=2, whole=True
        )
        self.conf_level = check_number(
            self.conf_level, f"{where}.conf_level", allowed="a share in (0, 1)"
        )
        if not 0.0 < self.conf_level < 1.0:
            raise ConfigError(
                f"{where}.conf_level: {self.conf_level!r} is out of range; allowed: a share in (0, 1)"
            )
        self.tolerance = check_number(self.tolerance, f"{where}.tolerance", lo=0.0)
        if not isinstance(self.parameters, Mapping) or not self.parameters:  # also OmegaConf's
            raise ConfigError(f"{where}.parameters: none declared; allowed: key: [low, high]")
        bounds = {}
        for k, b in self.parameters.items():
            if isinstance(b, str) or not isinstance(b, Sequence) or len(b) != 2:
                raise ConfigError(
                    f"{where}.parameters.{k}: {b!r} is not [low, high]; allowed: two finite numbers, low < high"
                )
            low, high = (
                check_number(x, f"{where}.parameters.{k}[{i}]", text=True,
                             allowed="two finite numbers [low, high], low < high")
                for i, x in enumerate(b)
            )
            if not low < high:
                raise ConfigError(
                    f"{where}.parameters.{k}: range {[low, high]} is not [low, high] with low < high"
                )
            bounds[str(k)] = [low, high]
        self.parameters = bounds
        self.outputs = list(self.outputs)

    @property
    def names(self) -> list[str]:
        return list(self.parameters)

    @property
    def k(self) -> int:
        return len(self.parameters)

    @property
    def block(self) -> int:
        """Rows per base sample (Sobol: k+2) or per trajectory (Morris: k+1)."""
        return self.k + 2 if self.method == "sobol" else self.k + 1

    @property
    def rows(self) -> int:
        return self.n * self.block

    def problem(self) -> dict[str, Any]:
        return {
            "num_vars": self.k,
            "names": self.names,
            "bounds": [self.parameters[k] for k in self.names],
        }


def spec_from(data: Any) -> Spec:
    """A :class:`Spec` from the callback's settings (a dict or an OmegaConf node)."""
    if not isinstance(data, dict):

        data = OmegaConf.to_container(data, resolve=True)
    data = {k: v for k, v in dict(data).items() if k in Spec.__dataclass_fields__}
    return Spec(**data)


def load_spec(overrides: list[str] | None = None) -> Spec:
    """The spec of ``configs/experiment/sensitivity.yaml`` with Hydra-style overrides
    (``hydra.callbacks.sensitivity.n=32``).

    Raises:
        ConfigError: naming the file, the key, the value and what is allowed.
    """


    cfg = compose_with_hydra(["experiment=sensitivity", *(overrides or [])])
    try:
        return spec_from(cfg.hydra.callbacks.sensitivity)
    except ConfigError as e:
        file = config_dir() / "experiment" / "sensitivity.yaml"
        raise ConfigError(f"{file} (with the overrides given): {e}") from None


# --------------------------------------------------------------------------------------
# the design
# --------------------------------------------------------------------------------------


def sample(spec: Spec) -> np.ndarray:
    """The design: one row per run, one column per parameter (in ``spec.names`` order)."""
    if spec.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(spec.problem(), spec.n, calc_second_order=False, seed=spec.seed)
    from SALib.sample import morris

    return morris.sample(spec.problem(), spec.n, num_levels=spec.morris_levels, seed=spec.seed)


def design_paths(root: Path) -> tuple[Path, Path]:
    d = Path(root) / Path(DESIGN_FILE).parent
    return d / Path(DESIGN_FILE).name, d / "problem.json"


def write_design(root: Path | str, spec: Spec) -> Path:
    """Write ``<root>/sensitivity/design.csv`` and ``problem.json``; keep an existing equal one.

    Raises:
        ValueError: the folder already holds a design of another spec (its runs would not match).
    """

    design, problem = design_paths(Path(root))
    want = asdict(spec) | {"rows": spec.rows}
    if design.is_file() and problem.is_file():
        have = json.loads(problem.read_text(encoding="utf-8"))
        if {k: have.get(k) for k in want} != want:
            raise ValueError(
                f"{design.parent} holds the design of another analysis ({have.get('method')}, n={have.get('n')}, "
                f"{len(have.get('parameters', {}))} parameters); use a new sweep folder"
            )
        return design
    X = sample(spec)
    assert X.shape == (spec.rows, spec.k), X.shape
    design.parent.mkdir(parents=True, exist_ok=True)
    tmp = design.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(spec.names)
        w.writerows([[repr(float(v)) for v in row] for row in X])
    os.replace(tmp, design)
    problem.write_text(json.dumps(want, indent=1) + "\n", encoding="utf-8")
    return design


def folder_spec(root: Path | str) -> Spec | None:
    """The spec of the design a sweep folder holds (its ``problem.json``), if any."""
    _, problem = design_paths(Path(root))
    if not problem.is_file():
        return None
    have = json.loads(problem.read_text(encoding="utf-8"))
    return Spec(**{k: v for k, v in have.items() if k in Spec.__dataclass_fields__})


def read_design(root: Path | str) -> np.ndarray:

    design, _ = design_paths(Path(root))
    _, rows = read_rows(design)
    return np.array([[float(v) for v in r] for r in rows])


# --------------------------------------------------------------------------------------
# analysis
# --------------------------------------------------------------------------------------


@dataclass
class Analysis:
    """Indices of one sensitivity sweep.

    Attributes:
        spec: the analysis.
        indices: DataFrame, one row per (output, parameter) at the largest N run: sobol columns
            S1, S1_conf, ST, ST_conf; morris columns mu_star, mu_star_conf, sigma, mu_star_norm.
        convergence: DataFrame, the same per N (column ``n``).
        verdict: DataFrame, one row per output: ``max_change`` from N/2 to N, ``converged``.
        n_used: base samples / trajectories analysed (complete prefix of the design).
        rows_complete: design rows with a complete run.
    """

    spec: Spec
    indices: Any
    convergence: Any
    verdict: Any
    n_used: int
    rows_complete: int


def outputs_by_row(root: Path | str, spec: Spec) -> np.ndarray:
    """(rows, outputs) array of the summary outputs per design row; NaN where no complete run."""

    df = runs_table(collect(root))
    Y = np.full((spec.rows, len(spec.outputs)), np.nan)
    col = f"{DESIGN_SECTION}.row"
    if col not in df.columns:
        return Y
    ok = df[(df["status"] == "complete") & df[col].notna()]
    for _, r in ok.iterrows():
        i = int(r[col])
        if 0 <= i < spec.rows:
            Y[i] = [float(r[o]) if o in r and r[o] is not None else np.nan for o in spec.outputs]
    return Y


def _prefix_sizes(n: int) -> list[int]:
    """N, N/2, N/4, ... down to 4 (smaller designs say nothing), at most five sizes."""
    sizes = []
    m = n
    while m >= min(4, n) and m >= 2 and len(sizes) < 5:
        sizes.append(m)
        m //= 2
    return sorted(sizes)


def _analyze_one(spec: Spec, X: np.ndarray, y: np.ndarray, n: int) -> dict[str, np.ndarray]:
    rows = n * spec.block
    y = y[:rows]
    nan = np.full(spec.k, np.nan)
    if np.nanvar(y) == 0:  # the output never moved: no index is defined
        if spec.method == "sobol":
            return {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
        return {"mu_star": nan, "mu_star_conf": nan, "sigma": nan, "mu_star_norm": nan}
    if spec.method == "sobol":
        from SALib.analyze import sobol

        r = sobol.analyze(
            spec.problem(), y, calc_second_order=False, conf_level=spec.conf_level, seed=spec.seed
        )
        return {k: np.asarray(r[k], float) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    from SALib.analyze import morris

    r = morris.analyze(
        spec.problem(),
        X[:rows],
        y,
        conf_level=spec.conf_level,
        num_levels=spec.morris_levels,
        seed=spec.seed,
    )
    mu = np.asarray(r["mu_star"], float)
    top = np.nanmax(mu) if np.any(mu > 0) else 1.0
    return {
        "mu_star": mu,
        "mu_star_conf": np.asarray(r["mu_star_conf"], float),
        "sigma": np.asarray(r["sigma"], float),
        "mu_star_norm": mu / top,
    }


def analyze(root: Path | str, spec: Spec) -> Analysis:
    """Indices at every prefix size of the complete part of the design, and the verdict."""


    X = read_design(root)
    Y = outputs_by_row(root, spec)
    complete = ~np.isnan(Y).any(axis=1)
    # the analysed design: the longest prefix of whole blocks with every row complete
    n_used = 0
    while n_used < spec.n and complete[n_used * spec.block : (n_used + 1) * spec.block].all():
        n_used += 1
    main_keys = ("S1", "ST") if spec.method == "sobol" else ("mu_star_norm",)
    conv_rows = []
    for n in _prefix_sizes(n_used):
        for j, out in enumerate(spec.outputs):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = _analyze_one(spec, X, Y[:, j], n)
            for i, name in enumerate(spec.names):
                conv_rows.append(
                    {"n": n, "runs": n * spec.block, "output": out, "parameter": name}
                    | {k: float(v[i]) for k, v in res.items()}
                )
    conv = pd.DataFrame(conv_rows)
    if conv.empty:
        indices = conv
        verdict = pd.DataFrame({"output": spec.outputs, "max_change": np.nan, "converged": False})
    else:
        indices = conv[conv["n"] == n_used].drop(columns=["n"]).reset_index(drop=True)
        verdict_rows = []
        for out in spec.outputs:
            c = conv[conv["output"] == out]
            half = c[c["n"] == n_used // 2].set_index("parameter")
            full = c[c["n"] == n_used].set_index("parameter")
            change = np.nan
            if len(half) and len(full):
                change = float(
                    np.nanmax(np.abs((full[list(main_keys)] - half[list(main_keys)]).to_numpy()))
                )
            verdict_rows.append(
                {
                    "output": out,
                    "max_change": change,
                    "converged": bool(np.isfinite(change) and change <= spec.tolerance),
                }
            )
        verdict = pd.DataFrame(verdict_rows)
    return Analysis(
        spec=spec,
        indices=indices,
        convergence=conv,
        verdict=verdict,
        n_used=n_used,
        rows_complete=int(complete.sum()),
    )


# --------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------

LABELS = {
    "got_through": "got through (crossed unseen)",
    "peak_in_transit_country": "peak in the transit country (stranded)",
    "repatriated": "repatriated (free flights)",
}


def _short(name: str) -> str:
    return name.split(".", 1)[-1] if "." in name else name


def plot_indices(a: Analysis, path: Path) -> Path:
    """Bar charts of the indices, one panel per output, with confidence intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = a.spec
    fig, axes = plt.subplots(
        1,
        len(spec.outputs),
        figsize=(4.2 * len(spec.outputs), 0.55 * spec.k + 2.0),
        sharey=True,
        squeeze=False,
    )
    y = np.arange(spec.k)
    for ax, out in zip(axes[0], spec.outputs, strict=True):
        d = (
            a.indices[a.indices["output"] == out].set_index("parameter").reindex(spec.names)
            if len(a.indices)
            else None
        )
        if spec.method == "sobol":
            series = [
                ("S1", "S1_conf", "first order S1", "#4c72b0"),
                ("ST", "ST_conf", "total order ST", "#dd8452"),
            ]
            h = 0.38
            for i, (key, conf, label, color) in enumerate(series):
                vals = d[key].to_numpy() if d is not None else np.full(spec.k, np.nan)
                errs = d[conf].to_numpy() if d is not None else None
                ax.barh(
                    y + (i - 0.5) * h,
                    np.nan_to_num(vals),
                    height=h,
                    xerr=errs,
                    color=color,
                    label=label,
                    capsize=2,
                    error_kw={"elinewidth": 0.8},
                )
            ax.set_xlabel("Sobol index")
            ax.axvline(0, color="0.3", lw=0.6)
        else:
            vals = d["mu_star"].to_numpy() if d is not None else np.full(spec.k, np.nan)
            errs = d["mu_star_conf"].to_numpy() if d is not None else None
            ax.barh(
                y - 0.19,
                np.nan_to_num(vals),
                height=0.38,
                xerr=errs,
                color="#4c72b0",
                label="mu* (mean |effect|)",
                capsize=2,
                error_kw={"elinewidth": 0.8},
            )
            sig = d["sigma"].to_numpy() if d is not None else np.full(spec.k, np.nan)
            ax.barh(
                y + 0.19,
                np.nan_to_num(sig),
                height=0.38,
                color="#55a868",
                label="sigma (interaction, non-linearity)",
            )
            ax.set_xlabel(f"elementary effect on {out} (as in summary.json)")
        ax.set_title(LABELS.get(out, out), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(y, [_short(n) for n in spec.names])
    axes[0][0].invert_yaxis()
    axes[0][-1].legend(loc="lower right", fontsize=8)
    runs = a.n_used * spec.block
    fig.suptitle(
        f"{spec.method.capitalize()} sensitivity indices, N = {a.n_used} ({runs} runs); "
        f"bars: {spec.conf_level:.0%} confidence intervals",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_convergence(a: Analysis, path: Path) -> Path:
    """Each main index against N (log scale), one panel per output, with its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = a.spec
    key, conf = ("ST", "ST_conf") if spec.method == "sobol" else ("mu_star_norm", None)
    fig, axes = plt.subplots(
        1, len(spec.outputs), figsize=(4.2 * len(spec.outputs), 3.6), sharey=True, squeeze=False
    )
    colors = plt.get_cmap("tab10")
    for ax, out in zip(axes[0], spec.outputs, strict=True):
        c = a.convergence[a.convergence["output"] == out] if len(a.convergence) else a.convergence
        for i, name in enumerate(spec.names):
            d = c[c["parameter"] == name].sort_values("n") if len(c) else c
            if not len(d):
                continue
            ax.plot(d["n"], d[key], "o-", color=colors(i), label=_short(name), ms=3)
            if conf:
                ax.fill_between(
                    d["n"], d[key] - d[conf], d[key] + d[conf], color=colors(i), alpha=0.12
                )
        v = a.verdict.set_index("output").loc[out] if len(a.verdict) else None
        verdict = ""
        if v is not None and np.isfinite(v["max_change"]):
            verdict = f"\nchange N/2→N: {v['max_change']:.3f} ({'converged' if v['converged'] else 'not converged'})"
        ax.set_title(LABELS.get(out, out) + verdict, fontsize=9)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N (base samples)" if spec.method == "sobol" else "trajectories")
        ax.grid(alpha=0.3)
    if len(a.convergence) and np.isfinite(a.convergence[key]).any():
        # the indices set the scale, not the wide intervals of the smallest designs
        lo, hi = float(np.nanmin(a.convergence[key])), float(np.nanmax(a.convergence[key]))
        axes[0][0].set_ylim(max(min(lo, 0.0) - 0.1, -1.0), min(max(hi, 1.0) + 0.1, 2.0))
    axes[0][0].set_ylabel("total order ST" if spec.method == "sobol" else "mu* / largest mu*")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(
        f"Convergence of the {spec.method.capitalize()} indices as N grows "
        f"(tolerance {spec.tolerance})",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _md_table(df: Any, floatfmt: str = "{:.3f}") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, r in df.iterrows():
        cells = [floatfmt.format(v) if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(root: Path | str, a: Analysis) -> list[Path]:
    """indices.csv, convergence.csv, report.md and the two figures in ``<root>/sensitivity/``."""
    spec = a.spec
    d = Path(root) / Path(DESIGN_FILE).parent
    d.mkdir(parents=True, exist_ok=True)
    files = [d / "indices.csv", d / "convergence.csv", d / "verdict.csv"]
    a.indices.to_csv(files[0], index=False)
    a.convergence.to_csv(files[1], index=False)
    a.verdict.to_csv(files[2], index=False)
    files.append(plot_indices(a, d / f"{spec.method}_indices.png"))
    files.append(plot_convergence(a, d / f"{spec.method}_convergence.png"))
    lines = [
        f"# {spec.method.capitalize()} sensitivity analysis",
        "",
        f"Sweep folder: `{Path(root)}`. Design: {spec.rows} rows ({spec.n} "
        f"{'base samples' if spec.method == 'sobol' else 'trajectories'} × {spec.block}); "
        f"{a.rows_complete} rows complete; analysed N = {a.n_used} ({a.n_used * spec.block} runs).",
        "",
        "| parameter | low | high |",
        "|---|---:|---:|",
        *[f"| `{k}` | {lo:g} | {hi:g} |" for k, (lo, hi) in spec.parameters.items()],
        "",
    ]
    show = (
        ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
        if spec.method == "sobol"
        else ["parameter", "mu_star", "mu_star_conf", "sigma", "mu_star_norm"]
    )
    for out in spec.outputs:
        sub = a.indices[a.indices["output"] == out][show] if len(a.indices) else a.indices
        lines += [
            f"## {LABELS.get(out, out)}",
            "",
            _md_table(sub) if len(sub) else "(no complete runs)",
            "",
        ]
    lines += [
        "## Convergence",
        "",
        f"Largest change of {'S1 and ST' if spec.method == 'sobol' else 'mu*/max mu*'} from N/2 to N "
        f"(tolerance {spec.tolerance}):",
        "",
        _md_table(a.verdict),
        "",
        f"![indices]({spec.method}_indices.png)",
        "",
        f"![convergence]({spec.method}_convergence.png)",
        "",
    ]
    files.append(d / "report.md")
    files[-1].write_text("\n".join(lines), encoding="utf-8")
    return files


# --------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------


def sweep_command(root: Path, spec: Spec, overrides: list[str]) -> list[str]:
    """The ``corridor -m`` command that runs every row of the design in ``root``."""
    cb = "hydra.callbacks.sensitivity"
    return [
        sys.executable,
        "-m",
        "sim",
        "-m",
        "experiment=sensitivity",
        f"+{DESIGN_SECTION}.row=range(0,{spec.rows})",
        f"hydra.sweep.dir='{root}'",
        f"{cb}.method={spec.method}",
        f"{cb}.n={spec.n}",
        *overrides,
    ]


def main(argv: list[str] | None = None) -> int:
    """``corridor-sensitivity``: sample, sweep (any launcher), analyse, report."""
    ap = argparse.ArgumentParser(
        prog="corridor-sensitivity",
        description="Global sensitivity analysis (SALib Sobol or Morris) of the parameters declared in "
        "configs/experiment/sensitivity.yaml, run as a Hydra sweep. Extra arguments are Hydra overrides "
        "(hydra/launcher=joblib, population.size=20000, hydra.callbacks.sensitivity.seed=1). "
        "Running the same command again resumes: rows already complete are skipped.",
    )
    ap.add_argument("--method", choices=METHODS, help="default: the experiment config's")
    ap.add_argument(
        "--n", type=int, help="Sobol base samples (a power of 2) or Morris trajectories"
    )
    ap.add_argument("--only", help="analyse only these parameters (comma-separated config keys)")
    ap.add_argument(
        "--dir", type=Path, help="sweep folder (default results/sensitivity/<method>-n<N>)"
    )
    ap.add_argument(
        "--analyze-only", action="store_true", help="do not run: analyse what the folder holds"
    )
    ap.add_argument("overrides", nargs="*", help="Hydra overrides for the sweep")
    args = ap.parse_args(argv)

    cb = "hydra.callbacks.sensitivity"
    spec_over = [o for o in args.overrides if o.startswith(cb + ".")]
    if args.method:
        spec_over.append(f"{cb}.method={args.method}")
    if args.n:
        spec_over.append(f"{cb}.n={args.n}")

    try:
        spec = load_spec(spec_over)
    except ConfigError as e:
        print(f"corridor-sensitivity: configuration error: {e}", file=sys.stderr)
        return 2
    if args.only:
        keep = [k.strip() for k in args.only.split(",") if k.strip()]
        unknown = [k for k in keep if k not in spec.parameters]
        if unknown:
            ap.error(
                f"--only: {', '.join(unknown)} not among the declared parameters ({', '.join(spec.names)})"
            )
        spec.parameters = {k: spec.parameters[k] for k in keep}
    root = Path(
        os.path.abspath(args.dir or ROOT / "results" / "sensitivity" / f"{spec.method}-n{spec.n}")
    )
    rc = 0
    if not args.analyze_only:
        others = [o for o in args.overrides if not o.startswith(cb + ".")]
        # the sweep's command as Hydra will see it, checked before the design is written
        run_preflight("corridor-sensitivity", sweep_command(root, spec, others)[3:])
        try:
            write_design(root, spec)  # before the sweep: also checks the folder's existing design
        except ValueError as e:
            print(f"corridor-sensitivity: {e}", file=sys.stderr)
            return 2
        others = [o for o in args.overrides if not o.startswith(cb + ".")]
        cmd = sweep_command(root, spec, others)
        print("corridor-sensitivity: " + " ".join(cmd[2:]), flush=True)
        rc = subprocess.run(cmd, cwd=os.getcwd()).returncode
        if rc not in (0, 1):  # 1: some rows failed; analyse the rest
            print(
                f"corridor-sensitivity: the sweep stopped (exit {rc}); run the same command to resume",
                file=sys.stderr,
            )
            return rc
    spec = folder_spec(root) or spec
    a = analyze(root, spec)
    files = write_report(root, a)
    print(
        f"corridor-sensitivity: {a.rows_complete}/{spec.rows} rows complete, analysed N = {a.n_used}"
    )
    for _, v in a.verdict.iterrows():
        print(
            f"  {v['output']}: largest change N/2 -> N {v['max_change']:.3f} "
            f"({'converged' if v['converged'] else 'not converged'})"
        )
    for p in files:
        print(f"  {p}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
