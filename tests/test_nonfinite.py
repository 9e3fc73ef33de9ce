"""Non-finite numbers (NaN, inf, -inf) are refused wherever a number is read.

Every comparison with NaN is false, so a NaN used to pass every range check: ``corridor
border.attempt_prob_per_day=nan`` "succeeded" with no attempt at all, a sweep job with ``nan``
counted as complete, and a ``nan`` target in the record was at distance 0 from any run. One rule
(:func:`sim.model.config.check_number`) now checks every number: config keys and world rows through
the schema, lever parameters and schedules, the calibration and sensitivity specs, and the rows
of data/observed/. The error names where (file, key), the value and what is allowed.
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_calibration import SPEC as CALIBRATION_SPEC  # tests/ is on sys.path

import sim.running.compose
from sim.model.config import ConfigError, check_number, load_config, set_dotted
from sim.model.model import MigrationModel
from sim.running.compose import compose

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(sim.running.compose.CONFIG_DIR)
NONFINITE = [float("nan"), float("inf"), float("-inf")]


def refused(key: str, shown: str = r"(nan|inf|-inf)") -> str:
    """The message of a refused non-finite value: the key, the value, and what is allowed."""
    return rf"{key}: {shown} is not a finite number; allowed: "


def lever(kind: str, actor: str, **params) -> dict:
    return {"kind": kind, "actor": actor, **params}


# ---- the rule itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [*NONFINITE, np.float64("nan"), np.float32("inf"), np.float16("-inf")])
def test_the_rule_refuses_every_nonfinite_number(value) -> None:
    with pytest.raises(ConfigError, match=refused("k") + r"a finite number$"):
        check_number(value, "k")
    with pytest.raises(ConfigError, match=refused("k") + r"a probability or share in \[0, 1\]"):
        check_number(value, "k", lo=0.0, hi=1.0)
    with pytest.raises(ConfigError, match=refused("k")):
        check_number(value, "k", whole=True)


@pytest.mark.parametrize("text", ["nan", "NaN", " inf", "-inf", "Infinity", "1e999"])
def test_the_rule_refuses_nonfinite_text_where_text_is_read(text: str) -> None:
    with pytest.raises(ConfigError, match=refused("f.csv:2: value")):
        check_number(text, "f.csv:2: value", text=True)


def test_the_rule_keeps_finite_numbers_and_their_types() -> None:
    assert check_number(np.int64(7), "k", whole=True) == 7 and type(check_number(np.int64(7), "k", whole=True)) is int
    assert type(check_number(np.float32(0.5), "k")) is float and check_number(np.float32(0.5), "k") == 0.5
    assert check_number(3, "k") == 3.0 and type(check_number(3, "k")) is float
    assert check_number(4.0, "k", whole=True) == 4
    assert check_number("0.25", "k", text=True) == 0.25
    with pytest.raises(ConfigError, match=r"k: 10\*\*400|k: 1000.* is not a finite number"):
        check_number(10**400, "k")  # too large for a float
    for bad in (True, np.bool_(True), "0.5", None):
        with pytest.raises(ConfigError, match=r"k: .* is not a number"):
            check_number(bad, "k")


# ---- config keys: dicts, YAML, the command line -------------------------------------------------


@pytest.mark.parametrize(
    ("key", "allowed"),
    [
        ("border.attempt_prob_per_day", r"a probability or share in \[0, 1\]"),
        ("intention.network_gain", r"a value >= 0"),
        ("intention.report_half_life_days", r"a finite number >= 0.1"),
        ("population.size", r"a finite whole number in \[1, 100000000\]"),
        ("run.seed", r"a value >= 0"),
    ],
)
@pytest.mark.parametrize("value", [*NONFINITE, np.float64("nan"), np.float32("-inf")])
def test_config_keys_refuse_nonfinite_values(key: str, allowed: str, value) -> None:
    data: dict = {}
    set_dotted(data, key, value)
    with pytest.raises(ConfigError, match=refused(key.replace(".", r"\.")) + allowed):
        load_config(data)


def test_numpy_numbers_are_taken_as_plain_numbers() -> None:
    cfg = load_config({"population": {"size": np.int64(3000)}, "border": {"attempt_prob_per_day": np.float32(0.5)},
                       "intention": {"network_gain": np.float64(4.0)}})
    assert cfg.population.size == 3000 and type(cfg.population.size) is int
    assert cfg.border.attempt_prob_per_day == 0.5 and type(cfg.border.attempt_prob_per_day) is float
    assert type(cfg.intention.network_gain) is float


@pytest.mark.parametrize(
    ("override", "shown"),
    [("nan", "nan"), ("NaN", "nan"), ("inf", "inf"), ("-inf", "-inf"), ("1e999", "inf")],
)
def test_command_line_spellings_of_nonfinite_are_refused(override: str, shown: str) -> None:
    """Hydra's override grammar reads nan, NaN, inf, -inf (and an overflowing 1e999) as floats."""
    with pytest.raises(ConfigError, match=refused(r"border\.attempt_prob_per_day", shown)):
        compose([f"border.attempt_prob_per_day={override}"])


