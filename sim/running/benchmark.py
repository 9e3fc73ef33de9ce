"""What the benchmarks conclude from their measurements (experiments/benchmark_reference.py).

The timings are measured by the scripts under ``experiments/`` and never asserted in tests; the
arithmetic that turns them into the docs' statements lives here, where tests can check it.
"""

from __future__ import annotations

import numpy as np


def cost_model(rows: list[dict]) -> str:
    """The vectorised model's day as a fixed cost plus a cost per person, and what 100× asks of it.

    Fits ``seconds a day = F + c * N`` to the vectorised runs (least squares on relative error,
    so that the small sizes, where ``F`` shows, count as much as the large ones) and sets it
    against the reference's cost per person-day at 10^5: 100× the reference at 10^5 people
    allows ``r * 10^5 / 100`` seconds a day.
    """
    vec = sorted((r for r in rows if r["kind"] == "vectorised"), key=lambda r: r["n"])
    ref = {r["n"]: r for r in rows if r["kind"] == "reference"}
    if len(vec) < 2:
        return ""

    n = np.array([r["n"] for r in vec], dtype=float)
    t = np.array([r["run_s"] / r["days"] for r in vec])
    (f, c), *_ = np.linalg.lstsq(np.stack([1.0 / t, n / t], axis=1), np.ones_like(t), rcond=None)
    fit = ", ".join(f"{int(k):.0e}: {1e3 * (f + c * k):.2f} ms (measured {1e3 * x:.2f})" for k, x in zip(n, t, strict=True))
    out = (f"The vectorised day, fitted as a fixed cost plus a cost per person (least squares on relative error "
           f"over the sizes above): **F = {1e3 * f:.2f} ms a day** whatever the size, plus **c = {1e9 * c:.1f} ns "
           f"per person-day**. Fit against measurement, per day: {fit}.")
    if 10**5 in ref:
        r = ref[10**5]["run_s"] / (ref[10**5]["n"] * ref[10**5]["days"])
        budget = r * 1e5 / 100
        measured = {int(k): x for k, x in zip(n, t, strict=True)}.get(10**5)
        out += (f" The reference costs {1e9 * r:,.0f} ns per person-day at 10^5 people, so 100× at 10^5 allows "
                f"{1e3 * budget:.2f} ms a day; the fit gives F + c × 10^5 = {1e3 * (f + c * 1e5):.2f} ms "
                f"(fixed {1e3 * f:.2f} + per person {1e3 * c * 1e5:.2f})")
        out += f", the run {1e3 * measured:.2f} ms." if measured is not None else "."
        if (measured if measured is not None else f + c * 1e5) > budget:
            out += (f" Even with no fixed cost the per-person part alone would give "
                    f"{r / c:,.0f}×; with no per-person cost the fixed part alone would give {r * 1e5 / f:,.0f}×.")
    return out
