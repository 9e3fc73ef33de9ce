"""The reference implementation (``sim/engines/reference.py``) agrees with the vectorised model.

``ReferenceModel`` applies the migrant rules one person at a time, as Mesa agents, and draws
its own random numbers, so no single run matches a vectorised run; what must match is the
distribution of what comes out. What these tests protect:

- each per-person formula of the reference equals its vectorised kernel (cheap, exact);
- a reference run keeps the accounting (everyone in one state, stocks move by the flows) and
  is reproducible; on day 0 its people are the vectorised model's people;
- **agreement in distribution**, in two small worlds, each the default 2021 world and levers
  with ``SIZE`` = 4,000 rows sampling the 250,000 pool, run through 2021 (365 days):

  - ``default``: the default scenario as it is. The network's feedback drives the flow, so
    runs differ a lot from seed to seed (the totals' spread is 15–30% of their mean);
  - ``busy``: the network's pull off (``network_gain = 0``) and a steady intention rate
    (``1e-3`` a day), so the corridor runs at its capacities all year (packages, visas, seats
    bind; cancellations, lapses, reroutings and strandings all happen) with little noise (the
    totals' spread is 1.5–5% of their mean; cancellations 14%). This is where a changed rule
    shows.

  Compared, per run: eight totals (packages sold, arrivals in Minsk, reroutings via a hub,
  cancellations, border attempts, attempts turned back, people who reached the EU, people who
  went home from Belarus), the occupancy of Belarus on four dates and of the pipeline
  (intending to in transit) on two, and two distributions of durations pooled over runs
  (days from arrival in Minsk to reaching the EU, and to leaving Belarus for home), over
  ``N_SEEDS`` = 16 seeds per model (different seeds for the two models: independent samples).

The statistics. Per-run totals and occupancies: Welch's t-test (unequal variances; each is a
sum of many people's events, close to normal across seeds). Durations: the two-sample
Kolmogorov–Smirnov distance between the pooled durations, with its p-value from permuting
whole runs between the two groups (``N_PERMUTATIONS``): people of one run share its history
(the network's news, congestion at the border), so the textbook KS p-value, which assumes
independent people, would be too small; permuting runs keeps each run's people together.
The 16 p-values of a world form one family, judged by Holm's step-down at family-wise
``ALPHA`` = 0.01: were the two models the same, a world's comparison would fail with
probability at most 1% (both worlds: at most 2%). The seeds are fixed, so the outcome is
reproducible — not a flaky test but a 1-in-100 draw made once.

Power. With 16 runs a side, Welch at Holm's strictest level (0.01 / 16) detects a shift of
about 1.6 between-seed standard deviations with 80% power: in the busy world a 2.5–8% change
of a total (arrivals in Minsk 578 ± 9, reached the EU 326 ± 9, attempts 884 ± 28, went home
202 ± 10), in the default world 25–50%. ``test_a_changed_rule_is_detected`` (slow) shows one
slip caught: people who forget that a free flight home today makes them more willing to go
(one factor of one formula) — "went home" falls by a fifth (p ~ 1e-13 with 16 seeds).
Subtler slips, each measured the same way with 16 seeds — a smuggler that no longer lowers
detection, living in Belarus for free, time in Belarus counted from the last move instead of
the arrival, Belarus' attempt multiplier ignored, turned-back counts left out of the wish to
return — shift their most sensitive quantity by 2–3 standard deviations: at the edge of
detection (smallest p between 2e-4 and 6e-3 against a first Holm level of 6e-4; two of the
five were caught).

Cost: 4 × 16 runs (about 2 s vectorised and 4 s reference each on an idle core, a third of
it the institutions' fixed cost a day) in two worker processes; the slow test adds 8
reference runs (its slip is far past the edge of detection).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.engines.reference import (
    Migrant,
    Outcome,
    ReferenceModel,
    crossing_outcome,
    give_up_chance,
    intention_chance,
    pick_by_weight,
    return_chance,
)
from sim.model.config import set_dotted
from sim.model.model import MigrationModel
from sim.model.population import (
    STATE_NAMES,
    State,
    choose_by_weight,
    give_up_prob,
    intention_prob,
    resolve_crossings,
    return_willingness,
)
from sim.model.recorder import TRANSITIONS, flow_name

SIZE = 4000
END = "2021-12-31"
WORLDS: dict[str, dict[str, Any]] = {
    "default": {},
    "busy": {"intention.network_gain": 0.0, "intention.base_rate_per_day": 1.0e-3},
}
N_SEEDS = 16
VECTORISED_SEEDS = list(range(1, N_SEEDS + 1))
REFERENCE_SEEDS = list(range(101, 101 + N_SEEDS))
SLIP_SEEDS = REFERENCE_SEEDS[:8]  # the slip below moves "went home" by ~5 standard deviations
ALPHA = 0.01
N_PERMUTATIONS = 4000

TOTALS = {
    "packages_sold": ["packages_sold"],
    "arrivals": ["arrivals"],
    "rerouted_via_hub": ["rerouted_via_hub"],
    "cancelled": ["cancelled"],
    "attempts": ["attempts"],
    "turned_back": ["turned_back"],
    "reached_destination": ["caught", "got_through"],
    "went_home": ["repatriated", "returned_own_ticket"],
}
PIPELINE = ["n_intending", "n_waiting_package", "n_waiting_visa", "n_ticketed", "n_in_transit"]
OCCUPANCY = {
    **{f"in_transit_country_{d}": (d, ["in_transit_country"]) for d in ("2021-07-31", "2021-09-30", "2021-11-15", "2021-12-31")},
    **{f"pipeline_{d}": (d, PIPELINE) for d in ("2021-07-31", "2021-10-31")},
}
DURATIONS = ("days_minsk_to_eu", "days_minsk_to_home")


# ---- one run, summarised (module level: worker processes run it) ------------------------------


def durations(people: Any) -> dict[str, np.ndarray]:
    """Days from arrival in Minsk to leaving Belarus, from the people's final columns.

    To the EU: everyone now in the EU entered it on the day they crossed (``day_entered``) and
    arrived in Minsk on ``day_arrived``. Home: people returning entered that state the day
    they left; people back home entered it the day after. (A person's last trip is the one
    counted; both models keep the columns the same way.)
    """
    state, entered, arrived = people.state, people.day_entered.astype(np.int64), people.day_arrived.astype(np.int64)
    to_eu = state == State.IN_DESTINATION
    home = ((state == State.RETURNING) | (state == State.RETURNED)) & (arrived >= 0)
    left_home = entered - (state == State.RETURNED)
    return {"days_minsk_to_eu": (entered - arrived)[to_eu], "days_minsk_to_home": (left_home - arrived)[home]}


def summarize_run(model_class: type, config: dict, seed: int) -> dict[str, Any]:
    """Run ``model_class`` on ``config`` with ``seed``; the per-run numbers the tests compare."""
    model = model_class(copy.deepcopy(config), rng=seed)
    model.run()
    daily = model.recorder.frame().set_index("date")
    out: dict[str, Any] = {name: float(daily[cols].to_numpy().sum()) for name, cols in TOTALS.items()}
    for name, (date, cols) in OCCUPANCY.items():
        out[name] = float(daily.loc[date, cols].sum())
    n_days = model.cfg.n_days
    for name, d in durations(model.people).items():
        out[name] = np.bincount(np.clip(d, 0, n_days), minlength=n_days + 1)
    return out


def run_many(model_class: type, config: dict, seeds: list[int]) -> list[dict[str, Any]]:
    """Summaries of one run per seed, on up to two worker processes."""
    from joblib import Parallel, delayed

    n_jobs = min(2, os.cpu_count() or 1)
    return Parallel(n_jobs=n_jobs)(delayed(summarize_run)(model_class, config, s) for s in seeds)


# ---- the statistics -------------------------------------------------------------------------


def welch_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Welch t-test p-value (1 when both samples are constant and equal)."""
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return 1.0 if a[0] == b[0] else 0.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def ks_statistic(hist_a: np.ndarray, hist_b: np.ndarray) -> np.ndarray:
    """Kolmogorov–Smirnov distance between pooled histograms (rows: alternatives)."""
    cdf_a = np.cumsum(hist_a, axis=-1) / np.maximum(hist_a.sum(axis=-1, keepdims=True), 1)
    cdf_b = np.cumsum(hist_b, axis=-1) / np.maximum(hist_b.sum(axis=-1, keepdims=True), 1)
    return np.abs(cdf_a - cdf_b).max(axis=-1)