def test_quoted_nan_on_the_command_line_is_text_not_a_number() -> None:
    with pytest.raises(ConfigError, match=r"intention\.network_gain: 'nan' is not a number"):
        compose(["intention.network_gain='nan'"])


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda w: w["segments"][1].update(guard_capacity_per_day=float("nan")), r"world\.segments\[1\]\.guard_capacity_per_day"),
        (lambda w: w["routes"][0].update(seats=float("inf")), r"world\.routes\[0\]\.seats"),
        (lambda w: w["cold"].__setitem__(3, float("nan")), r"world\.cold\[3\]"),
        (lambda w: w["origins"][0].update(share=float("-inf")), r"world\.origins\[0\]\.share"),
        (lambda w: w.update(agency_base_price_usd=float("inf")), r"world\.agency_base_price_usd"),
    ],
)
def test_world_rows_and_list_elements_refuse_nonfinite(tiny_world, edit, key: str) -> None:
    cfg = tiny_world()
    edit(cfg["world"])
    with pytest.raises(ConfigError, match=refused(key)):
        load_config(cfg)


def test_a_list_element_set_by_name_refuses_nonfinite(tiny_world) -> None:
    """``world.segments.lithuania.guard_capacity_per_day=nan`` (a design file or a calibration
    reaches list elements by name) is refused at the element's path."""
    cfg = tiny_world()
    set_dotted(cfg, "world.segments.lithuania.guard_capacity_per_day", float("nan"))
    with pytest.raises(ConfigError, match=refused(r"world\.segments\[1\]\.guard_capacity_per_day")):
        load_config(cfg)


@pytest.mark.parametrize(
    ("spelling", "shown"), [(".nan", "nan"), (".NaN", "nan"), (".inf", "inf"), ("-.inf", "-inf"), ("1.0e+999", "inf")]
)
def test_yaml_spellings_in_a_world_file_are_refused(config_dir: Path, spelling: str, shown: str) -> None:
    src = config_dir / "world" / "iraq_belarus_2021.yaml"
    text = src.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["segments"][0]["detect_max"] = "@@"
    dumped = yaml.safe_dump(data, sort_keys=False).replace("'@@'", spelling)
    (config_dir / "world" / "bad.yaml").write_text("# @package world\n" + dumped, encoding="utf-8")
    with pytest.raises(ConfigError, match=refused(r"world\.segments\[0\]\.detect_max", shown)):
        compose(["world=bad"])


def test_yaml_nan_in_the_params_file_is_refused(config_dir: Path) -> None:
    p = config_dir / "params" / "default.yaml"
    text = p.read_text(encoding="utf-8")
    assert "  network_gain: " in text
    lines = [("  network_gain: .nan" if ln.startswith("  network_gain: ") else ln) for ln in text.splitlines()]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=refused(r"intention\.network_gain", "nan")):
        compose()


# ---- levers: parameters and schedules -----------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        (lever("reinforcement", "Poland", segments=["poland"], guard_mult=float("nan")), "guard_mult"),
        (lever("reinforcement", "Poland", enabled=False, segments=["poland"], guard_mult=float("inf")), "guard_mult"),
        (lever("transit_facilitation", "Belarus", segment_weights={"poland": float("inf")}), r"segment_weights\.poland"),
        (lever("transit_facilitation", "Belarus", attempt_mult=np.float64("nan")), "attempt_mult"),
        (lever("visa_leverage", "EU", intention_mult=float("nan")), "intention_mult"),
        (lever("information_campaign", "Belarus", intensity=float("-inf")), "intensity"),
        (lever("repatriation_flights", "Iraq", when={"dates": ["2021-02-01"]}, seats=[float("nan")]), r"seats\[0\]"),
        (lever("smuggler_crackdown", "Iraq", capacity_mult=float("nan")), "capacity_mult"),
    ],
)
def test_lever_parameters_refuse_nonfinite(tiny_world, spec: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=refused(rf"levers\.x\.{key}")):
        load_config(tiny_world({"x": spec}))


