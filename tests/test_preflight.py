"""What a command may ask for, refused before anything runs (sim/running/preflight.py).

Protects: config files are data, never code. A scenario, world, params or user file, or the
command line, that names code for Hydra or Python's logging to run (a callback, a launcher, a
``_target_`` anywhere, a logging factory, an environment variable that changes what programs
load, a pickled rerun) is refused with exit 2, naming the file and key, and nothing runs or is
written: the exploit forms of the report (``shutil.copyfile`` of a secret, ``Path.write_text``
of a ``.pth`` file) are tried for real through the ``corridor`` command. Also: a results folder
that cannot be written is refused before the run, an exit 2 leaves no folder behind, a run with
``output.dir`` leaves nothing elsewhere, and composition errors are one line naming the file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.model.config import ConfigError
from sim.running.compose import CONFIG_DIR, compose
from sim.running.preflight import PreflightError, check_writable, forbidden, preflight

SMALL = ["population.size=1000", "output.figures=false"]


def corridor(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The command line in a fresh process, in ``cwd`` (where Hydra would write its folders)."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)


def refused(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)


def nothing_written(cwd: Path, keep: set[str]) -> None:
    left = {p.name for p in cwd.iterdir()} - keep
    assert not left, f"an exit 2 left {left} in {cwd}"


@pytest.fixture
def user_configs(tmp_path: Path) -> Path:
    """A user's config folder (``--config-dir``) holding the exploit forms of the report."""
    d = tmp_path / "user_configs"
    (d / "scenario").mkdir(parents=True)
    (d / "hydra" / "job_logging").mkdir(parents=True)
    return d


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def evil_scenario(path: Path, target: str, args: list) -> Path:
    """A scenario file that names a Hydra callback calling ``target(*args)`` (the report's form)."""
    return write(path, f"""# @package _global_
defaults:
  - baseline_2021
hydra:
  callbacks:
    x:
      _target_: {target}
      _args_: [{", ".join(map(str, args))}]
""")


def run_in_empty_folder(tmp_path: Path, args: list[str]) -> subprocess.CompletedProcess:
    """The command in a new, empty working folder (where a run would leave its folders)."""
    work = tmp_path / "work"
    work.mkdir()
    return corridor(args, work)


# ---- the report's exploits, through the real command ---------------------------------------------
def test_a_scenario_naming_a_callback_that_copies_a_file_is_refused_before_it_runs(tmp_path, user_configs):
    secret = write(tmp_path / "secret.txt", "not for you")
    stolen = tmp_path / "stolen.txt"
    evil = evil_scenario(user_configs / "scenario" / "evil.yaml", "shutil.copyfile", [secret, stolen])
    r = run_in_empty_folder(tmp_path, ["--config-dir", str(user_configs), "scenario=evil", *SMALL])
    refused(r, str(evil), "hydra.callbacks.x", "shutil.copyfile")
    assert not stolen.exists()
    nothing_written(tmp_path / "work", set())


def test_the_same_file_inside_the_projects_own_scenario_folder_is_refused_too(tmp_path):
    # the report's form: configs/scenario/evil.yaml (here in a copy of configs/, chosen by -cp)
    configs = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, configs)
    pth = tmp_path / "site" / "evil.pth"
    pth.parent.mkdir()
    evil = evil_scenario(configs / "scenario" / "evil.yaml", "pathlib.Path.write_text", [pth, '"import os"'])
    r = run_in_empty_folder(tmp_path, ["--config-path", str(configs), "scenario=evil", *SMALL])
    refused(r, str(evil), "hydra.callbacks.x", "pathlib.Path.write_text")
    assert not pth.exists()
    nothing_written(tmp_path / "work", set())


@pytest.mark.parametrize(
    "args, words",
    [
        (["+hydra.callbacks.x={_target_: shutil.copyfile, _args_: [a, b]}"], ["on the command line", "hydra.callbacks.x"]),
        (["hydra.callbacks.sweep._target_=os.system"], ["on the command line", "hydra.callbacks.sweep", "os.system"]),
        (["hydra.launcher._target_=os.system"], ["hydra.launcher._target_", "os.system"]),
        (["hydra.sweeper._target_=os.system"], ["hydra.sweeper._target_"]),
        (["+hydra.job.env_set.LD_PRELOAD=/tmp/x.so"], ["hydra.job.env_set.LD_PRELOAD"]),
        (["+hydra.job.env_set.PYTHONPATH=/tmp"], ["hydra.job.env_set.PYTHONPATH"]),
        (["hydra.job_logging.handlers.console.stream=ext://os.environ"], ["ext://os.environ"]),
        (["hydra.job_logging.handlers.console.class=subprocess.Popen"], ["subprocess.Popen"]),
        (["+levers.x={_target_: os.system}"], ["levers.x._target_"]),
        (["--experimental-rerun", "/tmp/config.pickle"], ["--experimental-rerun", "pickled"]),
        (["-m", "hydra.callbacks.sweep._target_=os.system", "run.seed=1,2"], ["hydra.callbacks.sweep", "os.system"]),
    ],
    ids=["add-callback", "swap-callback", "launcher", "sweeper", "ld-preload", "pythonpath",
         "logging-ext", "logging-class", "target-in-data", "pickled-rerun", "sweep-callback"],
)
def test_the_command_line_cannot_name_code_to_run(tmp_path, args, words):
    r = corridor([*args, *SMALL], tmp_path)
    refused(r, *words)
    nothing_written(tmp_path, set())