def ks_run_permutation_p(hists_a: np.ndarray, hists_b: np.ndarray, n_perm: int = N_PERMUTATIONS,
                         seed: int = 0) -> float:
    """p-value of the pooled KS distance, permuting whole runs between the groups.

    Args:
        hists_a, hists_b: (runs, days) per-run histograms of durations.
    """
    hists = np.concatenate([hists_a, hists_b]).astype(float)
    n, n_a = len(hists), len(hists_a)
    observed = ks_statistic(hists_a.sum(axis=0), hists_b.sum(axis=0))
    g = np.random.default_rng(seed)
    labels = np.zeros((n_perm, n), dtype=bool)
    for i in range(n_perm):
        labels[i, g.permutation(n)[:n_a]] = True
    d = ks_statistic(labels @ hists, ~labels @ hists)
    return float((1 + np.sum(d >= observed - 1e-12)) / (1 + n_perm))


def compare(runs_a: list[dict], runs_b: list[dict]) -> pd.DataFrame:
    """One row per compared quantity: means, p-value, Holm's threshold, and whether rejected."""
    rows = []
    for name in list(TOTALS) + list(OCCUPANCY):
        a = np.array([r[name] for r in runs_a])
        b = np.array([r[name] for r in runs_b])
        rows.append({"quantity": name, "mean_a": a.mean(), "mean_b": b.mean(),
                     "sd_a": a.std(ddof=1), "sd_b": b.std(ddof=1), "p": welch_p(a, b)})
    for name in DURATIONS:
        ha = np.array([r[name] for r in runs_a])
        hb = np.array([r[name] for r in runs_b])
        days = np.arange(ha.shape[1])
        rows.append({"quantity": name, "mean_a": float((ha.sum(0) * days).sum() / max(ha.sum(), 1)),
                     "mean_b": float((hb.sum(0) * days).sum() / max(hb.sum(), 1)),
                     "sd_a": np.nan, "sd_b": np.nan, "p": ks_run_permutation_p(ha, hb)})
    table = pd.DataFrame(rows).sort_values("p").reset_index(drop=True)
    # Holm: the i-th smallest p (0-based) is judged at ALPHA / (m - i), stopping at the first pass
    m = len(table)
    table["holm_level"] = ALPHA / (m - np.arange(m))
    table["rejected"] = np.minimum.accumulate(table["p"] < table["holm_level"])
    return table


