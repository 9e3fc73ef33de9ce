"""Install from a wheel: the configs and the record travel inside the package.

Protects: a wheel built from the source tree, installed with pip into a clean virtual
environment (same Python, dependencies pinned to this environment's versions), runs the default
scenario as ``corridor`` from an empty folder, writes its results under that folder
(``results/runs/...``) and writes nothing into the installed package or the environment; a
user's own config folder is added with Hydra's ``--config-dir`` (a scenario of their own that
builds on the shipped baseline); in the checkout, ``configs/`` and ``data/`` are read in place
(an edit takes effect without reinstalling) and ``--config-dir`` works the same way.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

import sim.running.paths

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["population.size=2000"]
# what a source copy leaves out (local state of this checkout, not part of the project)
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "results", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".hypothesis", "outputs", "multirun",
)
MY_SCENARIO = """\
# @package _global_
# a user's own scenario: the shipped baseline without Lithuania's pushbacks
defaults:
  - baseline_2021
scenario: my_scenario
levers:
  lt_pushbacks: {enabled: false}
"""


def user_configs(folder: Path) -> Path:
    """A user's config folder holding one scenario of their own: ``folder/scenario/my_scenario.yaml``."""
    (folder / "scenario").mkdir(parents=True)
    (folder / "scenario" / "my_scenario.yaml").write_text(MY_SCENARIO, encoding="utf-8")
    return folder


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would point a child at this checkout or venv."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "HYDRA_FULL_ERROR", "PYTHONDONTWRITEBYTECODE"}
    return {k: v for k, v in os.environ.items() if k not in drop} | extra


def run(cmd: list[str | Path], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=clean_env(), capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: (size, modification time)."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        for n in names:
            p = Path(dirpath, n)
            st = p.lstat()
            out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


# ---- the checkout: folders read in place ---------------------------------------------------


def test_checkout_reads_configs_and_data_in_place() -> None:
    """Protects: in the source tree (editable install) every path comes from the checkout."""
    assert sim.running.paths.CHECKOUT == ROOT
    assert sim.running.paths.CONFIG_DIR == ROOT / "configs"
    assert sim.running.paths.OBSERVED_DIR == ROOT / "data" / "observed"
    assert sim.running.paths.CALIBRATION_DATA_DIR == ROOT / "data" / "calibration"
    assert sim.running.paths.RESULTS_DIR == ROOT / "results"
    assert sim.running.paths.DOCS_DIR == ROOT / "docs"
    assert not sim.running.paths.SHIPPED_DIR.exists(), "sim/_shipped/ in the checkout would shadow nothing but confuse"


def test_config_dir_adds_a_users_scenario_in_the_checkout(tmp_path: Path) -> None:
    """Protects: ``--config-dir`` puts a user's folder in front of configs/ (the command line)."""
    mine = user_configs(tmp_path / "my_configs")
    proc = run([sys.executable, "-m", "sim", "--config-dir", mine, "scenario=my_scenario", "--cfg", "job"],
               cwd=tmp_path, timeout=120)
    cfg = yaml.safe_load(proc.stdout)
    assert cfg["scenario"] == "my_scenario"
    assert cfg["levers"]["lt_pushbacks"]["enabled"] is False
    assert cfg["levers"]["pl_pushbacks"]["enabled"] is True  # the rest from the shipped baseline
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_configs"]  # --cfg writes nothing


# ---- a wheel installed into a clean virtual environment -----------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the wheel from a copy of the source tree, install it into a new venv (same Python,
    dependencies pinned to this environment's versions; the pip cache makes it quick)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a copy: building in place would leave build/ and egg-info in the checkout
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    dist = tmp / "dist"
    # with the build backend of this environment when it has one (the locked one of
    # scripts/setup.sh), else pip fetches setuptools into an isolated build environment
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "--disable-pip-version-check",
         "-q", "-w", dist, src], cwd=tmp)
    (wheel,) = dist.glob("corridor-*.whl")

    freeze = run([sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
                 cwd=tmp).stdout
    constraints = tmp / "constraints.txt"
    constraints.write_text("\n".join(line for line in freeze.splitlines() if "==" in line) + "\n")

    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp)
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q", wheel, "-c", constraints],
        cwd=tmp, timeout=600)
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       cwd=tmp).stdout.strip())
    return {"wheel": wheel, "venv": venv, "python": python, "corridor": venv / "bin" / "corridor",
            "package": purelib / "sim"}


