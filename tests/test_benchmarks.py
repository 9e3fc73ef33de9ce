"""What the benchmarks conclude from their measurements (the timings themselves are never asserted)."""

import re

from sim.running.benchmark import cost_model


def _row(kind: str, n: int, seconds_a_day: float) -> dict:
    return {"kind": kind, "n": n, "days": 100, "full_days": 100, "run_s": 100 * seconds_a_day}


def test_cost_model_recovers_the_fixed_and_per_person_cost_and_the_budget() -> None:
    f, c = 0.8e-3, 8e-9  # 0.8 ms a day plus 8 ns a person-day
    rows = [_row("vectorised", n, f + c * n) for n in (10**4, 10**5, 10**6, 10**7)]
    # 760 ns per person-day: 95x from either part alone, a whole number (a figure like 92.5x
    # would leave its rounding to the last bits of the least-squares fit)
    rows.append(_row("reference", 10**5, 760e-9 * 10**5))
    text = cost_model(rows)
    assert "F = 0.80 ms a day" in text and "c = 8.0 ns per person-day" in text
    assert "allows 0.76 ms a day" in text and "F + c × 10^5 = 1.60 ms" in text
    alone = re.search(r"per-person part alone would give (\d+)×; with no per-person cost the fixed part alone would give (\d+)×", text)
    assert alone and (int(alone[1]), int(alone[2])) == (95, 95)


def test_cost_model_says_nothing_of_a_budget_it_meets() -> None:
    rows = [_row("vectorised", n, 0.1e-3 + 2e-9 * n) for n in (10**4, 10**5)]
    rows.append(_row("reference", 10**5, 740e-9 * 10**5))
    text = cost_model(rows)
    assert "F = 0.10 ms" in text and "alone would give" not in text
