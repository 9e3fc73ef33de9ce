"""The command line and the results folder, end to end.

Protects: ``corridor`` / ``python -m sim`` run and write a complete, parseable results folder;
every output column and key is documented in docs/outputs.md; a bad key stops the command
with exit code 2, names the key and writes nothing; a folder that already holds results is
never overwritten; a run that fails part-way leaves no partial results behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.model.config import load_config
from sim.model.population import STATE_NAMES
from sim.model.recorder import summarize

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "outputs.md"
SMALL = ["population.size=3000"]
FIGURES = ["people_by_state", "border_segments", "flights_arrivals", "repatriation", "levers"]


def corridor(args: list[str], cwd: Path, entry: str = "module") -> subprocess.CompletedProcess:
    """Run the command line in a fresh process (Hydra's own folders go under ``cwd``)."""
    if entry == "script":
        script = Path(sys.executable).parent / "corridor"
        if not script.exists():
            pytest.skip("the corridor console script is not installed (pip install -e .)")
        cmd = [str(script)]
    else:
        cmd = [sys.executable, "-m", "sim"]
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [*cmd, *args, f"hydra.run.dir={cwd / 'hydra'}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """One small end-to-end run through ``python -m sim`` (shared by the tests below)."""
    cwd = tmp_path_factory.mktemp("cli")
    out = cwd / "out"
    proc = corridor([*SMALL, f"output.dir={out}"], cwd)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_run_writes_a_complete_results_folder(results):
    out, proc = results
    assert "Arrivals in Minsk" in proc.stdout and f"Results: {out}" in proc.stdout
    assert "Traceback" not in proc.stderr
    names = {p.name for p in out.iterdir()}
    assert names == {
        "daily.parquet",
        "daily.csv",
        "summary.json",
        "config.yaml",
        "run.json",
        "figures",
    }

    daily = pd.read_parquet(out / "daily.parquet")
    csv = pd.read_csv(out / "daily.csv", keep_default_na=False)
    assert list(daily.columns) == list(csv.columns)
    assert len(daily) == len(csv) == 424  # 2021-01-01 .. 2022-02-28
    assert daily["date"].iloc[0] == "2021-01-01" and daily["date"].iloc[-1] == "2022-02-28"

    summary = json.loads((out / "summary.json").read_text())
    segments = [
        c.removeprefix("got_through_") for c in daily.columns if c.startswith("got_through_")
    ]
    assert summary == summarize(daily, segments)  # the summary is the daily table's totals

    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 20211118
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", meta["git_revision"])
    assert meta["git_dirty"] in (True, False, None)
    assert meta["population_size"] == 3000 and meta["wall_seconds"] > 0

    cfg = load_config(yaml.safe_load((out / "config.yaml").read_text()))  # runs again as is
    assert cfg.population.size == 3000 and cfg.run.seed == 20211118 and cfg.output.dir == str(out)

    for name in FIGURES:
        png = out / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert not list(out.glob(".partial-*"))  # no staging folder left behind


def _documented(section: str, world: dict) -> list[re.Pattern]:
    """Names in the first column of the tables under ``## section`` of docs/outputs.md.

    A ``<placeholder>`` stands for exactly the world's elements of that kind, so
    ``caught_<segment>`` documents ``caught_poland`` but not ``caught_poland_iraqi``.
    """
    values = {
        "state": STATE_NAMES,
        "from": STATE_NAMES,
        "to": STATE_NAMES,
        "route": [r["id"] for r in world["routes"]],
        "channel": [c["id"] for c in world["visa_channels"]],
        "segment": [g["id"] for g in world["segments"]],
        "nationality": world["nationalities"],
        "group": list(world.get("groups") or {}),
    }
    body = DOCS.read_text().split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    names = re.findall(r"^\|\s*`([^`]+)`", body, flags=re.M)

    def alternatives(m: re.Match) -> str:
        assert m.group(1) in values, f"docs/outputs.md: unknown placeholder <{m.group(1)}>"
        return "(?:" + "|".join(map(re.escape, values[m.group(1)])) + ")"

    return [re.compile(re.sub(r"<([^>]+)>", alternatives, re.escape(n)) + "$") for n in names]


@pytest.mark.parametrize(
    "section,file",
    [("Daily table", "daily.parquet"), ("summary.json", "summary.json"), ("run.json", "run.json")],
)
def test_every_output_is_documented(results, section, file):
    out, _ = results
    if file.endswith(".parquet"):
        names = list(pd.read_parquet(out / file).columns)
    else:
        names = list(json.loads((out / file).read_text()))
    world = yaml.safe_load((out / "config.yaml").read_text())["world"]
    patterns = _documented(section, world)
    missing = [n for n in names if not any(p.match(n) for p in patterns)]
    assert not missing, f"document these in docs/outputs.md ({section}): {missing}"


@pytest.mark.parametrize(
    "override,key,entry",
    [
        ("+population.bogus=1", "population.bogus", "script"),  # + bypasses Hydra's own check
        ("population.sizee=3", "population.sizee", "module"),  # Hydra refuses it while composing
        (
            "border.attempt_prob_per_day=1.5",
            "border.attempt_prob_per_day",
            "module",
        ),  # out of range
    ],
)
def test_bad_key_exits_2_names_the_key_and_writes_nothing(tmp_path, override, key, entry):
    out = tmp_path / "out"
    proc = corridor([*SMALL, override, f"output.dir={out}"], tmp_path, entry)
    assert proc.returncode == 2, proc.stderr
    assert key in proc.stderr and "Traceback" not in proc.stderr
    assert "corridor: configuration error" in proc.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.rglob("*") if p.name in ("summary.json", "daily.parquet")]


def test_existing_results_are_never_overwritten(results, tmp_path):
    out, _ = results
    before = digest(out)
    proc = corridor([*SMALL, "run.seed=7", f"output.dir={out}"], tmp_path)
    assert proc.returncode == 2
    assert "already holds results" in proc.stderr and "Traceback" not in proc.stderr
    assert digest(out) == before


# ---- in process: failures part-way through -----------------------------------------------


@pytest.fixture(scope="module")
def small_cfg():
    from sim.running.compose import compose

    return compose(["population.size=1000", "output.figures=false"])


def test_failure_mid_run_leaves_folder_untouched(small_cfg, tmp_path, monkeypatch):
    import sim.model.model
    from sim.running.run import run

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    real_step = sim.model.model.MigrationModel.step

    def failing_step(self):
        if self.day == 50:
            raise RuntimeError("boom on day 50")
        real_step(self)

    monkeypatch.setattr(sim.model.model.MigrationModel, "step", failing_step)
    with pytest.raises(RuntimeError, match="boom"):
        run(small_cfg, out_dir=out)
    assert digest(out) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_failure_while_writing_leaves_no_partial_results(small_cfg, tmp_path, monkeypatch):
    import sim.running.figures
    from sim.model.config import to_dict
    from sim.running.run import run

    def failing_figures(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(sim.running.figures, "write_figures", failing_figures)
    data = to_dict(small_cfg)
    data["output"]["figures"] = True
    out = tmp_path / "new" / "out"
    with pytest.raises(OSError, match="disk full"):
        run(data, out_dir=out)
    assert not out.exists()  # created by the run, removed again: nothing half-written


def test_run_refuses_a_results_folder_before_running(small_cfg, results, monkeypatch):
    import sim.model.model
    from sim.running.run import ResultsExistError, run

    out, _ = results

    def never(*args, **kwargs):
        raise AssertionError("the model must not be built")

    monkeypatch.setattr(sim.model.model, "MigrationModel", never)
    with pytest.raises(ResultsExistError, match="already holds results"):
        run(small_cfg, out_dir=out)


# ---- provenance and config.yaml, cheaply per run --------------------------------------------


def test_config_yaml_is_the_safe_dump_text(small_cfg):
    """Protects config.yaml: written by libyaml's emitter when available, the same text as
    yaml.safe_dump (and it loads back to the same config)."""
    from sim.model.config import to_dict
    from sim.running.run import config_yaml

    for cfg in (small_cfg, load_config({**to_dict(small_cfg), "scenario": "no_levers"})):
        text = config_yaml(cfg)
        assert text == yaml.safe_dump(to_dict(cfg), sort_keys=False, allow_unicode=True)
        assert load_config(yaml.safe_load(text)) == cfg


def test_git_state_is_asked_once_a_minute(monkeypatch):
    """Protects run.json's git revision and dirty flag without two git processes per run: one
    reading per process is reused for GIT_STATE_SECONDS, then git is asked again."""
    import sim.running.run

    calls = []
    real = sim.running.run._ask_git
    monkeypatch.setattr(sim.running.run, "_ask_git", lambda where: calls.append(where) or real(where))
    monkeypatch.setattr(sim.running.run, "_git_state", {})
    first = sim.running.run.git_revision()
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", first["revision"])
    assert sim.running.run.git_revision() == first and len(calls) == 1
    monkeypatch.setattr(sim.running.run, "GIT_STATE_SECONDS", 0.0)
    assert sim.running.run.git_revision() == first and len(calls) == 2
