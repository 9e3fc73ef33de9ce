"""Calibration: approximate Bayesian computation (ABC-SMC) of the free parameters, run as sweeps.

The record (``data/observed/targets_2021.csv``) does not pin down a handful of behavioural
parameters and capacities; ``configs/calibration/default.yaml`` declares them with a prior each
(uniform on a log or linear scale) and a sentence on why. This module fits them::

    corridor-calibrate                                  # the fit, the out-of-sample fit, the report
    corridor-calibrate --only full hydra/launcher=submitit_slurm ...     # on a cluster

Why ABC-SMC. The model is a stochastic simulator without a likelihood we could write down, and
the record is a set of figures with ranges (estimates by interested parties, monthly counts,
cumulative counts) whose error is best stated as a tolerance per kind of figure
(:mod:`sim.studies.targets`). ABC needs only simulations and a distance; its sequential version
(adaptive population Monte Carlo, Lenormand, Jabot & Deffuant 2013, *Comput. Stat.* 28:2777)
ends with a weighted sample of the posterior, not just a point, spends its runs where the fit
is good, and decides itself when to stop (when few new particles beat the last tolerance). Each
generation is one batch of independent runs: a Hydra sweep over the rows of a design file, so
it runs on any launcher (joblib here, SLURM or Ray on a cluster) and resumes as a sweep does.
Bayesian optimisation (Optuna) would give a best point without a posterior; a simulated
likelihood would need a noise model of every figure that the sources do not give.

The algorithm (one generation ``t``; parameters live on the prior's scale, where the prior is
uniform on a box)::

    t = 0   draw `particles` sets from the prior; run them; keep the best alpha share;
            tolerance eps_0 = the largest distance kept; weights equal
    t > 0   draw particles*(1-alpha) new sets: pick a kept particle by weight, move it with a
            Gaussian kernel of twice the kept particles' weighted covariance, redraw while
            outside the prior's box; run them; weight each new set by
            prior / sum_j w_j N(theta | theta_j, 2 Sigma); acceptance = share of new sets with
            distance < eps_{t-1}; keep the best alpha share of old and new; eps_t = largest kept
    stop    when acceptance < min_acceptance, or after max_generations

The distance of a run is the root mean square, over the fitted targets, of the log-distance
from the model's value to the record's range (zero inside it), in units of that target's
tolerance: 1 means "at the edge of what we defend" (:func:`sim.studies.targets.distances`).

After the last generation the best ``refine_top`` particles are run again with
``refine_seeds`` seeds each (one more sweep); the one with the lowest mean distance is the
**best set** (``best.json``), the set the default config takes. The posterior is the last
generation's kept particles with their weights (``posterior.csv``, :func:`posterior_weights`:
corrected for the proposal's truncation to the prior's box, and capped as in truncated
importance sampling), with the effective sample size in ``best.json``.

The calibration folder (default ``results/calibration/<name>``)::

    spec.json                       the spec the folder was made with (a rerun must match it)
    gen-00/sensitivity/design.csv   one generation's design: parameter values and run.seed per row
    gen-00/<job>/ ...               the sweep's jobs (sim.studies.sweep), gen-00/runs.parquet
    gen-00/particles.csv            the generation's result: every particle's values, seed,
                                    generation drawn in, distance, ``kept`` and proposal
                                    ``weight``; written last, so a generation with this file is
                                    done and is never run again
    refine-gen-NN/...               the refinement sweep of the last generation, its particles.csv
    posterior.csv, best.json, generations.csv

Everything depends only on the spec (its seed included), never on the launcher or the number of
workers: runs are keyed by their config hash, results read back in design-row order.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.linalg import solve_triangular

from sim.model.config import ConfigError, check_number, load_config, set_dotted
from sim.running.compose import compose, compose_dict
from sim.running.paths import CONFIG_DIR, PROJECT_DIR, RESULTS_DIR
from sim.studies.gather import collect
from sim.studies.sweep import DESIGN_FILE, DESIGN_SECTION
from sim.studies.targets import (
    compare,
    distance,
    inputs,
    load_observations,
    load_targets,
    record_paths,
)

ROOT = PROJECT_DIR  # the checkout, or the working directory of an installed wheel (sim/running/paths.py)
SPEC_DIR = CONFIG_DIR / "calibration"
DEFAULT_SPEC = SPEC_DIR / "default.yaml"
RESULTS = RESULTS_DIR / "calibration"
SCALES = ("log", "linear")
SEED_KEY = "run.seed"
SWEEP_OFF = [
    "output.figures=false",
    "output.csv=false",
    "output.progress=false",
    "hydra.callbacks.sweep.daily=false",
]


# --------------------------------------------------------------------------------------
# the spec: free parameters with priors, and the sampler's settings
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prior:
    """A free parameter: a config key, uniform on ``scale`` between ``low`` and ``high``."""

    key: str
    scale: str
    low: float
    high: float
    unit: str = ""
    why: str = ""

    def to_z(self, value: np.ndarray | float) -> np.ndarray:
        """The parameter on its prior's scale (log or as is), where the prior is uniform."""
        v = np.asarray(value, dtype=float)
        return np.log(v) if self.scale == "log" else v

    def from_z(self, z: np.ndarray | float) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return np.exp(z) if self.scale == "log" else z

    @property
    def z_bounds(self) -> tuple[float, float]:
        return float(self.to_z(self.low)), float(self.to_z(self.high))


