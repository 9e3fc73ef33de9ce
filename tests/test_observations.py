"""Observation models are data (data/observed/observations_2021.csv): any world declares how its
own outputs count the record's figures, and a bad declaration is refused clearly.

Protects: the comparison with the record names no place and no world in code (a second world's
targets are compared through its own output columns); every kind of observation (sum, rate a
week, value on a day, mean, ratios, joint ranges, shares of a total) counts what it says; a
target without an observation, an unknown kind or a pattern matching no output is a
configuration error naming the file, row or metric.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sim.model.config import ConfigError
from sim.studies.targets import OBSERVATION_COLUMNS, Target, compare, load_observations

HEADER = ",".join(OBSERVATION_COLUMNS)


def target(metric: str, start: str, end: str, value: float, low: float | None = None, high: float | None = None) -> Target:
    return Target(metric, dt.date.fromisoformat(start), dt.date.fromisoformat(end), value,
                  value if low is None else low, value if high is None else high, "people", "", "", "")


def observations(tmp_path: Path, rows: list[str]) -> dict:
    f = tmp_path / "observations.csv"
    f.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return load_observations(f)


@pytest.fixture(scope="module")
def tiny_daily(tmp_path_factory) -> tuple:
    """A run of the tiny test world (segments poland and lithuania, routes from BGW, DAM, IST)."""
    from tests.conftest import make_tiny_world, run_model

    model, daily = run_model(make_tiny_world())
    return model, daily


def test_a_world_declares_how_its_own_outputs_count_the_record(tmp_path, tiny_daily) -> None:
    model, d = tiny_daily
    obs = observations(tmp_path, [
        "caught_pl,sum,caught_poland,,0.5,monthly flow,true,,,people kept in Poland",
        "tries_a_week,per_week,attempts_*,,0.3,flights,false,,,attempts a week, all segments",
        "stock_a,on_day,in_transit_country,,0,stock estimate,true,,stock,",
        "stock_b,on_day,in_transit_country,,0,stock estimate,true,,stock,",
        "price,mean,package_price_usd,,0.15,price,false,,,",
        "kept_share,ratio_sum,caught_poland,caught_poland caught_lithuania,0.25,share,false,,,",
        "flights_syria,sum,flights_6Q_DAM_*,,0.3,flights,false,,,",
        "wage,input,,,,,,,,",
    ])
    ts = [target("caught_pl", "2021-02-01", "2021-03-31", 10), target("tries_a_week", "2021-03-01", "2021-03-14", 5),
          target("stock_a", "2021-03-01", "2021-03-31", 100, 50, 150), target("stock_b", "2021-04-01", "2021-04-30", 300, 200, 400),
          target("price", "2021-03-01", "2021-03-31", 3000), target("kept_share", "2021-02-01", "2021-05-31", 0.5),
          target("flights_syria", "2021-02-01", "2021-04-30", 20), target("wage", "2021-01-01", "2021-12-31", 500)]
    table = compare(d, ts, model.scale, obs).set_index("metric")
    w = lambda a, b: d[(d["date"] >= a) & (d["date"] <= b)]  # noqa: E731
    assert "wage" not in table.index  # an input: not compared
    assert table.at["caught_pl", "model"] == w("2021-02-01", "2021-03-31")["caught_poland"].sum() / model.scale
    attempts = w("2021-03-01", "2021-03-14")[["attempts_poland", "attempts_lithuania"]].to_numpy().sum()
    assert table.at["tries_a_week", "model"] == pytest.approx(attempts * 7 / 14)
    assert table.at["stock_b", "model"] == w("2021-04-30", "2021-04-30")["in_transit_country"].iloc[0] / model.scale
    # estimates of one stock: compared with their joint range
    assert (table.at["stock_a", "low"], table.at["stock_a", "high"]) == (50, 400) == (table.at["stock_b", "low"], table.at["stock_b", "high"])
    assert table.at["price", "model"] == pytest.approx(w("2021-03-01", "2021-03-31")["package_price_usd"].mean())
    period = w("2021-02-01", "2021-05-31")
    kept = period["caught_poland"].sum()
    assert table.at["kept_share", "model"] == pytest.approx(kept / (kept + period["caught_lithuania"].sum()))
    assert table.at["flights_syria", "model"] == w("2021-02-01", "2021-04-30")["flights_6Q_DAM_MSQ"].sum()
    assert table.at["caught_pl", "tol"] == 0.5


@pytest.mark.parametrize(("row", "message"), [
    ("x,guess,caught_poland,,0.5,k,true,,,", r"observations\.csv:2: how 'guess'; allowed: sum, per_week"),
    ("x,ratio_sum,caught_poland,,0.5,k,true,,,", r"observations\.csv:2: how 'ratio_sum' needs output columns and per columns"),
    ("x,sum,caught_poland,,0.5,k,maybe,,,", r"observations\.csv:2: people 'maybe'; allowed: true, false"),
    ("x,sum,caught_poland,,nan,k,true,,,", r"observations\.csv:2: tol"),
])
def test_a_bad_declaration_names_the_row(tmp_path, row, message) -> None:
    with pytest.raises(ConfigError, match=message):
        observations(tmp_path, [row])


def test_a_target_without_observation_or_an_output_the_run_lacks_is_refused(tmp_path, tiny_daily) -> None:
    model, d = tiny_daily
    obs = observations(tmp_path, ["x,sum,caught_latvia,,0.5,k,true,,,"])
    with pytest.raises(ConfigError, match=r"no observation for the target metric\(s\) y"):
        compare(d, [target("y", "2021-02-01", "2021-03-31", 1)], model.scale, obs)
    with pytest.raises(ConfigError, match=r"observation of 'x': no output column matches 'caught_latvia'"):
        compare(d, [target("x", "2021-02-01", "2021-03-31", 1)], model.scale, obs)


def test_the_shipped_observations_cover_every_target() -> None:
    from sim.studies.targets import inputs, load_targets

    obs = load_observations()
    assert {t.metric for t in load_targets()} <= set(obs)
    assert inputs(obs) == {"visa_price_usd", "smuggling_fee_usd", "monthly_wage_iraq_usd"}


def test_a_world_names_its_own_record(tiny_world) -> None:
    """The record a run is compared with is the one its world names (world.record), under
    data/observed/; a world that names none gets an error saying which keys to set."""
    from sim.model.config import load_config
    from sim.running.compose import compose
    from sim.studies.targets import DATA_DIR, record_paths

    assert record_paths(compose([])) == (DATA_DIR / "targets_2021.csv", DATA_DIR / "observations_2021.csv")
    assert record_paths() == record_paths(compose([]))  # the default: the default world's
    with pytest.raises(ConfigError, match=r"world\.record: the world 'tiny' declares no record; set world\.record\.targets"):
        record_paths(load_config(tiny_world()))
    named = load_config(tiny_world(**{"world.record": {"targets": "t.csv", "observations": "o.csv"}}))
    assert record_paths(named) == (DATA_DIR / "t.csv", DATA_DIR / "o.csv")