@pytest.mark.slow
def test_wheel_ships_configs_and_record(installed: dict[str, Path]) -> None:
    """Protects: the wheel holds configs/, data/observed/ and data/calibration/ under sim/_shipped/."""
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for f in (ROOT / "configs").rglob("*.yaml"):
        assert f"sim/_shipped/configs/{f.relative_to(ROOT / 'configs').as_posix()}" in names
    for folder in ("observed", "calibration"):
        for f in (ROOT / "data" / folder).rglob("*"):
            if f.is_file():
                assert f"sim/_shipped/{f.relative_to(ROOT).as_posix()}" in names


@pytest.mark.slow
def test_installed_wheel_runs_from_an_empty_folder(installed: dict[str, Path], tmp_path: Path) -> None:
    """Protects: ``corridor`` of an installed wheel runs the default scenario in an empty folder,
    reads the shipped configs, writes its results there and nothing into the environment."""
    work = tmp_path / "work"
    work.mkdir()
    where = json.loads(run([installed["python"], "-c",
                            "import json, sim.running.paths as p; print(json.dumps({k: str(getattr(p, k)) for k in "
                            "('CHECKOUT', 'CONFIG_DIR', 'OBSERVED_DIR', 'RESULTS_DIR', 'DOCS_DIR')}))"],
                           cwd=work).stdout)
    package = installed["package"]
    assert where == {"CHECKOUT": "None", "CONFIG_DIR": str(package / "_shipped" / "configs"),
                     "OBSERVED_DIR": str(package / "_shipped" / "data" / "observed"),
                     "RESULTS_DIR": str(work / "results"), "DOCS_DIR": "None"}

    before = snapshot(installed["venv"])
    proc = run([installed["corridor"], *SMALL], cwd=work)
    assert "Arrivals in Minsk" in proc.stdout
    assert [p.name for p in work.iterdir()] == ["results"]
    (summary,) = (work / "results" / "runs").glob("*/*/summary.json")
    out = summary.parent
    assert f"Results: {out}" in proc.stdout
    assert {"daily.parquet", "summary.json", "config.yaml", "run.json", "figures"} <= {p.name for p in out.iterdir()}
    meta = json.loads((out / "run.json").read_text())
    assert meta["scenario"] == "baseline_2021" and meta["population_size"] == 2000
    assert snapshot(installed["venv"]) == before, "the run wrote into the installed environment"


@pytest.mark.slow
def test_installed_wheel_takes_a_users_config_dir(installed: dict[str, Path], tmp_path: Path) -> None:
    """Protects: a user's own scenario, in their own folder, runs through ``--config-dir`` on top
    of the shipped configs."""
    mine = user_configs(tmp_path / "my_configs")
    before = snapshot(installed["venv"])
    run([installed["corridor"], "--config-dir", mine, "scenario=my_scenario", *SMALL,
         "output.dir=my_run", "output.figures=false"], cwd=tmp_path)
    cfg = yaml.safe_load((tmp_path / "my_run" / "config.yaml").read_text())
    assert cfg["scenario"] == "my_scenario"
    assert cfg["levers"]["lt_pushbacks"]["enabled"] is False
    assert cfg["levers"]["pl_pushbacks"]["enabled"] is True
    assert (tmp_path / "my_run" / "summary.json").is_file()
    assert snapshot(installed["venv"]) == before, "the run wrote into the installed environment"