def test_a_users_logging_config_with_a_factory_is_refused_naming_its_file(tmp_path, user_configs):
    marker = tmp_path / "pwned"
    bad = write(user_configs / "hydra" / "job_logging" / "bad.yaml", f"""version: 1
handlers:
  h:
    (): os.system
    command: "touch {marker}"
root:
  handlers: [h]
""")
    r = run_in_empty_folder(tmp_path, ["--config-dir", str(user_configs), "hydra/job_logging=bad", *SMALL])
    refused(r, "hydra/job_logging=bad", "'()'")
    assert not marker.exists() and bad.exists()
    nothing_written(tmp_path / "work", set())


def test_a_sweep_over_scenarios_checks_every_scenario_it_would_load(tmp_path, user_configs):
    evil_scenario(user_configs / "scenario" / "evil.yaml", "os.system", ["id"])
    r = run_in_empty_folder(tmp_path, ["-m", "--config-dir", str(user_configs), "scenario=baseline_2021,evil",
                                       "run.seed=1,2", *SMALL])
    refused(r, "evil.yaml", "hydra.callbacks.x", "os.system")
    nothing_written(tmp_path / "work", set())


# ---- the rules, directly -------------------------------------------------------------------------
def test_a_data_file_may_not_hold_hydra_settings_even_harmless_ones(tmp_path, user_configs):
    f = write(user_configs / "scenario" / "chdir.yaml", "# @package _global_\ndefaults:\n  - baseline_2021\nhydra:\n  job:\n    chdir: true\n")
    with pytest.raises(PreflightError, match=f"in {f}: key hydra: a scenario file holds the model's data"):
        preflight(["--config-dir", str(user_configs), "scenario=chdir", *SMALL], CONFIG_DIR)


def test_the_projects_own_callbacks_launchers_and_experiments_pass(tmp_path):
    for argv in (
        ["-m", "run.seed=1,2", f"hydra.sweep.dir={tmp_path / 's1'}"],
        ["-m", "hydra/launcher=joblib", "run.seed=1,2", f"hydra.sweep.dir={tmp_path / 's2'}"],
        ["-m", "hydra/launcher=submitit_local", "run.seed=1", f"hydra.sweep.dir={tmp_path / 's3'}"],
        ["-m", "hydra/launcher=ray", "run.seed=1", f"hydra.sweep.dir={tmp_path / 's4'}"],
        ["-m", "experiment=sensitivity", "+sensitivity.row=range(0,2)", f"hydra.sweep.dir={tmp_path / 's5'}"],
        ["-m", "scenario=baseline_2021,no_levers", f"hydra.sweep.dir={tmp_path / 's6'}"],
        ["+hydra.job.env_set.OMP_NUM_THREADS=1", f"output.dir={tmp_path / 'r1'}"],
    ):
        pf = preflight([*argv, *SMALL], CONFIG_DIR)
        assert pf.composed, argv
    assert not list(tmp_path.iterdir()), "a preflight wrote something"


def test_forbidden_names_every_kind_of_instantiation():
    cfg = {
        "levers": {"a": {"_target_": "os.system"}},
        "hydra": {
            "callbacks": {"ok": {"_target_": "sim.studies.callbacks.SweepCallback"}, "bad": {"_target_": "os.system"}},
            "launcher": {"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher",
                         "ray": {"init": {"runtime_env": {"worker_process_setup_hook": "os.getcwd"}}}},
            "job_logging": {"handlers": {"h": {"class": "logging.StreamHandler", "stream": "ext://os.environ"}},
                            "filters": {"f": {"()": "os.system"}}},
            "job": {"env_set": {"OMP_NUM_THREADS": "1", "LD_PRELOAD": "x"}},
        },
    }
    keys = {k for k, _ in forbidden(cfg)}
    assert keys == {
        "levers.a._target_", "hydra.callbacks.bad", "hydra.launcher.ray.init.runtime_env.worker_process_setup_hook",
        "hydra.job_logging.handlers.h.stream", "hydra.job_logging.filters.f.()", "hydra.job.env_set.LD_PRELOAD",
    }


# ---- folders ---------------------------------------------------------------------------------------
def test_an_unwritable_results_folder_is_refused_before_the_run(tmp_path):
    r = corridor(["output.dir=/proc/corridor-test", *SMALL], tmp_path)
    refused(r, "/proc/corridor-test", "cannot be written")
    a_file = write(tmp_path / "a_file", "x")
    r = corridor([f"output.dir={a_file}/sub", *SMALL], tmp_path)
    refused(r, "is not a folder")
    r = corridor(["-m", "output.dir=/proc/corridor-test", "run.seed=1,2", *SMALL], tmp_path)
    refused(r, "cannot be written")
    nothing_written(tmp_path, {"a_file"})


