"""Labels come from the config: no code names a world's places.

Protects: the terminal summary, the run's figures, the comparison report and the app name a
world's places as its config does (a world whose transit state is 'Transitia' is never called
'Belarus'); the report's title and baseline come from the scenario's ``meta``; the app's main
levers are ``meta.levers_shown`` and its behavioural sliders take the schema's ranges; and no
code under sim/running, sim/studies or sim/app names a place of a world shipped in
configs/world/ (in an identifier or a string; docstrings and comments may give examples).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import re
from pathlib import Path

import matplotlib.text
import pytest
import yaml

from sim.model.config import Config, load_config
from sim.running.compose import compose, compose_dict, default_scenario
from sim.running.figures import FIGURES
from sim.running.labels import Labels, lever_label, place, scenario_title, shown_levers
from sim.running.run import format_summary
from tests.conftest import make_tiny_world, run_model

ROOT = Path(__file__).resolve().parent.parent
# what the 2021 world calls its places, which a renamed world must never show
OLD = re.compile(r"Belarus|Minsk|Lithuania|Poland|Kurdistan|\bEU\b")


def renamed(data: dict) -> dict:
    """The tiny world with every place renamed: Transitia (entered at Capitalia), guarded by
    Westland and Northland, with an origin group 'Highlands'."""
    w = data["world"]
    w["states"] = ["Iraq", "Syria", "Turkey", "Transitia", "Westland", "Northland"]
    w["airports"]["MSQ"] = "Transitia"
    w["transit"] = {"state": "Transitia", "entry_points": [{"id": "capitalia", "airport": "MSQ"}]}
    w["airlines"]["B2"]["state"] = "Transitia"
    w["visa_channels"][1].update(place="Capitalia", host_state="Transitia")
    w["segments"][0].update(id="west", state="Westland")
    w["segments"][1].update(id="north", state="Northland")
    w["segments"][2].update(id="north_gate", state="Northland")
    w["legs"] = [{"id": "road", "entry": "capitalia", "to": ["west", "north"], "mode": "road", "days": 1},
                 {"id": "cycle", "entry": "capitalia", "to": ["north_gate"], "mode": "bicycle", "days": 1}]
    w["groups"] = {"hl": "Highlands"}
    w["origins"][0]["group"] = "hl"
    return data


@pytest.fixture(scope="module")
def renamed_run():
    """(config, daily table, summary) of the renamed tiny world, run once."""
    from sim.model.recorder import summarize

    cfg = renamed(make_tiny_world())
    model, daily = run_model(cfg)
    return cfg, daily, summarize(daily, list(model.world.segment_ids))


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


# ---- the words of a world ------------------------------------------------------------------------
def test_labels_of_the_default_world_renamed_say_its_new_name():
    data = compose_dict([])
    data["world"]["transit"]["state"] = "Transitia"
    labels = Labels.of(data)
    assert labels.say("Person-days in {transit}") == "Person-days in Transitia"
    assert labels.transit == "Transitia" and "Belarus" not in repr(labels)
    assert Labels.of(compose([])).transit == compose([]).world.transit.state  # the shipped world's own


def test_words_for_places_and_levers():
    assert place("st_petersburg") == "St Petersburg" and place("minsk") == "Minsk"
    assert Labels().say("in {city}") == "in the city"  # neutral without a config
    assert lever_label("uae_boarding_ban", "UAE") == "UAE boarding ban"
    assert lever_label("ru_escorts_to_border", "Russia") == "Russia escorts to border"
    assert lever_label("lt_pushbacks", "Lithuania") == "Lt pushbacks"  # not the start of the actor's name


def test_summary_names_the_worlds_places(renamed_run):
    cfg, _, summary = renamed_run
    text = format_summary(summary, {"scenario": "tiny"}, Labels.of(cfg))
    for phrase in ("Arrivals in Capitalia", "People in Transitia at the peak", "Person-days in Transitia",
                   "Reached Westland or Northland"):
        assert phrase in text
    assert not OLD.search(text), OLD.search(text)


def test_figures_name_the_worlds_places(renamed_run):
    cfg, daily, _ = renamed_run
    labels = Labels.of(cfg)
    texts = {name: _texts(plot(daily, labels=labels)) for name, plot in FIGURES.items()}
    assert "Leaving Transitia for home" in texts["repatriation"]
    assert "of whom from\nHighlands" in texts["repatriation"]  # world.groups' label, its column drawn
    assert "Flights to Capitalia" in texts["flights_arrivals"]
    assert "kept in Westland" in texts["border_segments"] and "West:" in texts["border_segments"]
    assert "in Capitalia" in texts["people_by_state"]
    for name, text in texts.items():
        assert not OLD.search(text), f"{name}: {OLD.search(text)}"


def test_a_world_without_groups_draws_no_group_line(renamed_run):
    cfg, daily, _ = renamed_run
    plain = daily.drop(columns=[c for c in daily if c.startswith("in_transit_country_")])
    assert "of whom" not in _texts(FIGURES["repatriation"](plain, labels=Labels.of(cfg)))


# ---- the report: title, baseline and words from the configs ------------------------------------------
def test_report_takes_title_baseline_and_words_from_the_configs(renamed_run, tmp_path):
    from sim.studies.ensemble import run_configs
    from sim.studies.report import write_report

    cfg = copy.deepcopy(renamed_run[0])
    cfg["run"]["end"] = "2021-03-31"
    base = cfg | {"scenario": "base", "meta": {"title": "Transitia as it was", "baseline": "base"}}
    alt = copy.deepcopy(base) | {"scenario": "alt", "meta": {"title": "Transitia with fewer guards",
                                                             "baseline": "base"}}
    alt["world"]["segments"][0]["guard_capacity_per_day"] = 1
    ens = run_configs({"alt": alt, "base": base}, seeds=[1, 2], n_jobs=1)
    write_report(ens, tmp_path)  # no baseline given: the scenarios' own (meta.baseline)
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert text.startswith("# Corridor: Transitia as it was\n")
    assert "## The baseline: `base`" in text and "**Transitia with fewer guards**" in text
    assert "Person-days in Transitia" in text and "Arrivals in Capitalia" in text
    assert not OLD.search(text), OLD.search(text)


# ---- the app: main levers from meta, slider ranges from the schema -----------------------------------
def test_app_main_levers_are_the_scenarios_levers_shown():
    from sim.app.model import AppSettings

    s = AppSettings.for_scenario(size=2000)
    assert s.scenario == default_scenario()
    cfg = compose([])
    assert list(s.main_levers()) == cfg.meta.levers_shown
    for name, label in s.main_levers().items():
        assert label == lever_label(name, cfg.levers[name].actor)
    # a scenario that lists none offers every lever
    assert shown_levers(dataclasses.replace(cfg, meta=dataclasses.replace(cfg.meta, levers_shown=[]))) == list(cfg.levers)


def test_app_sliders_take_the_schemas_ranges():
    from sim.app.model import BEHAVIOUR, UNBOUNDED_MULT, AppSettings, behaviour_range, schema_range

    s = AppSettings.for_scenario(size=2000)
    for key in BEHAVIOUR:
        section, name = key.split(".")
        meta = {f.name: f.metadata for f in dataclasses.fields(type(getattr(Config(), section)))}[name]
        assert schema_range(key) == (meta["lo"], meta["hi"])
        value = s.behaviour[key]
        lo, hi, step = s.behaviour_range(key)
        assert lo == meta["lo"] and lo <= value <= hi and 0 < step < hi - lo
        assert hi == (meta["hi"] if meta["hi"] is not None else UNBOUNDED_MULT * value)
    assert behaviour_range("border.attempt_prob_per_day", 0.05)[1] == 1.0  # a probability: up to 1
    assert behaviour_range("intention.network_gain", 5.0)[1] == 20.0  # unbounded: 4 x the value


def test_app_page_title_is_the_scenarios_meta_title():
    pytest.importorskip("solara")
    from sim.app.page import page_title

    class Shown:
        cfg = load_config(compose_dict([]))

    assert page_title(Shown) == f"Corridor: {scenario_title(Shown.cfg)}"
    assert scenario_title(Shown.cfg) == Shown.cfg.meta.title != ""


def test_every_library_scenario_has_a_title_of_its_own():
    """A scenario that inherits its parent's meta would be shown under the parent's title."""
    titles = {p.stem: scenario_title(compose([f"scenario={p.stem}"]))
              for p in sorted((ROOT / "configs" / "scenario").glob("*.yaml"))}
    assert len(set(titles.values())) == len(titles), titles


# ---- no code names a shipped world's places -------------------------------------------------------------
def _shipped_places() -> tuple[set[str], set[str]]:
    """(place names, lower case; airport codes, as written) of every world in configs/world/."""
    names, codes = set(), set()
    for path in (ROOT / "configs" / "world").glob("*.yaml"):
        w = yaml.safe_load(path.read_text(encoding="utf-8"))
        names |= set(w.get("states", [])) | {w["transit"]["state"]}
        names |= {e["id"] for e in w["transit"]["entry_points"]}
        names |= {s[k] for s in w.get("segments", []) for k in ("id", "state")}
        names |= {o["name"] for o in w.get("origins", [])} | set(w.get("groups", {})) | set(w.get("groups", {}).values())
        names |= {c["place"] for c in w.get("visa_channels", []) if c.get("place")}
        codes |= set(w.get("airports", {}))
    return {" ".join(re.split(r"[^a-z0-9]+", n.lower())).strip() for n in names}, codes


def _words(text: str) -> str:
    return " " + " ".join(re.split(r"[^a-z0-9]+", text.lower())) + " "


def test_no_code_names_a_shipped_worlds_places():
    names, codes = _shipped_places()
    assert {"belarus", "minsk", "kri", "finland"} <= names  # the worlds were read
    bad = []
    for path in sorted(p for part in ("running", "studies", "app") for p in (ROOT / "sim" / part).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {id(n.body[0].value) for n in ast.walk(tree)
                if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                text = node.value
            elif isinstance(node, ast.Name | ast.arg | ast.FunctionDef | ast.ClassDef | ast.Attribute):
                text = getattr(node, "id", None) or getattr(node, "arg", None) or getattr(node, "name", None) \
                    or getattr(node, "attr", "")
            else:
                continue
            words = _words(text)
            found = [n for n in names if f" {n} " in words] + [c for c in codes if re.search(rf"\b{c}\b", text)]
            if found:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text!r} names {found}")
    assert not bad, "code names a shipped world's places (take them from the config):\n" + "\n".join(bad)


def test_the_terminal_summary_counts_real_people_when_rows_sample_a_pool(renamed_run) -> None:
    """Protects: summary.json counts rows (the daily table's totals); the terminal summary says
    how many real people that is (rows x pool/size) when the rows sample a larger or smaller pool."""
    cfg, daily, summary = renamed_run
    same = format_summary(summary, {"scenario": "tiny", "population_size": 4000, "population_pool": 4000},
                          Labels.of(cfg))
    sampled = format_summary(summary, {"scenario": "tiny", "population_size": 4000, "population_pool": 20000},
                             Labels.of(cfg))
    assert "4,000 people)" in same and "4,000 rows for a pool of 20,000 people; counts below in real people" in sampled
    line = next(x for x in same.splitlines() if x.startswith("Arrivals"))
    scaled = next(x for x in sampled.splitlines() if x.startswith("Arrivals"))
    rows = int(line.split()[-1].replace(",", ""))
    assert rows > 0 and int(scaled.split()[-1].replace(",", "")) == 5 * rows