@dataclass
class Spec:
    """One calibration: the free parameters and the ABC-SMC settings (docs/calibration.md)."""

    parameters: dict[str, Prior]
    particles: int = 96
    alpha: float = 0.5
    min_acceptance: float = 0.15
    max_generations: int = 6
    size: int = 50_000
    seed: int = 20211123
    fit_before: dt.date | None = None
    held_out_from: dt.date | None = None  # the held-out fit sees only targets ending before this day
    refine_top: int = 6
    refine_seeds: int = 4
    refine_size: int | None = None  # population.size of the refinement runs (None: ``size``)
    overrides: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.parameters)

    @property
    def keep(self) -> int:
        """Particles kept each generation."""
        return max(2, int(round(self.alpha * self.particles)))

    @property
    def new_per_generation(self) -> int:
        return self.particles - self.keep

    def z_bounds(self) -> np.ndarray:
        return np.array([self.parameters[k].z_bounds for k in self.names])

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["fit_before"] = self.fit_before.isoformat() if self.fit_before else None
        d["held_out_from"] = self.held_out_from.isoformat() if self.held_out_from else None
        return d


_SPEC_KEYS = {
    "parameters": "free parameters: key -> {prior: {scale, low, high}, unit, why}",
    "particles": "an integer >= 8",
    "alpha": "a share in (0, 1)",
    "min_acceptance": "a share in [0, 1)",
    "max_generations": "an integer >= 1",
    "size": "population.size of each run, an integer >= 1000",
    "seed": "an integer >= 0",
    "fit_before": "null or a date YYYY-MM-DD",
    "held_out_from": "null or a date YYYY-MM-DD: corridor-calibrate's second fit sees only the targets ending before it",
    "refine_top": "an integer >= 1",
    "refine_seeds": "an integer >= 1",
    "refine_size": "null (the calibration's size) or an integer >= 1000",
    "overrides": "a list of Hydra overrides (key=value)",
}


def load_spec(path: Path | str = DEFAULT_SPEC, **changes: Any) -> Spec:
    """Read and check a calibration spec; ``changes`` override its top-level keys.

    Every parameter key is tried on the composed default config (set to its prior's low and high
    end and checked), so a typo or an impossible range stops here, before any run.

    Raises:
        ConfigError: naming the file, the key, the value and what is allowed.
    """

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: calibration spec not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: malformed YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of {', '.join(_SPEC_KEYS)}")
    raw.update({k: v for k, v in changes.items() if v is not None})
    unknown = sorted(set(raw) - set(_SPEC_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_SPEC_KEYS)}")

    def need(key: str, ok: bool) -> None:
        if not ok:
            raise ConfigError(f"{path}: {key}: {raw.get(key)!r} is not allowed; expected {_SPEC_KEYS[key]}")

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    # every number of the spec goes through the schema's rule first (a real number, finite:
    # a NaN passes every comparison below as false); the ranges are checked after
    for key in ("particles", "max_generations", "size", "seed", "refine_top", "refine_seeds",
                "refine_size", "alpha", "min_acceptance"):
        if raw.get(key) is not None:
            check_number(raw[key], f"{path}: {key}", allowed=_SPEC_KEYS[key])

    params = raw.get("parameters")
    need("parameters", isinstance(params, dict) and len(params) > 0)
    priors = {k: _prior(path, k, v) for k, v in params.items()}
    spec = Spec(parameters=priors)
    for key in ("particles", "max_generations", "size", "seed", "refine_top", "refine_seeds"):
        if key in raw:
            setattr(spec, key, raw[key])
    for key in ("alpha", "min_acceptance"):
        if key in raw:
            setattr(spec, key, float(raw[key]))
    need("particles", is_int(spec.particles) and spec.particles >= 8)
    need("max_generations", is_int(spec.max_generations) and spec.max_generations >= 1)
    need("size", is_int(spec.size) and spec.size >= 1000)
    need("seed", is_int(spec.seed) and spec.seed >= 0)
    need("refine_top", is_int(spec.refine_top) and spec.refine_top >= 1)
    need("refine_seeds", is_int(spec.refine_seeds) and spec.refine_seeds >= 1)
    spec.refine_size = raw.get("refine_size")
    need("refine_size", spec.refine_size is None or (is_int(spec.refine_size) and spec.refine_size >= 1000))
    need("alpha", 0.0 < spec.alpha < 1.0)
    need("min_acceptance", 0.0 <= spec.min_acceptance < 1.0)
    for key in ("fit_before", "held_out_from"):
        fb = raw.get(key)
        if fb is not None:
            try:
                setattr(spec, key, fb if isinstance(fb, dt.date) else dt.date.fromisoformat(str(fb)))
            except ValueError:
                need(key, False)
    ov = raw.get("overrides") or []
    need("overrides", isinstance(ov, list) and all(isinstance(o, str) and "=" in o for o in ov))
    spec.overrides = list(ov)
    check_parameters(spec, str(path))
    return spec


