"""Bad input fails early and clearly: a ConfigError naming the key and what is allowed,
raised while the model is built, before any day is simulated. And every shipped config is valid.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import sim.running.compose
from sim.model.config import WORLD_BEHAVIOUR, Config, ConfigError, load_config, to_dict
from sim.model.model import MigrationModel, check_config
from sim.running.compose import compose, compose_dict

CONFIG_DIR = Path(sim.running.compose.CONFIG_DIR)


def build(config: dict) -> MigrationModel:
    """Build (not run) a model from a config dict."""
    return MigrationModel(config)


def lever(kind: str, actor: str, **params) -> dict:
    return {"kind": kind, "actor": actor, **params}


# ---- the shipped configs -------------------------------------------------------------------


# folders of configs/ that are not Hydra config groups (read by their own loaders)
NOT_GROUPS = {"calibration"}  # sim.studies.calibration.load_spec: tests/test_calibration.py
# groups a world pulls in (its own behaviour), not chosen on their own: checked with their world
PULLED_BY_WORLDS = {"behaviour"}


def _group_options() -> list[tuple[str, str]]:
    out = []
    for group in sorted(p for p in CONFIG_DIR.iterdir() if p.is_dir() and p.name not in NOT_GROUPS | PULLED_BY_WORLDS):
        for f in sorted(group.glob("*.yaml")):
            out.append((group.name, f.stem))
    return out


@pytest.mark.parametrize(("group", "option"), _group_options())
def test_every_shipped_config_composes_and_validates(group: str, option: str) -> None:
    """Protects: every file in configs/ (each scenario, world, ...) composes with Hydra and passes
    every check, including the world-level lever checks (check_config builds a probe model). A
    world is checked without the default scenario's levers (they name the default world's places: ~levers)."""
    overrides = [f"{group}={option}"] + (["~levers"] if group == "world" else [])
    cfg = compose(overrides)
    assert isinstance(cfg, Config)
    check_config(cfg)


@pytest.mark.parametrize("world", sorted(p.stem for p in (CONFIG_DIR / "world").glob("*.yaml")))
def test_each_world_pulls_in_its_own_behaviour(world: str) -> None:
    """Protects: a world's behaviour (sim.model.config.WORLD_BEHAVIOUR) is its own file, pulled
    in by the world file; a world without one is refused, naming the keys and the file to write."""
    text = (CONFIG_DIR / "world" / f"{world}.yaml").read_text()
    assert f"/behaviour: {world}" in text
    assert (CONFIG_DIR / "behaviour" / f"{world}.yaml").exists()
    data = compose_dict([f"world={world}", "~levers"])
    for key in WORLD_BEHAVIOUR:
        section, name = key.split(".")
        assert name in data[section], f"{world}: {key} not set by configs/behaviour/{world}.yaml"
    del data["border"]["attempt_prob_per_day"]
    with pytest.raises(ConfigError, match=rf"world '{world}': border\.attempt_prob_per_day not set; .*configs/behaviour/{world}\.yaml"):
        load_config(data)


def test_default_config_round_trips_through_to_dict() -> None:
    """Protects: to_dict and load_config are inverses (MigrationModel rebuilds a Config from
    its plain form, so a lossy round trip would change the run)."""
    cfg = compose()
    assert load_config(to_dict(cfg)) == cfg


# ---- unknown keys and wrong types -------------------------------------------------------------


def test_unknown_key_is_named() -> None:
    """Protects: a misspelt key is an error naming its full path and the allowed keys, not
    silently ignored."""
    with pytest.raises(ConfigError, match=r"population\.bogus: unknown key; allowed keys here: .*size"):
        load_config({"population": {"bogus": 1}})


def test_unknown_key_added_with_hydra_plus_is_named() -> None:
    """Protects: `+key=value` bypasses Hydra's own schema check; our loader must still refuse it."""
    with pytest.raises(ConfigError, match=r"population\.bogus: unknown key"):
        compose(["+population.bogus=1"])


def test_unknown_world_key_is_named(tiny_world) -> None:
    """Protects: unknown keys deep in the world (a route row) are refused with their path."""
    cfg = tiny_world()
    cfg["world"]["routes"][1]["seat"] = 100
    with pytest.raises(ConfigError, match=r"world\.routes\[1\]\.seat: unknown key; allowed keys here: .*seats"):
        load_config(cfg)