# ---- fixtures -------------------------------------------------------------------------------


def world_config(default_dict: dict, world: str) -> dict:
    """One of ``WORLDS``: the default config with SIZE rows through END and that world's keys."""
    data = copy.deepcopy(default_dict)
    data["population"]["size"] = SIZE
    data["run"]["end"] = END
    data["output"] = {"figures": False, "csv": False, "progress": False}
    for key, value in WORLDS[world].items():
        set_dotted(data, key, value)
    return data


@pytest.fixture(scope="module")
def runs(default_dict: dict) -> Callable[[str, type, list[int]], list[dict]]:
    """``runs(world, model_class, seeds)``: run summaries, computed once per module."""
    cache: dict[tuple, list[dict]] = {}

    def get(world: str, model_class: type, seeds: list[int]) -> list[dict]:
        key = (world, model_class, tuple(seeds))
        if key not in cache:
            cache[key] = run_many(model_class, world_config(default_dict, world), seeds)
        return cache[key]

    return get


# ---- the formulas -----------------------------------------------------------------------------


def test_each_formula_equals_its_kernel() -> None:
    """Protects: the reference restates the vectorised kernels for one person; a restatement
    that drifts from its kernel (someone edits one and not the other) fails here."""
    g = np.random.default_rng(7)
    n, n_origins = 2000, 4
    origin = g.integers(0, n_origins, n)
    push, offer, mult = g.uniform(0.2, 2, n_origins), g.uniform(0.1, 1, n_origins), g.uniform(0, 2, n_origins)
    signal, info = g.normal(0, 1, n_origins), g.uniform(0, 1, n_origins)
    w = g.uniform(0, 1, n).astype(np.float32)
    base, gain = 3e-3, 6.0
    kernel = intention_prob(base, push, signal, info, offer, mult, gain, w, origin)
    mine = [intention_chance(base, push[o], signal[o], info[o], offer[o], mult[o], gain, float(wi))
            for o, wi in zip(origin, w, strict=True)]
    np.testing.assert_allclose(mine, kernel, rtol=2e-6)

    can_buy = g.random(n) < 0.5
    kernel = give_up_prob(0.01, 0.02, signal, can_buy, origin)
    mine = [give_up_chance(0.01, 0.02, signal[o], bool(c)) for o, c in zip(origin, can_buy, strict=True)]
    np.testing.assert_allclose(mine, kernel, rtol=1e-12)

    weights = g.uniform(0, 1, (n, 5)) * (g.random((n, 5)) < 0.7)
    weights[:, 2] += 0.01  # every row has some weight
    u = g.random(n).astype(np.float32)
    kernel = choose_by_weight(weights, u)
    mine = [pick_by_weight(list(wr), float(ui)) for wr, ui in zip(weights, u, strict=True)]
    assert mine == kernel.tolist()

    days, pb = g.integers(0, 300, n), g.integers(0, 20, n)
    broke, risk = g.random(n) < 0.3, g.beta(2, 2, n).astype(np.float32)
    args = (60.0, 0.12, 0.7, 2.0)
    kernel = return_willingness(0.007, days, args[0], pb, args[1], args[2], args[3], broke, 1.5, risk, 8.0, 15.0)
    mine = [return_chance(0.007, int(d), args[0], int(p), args[1], args[2], args[3], bool(b), 1.5, float(r), 8.0, 15.0)
            for d, p, b, r in zip(days, pb, broke, risk, strict=True)]
    np.testing.assert_allclose(mine, kernel, rtol=1e-6)

    S = 3
    seg = g.integers(0, S, n)
    u3 = g.random((3, n)).astype(np.float32)
    p_stop, p_inside, pushback = g.uniform(0, 0.8, S), g.uniform(0, 0.8, S), np.array([True, False, True])
    m = np.where(g.random(n) < 0.3, 0.6, 1.0).astype(np.float32)
    died, stopped, caught_in, kept, through = resolve_crossings(seg, *u3, 0.05, p_stop, p_inside, pushback, m)
    mine = np.array([crossing_outcome(float(u3[0, i]), float(u3[1, i]), float(u3[2, i]), 0.05, p_stop[seg[i]],
                                      p_inside[seg[i]], bool(pushback[seg[i]]), float(m[i])) for i in range(n)])
    np.testing.assert_array_equal(mine == Outcome.DIED, died)
    np.testing.assert_array_equal(mine == Outcome.STOPPED, stopped)
    np.testing.assert_array_equal(np.isin(mine, [Outcome.CAUGHT_KEPT, Outcome.CAUGHT_PUSHED_BACK]), caught_in)
    np.testing.assert_array_equal(mine == Outcome.CAUGHT_KEPT, kept)
    np.testing.assert_array_equal(mine == Outcome.THROUGH, through)


