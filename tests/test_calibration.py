"""Calibration (sim/studies/calibration.py): the spec's checks, the ABC-SMC algorithm on a problem with a
known posterior, a real calibration through the joblib launcher (resumed), the observation
models, and the validation report."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model.config import ConfigError, set_dotted
from sim.studies.calibration import (
    Prior,
    Spec,
    abc_smc,
    calibrate,
    kernel_cov,
    load_spec,
    new_weights,
    posterior_weights,
    propose,
    read_calibration,
    weighted_quantiles,
)

SPEC = """
parameters:
  intention.network_gain:
    prior: {scale: linear, low: 4.0, high: 9.0}
    unit: dimensionless
    why: test
  border.attempt_prob_per_day:
    prior: {scale: log, low: 0.03, high: 0.12}
    unit: per day
    why: test
particles: 8
alpha: 0.5
min_acceptance: 0.0
max_generations: 2
size: 1000
seed: 7
refine_top: 1
refine_seeds: 2
overrides: []
"""


def write_spec(tmp_path: Path, text: str = SPEC, **replace: str) -> Path:
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    p = tmp_path / "spec.yaml"
    p.write_text(textwrap.dedent(text))
    return p


# --------------------------------------------------------------------------------------
# the spec
# --------------------------------------------------------------------------------------


def test_every_shipped_spec_loads_and_every_parameter_has_a_reason():
    from sim.studies.calibration import SPEC_DIR

    for path in sorted(SPEC_DIR.glob("*.yaml")):
        assert load_spec(path).parameters, path
    spec = load_spec()
    assert len(spec.parameters) >= 8
    for k, p in spec.parameters.items():
        assert p.why and p.unit, k
        assert p.low < p.high


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("particles: 8", "particles: 3", "particles: 3 is not allowed; expected an integer >= 8"),
        ("alpha: 0.5", "alpha: 1.5", "alpha"),
        ("seed: 7", "sed: 7", "unknown key(s) sed"),
        ("scale: linear", "scale: logit", "prior.scale: 'logit'; allowed: log, linear"),
        ("low: 4.0, high: 9.0", "low: 9.0, high: 4.0", "low 9.0 must be below high 4.0"),
        ("low: 0.03", "low: 0.0", "a log-scale prior needs low > 0"),
        ("intention.network_gain:", "intention.network_gainz:", "intention.network_gainz"),
        ("intention.network_gain:", "world.segments.estonia.guard_capacity_per_day:", "no element with id or name 'estonia'"),
        ("high: 0.12", "high: 1.5", "attempt_prob_per_day"),  # outside the schema's range [0, 1]
        ("why: test\n  border", "why: test\n    color: red\n  border", "unknown key(s) color"),
        ("size: 1000", "size: 10", "size"),
        ("refine_seeds: 2", "refine_seeds: 2\nrefine_size: 5", "refine_size"),
        ("overrides: []", "overrides: [run.end]", "overrides"),
    ],
)
def test_bad_spec_is_refused_before_any_run(tmp_path, old, new, message):
    path = write_spec(tmp_path, **{old: new})
    with pytest.raises(ConfigError) as e:
        load_spec(path)
    assert message in str(e.value)
    assert str(path) in str(e.value)


def test_bad_fit_before_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="fit_before"):
        load_spec(write_spec(tmp_path), fit_before="1 October")


def test_set_dotted_reaches_list_elements_by_id_or_name():
    data = {"world": {"segments": [{"id": "poland", "x": 1}], "origins": [{"name": "Erbil", "push": 1.0}]}}
    set_dotted(data, "world.segments.poland.x", 5)
    set_dotted(data, "world.origins.Erbil.push", 1.5)
    assert data["world"]["segments"][0]["x"] == 5 and data["world"]["origins"][0]["push"] == 1.5
    with pytest.raises(ConfigError, match="known: Erbil"):
        set_dotted(data, "world.origins.Mosul.push", 1.0)


# --------------------------------------------------------------------------------------
# the algorithm, on a problem with a known answer
# --------------------------------------------------------------------------------------


def toy_spec(**kw) -> Spec:
    params = {
        "a": Prior("a", "linear", -5.0, 5.0),
        "b": Prior("b", "linear", -5.0, 5.0),
    }
    return Spec(parameters=params, **({"particles": 600, "alpha": 0.5, "min_acceptance": 0.03,
                                       "max_generations": 12} | kw))


def gaussian_simulator(seed: int, obs=(1.0, -1.0), sd=0.5):
    """y = theta + N(0, sd^2): with a flat prior the posterior is N(obs, sd^2) per coordinate."""
    rng = np.random.default_rng(seed)

    def simulate(z, t):
        y = z + rng.normal(0.0, sd, size=z.shape)
        return np.linalg.norm(y - np.array(obs), axis=1)

    return simulate


def test_abc_smc_recovers_a_known_posterior():
    spec = toy_spec()
    gens = abc_smc(gaussian_simulator(1), spec, np.random.default_rng(2))
    g = gens[-1]
    z = g.z[g.kept]
    w, diag = posterior_weights(gens)
    assert diag["ess"] > 0.5 * len(w), diag
    mean = np.average(z, axis=0, weights=w)
    sd = np.sqrt(np.average((z - mean) ** 2, axis=0, weights=w))
    assert len(gens) >= 4, "the tolerance should shrink over several generations"
    assert all(b.eps <= a.eps for a, b in zip(gens, gens[1:], strict=False))
    np.testing.assert_allclose(mean, [1.0, -1.0], atol=0.15)
    # ABC at a small, non-zero tolerance: the posterior's sd is 0.5, a little more at eps > 0
    assert np.all((sd > 0.35) & (sd < 0.8)), sd


def test_posterior_weights_correct_for_the_box_and_cap_outliers():
    """A posterior piled against the prior's edge: the proposal loses draws outside the box and
    the weights must make up for it, so the weighted mean stays where the truth is."""
    spec = toy_spec(particles=600)
    gens = abc_smc(gaussian_simulator(5, obs=(4.8, 0.0), sd=0.3), spec, np.random.default_rng(6))
    assert any(g.inside_share < 0.95 for g in gens[1:])  # the box cut the kernel
    w, diag = posterior_weights(gens)
    z = gens[-1].z[gens[-1].kept]
    # the truth: N(4.8, 0.3^2) cut at 5 has mean 4.8 - 0.3 * phi(0.667) / Phi(0.667) = 4.64
    assert np.average(z[:, 0], weights=w) == pytest.approx(4.64, abs=0.12)
    assert diag["ess"] >= diag["ess_uncapped"] - 1e-9


def test_propose_stays_in_the_box_and_reports_the_share_inside():
    bounds = np.array([[0.0, 1.0], [0.0, 1.0]])
    z = np.array([[0.0, 0.5], [0.2, 0.5], [0.1, 0.3], [0.1, 0.7]])
    w = np.ones(4)
    pts, share = propose(z, w, bounds, 400, np.random.default_rng(0))
    assert np.all((pts >= 0) & (pts <= 1))
    # the share inside, by brute force from the untruncated mixture
    rng = np.random.default_rng(1)
    draws = z[rng.integers(0, 4, 200_000)] + rng.multivariate_normal(np.zeros(2), kernel_cov(z, w, bounds), 200_000)
    inside = np.mean(np.all((draws >= 0) & (draws <= 1), axis=1))
    assert inside < 0.9 and share == pytest.approx(inside, abs=0.06)


def test_abc_smc_is_reproducible():
    spec = toy_spec(particles=60, max_generations=4)
    a = abc_smc(gaussian_simulator(3), spec, np.random.default_rng(4))
    b = abc_smc(gaussian_simulator(3), spec, np.random.default_rng(4))
    np.testing.assert_array_equal(a[-1].z, b[-1].z)
    np.testing.assert_array_equal(a[-1].weight, b[-1].weight)


def test_new_weights_are_prior_over_the_kernel_density():
    from scipy.stats import multivariate_normal

    bounds = np.array([[-5.0, 5.0], [-5.0, 5.0]])
    z = np.array([[0.0, 0.0], [1.0, 0.5], [-1.0, 2.0]])
    w = np.array([1.0, 2.0, 1.0])
    x = np.array([[0.2, 0.1], [2.0, -1.0]])
    cov = kernel_cov(z, w, bounds)
    q = sum(wj / w.sum() * multivariate_normal.pdf(x, mean=zj, cov=cov) for zj, wj in zip(z, w, strict=True))
    np.testing.assert_allclose(new_weights(x, z, w, bounds), (1 / 100) / q, rtol=1e-10)


def test_weighted_quantiles():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    assert weighted_quantiles(v, np.array([1.0, 1.0, 1.0, 1.0]), [0.5]) == [2.0]
    assert weighted_quantiles(v, np.array([0.0, 0.0, 0.0, 1.0]), [0.05, 0.95]) == [4.0, 4.0]


# --------------------------------------------------------------------------------------
# the observation models
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_run():
    from sim.model.model import MigrationModel
    from sim.running.compose import compose

    m = MigrationModel(compose(["population.size=5000"]), rng=3)
    m.run()
    return m.recorder.frame(), m.scale


def test_observe_returns_every_target_and_the_official_series(small_run):
    from sim.studies.targets import OFFICIAL_COLUMNS, inputs, load_targets, observe

    daily, scale = small_run
    out = observe(daily, scale)
    t = out["targets"]
    assert len(t) == len([x for x in load_targets() if x.metric not in inputs()])
    assert (t["distance"] >= 0).all() and np.isfinite(t["distance"]).all()
    off = out["official"]
    assert set(off["segment"]) == {"lithuania", "poland", "latvia"}
    for col in OFFICIAL_COLUMNS:
        for s in ("lithuania", "poland", "latvia"):
            assert off.loc[off.segment == s, col].sum() == pytest.approx(daily[f"{col}_{s}"].sum() / scale)
    # caught inside and kept is part of caught inside; turned back is part of attempts
    assert (off["caught"] <= off["caught_inside"] + 1e-9).all()
    assert (off["turned_back"] <= off["attempts"] + 1e-9).all()


def test_distance_is_zero_inside_the_range_and_grows_outside():
    from sim.studies.targets import distances

    # a compare() table: each row carries its observation's tolerance (lt_apprehended: 0.5)
    t = pd.DataFrame({"metric": ["lt_apprehended"] * 4, "model": [100.0, 150.0, 300.0, 0.0],
                      "low": [100.0] * 4, "high": [200.0] * 4, "tol": [0.5] * 4})
    d = distances(t).to_numpy()
    assert d[0] == 0 and d[1] == 0
    assert d[2] == pytest.approx(np.log(1.5) / np.log(1.5))  # tol 0.5: exactly one tolerance out
    assert d[3] == 10.0  # capped


# --------------------------------------------------------------------------------------
# a real calibration, through the joblib launcher, resumed
# --------------------------------------------------------------------------------------


LAUNCHER = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]


@pytest.mark.slow
def test_calibration_runs_through_the_launcher_and_resumes(tmp_path):
    spec = load_spec(write_spec(tmp_path))
    root = tmp_path / "cal"
    cal = calibrate(spec, root, LAUNCHER, log=lambda *_: None)
    assert len(cal.posterior) == spec.keep
    assert cal.posterior["weight"].sum() == pytest.approx(1.0)
    assert set(cal.best["parameters"]) == set(spec.names)
    assert np.isfinite(cal.posterior["distance"]).all()
    for k, p in spec.parameters.items():
        assert (cal.posterior[k].between(p.low, p.high)).all()
    # every design row ran once, with the values and seed of the design
    runs = pd.read_parquet(root / "gen-01" / "runs.parquet")
    assert (runs["status"] == "complete").all() and len(runs) == spec.new_per_generation
    before = (root / "gen-01" / "particles.csv").read_text()
    jobs = sorted(p.name for p in (root / "gen-01").iterdir())
    # resume: a generation whose result was lost is recomputed from its runs, none rerun
    (root / "gen-01" / "particles.csv").unlink()
    (root / "posterior.csv").unlink()
    again = calibrate(spec, root, LAUNCHER, log=lambda *_: None)
    assert (root / "gen-01" / "particles.csv").read_text() == before
    assert sorted(p.name for p in (root / "gen-01").iterdir()) == jobs
    assert again.best == cal.best
    # a finished fit continues with a later stopping rule: one more generation, refined again
    longer = load_spec(write_spec(tmp_path), max_generations=3)
    more = calibrate(longer, root, LAUNCHER, log=lambda *_: None)
    assert (root / "gen-02" / "particles.csv").is_file() and more.best["refined"] == "refine-gen-02"
    assert len(more.generations) == 3
    # a different spec in the same folder is refused
    other = load_spec(write_spec(tmp_path, **{"seed: 7": "seed: 8"}))
    with pytest.raises(ConfigError, match="differs in .*seed"):
        calibrate(other, root, LAUNCHER)
    # the report: three ensembles, every target in the table, four figures
    from sim.studies.calibration_report import write_report

    oos_spec = load_spec(write_spec(tmp_path), fit_before="2021-08-01", max_generations=1)
    oos = calibrate(oos_spec, tmp_path / "oos", LAUNCHER, log=lambda *_: None)
    assert oos.spec.fit_before.isoformat() == "2021-08-01"
    paths = write_report(read_calibration(root), oos, seeds=2, draws=2, size=1000, docs=False, n_jobs=2)
    text = (root.parent / "report" / "report.md").read_text()
    table = pd.read_csv(root.parent / "report" / "targets.csv")
    for m in table["metric"]:
        assert m in text
    assert table["held_out"].any() and (~table["held_out"]).any()
    assert sum(p.suffix == ".png" for p in paths) == 4
    assert json.loads((root / "best.json").read_text())["seeds"] == 2


def test_docs_list_the_free_parameters_and_observation_models_of_the_code():
    """docs/calibration.md's tables are what scripts/write_config_docs.py makes from the code."""
    from sim.studies.calibration_report import DOC, SPEC_BEGIN, SPEC_END, spec_markdown

    text = DOC.read_text(encoding="utf-8")
    have = text.split(SPEC_BEGIN, 1)[1].split(SPEC_END, 1)[0].strip()
    assert have == spec_markdown(load_spec()).strip(), "rerun scripts/write_config_docs.py"