def test_wrong_type_is_named() -> None:
    """Protects: a value of the wrong type is refused, naming the key and the expected type."""
    with pytest.raises(ConfigError, match=r"population\.size: 'many' is not a whole number"):
        load_config({"population": {"size": "many"}})


def test_wrong_type_from_the_command_line_is_named() -> None:
    """Protects: the same check holds for a Hydra override (strings arrive untyped)."""
    with pytest.raises(ConfigError, match=r"population\.size: 'many' is not a whole number"):
        compose(["population.size=many"])


def test_bool_is_not_a_number() -> None:
    """Protects: `true` is not accepted where a count is expected (Python's bool is an int)."""
    with pytest.raises(ConfigError, match=r"population\.size: True is not a whole number"):
        load_config({"population": {"size": True}})


# ---- ranges --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1.5, -0.1])
def test_probability_outside_unit_interval(value: float) -> None:
    """Protects: probabilities outside [0, 1] are refused, saying what is allowed."""
    with pytest.raises(ConfigError, match=r"border\.attempt_prob_per_day: .* out of range; allowed: a probability or share in \[0, 1\]"):
        load_config({"border": {"attempt_prob_per_day": value}})


def test_negative_route_seats(tiny_world) -> None:
    """Protects: a negative capacity (a route's seats) is refused with the row's path."""
    cfg = tiny_world()
    cfg["world"]["routes"][0]["seats"] = -10
    with pytest.raises(ConfigError, match=r"world\.routes\[0\]\.seats: -10 is out of range; allowed: a value >= 0"):
        load_config(cfg)


def test_negative_agency_price(tiny_world) -> None:
    """Protects: a negative price (the agencies' package price) is refused."""
    cfg = tiny_world(world__agency_base_price_usd=-3500)
    with pytest.raises(ConfigError, match=r"world\.agency_base_price_usd: -3500.0 is out of range; allowed: a value >= 0"):
        load_config(cfg)


def test_negative_visa_capacity(tiny_world) -> None:
    """Protects: a negative visa capacity is refused."""
    cfg = tiny_world()
    cfg["world"]["visa_channels"][1]["capacity_per_day"] = -1
    with pytest.raises(ConfigError, match=r"world\.visa_channels\[1\]\.capacity_per_day: .*allowed: a value >= 0"):
        load_config(cfg)


def test_cold_index_outside_unit_interval(tiny_world) -> None:
    """Protects: the monthly cold index is in [0, 1] (a negative one would give negative death
    chances)."""
    cfg = tiny_world()
    cfg["world"]["cold"][0] = -3.0
    with pytest.raises(ConfigError, match=r"world\.cold: .*\[0, 1\]"):
        build(cfg)


# ---- dates -----------------------------------------------------------------------------------


def test_malformed_date_is_named() -> None:
    """Protects: a malformed date names its key and the expected format."""
    with pytest.raises(ConfigError, match=r"run\.start: '2021-02-30' is not a date; write it as YYYY-MM-DD"):
        load_config({"run": {"start": "2021-02-30"}})


def test_run_end_before_start() -> None:
    """Protects: a run that ends before it starts is refused."""
    with pytest.raises(ConfigError, match=r"run\.end: 2021-01-01 is before run\.start 2021-02-01"):
        load_config({"run": {"start": "2021-02-01", "end": "2021-01-01"}})


def test_route_end_before_start(tiny_world) -> None:
    """Protects: a route's service that ends before it starts is refused."""
    cfg = tiny_world()
    cfg["world"]["routes"][0].update(start="2021-03-01", end="2021-02-01")
    with pytest.raises(ConfigError, match=r"world\.routes\[0\]\.end: 2021-02-01 is before start 2021-03-01"):
        build(cfg)


def test_lever_date_outside_the_run(tiny_world) -> None:
    """Protects: a lever scheduled outside the run window is refused (it would silently never act)."""
    cfg = tiny_world({"x": lever("pushback", "Poland", when={"start": "2022-01-01"}, segments=["poland"], pushback=True)})
    with pytest.raises(ConfigError, match=r"levers\.x\.when\.start: 2022-01-01 is outside the run \(2021-01-01 to 2021-05-31\)"):
        build(cfg)


