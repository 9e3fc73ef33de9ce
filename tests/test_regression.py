"""Regression baseline: the default scenario's results do not change by accident.

Protects against silent changes of the model's output. If a change is intended, run
`.venv/bin/python scripts/update_regression_baseline.py` and commit the new baseline with a
note of why it changed.
"""

from pathlib import Path

import pandas as pd
import pytest

from sim.running.run import regression_table

BASELINE = Path(__file__).resolve().parent / "data" / "regression_baseline.csv"


@pytest.mark.slow
def test_default_scenario_matches_regression_baseline():
    """A fresh run of the default scenario (20,000 people) equals the stored monthly table exactly."""
    expected = pd.read_csv(BASELINE, index_col="month")
    got = regression_table()
    assert list(got.columns) == list(expected.columns), "columns changed: update the baseline on purpose"
    diff = (got - expected).abs()
    changed = diff.loc[:, (diff != 0).any()]
    assert changed.empty, f"results changed; months x columns that differ:\n{changed.loc[(changed != 0).any(axis=1)]}"