def test_an_immutable_or_read_only_folder_is_refused(tmp_path):
    if os.geteuid() != 0 or not shutil.which("chattr") or not shutil.which("mount"):
        pytest.skip("needs root with chattr and mount (as on this project's machines and CI)")
    imm = tmp_path / "immutable"
    imm.mkdir()
    if subprocess.run(["chattr", "+i", str(imm)], capture_output=True).returncode != 0:
        pytest.skip("this file system does not support the immutable attribute")
    try:
        with pytest.raises(PreflightError, match="cannot be written"):
            check_writable(imm / "run")
    finally:
        subprocess.run(["chattr", "-i", str(imm)], check=True)
    ro = tmp_path / "read_only"
    ro.mkdir()
    if subprocess.run(["mount", "--bind", "-o", "ro", str(ro), str(ro)], capture_output=True).returncode != 0:
        pytest.skip("bind mounts are not allowed here")
    try:
        r = corridor([f"output.dir={ro}/run", *SMALL], tmp_path)
        refused(r, f"{ro}/run", "cannot be written")
    finally:
        subprocess.run(["umount", str(ro)], check=True)
    assert not list(ro.iterdir())


def test_an_exit_2_leaves_no_folder_and_output_dir_leaves_nothing_elsewhere(tmp_path):
    r = corridor(["border.attempt_prob_per_day=1.5", *SMALL], tmp_path)
    refused(r, "border.attempt_prob_per_day")
    nothing_written(tmp_path, set())
    r = corridor(["output.dir=mine", *SMALL], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    nothing_written(tmp_path, {"mine"})  # no results/runs/<date>/<time> stub
    assert (tmp_path / "mine" / "summary.json").exists() and (tmp_path / "mine" / ".hydra").is_dir()
    before = (tmp_path / "mine" / ".hydra" / "config.yaml").read_bytes()
    r = corridor(["output.dir=mine", *SMALL], tmp_path)
    refused(r, "already holds results")
    assert (tmp_path / "mine" / ".hydra" / "config.yaml").read_bytes() == before, "a refused run touched the old results"


# ---- composition errors: one line, naming the file ----------------------------------------------
def test_composition_errors_are_one_line_naming_what_is_wrong(tmp_path, user_configs):
    empty = write(user_configs / "scenario" / "empty.yaml", "")
    broken = write(user_configs / "scenario" / "broken.yaml", "# @package _global_\nlevers: [a, b\n  x: 1\n")
    cases = [
        (["scenario=null"], ["scenario=null", "baseline_2021", "~scenario"]),
        (["scenario=nope"], ["scenario/nope", "baseline_2021"]),
        (["--config-dir", str(user_configs), "scenario=empty"], [str(empty), "empty"]),
        (["--config-dir", str(user_configs), "scenario=broken"], [str(broken), "line 3"]),
    ]
    for args, words in cases:
        r = corridor([*args, *SMALL], tmp_path)
        refused(r, *words)
        assert len(r.stderr.strip().splitlines()) <= 3, r.stderr
    nothing_written(tmp_path, {"user_configs"})


def test_the_examples_in_the_command_lines_docstring_pass_the_preflight(tmp_path):
    import sim.running.cli

    lines = [ln.strip() for ln in sim.running.cli.__doc__.splitlines() if ln.strip().startswith("corridor ")]
    assert len(lines) >= 4
    for ln in lines:
        argv = ln.split("#")[0].split()[1:]
        argv = [a.replace("results/my_run", str(tmp_path / "my_run")) for a in argv]
        if "-m" in argv:
            argv.append(f"hydra.sweep.dir={tmp_path / 'sweep'}")
        preflight([*argv, "population.size=1000"], CONFIG_DIR)


@pytest.mark.parametrize("command", ["corridor-sensitivity", "corridor-calibrate"])
def test_the_study_commands_refuse_code_before_they_write_their_folder(tmp_path, command):
    script = Path(sys.executable).parent / command
    r = subprocess.run([str(script), "--dir", str(tmp_path / "study"), "+hydra.callbacks.x={_target_: os.system}"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=180)
    refused(r, "on the command line", "hydra.callbacks.x", "os.system")
    nothing_written(tmp_path, set())


def test_a_list_element_addressed_by_name_gets_its_position(tmp_path: Path) -> None:
    """Protects: an override that names an element of a list (world.segments.lithuania...) is a
    configuration error naming the override, each element's position and the override to write
    instead — not Hydra's raw TypeError — from the command line and from Python alike."""
    done = corridor(["world.segments.lithuania.detect_max=0.5", f"output.dir={tmp_path / 'out'}"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "world.segments.lithuania.detect_max=0.5: world.segments is a list" in done.stderr
    assert "(0 lithuania, 1 poland, 2 latvia); here: world.segments.0.detect_max=0.5" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()
    with pytest.raises(ConfigError, match=r"here: world\.segments\.0\.detect_max=0\.5"):
        compose(["world.segments.lithuania.detect_max=0.5"])
    assert compose(["world.segments.0.detect_max=0.5"]).world.segments[0].detect_max == 0.5