# ---- one reference run ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_config(default_dict: dict) -> dict:
    """The default scenario, 2,000 rows, through 2021 (the busy months included)."""
    data = copy.deepcopy(default_dict)
    data["population"]["size"] = 2000
    data["intention"]["base_rate_per_day"] = 4.0e-5  # busier, so every stage is used
    data["run"]["end"] = "2021-12-31"
    data["output"] = {"figures": False, "csv": False, "progress": False}
    return data


@pytest.fixture(scope="module")
def small_reference_run(small_config: dict) -> tuple[ReferenceModel, pd.DataFrame]:
    model = ReferenceModel(copy.deepcopy(small_config))
    model.run()
    return model, model.recorder.frame()


def test_people_are_mesa_agents_and_the_vectorised_people(small_config: dict) -> None:
    """Protects: the reference's people on day 0 are the vectorised model's rows (the same
    initialiser and seed), each a Mesa agent of the model."""
    ref, vec = ReferenceModel(copy.deepcopy(small_config)), MigrationModel(copy.deepcopy(small_config))
    migrants = list(ref.agents_by_type[Migrant])
    assert len(migrants) == small_config["population"]["size"] == ref.people.n
    for col in ("origin", "nationality", "agency", "savings_usd", "risk", "net_weight", "state"):
        np.testing.assert_array_equal(getattr(ref.people, col), getattr(vec.people, col), err_msg=col)