def _prior(path: Path, key: str, v: Any) -> Prior:
    where = f"{path}: parameters.{key}"
    if not isinstance(v, dict) or not isinstance(v.get("prior"), dict):
        raise ConfigError(f"{where}: expected {{prior: {{scale, low, high}}, unit, why}}")
    extra = sorted(set(v) - {"prior", "unit", "why"})
    if extra:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(extra)}; allowed: prior, unit, why")
    p = v["prior"]
    extra = sorted(set(p) - {"scale", "low", "high"})
    if extra or not {"scale", "low", "high"} <= set(p):
        raise ConfigError(f"{where}.prior: {p!r}; expected exactly scale, low, high")
    if p["scale"] not in SCALES:
        raise ConfigError(f"{where}.prior.scale: {p['scale']!r}; allowed: {', '.join(SCALES)}")
    low, high = (check_number(p[end], f"{where}.prior.{end}", text=True,
                              allowed="a finite number (low below high)") for end in ("low", "high"))
    if not low < high:
        raise ConfigError(f"{where}.prior: low {low} must be below high {high}")
    if p["scale"] == "log" and low <= 0:
        raise ConfigError(f"{where}.prior: a log-scale prior needs low > 0, got {low}")
    return Prior(key, p["scale"], low, high, str(v.get("unit", "")), str(v.get("why", "")))


def check_parameters(spec: Spec, where: str = "calibration") -> None:
    """Set each parameter to its prior's ends in the composed config and check it (model built)."""

    base = compose_dict(list(spec.overrides))
    for end in ("low", "high"):
        data = json.loads(json.dumps(base, default=str))
        for k, p in spec.parameters.items():
            try:
                set_dotted(data, k, getattr(p, end))
            except ConfigError as e:
                raise ConfigError(f"{where}: parameters.{k}: {e}") from None
        data.setdefault("population", {})["size"] = spec.size
        try:
            load_config(data)
        except ConfigError as e:
            raise ConfigError(f"{where}: the priors' {end} ends do not make a valid config: {e}") from None


# --------------------------------------------------------------------------------------
# ABC-SMC: pure functions of arrays (tests run them on toy simulators)
# --------------------------------------------------------------------------------------


def run_seed(spec: Spec, generation: int | str, row: int) -> int:
    """The model seed of one run: a function of the spec's seed, the generation and the row."""
    tag = generation if isinstance(generation, int) else 1000 + sum(map(ord, generation))
    return int(np.random.SeedSequence([spec.seed, tag, row]).generate_state(1)[0] & 0x7FFFFFFF)