@pytest.mark.parametrize(
    "params",
    [{"guard_mult": float("nan")}, {"interior_catch_mult": np.float32("inf")}],
)
def test_the_lever_classes_apply_the_same_rule(params: dict) -> None:
    """A lever's parameter dataclass goes through the schema's conversion too (a spec made in
    code, not read by load_config, is still checked when the lever is built)."""
    from sim.model.config import load_dataclass
    from sim.model.levers import BorderParams

    with pytest.raises(ConfigError, match=refused(r"levers\.x\.\w+")):
        load_dataclass(BorderParams, {"segments": ["poland"], **params}, "levers.x")


@pytest.mark.parametrize(
    ("when", "key"),
    [
        ({"start": "2021-02-01", "ramp_days": float("inf")}, r"when\.ramp_days"),
        ({"trigger": {"metric": "attempts", "above": float("nan")}}, r"when\.trigger\.above"),
        ({"trigger": {"metric": "attempts", "below": float("-inf")}}, r"when\.trigger\.below"),
        ({"trigger": {"metric": "attempts", "above": 1, "for_days": float("nan")}}, r"when\.trigger\.for_days"),
        ({"trigger": {"metric": "attempts", "above": 1, "lag_days": float("inf")}}, r"when\.trigger\.lag_days"),
        ({"trigger": {"metric": "attempts", "above": 1}, "duration_days": float("nan")}, r"when\.duration_days"),
    ],
)
def test_lever_schedules_refuse_nonfinite(tiny_world, when: dict, key: str) -> None:
    cfg = tiny_world({"x": lever("reinforcement", "Poland", when=when, segments=["poland"], guard_mult=2.0)})
    with pytest.raises(ConfigError, match=refused(rf"levers\.x\.{key}")):
        load_config(cfg)
    with pytest.raises(ConfigError, match=refused(rf"levers\.x\.{key}")):
        MigrationModel(copy.deepcopy(cfg))


def test_lever_trigger_threshold_is_checked_by_the_schema(tiny_world) -> None:
    """A schedule is typed by the schema (sim.model.config.When): its threshold goes through the
    number rule (a NaN is refused, naming the key), and the schedule keeps the converted value."""
    from sim.model.config import When, load_dataclass
    from sim.model.levers import Schedule

    model = MigrationModel(tiny_world())
    with pytest.raises(ConfigError, match=refused(r"w\.trigger\.above")):
        load_dataclass(When, {"trigger": {"metric": "attempts", "above": np.float64("nan")}}, "w")
    when = load_dataclass(When, {"trigger": {"metric": "attempts", "above": np.int64(3)}}, "w")
    s = Schedule(when, model.world, "w", ["attempts"])
    assert s.trigger["above"] == 3.0 and type(s.trigger["above"]) is float


# ---- the command line and a sweep ---------------------------------------------------------------


def corridor(args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("border.attempt_prob_per_day=nan",
         "corridor: configuration error: border.attempt_prob_per_day: nan is not a finite number; "
         "allowed: a probability or share in [0, 1]"),
        ("intention.network_gain=inf", "intention.network_gain: inf is not a finite number"),
        ("intention.report_half_life_days=nan", "intention.report_half_life_days: nan is not a finite number"),
    ],
)
def test_the_command_exits_2_before_any_work(tmp_path: Path, override: str, message: str) -> None:
    out = tmp_path / "out"
    p = corridor(["population.size=1000", override, f"output.dir={out}", f"hydra.run.dir={tmp_path / 'hydra'}"],
                 tmp_path)
    assert p.returncode == 2, p.stderr[-3000:]
    assert message in p.stderr and "Traceback" not in p.stderr
    assert not out.exists()
    assert not [q for q in tmp_path.rglob("*") if q.name in ("summary.json", "daily.parquet")]