def test_the_defaults_are_the_kept_fits_best_set():
    """The default config holds data/calibration/full's best set, rounded as adopt_calibration does."""
    from sim.model.config import sampled_value
    from sim.running.compose import compose_dict
    from sim.studies.calibration import ROOT, rounded
    cal = read_calibration(ROOT / "data" / "calibration" / "full")
    assert len(cal.posterior) > 0 and cal.posterior["weight"].sum() == pytest.approx(1.0)
    data = compose_dict()
    for key, value in cal.best["parameters"].items():
        node = data
        for part in key.split("."):
            node = next(x for x in node if part in (x.get("id"), x.get("name"))) if isinstance(node, list) else node[part]
        whole = sampled_value(key, value)
        want = whole if isinstance(whole, int) else float(rounded(value, 3))  # as adopt_calibration writes it
        assert float(node) == pytest.approx(want, rel=1e-12), key


def test_a_posterior_draw_of_a_whole_number_key_runs_as_a_whole_number():
    """Protects sim.model.config.sampled_value, the one rule for sampled values: a draw from the
    posterior (a real) of a whole-number key (border.retry_days) is set as the nearest integer,
    as the calibration's runs had it; a real key is set as drawn."""
    from sim.studies.ensemble import with_params

    out = with_params({"border": {"retry_days": 1, "attempt_prob_per_day": 0.05}},
                      {"border.retry_days": 5.97, "border.attempt_prob_per_day": 0.0612})
    assert out["border"]["retry_days"] == 6 and isinstance(out["border"]["retry_days"], int)
    assert out["border"]["attempt_prob_per_day"] == 0.0612