def sample_prior(bounds: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform in the box ``bounds`` ((k, 2) low/high)."""
    return bounds[:, 0] + rng.random((n, len(bounds))) * (bounds[:, 1] - bounds[:, 0])


def kernel_cov(z: np.ndarray, w: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Twice the weighted covariance of the kept particles (Lenormand et al.'s kernel).

    A floor of (0.1 % of the prior's width)^2 on the diagonal keeps it positive definite when
    fewer particles are kept than there are parameters (small tests, a collapsed direction).
    """
    cov = np.atleast_2d(np.cov(z, rowvar=False, aweights=w)) if len(z) > 1 else np.zeros((z.shape[1],) * 2)
    floor = (1e-3 * (bounds[:, 1] - bounds[:, 0])) ** 2
    return 2.0 * cov + np.diag(floor)


def propose(
    z: np.ndarray, w: np.ndarray, bounds: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """``n`` new points: a kept particle picked by weight, moved by the kernel, inside the box.

    Returns the points and the share of draws that fell inside the box: the proposal is the
    kernel mixture truncated to the prior's box, whose density is the mixture's divided by that
    share (:func:`posterior_weights` uses it).
    """
    chol = np.linalg.cholesky(kernel_cov(z, w, bounds))
    out = np.empty((n, z.shape[1]))
    p = w / w.sum()
    tries = 0
    for i in range(n):
        for _ in range(10_000):
            tries += 1
            x = z[rng.choice(len(z), p=p)] + chol @ rng.standard_normal(z.shape[1])
            if np.all(x >= bounds[:, 0]) and np.all(x <= bounds[:, 1]):
                out[i] = x
                break
        else:  # pragma: no cover - the kernel is wider than the box's corner only in toy cases
            raise RuntimeError("ABC-SMC: could not propose a point inside the prior's box")
    return out, n / max(tries, 1)


def new_weights(z_new: np.ndarray, z: np.ndarray, w: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Importance weights of new points: prior density over the kernel mixture's density.

    Absolute (normalising constants included), so they sit on the same scale as the first
    generation's weights of 1 (drawn from the prior itself) and as any earlier generation's.
    """

    k = z.shape[1]
    chol = np.linalg.cholesky(kernel_cov(z, w, bounds))
    diff = z_new[:, None, :] - z[None, :, :]  # (new, kept, k)
    u = solve_triangular(chol, diff.reshape(-1, k).T, lower=True)
    log_norm = -np.sum(np.log(np.diag(chol))) - 0.5 * k * np.log(2 * np.pi)
    logk = log_norm - 0.5 * np.sum(u**2, axis=0).reshape(len(z_new), len(z))
    logmix = np.log(w / w.sum())[None, :] + logk
    top = logmix.max(axis=1, keepdims=True)
    log_q = top[:, 0] + np.log(np.exp(logmix - top).sum(axis=1))
    log_prior = -np.sum(np.log(bounds[:, 1] - bounds[:, 0]))
    return np.exp(log_prior - log_q)


@dataclass
class Generation:
    """One generation's particles (all run so far, old kept ones first), distances and weights."""

    z: np.ndarray
    distance: np.ndarray
    weight: np.ndarray
    kept: np.ndarray  # bool: in the population carried forward
    eps: float
    acceptance: float  # share of this generation's new particles below the last tolerance
    runs: int
    seeds: np.ndarray | None = None  # each particle's model seed (None in toy runs)
    origin: np.ndarray | None = None  # the generation each particle was drawn in
    inside_share: float = 1.0  # of this generation's proposal draws, the share inside the box
    index: int = 0  # the generation's number


def select(d: np.ndarray, keep: int) -> tuple[np.ndarray, float]:
    """The ``keep`` particles of smallest distance (ties by order), and the tolerance they set."""
    order = np.argsort(d, kind="stable")[:keep]
    mask = np.zeros(len(d), bool)
    mask[order] = True
    return mask, float(np.max(d[mask]))


def step(
    prev: Generation | None, z_new: np.ndarray, d_new: np.ndarray, keep: int, bounds: np.ndarray,
    seeds: np.ndarray | None = None, inside_share: float = 1.0,
) -> Generation:
    """Merge a generation's new runs into the kept population (the APMC update).

    ``weight`` is the proposal weight of Lenormand et al. (prior over the kernel mixture's
    density); it also steers the next proposal. The posterior's weights correct it for the
    truncation to the prior's box (:func:`posterior_weights`).
    """
    if prev is None:
        w = np.ones(len(z_new))
        mask, eps = select(d_new, keep)
        return Generation(z_new, d_new, w, mask, eps, 1.0, len(z_new), seeds, np.zeros(len(z_new), int))
    zk, dk, wk = prev.z[prev.kept], prev.distance[prev.kept], prev.weight[prev.kept]
    w_new = new_weights(z_new, zk, wk, bounds)
    z = np.vstack([zk, z_new])
    d = np.concatenate([dk, d_new])
    w = np.concatenate([wk, w_new])  # both prior / proposal density: one scale
    mask, eps = select(d, keep)
    acceptance = float(np.mean(d_new < prev.eps))
    both = None if seeds is None or prev.seeds is None else np.concatenate([prev.seeds[prev.kept], seeds])
    t = prev.index + 1
    origin = np.concatenate([prev.origin[prev.kept], np.full(len(z_new), t)])
    return Generation(z, d, w, mask, eps, acceptance, prev.runs + len(z_new), both, origin, inside_share, t)


def posterior_weights(gens: list[Generation]) -> tuple[np.ndarray, dict[str, float]]:
    """The last generation's kept particles' posterior weights (normalised), and diagnostics.

    1. Truncation: generation t drew from the kernel mixture cut to the prior's box, whose
       density is the mixture's over the share of draws inside it; each particle's weight is
       multiplied by its generation's share (1 for the prior draws of generation 0).
    2. Truncated importance sampling (Ionides 2008, *J. Comput. Graph. Stat.* 17:295): weights
       are capped at sqrt(n) times their mean, which bounds the variance that a few particles
       proposed where the mixture is thin would add, at the price of a small bias.

    Diagnostics: the effective sample sizes (sum w)^2 / sum w^2 before and after the cap.
    """
    g = gens[-1]
    share = np.array([x.inside_share for x in gens])
    w = g.weight[g.kept] * share[g.origin[g.kept]]
    w = w / w.sum()
    ess_raw = 1.0 / float(np.sum(w**2))
    capped = np.minimum(w, w.mean() * np.sqrt(len(w)))
    capped = capped / capped.sum()
    return capped, {"ess_uncapped": ess_raw, "ess": 1.0 / float(np.sum(capped**2)), "particles": int(len(w))}


def abc_smc(simulate: Any, spec: Spec, rng: np.random.Generator) -> list[Generation]:
    """ABC-SMC in memory with ``simulate(z_rows, generation) -> distances`` (tests, toy models).

    :func:`calibrate` is the same loop with each generation run as a sweep and saved.
    """
    bounds = spec.z_bounds()
    gens: list[Generation] = []
    for t in range(spec.max_generations):
        prev = gens[-1] if gens else None
        z_new, share = (
            (sample_prior(bounds, spec.particles, rng), 1.0)
            if prev is None
            else propose(prev.z[prev.kept], prev.weight[prev.kept], bounds, spec.new_per_generation, rng)
        )
        gens.append(step(prev, z_new, np.asarray(simulate(z_new, t), float), spec.keep, bounds, inside_share=share))
        if t > 0 and gens[-1].acceptance < spec.min_acceptance:
            break
    return gens


def generation_rng(spec: Spec, t: int) -> np.random.Generator:
    """The sampler's random numbers for generation ``t`` (resuming redraws the same points)."""
    return np.random.default_rng(np.random.SeedSequence([spec.seed, 7919, t]))


# --------------------------------------------------------------------------------------
# running a batch of parameter sets as a sweep, and reading the distances back
# --------------------------------------------------------------------------------------


def write_design(folder: Path, spec: Spec, values: np.ndarray, seeds: list[int]) -> Path:
    """``<folder>/sensitivity/design.csv``: one row per run (parameter values, run.seed).

    An existing design must be the same (a resumed generation); otherwise it is an error.
    """

    path = folder / DESIGN_FILE
    rows = [[repr(float(v)) for v in row] + [str(s)] for row, s in zip(values, seeds, strict=True)]
    header = [*spec.names, SEED_KEY]
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as f:
            have = list(csv.reader(f))
        if have != [header, *rows]:
            raise ConfigError(f"{path}: holds another design than this spec makes; use a new calibration folder")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(path, header, rows)
    return path


def rounded(value: float, digits: int) -> str:
    """A fitted value as the defaults hold it: ``digits`` significant figures (scientific
    notation below 1e-4); scripts/adopt_calibration.py writes these into the defaults."""
    return f"{float(f'{value:.{digits}g}'):g}" if abs(value) >= 1e-4 else f"{value:.{digits - 1}e}"


def sweep_command(folder: Path, spec: Spec, rows: int, launcher: list[str], size: int | None = None) -> list[str]:
    """The ``corridor -m`` command that runs every row of ``folder``'s design."""

    return [
        sys.executable, "-m", "sim", "-m",
        f"+{DESIGN_SECTION}.row=range(0,{rows})",
        f"hydra.sweep.dir='{folder}'",
        f"population.size={size or spec.size}",
        *SWEEP_OFF,
        *spec.overrides,
        *launcher,
    ]


def run_batch(
    folder: Path, spec: Spec, values: np.ndarray, seeds: list[int], launcher: list[str], log: Any = print,
    size: int | None = None,
) -> None:
    """Run one batch (a generation) as a sweep; a rerun skips the runs already complete.

    Runs that failed are tried once more (the sweep skips the complete ones); a run that fails
    twice counts as infinitely far from the record, and is named in the log.
    """
    write_design(folder, spec, values, seeds)
    cmd = sweep_command(folder, spec, len(values), launcher, size)
    for attempt in (1, 2):
        log(f"corridor-calibrate: {len(values)} runs: corridor {' '.join(cmd[3:])}")
        rc = subprocess.run(cmd, cwd=ROOT).returncode
        if rc == 0:
            return
        if rc != 1:  # 1: some runs failed; anything else: the sweep itself stopped
            raise RuntimeError(f"the sweep in {folder} stopped (exit {rc}); run the same command to resume")
        if attempt == 1:
            log(f"corridor-calibrate: some runs in {folder} failed; trying them once more")
    log(f"corridor-calibrate: runs in {folder} failed twice (see its runs.parquet); they count as infinitely far")


def batch_tables(folder: Path, rows: int) -> list[tuple[Any, float] | None]:
    """Each design row's (daily table, scale), or None where the run failed or is missing."""


    out: list[tuple[Any, float] | None] = [None] * rows
    for rec in collect(folder):
        res = rec.get("_results")
        if rec["status"] != "complete" or res is None:
            continue
        row = next((o.split("=", 1)[1] for o in rec["overrides"] if o.lstrip("+").startswith(f"{DESIGN_SECTION}.row=")), None)
        if row is None or not 0 <= int(row) < rows:
            continue
        c = yaml.safe_load((Path(res) / "config.yaml").read_text(encoding="utf-8"))
        size, pool = c["population"]["size"], c["population"]["pool"]
        out[int(row)] = (pd.read_parquet(Path(res) / "daily.parquet"), size / pool)
    return out


def spec_record(spec: Spec) -> tuple[list[Any], dict[str, Any]]:
    """The record of the world the spec's runs simulate (its ``overrides`` composed:
    ``world.record``): its targets and observations."""
    targets_file, observations_file = record_paths(compose(list(spec.overrides)))
    return load_targets(targets_file), load_observations(observations_file)


def fitted_targets(spec: Spec) -> list[Any]:
    """The targets a calibration fits (of its world's record, :func:`spec_record`): all, or
    those whose period ends before ``fit_before``; never the figures that are inputs."""
    ts, obs = spec_record(spec)
    given = inputs(obs)
    return [t for t in ts if (spec.fit_before is None or t.end < spec.fit_before) and t.metric not in given]


def batch_distances(folder: Path, rows: int, targets: list[Any], observations: dict[str, Any] | None = None) -> np.ndarray:
    """Distance of each design row's run to the targets (inf for a failed run)."""

    d = np.full(rows, np.inf)
    for i, got in enumerate(batch_tables(folder, rows)):
        if got is not None:
            d[i] = distance(compare(got[0], targets, got[1], observations))
    return d


# --------------------------------------------------------------------------------------
# the calibration folder
# --------------------------------------------------------------------------------------


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """Write a CSV file atomically (a reader, or a killed run, never leaves half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def save_generation(path: Path, spec: Spec, g: Generation, seconds: float) -> None:
    values = np.column_stack([spec.parameters[k].from_z(g.z[:, j]) for j, k in enumerate(spec.names)])
    w = g.weight  # proposal weights (only the kept ones carry forward)
    rows = [
        [*map(repr, map(float, v)), int(s), int(o), repr(float(d)), int(k), repr(float(wi))]
        for v, s, o, d, k, wi in zip(values, g.seeds, g.origin, g.distance, g.kept, w, strict=True)
    ]
    _write_csv(path, [*spec.names, SEED_KEY, "generation", "distance", "kept", "weight"], rows)
    meta = {"index": g.index, "eps": g.eps, "acceptance": g.acceptance, "runs": g.runs, "inside_share": g.inside_share,
            "seconds": round(seconds, 1)}
    (path.parent / "generation.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def load_generation(path: Path, spec: Spec) -> Generation:

    df = pd.read_csv(path)
    meta = json.loads((path.parent / "generation.json").read_text(encoding="utf-8"))
    z = np.column_stack([spec.parameters[k].to_z(df[k].to_numpy(float)) for k in spec.names])
    return Generation(z, df["distance"].to_numpy(float), df["weight"].to_numpy(float), df["kept"].to_numpy(bool),
                      float(meta["eps"]), float(meta["acceptance"]), int(meta["runs"]), df[SEED_KEY].to_numpy(np.int64),
                      df["generation"].to_numpy(int), float(meta["inside_share"]), int(meta["index"]))


# settings that only say when to stop, or how the last generation is refined: a folder may be
# continued with other values (the generations already run stay the same)
STOPPING = ("max_generations", "min_acceptance", "refine_top", "refine_seeds", "refine_size")


def check_folder(root: Path, spec: Spec) -> None:
    """Write ``spec.json``, or check that the folder was made with the same spec.

    Only the stopping rule (:data:`STOPPING`) may differ: ``--max-generations 10`` continues a
    finished fit from its last generation (the generations already run are the same).
    """
    path = root / "spec.json"
    want = json.loads(json.dumps(spec.to_json(), default=str))
    if path.is_file():
        have = json.loads(path.read_text(encoding="utf-8"))
        diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
        if set(diff) - set(STOPPING):
            raise ConfigError(
                f"{root}: made by another calibration spec (differs in {', '.join(diff)}); "
                "use another --dir, or delete this folder"
            )
        if not diff:
            return
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(want, indent=1) + "\n", encoding="utf-8")


@dataclass
class Calibration:
    """A finished calibration, as read from its folder."""

    root: Path
    spec: Spec
    posterior: Any  # DataFrame: parameter columns, run.seed, distance, weight
    best: dict[str, Any]
    generations: Any  # DataFrame: generation, runs, eps, acceptance

    def draws(self, n: int, seed: int = 0) -> list[dict[str, float]]:
        """``n`` parameter sets resampled from the posterior by weight (reproducible)."""
        rng = np.random.default_rng(seed)
        w = self.posterior["weight"].to_numpy(float)
        idx = rng.choice(len(w), size=n, p=w / w.sum())
        return [{k: float(self.posterior[k].iloc[i]) for k in self.spec.names} for i in idx]


def read_calibration(root: Path | str) -> Calibration:
    """A calibration folder's results (after :func:`calibrate` finished)."""

    root = Path(root)
    for f in ("spec.json", "posterior.csv", "best.json", "generations.csv"):
        if not (root / f).is_file():
            raise ConfigError(f"{root}: no {f}; is this a finished calibration folder (corridor-calibrate)?")
    raw = json.loads((root / "spec.json").read_text(encoding="utf-8"))
    spec = Spec(
        parameters={k: Prior(**v) for k, v in raw.pop("parameters").items()},
        **{k: v for k, v in raw.items() if k not in ("fit_before", "held_out_from")},
        fit_before=dt.date.fromisoformat(raw["fit_before"]) if raw.get("fit_before") else None,
        held_out_from=dt.date.fromisoformat(raw["held_out_from"]) if raw.get("held_out_from") else None,
    )
    return Calibration(
        root,
        spec,
        pd.read_csv(root / "posterior.csv"),
        json.loads((root / "best.json").read_text(encoding="utf-8")),
        pd.read_csv(root / "generations.csv"),
    )


def calibrate(spec: Spec, root: Path, launcher: list[str], log: Any = print) -> Calibration:
    """Run (or resume) the ABC-SMC calibration of ``spec`` in ``root``; return its results."""
    root = Path(os.path.abspath(root))
    check_folder(root, spec)

    targets = fitted_targets(spec)
    observations = spec_record(spec)[1]
    if not targets:
        raise ConfigError(f"fit_before {spec.fit_before}: no target ends before it; nothing to fit")
    log(f"corridor-calibrate: {root}: {len(spec.names)} parameters, {len(targets)} targets, "
        f"{spec.particles} particles, keep {spec.keep}")
    bounds = spec.z_bounds()
    gens: list[Generation] = []
    history = []
    for t in range(spec.max_generations):
        folder = root / f"gen-{t:02d}"
        done = folder / "particles.csv"
        prev = gens[-1] if gens else None
        if done.is_file():
            g = load_generation(done, spec)
        else:
            t0 = time.perf_counter()
            rng = generation_rng(spec, t)
            z_new, share = (
                (sample_prior(bounds, spec.particles, rng), 1.0)
                if prev is None
                else propose(prev.z[prev.kept], prev.weight[prev.kept], bounds, spec.new_per_generation, rng)
            )
            values = np.column_stack([spec.parameters[k].from_z(z_new[:, j]) for j, k in enumerate(spec.names)])
            seeds = [run_seed(spec, t, i) for i in range(len(z_new))]
            run_batch(folder, spec, values, seeds, launcher, log)
            d_new = batch_distances(folder, len(z_new), targets, observations)
            g = step(prev, z_new, d_new, spec.keep, bounds, np.array(seeds, np.int64), share)
            save_generation(done, spec, g, time.perf_counter() - t0)
        gens.append(g)
        meta = json.loads((folder / "generation.json").read_text(encoding="utf-8"))
        history.append({"generation": t, "runs": g.runs, "eps": g.eps, "acceptance": g.acceptance,
                        "new_runs": spec.particles if t == 0 else spec.new_per_generation,
                        "inside_share": g.inside_share, "seconds": meta.get("seconds")})
        log(f"corridor-calibrate: generation {t}: tolerance {g.eps:.3f}, acceptance {g.acceptance:.2f}, {g.runs} runs so far")
        if t > 0 and g.acceptance < spec.min_acceptance:
            break
    final = gens[-1]
    best = refine(root, spec, final, len(gens) - 1, targets, launcher, log)
    _write_csv(root / "generations.csv", list(history[0]), [list(h.values()) for h in history])
    kept = np.flatnonzero(final.kept)
    values = np.column_stack([spec.parameters[k].from_z(final.z[kept, j]) for j, k in enumerate(spec.names)])
    w, diag = posterior_weights(gens)
    _write_csv(root / "posterior.csv", [*spec.names, SEED_KEY, "generation", "distance", "weight"],
               [[*map(repr, map(float, v)), int(s), int(o), repr(float(d)), repr(float(wi))]
                for v, s, o, d, wi in zip(values, final.seeds[kept], final.origin[kept], final.distance[kept], w,
                                          strict=True)])
    best["posterior"] = diag
    (root / "best.json").write_text(json.dumps(best, indent=1) + "\n", encoding="utf-8")
    return read_calibration(root)


def refine(
    root: Path, spec: Spec, g: Generation, t: int, targets: list[Any], launcher: list[str], log: Any
) -> dict[str, Any]:
    """Rerun the best particles of generation ``t`` with several seeds (``refine-gen-NN/``), at
    ``refine_size`` people (``refine-gen-NN-sizeM/``): the lowest mean distance is the best set.

    Refining at the default population size picks the candidate that fits best where users run
    the model: a run of 50,000 rows samples the same world, but the network's counts and the
    capacities' rounding make its year differ a little from a run of 250,000."""
    kept = np.flatnonzero(g.kept)
    top = kept[np.argsort(g.distance[kept], kind="stable")[: spec.refine_top]]
    values = np.column_stack([spec.parameters[k].from_z(g.z[top, j]) for j, k in enumerate(spec.names)])
    rows = np.repeat(values, spec.refine_seeds, axis=0)
    seeds = [run_seed(spec, "refine", i) for i in range(len(rows))]
    size = spec.refine_size or spec.size
    folder = root / (f"refine-gen-{t:02d}" + (f"-size{size}" if size != spec.size else ""))
    if not (folder / "particles.csv").is_file():
        t0 = time.perf_counter()
        run_batch(folder, spec, rows, seeds, launcher, log, size)
        d = batch_distances(folder, len(rows), targets, spec_record(spec)[1])
        _write_csv(folder / "particles.csv", [*spec.names, SEED_KEY, "distance"],
                   [[*map(repr, map(float, v)), s, repr(float(x))] for v, s, x in zip(rows, seeds, d, strict=True)])
        (folder / "generation.json").write_text(
            json.dumps({"runs": len(rows), "seconds": round(time.perf_counter() - t0, 1)}) + "\n", encoding="utf-8")

    df = pd.read_csv(folder / "particles.csv")
    df["candidate"] = np.repeat(np.arange(len(top)), spec.refine_seeds)
    mean = df.groupby("candidate")["distance"].agg(["mean", "std"])
    i = int(mean["mean"].idxmin())
    return {
        "parameters": {k: float(values[i, j]) for j, k in enumerate(spec.names)},
        "mean_distance": float(mean["mean"].iloc[i]),
        "sd_distance": float(mean["std"].iloc[i]),
        "seeds": spec.refine_seeds,
        "size": size,
        "candidates": [
            {"parameters": {k: float(values[c, j]) for j, k in enumerate(spec.names)},
             "mean_distance": float(mean["mean"].iloc[c]), "sd_distance": float(mean["std"].iloc[c])}
            for c in range(len(top))
        ],
        "folder": str(root),
        "refined": folder.name,
        "fit_before": spec.fit_before.isoformat() if spec.fit_before else None,
    }


def posterior_summary(cal: Calibration) -> Any:
    """Per parameter: prior range, weighted posterior median and 90 % interval, best set."""

    w = cal.posterior["weight"].to_numpy(float)
    rows = []
    for k, p in cal.spec.parameters.items():
        v = cal.posterior[k].to_numpy(float)
        q = weighted_quantiles(v, w, [0.05, 0.5, 0.95])
        rows.append({"parameter": k, "unit": p.unit, "prior": f"{p.scale}-uniform [{p.low:g}, {p.high:g}]",
                     "p5": q[0], "median": q[1], "p95": q[2], "best": cal.best["parameters"][k]})
    return pd.DataFrame(rows)


def weighted_quantiles(v: np.ndarray, w: np.ndarray, qs: list[float]) -> list[float]:
    order = np.argsort(v)
    cw = np.cumsum(w[order]) / w.sum()
    return [float(v[order][min(np.searchsorted(cw, q), len(v) - 1)]) for q in qs]
