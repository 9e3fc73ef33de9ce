"""Rewrite the regression baseline of the default scenario (tests/data/regression_baseline.csv).

The baseline is the default 2021 scenario with 20,000 people and the default seed, summed by
month over the integer columns of the daily table. tests/test_regression.py compares a fresh
run with it exactly: any change of the model's results, intended or not, fails that test until
this script is run again, on purpose, and the new file is committed with a note of why:

    .venv/bin/python scripts/update_regression_baseline.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.model.model import MigrationModel
from sim.running.compose import compose

BASELINE = Path(__file__).resolve().parent.parent / "tests" / "data" / "regression_baseline.csv"
OVERRIDES = ["population.size=20000"]


def monthly_table() -> pd.DataFrame:
    """The default scenario at 20,000 people, integer columns summed by month."""
    model = MigrationModel(compose(OVERRIDES))
    model.run()
    daily = model.recorder.frame()
    ints = [c for c in daily.columns if pd.api.types.is_integer_dtype(daily[c]) and c != "day"]
    out = daily[ints].groupby(daily["date"].str[:7]).sum()
    out.index.name = "month"
    return out


if __name__ == "__main__":
    table = monthly_table()
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(BASELINE)
    print(f"wrote {BASELINE} ({table.shape[0]} months x {table.shape[1]} columns)")
