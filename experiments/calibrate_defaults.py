"""Fit a few free behavioural parameters of the default scenario to the record (a first pass).

    .venv/bin/python experiments/calibrate_defaults.py [max_evals]

Loss: the mean over every target of data/observed/targets_2021.csv of the squared log-distance
from the model's value to the record's range (0 inside the range; sim/targets.py counts each
target as the record does). Search: Nelder-Mead (scipy) in a box, parameters on a log or logit
scale, one full-scale run of the default scenario per evaluation (deterministic for a seed, so
the loss is a deterministic function of the parameters; the seed's noise at 250,000 people is
small against the misses). It prints each evaluation and writes the best set to
results/calibration/best.json; the defaults in sim/config.py were set from such a run.
This is a point estimate without uncertainty: issue 5 replaces it with a proper fit.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from sim.compose import compose
from sim.targets import DEFAULT_SEEDS, run_default_seeds

OUT = Path(__file__).resolve().parent.parent / "results" / "calibration"
# name: (low, high, scale)
PARAMS = {
    "intention.network_gain": (2.0, 8.0, "log"),
    "intention.base_rate_per_day": (1e-6, 3e-5, "log"),
    "intention.caught_success_weight": (0.1, 1.0, "logit"),
    "border.attempt_prob_per_day": (0.05, 0.5, "logit"),
    "returns.base_willing_per_day": (5e-4, 1e-2, "log"),
}


def to_value(x: float, lo: float, hi: float, scale: str) -> float:
    s = 1.0 / (1.0 + np.exp(-x))  # unbounded -> (0, 1)
    return float(np.exp(np.log(lo) + s * (np.log(hi) - np.log(lo)))) if scale == "log" else lo + s * (hi - lo)


def from_value(v: float, lo: float, hi: float, scale: str) -> float:
    s = (np.log(v) - np.log(lo)) / (np.log(hi) - np.log(lo)) if scale == "log" else (v - lo) / (hi - lo)
    s = min(max(s, 1e-3), 1 - 1e-3)
    return float(np.log(s / (1 - s)))


SEEDS = DEFAULT_SEEDS[:3]


def loss_of(values: dict[str, float]) -> tuple[float, int]:
    c = run_default_seeds(SEEDS, [f"{k}={v}" for k, v in values.items()])
    m = np.maximum(c.model.to_numpy(float), 1e-6)
    d = np.where(m > c.high, np.log(m / c.high), np.where(m < c.low, np.log(c.low / m), 0.0))
    return float(np.mean(d**2)), int(c.within.sum())


def main(max_evals: int) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    start = compose()
    x0 = []
    for k, (lo, hi, sc) in PARAMS.items():
        section, key = k.split(".")
        x0.append(from_value(getattr(getattr(start, section), key), lo, hi, sc))
    best = {"loss": np.inf}
    log = open(OUT / "evals.jsonl", "a")

    def f(x: np.ndarray) -> float:
        values = {k: to_value(xi, *PARAMS[k]) for k, xi in zip(PARAMS, x, strict=True)}
        t = time.perf_counter()
        loss, within = loss_of(values)
        rec = {"loss": loss, "within": within, "params": values, "seconds": time.perf_counter() - t}
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(f"loss {loss:.4f} within {within} {values}", flush=True)
        if loss < best["loss"]:
            best.update(rec)
            (OUT / "best.json").write_text(json.dumps(best, indent=2))
        return loss

    x0 = np.array(x0)
    simplex = np.vstack([x0] + [x0 + 0.6 * np.eye(len(x0))[i] for i in range(len(x0))])
    minimize(f, x0, method="Nelder-Mead",
             options={"maxfev": max_evals, "xatol": 0.05, "fatol": 1e-3, "initial_simplex": simplex})
    print("best:", json.dumps(best, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
