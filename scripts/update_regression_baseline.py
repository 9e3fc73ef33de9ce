"""Rewrite the regression baseline of the default scenario (tests/data/regression_baseline.csv).

The baseline is the default 2021 scenario with 20,000 people and the default seed, summed by
month over the integer columns of the daily table. tests/test_regression.py compares a fresh
run with it exactly: any change of the model's results, intended or not, fails that test until
this script is run again, on purpose, and the new file is committed with a note of why:

    .venv/bin/python scripts/update_regression_baseline.py
"""

from __future__ import annotations

from pathlib import Path

from sim.running.run import regression_table

BASELINE = Path(__file__).resolve().parent.parent / "tests" / "data" / "regression_baseline.csv"


if __name__ == "__main__":
    table = regression_table()
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(BASELINE)
    print(f"wrote {BASELINE} ({table.shape[0]} months x {table.shape[1]} columns)")