def test_lever_single_date_outside_the_run(tiny_world) -> None:
    """Protects: the same for a list of dates (repatriation flights)."""
    cfg = tiny_world({"x": lever("repatriation_flights", "Iraq", when={"dates": ["2021-02-01", "2020-12-31"]}, seats=[10])})
    with pytest.raises(ConfigError, match=r"levers\.x\.when\.dates\[1\]: 2020-12-31 is outside the run"):
        build(cfg)


def test_lever_window_end_before_start(tiny_world) -> None:
    """Protects: a lever window that ends before it starts is refused."""
    cfg = tiny_world({"x": lever("pushback", "Poland", when={"start": "2021-03-01", "end": "2021-02-01"},
                                 segments=["poland"], pushback=True)})
    with pytest.raises(ConfigError, match=r"levers\.x\.when\.end: 2021-02-01 is before start 2021-03-01"):
        build(cfg)


def test_lever_malformed_date(tiny_world) -> None:
    """Protects: a malformed date in a lever's schedule names the key and the format."""
    cfg = tiny_world({"x": lever("pushback", "Poland", when={"start": "next tuesday"}, segments=["poland"])})
    with pytest.raises(ConfigError, match=r"levers\.x\.when\.start: 'next tuesday' is not a date; write it as YYYY-MM-DD"):
        build(cfg)


@pytest.mark.parametrize(
    ("when", "key"),
    [
        ({"start": "2021-02-01", "ramp_days": "ten"}, r"when\.ramp_days"),
        ({"start": "2021-02-01", "ramp_days": -3}, r"when\.ramp_days"),
        ({"duration_days": "x", "trigger": {"metric": "attempts", "above": 1}}, r"when\.duration_days"),
        ({"trigger": {"metric": "attempts", "above": 1, "for_days": "x"}}, r"when\.trigger\.for_days"),
        ({"trigger": {"metric": "attempts", "above": 1, "lag_days": 1.5}}, r"when\.trigger\.lag_days"),
        ({"trigger": {"metric": "attempts", "above": "many"}}, r"when\.trigger\.above"),
        ({"trigger": {"metric": "no_such_metric", "above": 1}}, r"when\.trigger\.metric"),
        ({"trigger": {"metric": "attempts"}}, r"when\.trigger: give exactly one of above or below"),
        ({"begin": "2021-02-01"}, r"when\.begin: unknown key; allowed keys here: dates, duration_days, end, ramp_days, start, trigger"),
        ({"trigger": {"metric": "attempts", "abve": 1}}, r"when\.trigger\.abve: unknown key; allowed keys here: above, below"),
        ({"dates": "2021-02-01"}, r"when\.dates: '2021-02-01' is not a list"),
        ({"start": float("nan")}, r"when\.start"),
    ],
)
def test_bad_schedule_values(tiny_world, when: dict, key: str) -> None:
    """Protects: every schedule field is checked, by the schema (sim.model.config.When: types,
    ranges, unknown keys) or against the run when the model is built (a non-number used to
    surface as a bare ValueError, or a TypeError in the middle of the run)."""
    cfg = tiny_world({"x": lever("reinforcement", "Poland", when=when, segments=["poland"], guard_mult=2.0)})
    with pytest.raises(ConfigError, match=r"levers\.x\." + key):
        build(cfg)