def test_a_sweep_job_with_nan_is_a_recorded_failure(tmp_path: Path) -> None:
    """``corridor -m border.attempt_prob_per_day=0.1,nan``: the nan job is recorded as failed
    (with the error), never as complete; the other job completes; the command exits 1."""
    root = tmp_path / "sweep"
    quick = ["population.size=1000", "output.figures=false", "output.csv=false", "scenario=no_levers",
             "run.end=2021-02-28"]
    p = corridor(["-m", *quick, "border.attempt_prob_per_day=0.1,nan", f"hydra.sweep.dir={root}"], tmp_path)
    assert p.returncode == 1, p.stderr[-3000:]
    runs = pd.read_parquet(root / "runs.parquet")
    assert len(runs) == 2, runs
    bad = runs[runs["status"] == "failed"]
    good = runs[runs["status"] == "complete"]
    assert len(bad) == 1 and len(good) == 1, runs[["job", "status"]]
    # the swept value as the override wrote it (runs.parquet keeps a swept key's column as given)
    assert math.isnan(float(bad["border.attempt_prob_per_day"].iloc[0]))
    assert float(good["border.attempt_prob_per_day"].iloc[0]) == 0.1
    assert "border.attempt_prob_per_day: nan is not a finite number" in bad["error"].iloc[0]
    assert not (root / bad["job"].iloc[0] / "summary.json").exists()
    assert "1 jobs failed" in p.stderr or "1 job failed" in p.stderr


def test_a_design_row_with_nan_fails_the_job(tmp_path: Path, tiny_config) -> None:
    """A design file (sensitivity, calibration) with a nan cell: the job's config is refused."""
    from sim.studies.sweep import apply_design_row

    design = tmp_path / "design.csv"
    design.write_text("intention.network_gain,border.attempt_prob_per_day,population.size\n"
                      "4.0,0.05,2000\n5.0,nan,2000\n5.0,0.05,inf\n", encoding="utf-8")
    data = tiny_config()
    apply_design_row(data, design, 0)
    load_config(data)
    # refused where the cell is read (a whole-number key too, which is rounded after the check)
    with pytest.raises(ConfigError, match=r"design\.csv: row 1: border\.attempt_prob_per_day: nan is not a finite number"):
        apply_design_row(data, design, 1)
    with pytest.raises(ConfigError, match=r"design\.csv: row 2: population\.size: inf is not a finite number"):
        apply_design_row(data, design, 2)


# ---- the calibration spec -----------------------------------------------------------------------


# the calibration tests' spec, with every numeric setting present (each is made non-finite below)
SPEC = CALIBRATION_SPEC.replace("overrides: []", "refine_size: 1000\noverrides: []")


@pytest.mark.parametrize(
    ("old", "new", "key", "shown"),
    [
        ("alpha: 0.5", "alpha: .nan", "alpha", "nan"),
        ("min_acceptance: 0.0", "min_acceptance: .nan", "min_acceptance", "nan"),
        ("particles: 8", "particles: .inf", "particles", "inf"),
        ("size: 1000", "size: .nan", "size", "nan"),
        ("refine_size: 1000", "refine_size: .inf", "refine_size", "inf"),
        ("seed: 7", "seed: -.inf", "seed", "-inf"),
        ("low: 4.0", "low: .nan", "parameters.intention.network_gain.prior.low", "nan"),
        ("high: 9.0", "high: .inf", "parameters.intention.network_gain.prior.high", "inf"),
        ("low: 0.03", "low: -.inf", "parameters.border.attempt_prob_per_day.prior.low", "-inf"),
        ("high: 0.12", "high: 'nan'", "parameters.border.attempt_prob_per_day.prior.high", "nan"),
    ],
)
def test_calibration_spec_refuses_nonfinite(tmp_path: Path, old: str, new: str, key: str, shown: str) -> None:
    from sim.studies.calibration import load_spec

    assert old in SPEC
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(SPEC).replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_spec(path)
    assert f"{path}: {key}: {shown} is not a finite number; allowed: " in str(e.value), str(e.value)


def test_calibration_spec_changes_refuse_nonfinite(tmp_path: Path) -> None:
    from sim.studies.calibration import load_spec

    path = tmp_path / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"alpha: nan is not a finite number; allowed: a share in \(0, 1\)"):
        load_spec(path, alpha=float("nan"))