def test_reference_run_keeps_the_accounting(small_reference_run) -> None:
    """Protects: the reference writes the same daily table with the same identities as the
    vectorised model — everyone in exactly one state every day, stocks change by exactly the
    recorded flows, the roster's register agrees with the agents — and the run is busy."""
    model, d = small_reference_run
    n = model.cfg.population.size
    cols = [f"n_{s}" for s in STATE_NAMES]
    assert (d[cols].sum(axis=1) == n).all()
    initial = pd.DataFrame([{c: (n if c == "n_at_home" else 0) for c in cols}])
    change = d[cols].reset_index(drop=True) - pd.concat([initial, d[cols].iloc[:-1]], ignore_index=True)
    for s in State:
        flow = sum((d[flow_name(a, b)] * ((b == s) - (a == s)) for a, b in TRANSITIONS), pd.Series(0, index=d.index))
        assert (change[f"n_{STATE_NAMES[s]}"].to_numpy() == flow.to_numpy()).all(), STATE_NAMES[s]
    np.testing.assert_array_equal(model.people.state, model.people.column("state"))
    assert d[cols].iloc[-1].tolist() == np.bincount(model.people.state, minlength=len(State)).tolist()
    for k in ("packages_sold", "arrivals", "attempts", "turned_back", "got_through", "caught",
              "repatriated", "returned_own_ticket", "rerouted_via_hub"):
        assert d[k].sum() > 0, k


def test_reference_is_reproducible(small_config: dict, small_reference_run) -> None:
    """Protects: same config and seed give the same reference run (people draw from the run's
    streams, never from global state); a different seed gives a different one."""
    _, d = small_reference_run
    days = 240  # through August: the corridor is busy

    def first_days(seed: int | None) -> pd.DataFrame:
        model = ReferenceModel(copy.deepcopy(small_config), rng=seed)
        for _ in range(days):
            model.step()
        return model.recorder.frame()

    pd.testing.assert_frame_equal(first_days(None), d.iloc[:days].reset_index(drop=True))
    other = first_days(99)
    assert not other.drop(columns=["date", "day"]).equals(d.iloc[:days].drop(columns=["date", "day"]))


# ---- agreement in distribution ------------------------------------------------------------------


@pytest.mark.parametrize("world", list(WORLDS))
def test_reference_and_vectorised_agree_in_distribution(world: str, runs) -> None:
    """Protects: the vectorised kernels and the per-person rules are the same model. See the
    module docstring for the worlds, the quantities, the tests (Welch; pooled KS with a
    run-permutation null), Holm at family-wise ALPHA = 0.01, and the power."""
    table = compare(runs(world, MigrationModel, VECTORISED_SEEDS), runs(world, ReferenceModel, REFERENCE_SEEDS))
    assert table["mean_a"].min() > 0, "a quantity is zero in every vectorised run: nothing is tested"
    assert not table["rejected"].any(), f"the models disagree in the {world} world:\n" + table.to_string()


class _ForgetsTheFreeSeat(Migrant):
    """A slip in one rule: willingness to return ignores that a free seat leaves today."""

    def willingness_to_return(self, free_seat_open: bool) -> float:
        return super().willingness_to_return(False)


class _SlipModel(ReferenceModel):
    """The reference with that one rule changed."""

    migrant_class = _ForgetsTheFreeSeat


@pytest.mark.slow
def test_a_changed_rule_is_detected(runs) -> None:
    """Protects the agreement test from passing vacuously: the same comparison, in the busy
    world, against a reference with one factor of one formula dropped (8 seeds), rejects."""
    table = compare(runs("busy", MigrationModel, VECTORISED_SEEDS), runs("busy", _SlipModel, SLIP_SEEDS))
    assert table["rejected"].any(), "a changed rule went unnoticed:\n" + table.to_string()
