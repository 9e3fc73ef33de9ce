"""Global sensitivity analysis: SALib designs run as sweeps, indices, convergence, the report.

Protects (issue 4, item 5): the design's rows are what the jobs run; the indices computed from a
sweep folder are right (checked on a function whose indices are known, through the same folder
layout the sweeps write); a partial sweep is analysed on the complete prefix of its design; the
command runs a real Sobol and a real Morris design through a launcher, writes the report with
its bar charts and convergence check, and a second run of the same command runs nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.studies.sensitivity import (
    Spec,
    analyze,
    folder_spec,
    load_spec,
    read_design,
    write_design,
    write_report,
)

ROOT = Path(__file__).resolve().parent.parent


def fake_sweep(root: Path, spec: Spec, f, rows: range | None = None) -> np.ndarray:
    """A sweep folder as the sweeps write it, with outputs f(x) instead of model runs."""
    write_design(root, spec)
    X = read_design(root)
    for i in rows if rows is not None else range(len(X)):
        d = root / str(i)
        d.mkdir()
        (d / "summary.json").write_text(
            json.dumps(dict(zip(spec.outputs, map(float, f(X[i])), strict=True)))
        )
        (d / "job.json").write_text(
            json.dumps(
                {
                    "status": "complete",
                    "job": str(i),
                    "job_num": i,
                    "config_hash": f"h{i}",
                    "overrides": [f"+sensitivity.row={i}"],
                    "seed": 1,
                }
            )
        )
    return X


LINEAR = {"a": [0.0, 1.0], "b": [0.0, 1.0], "c": [0.0, 1.0]}


def linear(x: np.ndarray) -> list[float]:
    """y = 4a + 2b (c does nothing): S1 = ST = (0.8, 0.2, 0); z = a*b (interaction only)."""
    return [4 * x[0] + 2 * x[1], x[0] * x[1]]


def test_sobol_indices_of_a_known_function(tmp_path: Path) -> None:
    spec = Spec(method="sobol", n=256, parameters=LINEAR, outputs=["y", "z"], tolerance=0.05)
    fake_sweep(tmp_path, spec, linear)
    a = analyze(tmp_path, spec)
    assert a.n_used == 256 and a.rows_complete == 256 * 5
    y = a.indices[a.indices["output"] == "y"].set_index("parameter")
    assert np.allclose(y["S1"], [0.8, 0.2, 0.0], atol=0.05) and np.allclose(
        y["ST"], [0.8, 0.2, 0.0], atol=0.05
    )
    assert (y.loc[["a", "b"], "S1_conf"] > 0).all() and (y["S1_conf"] < 0.2).all()  # c: exactly 0
    z = a.indices[a.indices["output"] == "z"].set_index("parameter")
    assert (
        z.loc["c", "ST"] < 0.02 and z.loc["a", "ST"] > z.loc["a", "S1"]
    )  # an interaction: ST > S1
    assert sorted(a.convergence["n"].unique()) == [16, 32, 64, 128, 256]
    assert bool(a.verdict.set_index("output").loc["y", "converged"])
    files = write_report(tmp_path, a)
    assert {p.name for p in files} >= {
        "report.md",
        "indices.csv",
        "sobol_indices.png",
        "sobol_convergence.png",
    }


def test_morris_ranks_a_known_function(tmp_path: Path) -> None:
    spec = Spec(method="morris", n=20, parameters=LINEAR, outputs=["y", "z"])
    fake_sweep(tmp_path, spec, linear)
    a = analyze(tmp_path, spec)
    y = a.indices[a.indices["output"] == "y"].set_index("parameter")
    assert np.allclose(
        y["mu_star"], [4.0, 2.0, 0.0], atol=1e-9
    )  # exact elementary effects of a linear y
    assert np.allclose(y["sigma"], 0.0, atol=1e-9)


def test_a_partial_sweep_is_analysed_on_its_complete_prefix(tmp_path: Path) -> None:
    spec = Spec(method="sobol", n=8, parameters=LINEAR, outputs=["y", "z"])
    fake_sweep(
        tmp_path, spec, linear, rows=[i for i in range(8 * 5) if i != 17]
    )  # block 3 is incomplete
    a = analyze(tmp_path, spec)
    assert a.rows_complete == 39 and a.n_used == 3
    assert folder_spec(tmp_path) == spec


def test_a_folder_refuses_another_design(tmp_path: Path) -> None:
    write_design(tmp_path, Spec(n=4, parameters=LINEAR, outputs=["y"]))
    write_design(tmp_path, Spec(n=4, parameters=LINEAR, outputs=["y"]))  # the same: kept
    with pytest.raises(ValueError, match="another analysis"):
        write_design(tmp_path, Spec(n=8, parameters=LINEAR, outputs=["y"]))


def test_the_experiment_config_declares_the_analysis() -> None:
    spec = load_spec()
    assert {
        "intention.network_gain",
        "border.attempt_prob_per_day",
        "returns.base_willing_per_day",
    } <= set(spec.names)
    assert spec.outputs == ["got_through", "peak_in_transit_country", "repatriated"]
    assert load_spec(["hydra.callbacks.sensitivity.method=morris"]).method == "morris"


def sensitivity(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.studies.sensitivity",
            *args,
            "population.size=2000",
            "hydra.callbacks.sweep.progress_seconds=2",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=400,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "n", "launcher"), [("sobol", 4, "joblib"), ("morris", 2, "basic")]
)
def test_the_command_runs_a_design_through_a_launcher(
    tmp_path: Path, method: str, n: int, launcher: str
) -> None:
    root = tmp_path / method
    args = [
        "--method",
        method,
        "--n",
        str(n),
        "--dir",
        str(root),
        "--only",
        "intention.network_gain,border.attempt_prob_per_day",
        f"hydra/launcher={launcher}",
    ]
    p = sensitivity(args, tmp_path)
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    rows = n * (4 if method == "sobol" else 3)
    assert f"{rows}/{rows} rows complete, analysed N = {n}" in p.stdout
    runs = pd.read_parquet(root / "runs.parquet")
    assert len(runs) == rows and (runs["status"] == "complete").all()
    assert sorted(runs["sensitivity.row"]) == list(range(rows))
    # the design's values are what ran (read back from each run's config.yaml)
    import yaml

    X = read_design(root)
    for _, r in runs.iterrows():
        cfg = yaml.safe_load((root / r["job"] / "config.yaml").read_text())
        assert cfg["intention"]["network_gain"] == X[int(r["sensitivity.row"]), 0]
    idx = pd.read_csv(root / "sensitivity" / "indices.csv")
    key = "ST" if method == "sobol" else "mu_star"
    assert set(idx["output"]) == {"got_through", "peak_in_transit_country", "repatriated"}
    assert np.isfinite(idx.loc[idx["output"] == "got_through", key]).all()
    for name in ("report.md", f"{method}_indices.png", f"{method}_convergence.png"):
        assert (root / "sensitivity" / name).stat().st_size > 0

    if method == "morris":  # (once is enough) the same command again: every row is complete already
        again = sensitivity(args, tmp_path)
        assert again.returncode == 0, again.stderr[-3000:]
        assert f"{rows}/{rows} runs done ({rows} skipped: complete already)" in again.stderr