# ---- levers naming things that do not exist --------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "key", "name", "known"),
    [
        (lever("flight_suspension", "Iraq", from_airports=["XYZ"]), r"from_airports\[0\]", "airport 'XYZ'", "BGW"),
        (lever("flight_suspension", "Iraq", airlines=["ZZ"]), r"airlines\[0\]", "airline 'ZZ'", "IA"),
        (lever("flight_suspension", "Iraq", routes=["IA_BGW_MSQ", "NOPE"]), r"routes\[1\]", "route 'NOPE'", "IA_BGW_MSQ"),
        (lever("flight_suspension", "Iraq", from_states=["Narnia"]), r"from_states\[0\]", "state 'Narnia'", "Iraq"),
        (lever("boarding_ban", "Turkey", from_airports=["IST"], nationalities=["martian"]), r"nationalities\[0\]",
         "nationality 'martian'", "iraqi"),
        (lever("visa_leverage", "EU", nationality="martian"), "nationality", "nationality 'martian'", "syrian"),
        (lever("pushback", "Poland", segments=["estonia"], pushback=True), r"segments\[0\]", "segment 'estonia'", "poland"),
        (lever("transit_facilitation", "Belarus", segment_weights={"estonia": 2.0}), r"segment_weights\.estonia",
         "segment 'estonia'", "lithuania"),
        (lever("consulate_closure", "Iraq", channels=["consulate_erbil"]), r"channels\[0\]", "channel 'consulate_erbil'",
         "consulate_baghdad"),
        (lever("visa_restriction", "Belarus", channels=["visa_on_arrival"]), r"channels\[0\]", "channel 'visa_on_arrival'",
         "invitation"),
        (lever("smuggler_crackdown", "Iraq", origins=["Mosul"]), r"origins\[0\]", "origin 'Mosul'", "Baghdad"),
        (lever("information_campaign", "Belarus", origins=["Mosul"]), r"origins\[0\]", "origin 'Mosul'", "Damascus"),
        (lever("repatriation_flights", "Iraq", when={"dates": ["2021-02-01"]}, seats=[10], nationalities=["martian"]),
         r"nationalities\[0\]", "nationality 'martian'", "iraqi"),
    ],
)
def test_lever_names_unknown_thing(tiny_world, spec: dict, key: str, name: str, known: str) -> None:
    """Protects: a lever naming a place, airport, airline, route, state, nationality, segment,
    channel or origin that the world does not have fails with the key and the known names."""
    with pytest.raises(ConfigError, match=rf"levers\.x\.{key}: unknown {name}; known: .*{known}"):
        build(tiny_world({"x": spec}))


def test_lever_unknown_actor(tiny_world) -> None:
    """Protects: a lever's actor must be a state or airline of the world."""
    with pytest.raises(ConfigError, match=r"levers\.x\.actor: 'Narnia' is not a state or airline of this world; known: .*Iraq"):
        build(tiny_world({"x": lever("pushback", "Narnia", segments=["poland"], pushback=True)}))


def test_lever_filters_matching_no_route(tiny_world) -> None:
    """Protects: a flight suspension whose filters match no route is an error, not a no-op."""
    spec = lever("flight_suspension", "Iraq", airlines=["IA"], from_airports=["DAM"])
    with pytest.raises(ConfigError, match=r"levers\.x: the filters match no route"):
        build(tiny_world({"x": spec}))


def test_unknown_lever_kind(tiny_world) -> None:
    """Protects: an unknown lever kind is refused, listing the known kinds."""
    with pytest.raises(ConfigError, match=r"levers\.x\.kind: unknown lever 'wall'; known: .*pushback"):
        build(tiny_world({"x": lever("wall", "Poland")}))


def test_lever_without_kind(tiny_world) -> None:
    """Protects: a lever must say what it is."""
    with pytest.raises(ConfigError, match=r"levers\.x\.kind: missing"):
        load_config(tiny_world({"x": {"actor": "Poland"}}))


def test_unknown_lever_parameter(tiny_world) -> None:
    """Protects: a misspelt lever parameter is refused, listing the lever's parameters."""
    spec = lever("reinforcement", "Poland", segments=["poland"], guard_multiplier=2.0)
    with pytest.raises(ConfigError, match=r"levers\.x\.guard_multiplier: unknown key; allowed keys here: .*guard_mult"):
        build(tiny_world({"x": spec}))