# ---- the sensitivity spec -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key", "shown"),
    [
        ({"parameters": {"intention.network_gain": [3.0, float("inf")]}}, r"parameters\.intention\.network_gain\[1\]", "inf"),
        ({"parameters": {"intention.network_gain": [float("nan"), 9.0]}}, r"parameters\.intention\.network_gain\[0\]", "nan"),
        ({"parameters": {"intention.network_gain": ["-inf", 9.0]}}, r"parameters\.intention\.network_gain\[0\]", "-inf"),
        ({"tolerance": float("nan")}, "tolerance", "nan"),
        ({"conf_level": float("nan")}, "conf_level", "nan"),
        ({"n": float("inf")}, "n", "inf"),
    ],
)
def test_sensitivity_spec_refuses_nonfinite(change: dict, key: str, shown: str) -> None:
    from sim.studies.sensitivity import spec_from

    data = {"method": "sobol", "n": 4, "parameters": {"intention.network_gain": [3.0, 9.0]}, **change}
    with pytest.raises(ConfigError, match=refused(rf"hydra\.callbacks\.sensitivity\.{key}", shown)):
        spec_from(data)


def test_sensitivity_spec_file_with_inf_bound_names_the_file(config_dir: Path) -> None:
    from sim.studies.sensitivity import load_spec

    f = config_dir / "experiment" / "sensitivity.yaml"
    text = f.read_text(encoding="utf-8")
    assert "intention.network_gain: [3.0, 9.0]" in text
    f.write_text(text.replace("intention.network_gain: [3.0, 9.0]", "intention.network_gain: [3.0, .inf]"),
                 encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_spec()
    msg = str(e.value)
    assert "sensitivity.yaml" in msg
    assert "hydra.callbacks.sensitivity.parameters.intention.network_gain[1]: inf is not a finite number" in msg


def test_sensitivity_command_exits_2_on_nan(tmp_path: Path, capsys) -> None:
    from sim.studies.sensitivity import main

    rc = main(["--analyze-only", "--dir", str(tmp_path / "s"), "hydra.callbacks.sensitivity.tolerance=nan"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "corridor-sensitivity: configuration error:" in err
    assert "hydra.callbacks.sensitivity.tolerance: nan is not a finite number" in err
    assert not (tmp_path / "s").exists()


# ---- the observed data --------------------------------------------------------------------------


HEADER = "metric,period_start,period_end,value,low,high,unit,counts,source_url,note\n"
ROW = "lt_apprehended,2021-06-01,2021-06-30,{value},{low},{high},people,x,https://example.org,\n"


@pytest.mark.parametrize(
    ("cells", "column", "shown"),
    [
        ({"value": "nan"}, "value", "nan"),
        ({"value": "NaN"}, "value", "nan"),
        ({"value": "inf"}, "value", "inf"),
        ({"low": "nan"}, "low", "nan"),
        ({"low": "-inf"}, "low", "-inf"),
        ({"high": "inf"}, "high", "inf"),
        ({"high": "1e999"}, "high", "inf"),
    ],
)
def test_observed_rows_refuse_nonfinite(tmp_path: Path, cells: dict, column: str, shown: str) -> None:
    """A nan target used to be at distance 0 from any run (every comparison with it is false)."""
    from sim.studies.targets import load_targets

    path = tmp_path / "targets.csv"
    row = {"value": "473", "low": "", "high": "", **cells}
    path.write_text(HEADER + ROW.format(value=100, low="", high="") + ROW.format(**row), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_targets(path)
    assert f"{path}:3: {column}: {shown} is not a finite number; allowed: " in str(e.value), str(e.value)


def test_observed_rows_refuse_text(tmp_path: Path) -> None:
    from sim.studies.targets import load_targets

    path = tmp_path / "targets.csv"
    path.write_text(HEADER + ROW.format(value="many", low="", high=""), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"targets\.csv:2: value: 'many' is not a number"):
        load_targets(path)


def test_the_shipped_record_is_finite() -> None:
    from sim.studies.targets import load_targets

    targets = load_targets()
    assert targets and all(math.isfinite(x) for t in targets for x in (t.value, t.low, t.high))