def test_unknown_lever_parameter_even_when_disabled(tiny_world) -> None:
    """Protects: a disabled lever is still checked (switching it on later must not surprise)."""
    spec = lever("reinforcement", "Poland", enabled=False, segments=["poland"], guard_multiplier=2.0)
    with pytest.raises(ConfigError, match=r"levers\.x\.guard_multiplier: unknown key"):
        build(tiny_world({"x": spec}))


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (lever("reinforcement", "Poland", segments=["poland"], guard_mult="lots"), r"levers\.x\.guard_mult: 'lots' is not a number"),
        (lever("reinforcement", "Poland", segments=["poland"], guard_mult=-1), r"levers\.x\.guard_mult: .*allowed: >= 0"),
        (lever("reinforcement", "Poland", segments="poland"), r"levers\.x\.segments: 'poland' is not a list"),
        (lever("reinforcement", "Poland", segments=[]), r"levers\.x\.segments: empty"),
        (lever("smuggler_crackdown", "Iraq", capacity_mult=2.0), r"levers\.x\.capacity_mult: .*allowed: \[0, 1\]"),
        (lever("visa_leverage", "EU", nationality="iraqi", cooperation_drop=1.5), r"levers\.x\.cooperation_drop: .*allowed: \[0, 1\]"),
        (lever("repatriation_flights", "Iraq", when={"start": "2021-02-01"}, seats=[10]),
         r"levers\.x: give either when\.dates .* or weekdays"),
        (lever("repatriation_flights", "Iraq", when={"start": "2021-02-01"}, seats=[10], weekdays=[7]),
         r"levers\.x\.weekdays: \[7\]; days are 0"),
        (lever("repatriation_flights", "Iraq", when={"dates": ["2021-02-01"]}, seats=[10], fare_usd=-5.0),
         r"levers\.x\.fare_usd: -5\.0 is negative"),
        (lever("repatriation_flights", "Iraq", when={"dates": ["2021-02-01"]}, seats=[-10]), r"levers\.x\.seats"),
        (lever("repatriation_flights", "Iraq", when={"dates": ["2021-02-01", "2021-02-02", "2021-02-03"]}, seats=[1, 2]),
         r"levers\.x\.seats: 2 numbers for 3 dates"),
        (lever("consulate_closure", "Iraq"), r"levers\.x\.channels: empty"),
        (lever("pushback", "Poland", segments=["poland"], enabled="no"), r"levers\.x\.enabled: 'no' is not true/false"),
    ],
)
def test_bad_lever_parameter_values(tiny_world, spec: dict, match: str) -> None:
    """Protects: each lever checks the type and range of its own parameters at build time."""
    with pytest.raises(ConfigError, match=match):
        build(tiny_world({"x": spec}))


# ---- the world's own consistency ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda w: w["origins"][0].update(nationality="martian"), r"world\.origins\[0\]\.nationality: unknown nationality 'martian'"),
        (lambda w: w["origins"][1].update(airports=["XYZ"]), r"world\.origins\[1\]\.airports: unknown airport 'XYZ'"),
        (lambda w: w["routes"][0].update(airline="ZZ"), r"world\.routes\[0\]\.airline: unknown airline 'ZZ'"),
        (lambda w: w["routes"][0].update(origin="XYZ"), r"world\.routes\[0\]\.origin: unknown airport 'XYZ'"),
        (lambda w: w["routes"][0].update(weekdays=[7]), r"world\.routes\[0\]\.weekdays"),
        (lambda w: w["routes"].append(dict(w["routes"][0])), r"world\.routes: route id '[^']+' is used 2 times \(entries 0, \d+\); each route id must be unique"),
        (lambda w: w["segments"].append(dict(w["segments"][0])), r"world\.segments: segment id '[^']+' is used 2 times \(entries 0, \d+\)"),
        (lambda w: w["nationalities"].append("iraqi"), r"world\.nationalities: nationality 'iraqi' is used 2 times \(entries 0, \d+\)"),
        (lambda w: w["visa_channels"][0].update(kind="embassy"), r"world\.visa_channels\[0\]\.kind: 'embassy'; allowed"),
        (lambda w: w["segments"][0].update(state="Narnia"), r"world\.segments\[0\]\.state: unknown state 'Narnia'"),
        (lambda w: w["airports"].update(XXX="Narnia"), r"world\.airports\.XXX: unknown state 'Narnia'"),
        (lambda w: w.update(cold=[0.5] * 11), r"world\.cold: 11 values"),
        (lambda w: w.update(routes=[]), r"world\.origins\[0\]\.airports: no route flies from BGW"),
    ],
)
def test_inconsistent_world(tiny_world, edit, match: str) -> None:
    """Protects: a world whose rows name things it does not define is refused with the row's path."""
    cfg = tiny_world()
    edit(cfg["world"])
    with pytest.raises(ConfigError, match=match):
        build(cfg)


# ---- malformed data files, composed through sim.running.compose -------------------------------------------


def _write_world(config_dir: Path, name: str, edit) -> None:
    src = config_dir / "world" / "iraq_belarus_2021.yaml"
    data = yaml.safe_load(src.read_text())
    edit(data)
    (config_dir / "world" / f"{name}.yaml").write_text("# @package world\n" + yaml.safe_dump(data, sort_keys=False))


def test_world_file_with_routes_not_a_list(config_dir: Path) -> None:
    """Protects: a world file whose `routes` is a mapping, not a list, is refused by key."""
    _write_world(config_dir, "bad", lambda d: d.update(routes={"IA_BGW_MSQ": {"seats": 180}}))
    with pytest.raises(ConfigError, match=r"world\.routes: .* is not a list"):
        compose(["world=bad"])


def test_world_file_with_malformed_date(config_dir: Path) -> None:
    """Protects: a malformed date in a world file names the row and the expected format."""
    def edit(d: dict) -> None:
        d["routes"][2]["start"] = "2021-05-1O"  # letter O

    _write_world(config_dir, "bad", edit)
    with pytest.raises(ConfigError, match=r"world\.routes\[2\]\.start: '2021-05-1O' is not a date; write it as YYYY-MM-DD"):
        compose(["world=bad"])


def test_malformed_yaml_file_names_the_file(config_dir: Path) -> None:
    """Protects: a YAML syntax error in a config file fails before any work, naming the file."""
    bad = config_dir / "scenario" / "broken.yaml"
    bad.write_text("# @package _global_\nlevers:\n  x: {kind: pushback, actor: Poland\n  y: : z\n")
    with pytest.raises((ConfigError, yaml.YAMLError)) as err:
        compose(["scenario=broken"])
    assert "broken.yaml" in str(err.value)


def test_unknown_scenario_is_a_config_error() -> None:
    """Protects: asking for a scenario that does not exist is a ConfigError naming it."""
    with pytest.raises(ConfigError, match="no_such_scenario"):
        compose(["scenario=no_such_scenario"])


def test_a_scenario_sets_its_own_run_window_seed_and_size(config_dir: Path) -> None:
    """A scenario (or a world) may set the run's window, seed and size: config.yaml's own keys
    come first in its defaults, so the groups override them, and the command line overrides all
    (before, config.yaml's run window won, and a lever dated in the scenario's own window was
    refused as "outside the run")."""
    base = yaml.safe_load((config_dir / "scenario" / "baseline_2021.yaml").read_text())
    base["scenario"] = "own_window"
    base["run"] = {"start": "2021-02-01", "end": "2022-01-31", "seed": 7}
    base["population"] = {"size": 3000}
    (config_dir / "scenario" / "own_window.yaml").write_text("# @package _global_\n" + yaml.safe_dump(base))
    cfg = compose(["scenario=own_window"])
    assert (str(cfg.run.start), str(cfg.run.end), cfg.run.seed, cfg.population.size) == ("2021-02-01", "2022-01-31", 7, 3000)
    check_config(cfg)  # its levers' dates are checked against its own window
    assert compose(["scenario=own_window", "run.seed=9"]).run.seed == 9
    assert compose(["scenario=baseline_2021"]).run.start.isoformat() == "2021-01-01"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"world.origins.Baghdad.share": 0.5},
         r"world\.origins: the shares sum to 0\.9 \(Baghdad 0\.5, Damascus 0\.4\); .* must sum to 1"),
        ({"world.visa_channels.invitation.nationalities": ["iraqi"]},
         r"world\.origins\[1\]\.nationality: no visa channel serves 'syrian' or 'Damascus'.*\(Damascus's people could never travel\)"),
        ({"world.hubs": [], "world.routes": [
            {"id": "IA_BGW_MSQ", "airline": "IA", "origin": "BGW", "weekdays": [0], "seats": 40,
             "corridor_share": 1.0, "fare_usd": 500}]},
         r"world\.origins\[1\]\.airports: no route flies from DAM and no route from a hub exists"),
    ],
    ids=["shares", "no-channel", "no-route"],
)
def test_a_world_where_some_people_could_never_travel_is_refused(tiny_world, overrides, message) -> None:
    """Protects: configuration that would silently do nothing is an error, naming the key and
    what to change (before, shares were rescaled without a word, and an origin no channel or
    route serves simply never moved)."""
    with pytest.raises(ConfigError, match=message):
        MigrationModel(tiny_world(**overrides))
