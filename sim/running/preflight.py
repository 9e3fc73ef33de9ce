"""What a command may ask for, checked before Hydra runs anything.

Every console command that goes through Hydra's main (``corridor``, its sweeps, and the sweeps
that ``corridor-calibrate`` and ``corridor-sensitivity`` start) calls :func:`preflight` with its
arguments first. It composes the configuration exactly as Hydra will (the same search path, a
user's ``--config-dir`` included), and refuses, with exit 2 and before any folder or file is
written:

- **code named by configuration.** Config files are data shared between people; nothing in
  them, nor on the command line, may make the program call a function the project did not
  choose. Hydra instantiates every ``_target_`` it meets in ``hydra.callbacks``, the launcher
  and the sweeper, and Python's logging instantiates the classes named in ``hydra.job_logging``
  and ``hydra.hydra_logging``; each is checked against :data:`ALLOWED_TARGETS` and
  :data:`ALLOWED_LOGGING_CLASSES`. A ``_target_`` anywhere else, a ``()`` factory or ``.``
  attributes in a logging config, a Ray ``worker_process_setup_hook``, an environment
  variable that changes what programs load (``hydra.job.env_set``) and Hydra's
  ``--experimental-rerun`` (which unpickles a file) are refused too. The message names the
  file and key, or the command-line override, that asked for it;
- **Hydra settings in data files**: a scenario, world or params file (the groups of
  :data:`DATA_GROUPS`) holds the model's data; a ``hydra`` key in one is refused;
- **a configuration the model refuses** (single runs; every job of a sweep checks its own and
  a bad one is a recorded failure, docs/sweeps.md), **a results folder that holds results**,
  and **a folder that cannot be written** (e.g. ``output.dir=/proc/x``, a read-only or
  immutable folder), tried by making and removing an empty folder in its nearest existing
  parent.

It also returns the arguments to hand to Hydra: with ``output.dir=...`` Hydra's own folder is
that folder (``hydra.run.dir``; in a sweep ``hydra.sweep.dir``), so a run leaves nothing
elsewhere.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra._internal.hydra import Hydra
from hydra._internal.utils import create_automatic_config_search_path, get_args_parser
from hydra.core.config_search_path import SearchPathQuery
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.model.config import ConfigError, load_config
from sim.running.compose import CONFIG_DIR, by_name_error
from sim.running.paths import ResultsExistError, check_out_dir

# the classes Hydra may instantiate: the project's callbacks, Hydra's own sweeper and launcher,
# and the launcher plugins the project installs and documents (docs/sweeps.md)
PROJECT_CALLBACKS = frozenset({"sim.studies.callbacks.SweepCallback", "sim.studies.callbacks.SensitivityCallback"})
ALLOWED_TARGETS: dict[str, frozenset[str]] = {
    "hydra.launcher": frozenset({
        "hydra._internal.core_plugins.basic_launcher.BasicLauncher",
        "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher",
        "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher",
        "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
        "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher",
    }),
    "hydra.sweeper": frozenset({"hydra._internal.core_plugins.basic_sweeper.BasicSweeper"}),
}
# the classes a logging config (Python's dictConfig) may name, and the objects it may refer to
ALLOWED_LOGGING_CLASSES = frozenset({
    "logging.StreamHandler", "logging.FileHandler", "logging.NullHandler", "logging.Formatter",
    "logging.handlers.RotatingFileHandler", "logging.handlers.TimedRotatingFileHandler",
    "logging.handlers.WatchedFileHandler",
})
ALLOWED_EXT = frozenset({"ext://sys.stdout", "ext://sys.stderr"})
LOGGING_NODES = ("hydra.job_logging", "hydra.hydra_logging")
# environment variables a job may set (hydra.job.env_set): thread counts and the like; never
# ones that change what a program loads or runs (PATH, PYTHONPATH, LD_PRELOAD, ...)
ALLOWED_ENV = re.compile(r"^(OMP|MKL|OPENBLAS|NUMBA|NUMEXPR|VECLIB|RAY|SOLARA|TQDM)_[A-Z0-9_]+$")
# keys that name a function to run, wherever they appear under hydra.launcher
FORBIDDEN_LAUNCHER_KEYS = frozenset({"worker_process_setup_hook"})
# config groups that hold the model's data: no Hydra settings in them
DATA_GROUPS = ("scenario", "world", "params")


class PreflightError(ConfigError):
    """The command asks for something refused before anything runs (exit 2)."""


@dataclass
class Preflight:
    """What :func:`preflight` found: the arguments to hand to Hydra and the composed jobs."""

    argv: list[str]
    multirun: bool = False
    checked: bool = False  # the single run's config was checked completely (no need again)
    composed: list[Any] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# composing as Hydra does
# --------------------------------------------------------------------------------------


class _Composer:
    """Hydra's composition for one command line: its search path, config name and overrides."""

    def __init__(self, args: Any, config_dir: Path) -> None:

        self.config_name = args.config_name or "config"
        config_path = args.config_path or str(config_dir)
        if not os.path.isabs(config_path):
            config_path = os.path.abspath(config_path)
        search_path = create_automatic_config_search_path(None, None, config_path)
        if args.config_dir is not None:

            extra = os.path.abspath(args.config_dir)
            if not os.path.isdir(extra):
                raise PreflightError(f"--config-dir {args.config_dir}: no such folder ({extra})")
            search_path.prepend(
                provider="command-line", path=f"file://{extra}", anchor=SearchPathQuery(provider="schema")
            )
        self.hydra = Hydra.create_main_hydra2(task_name="corridor", config_search_path=search_path)
        GlobalHydra.instance().clear()  # Hydra's main sets up its own
        self.overrides = list(args.overrides)
        self.parsed = OverridesParser.create().parse_overrides(self.overrides)

    def mode(self) -> Any:
        return self.hydra.get_mode(config_name=self.config_name, overrides=self.overrides)

    def compose(self, overrides: list[str], run_mode: Any) -> Any:
        try:
            return self.hydra.compose_config(
                config_name=self.config_name, overrides=overrides, run_mode=run_mode,
                with_log_configuration=False,
            )
        except TypeError as e:  # a list's element addressed by name: Hydra takes positions only
            raise by_name_error(e, overrides, lambda rest: self.compose(rest, run_mode)) from None
        except ValueError as e:  # Hydra's own words for a null group: "Got NoneType"
            repo = self.hydra.config_loader.repository
            for text, o in zip(self.overrides, self.parsed, strict=True):
                if o.value() is None and repo.group_exists(o.key_or_group):
                    options = ", ".join(repo.get_group_options(o.key_or_group))
                    raise PreflightError(f"{text}: the config group {o.key_or_group} needs one of "
                                         f"its options, not null; allowed: {options} (an optional group is left out with ~{o.key_or_group})") from None
            raise PreflightError(f"could not compose the configuration: {e}") from None

    def sources(self, overrides: list[str], run_mode: Any) -> list[tuple[str, str, Any, str]]:
        """Each config file of the composition: (where, package, its own content, its name)."""
        loader = self.hydra.config_loader
        out = []
        for d in loader.compute_defaults_list(self.config_name, overrides, run_mode).defaults:
            if d.config_path is None:
                continue
            res = loader.repository.load_config(d.config_path)
            if res is None:
                continue
            where = f"{res.path.removeprefix('file://')}/{d.config_path}.yaml"
            out.append((where, d.package or "", res.config, d.config_path))
        return out


def _group_variants(comp: _Composer, run_mode: Any) -> list[list[str]]:
    """The overrides of every job that differ in which files they load.

    A sweep over a config group (``scenario=a,b``) loads other files per value; a sweep over a
    value (``run.seed=1,2``) does not. One list of overrides per value of each group sweep
    (the other sweeps at their first value) covers every file any job loads.
    """

    if run_mode != RunMode.MULTIRUN:
        return [comp.overrides]
    repo = comp.hydra.config_loader.repository
    base, group_sweeps = [], []
    for text, o in zip(comp.overrides, comp.parsed, strict=True):
        if not o.is_sweep_override():
            base.append(text)
            continue
        key = o.get_key_element()
        values = list(o.sweep_string_iterator())
        if repo.group_exists(o.key_or_group):
            group_sweeps.append((key, values))
        else:
            base.append(f"{key}={_quote(values[0])}")
    variants = [base + [f"{k}={_quote(v[0])}" for k, v in group_sweeps]]
    if not group_sweeps:
        return variants
    for i, (key, values) in enumerate(group_sweeps):
        others = [f"{k}={_quote(v[0])}" for j, (k, v) in enumerate(group_sweeps) if j != i]
        variants += [base + others + [f"{key}={_quote(v)}"] for v in values[1:]]
    return variants


def _quote(value: str) -> str:
    """A value as a quoted Hydra override value (any character kept)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# --------------------------------------------------------------------------------------
# what configuration may not ask for
# --------------------------------------------------------------------------------------


def _walk(node: Any, path: str):
    """(dotted path, key, value) of every entry of a plain container."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else str(k)
            yield p, str(k), v
            yield from _walk(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            p = f"{path}[{i}]"
            yield p, str(i), v
            yield from _walk(v, p)


def forbidden(config: dict) -> list[tuple[str, str]]:
    """Every (key, reason) in a composed config (Hydra's node included) that would run code
    the project did not choose."""
    found = []
    hydra = config.get("hydra") or {}
    for name, cb in (hydra.get("callbacks") or {}).items():
        target = cb.get("_target_") if isinstance(cb, dict) else None
        if target not in PROJECT_CALLBACKS:
            found.append((f"hydra.callbacks.{name}", f"only the project's callbacks may run "
                          f"({', '.join(sorted(PROJECT_CALLBACKS))}), not {target!r}"))
    for path, key, value in _walk(config, ""):
        if key == "_target_":
            owner = path.rsplit(".", 1)[0]
            if owner.startswith("hydra.callbacks."):
                continue  # each callback is checked above
            allowed = ALLOWED_TARGETS.get(owner)
            if allowed is None:
                found.append((path, f"_target_ {value!r}: configuration may not name code to run here"))
            elif value not in allowed:
                found.append((path, f"_target_ {value!r} is not one the project runs; allowed: {', '.join(sorted(allowed))}"))
        if path.startswith("hydra.launcher.") and key in FORBIDDEN_LAUNCHER_KEYS and value is not None:
            found.append((path, "names a function to run in every worker; refused"))
    for node in LOGGING_NODES:
        sub = hydra.get(node.split(".", 1)[1]) or {}
        for path, key, value in _walk(sub, node):
            if key in ("()", "."):
                found.append((path, f"a logging config may not use '{key}' (it makes Python call or set "
                              "arbitrary objects)"))
            elif key == "class" and value not in ALLOWED_LOGGING_CLASSES:
                found.append((path, f"logging class {value!r} is not allowed; allowed: "
                              f"{', '.join(sorted(ALLOWED_LOGGING_CLASSES))}"))
            elif isinstance(value, str) and value.startswith("ext://") and value not in ALLOWED_EXT:
                found.append((path, f"{value!r}: a logging config may refer to {', '.join(sorted(ALLOWED_EXT))} only"))
    for name in ((hydra.get("job") or {}).get("env_set") or {}):
        if not ALLOWED_ENV.match(str(name)):
            found.append((f"hydra.job.env_set.{name}", "only thread-count and library settings "
                          f"({ALLOWED_ENV.pattern}) may be set for a job; this variable could change "
                          "what programs load or run"))
    return found


def _origin(path: str, comp: _Composer, sources: list[tuple[str, str, Any, str]]) -> str:
    """Where a key of the composed config was set: a command-line override or a file."""

    root = path.split("[", 1)[0]
    for text, o in zip(comp.overrides, comp.parsed, strict=True):
        key = (o.key_or_group or "").replace("/", ".")
        if root == key or root.startswith(key + ".") or key.startswith(root + "."):
            return f"on the command line: {text}"
    for where, package, content, _ in reversed(sources):
        prefix = "" if package in ("", "_global_") else package
        rel = root if not prefix else (root[len(prefix) + 1:] if root.startswith(prefix + ".") else None)
        if rel is None:
            continue
        if rel == "" or OmegaConf.select(content, rel, default=None, throw_on_missing=False) is not None:
            return f"in {where}"
    return "in the composed configuration"


def check_code_free(comp: _Composer, overrides: list[str], run_mode: Any) -> Any:
    """Compose one job and refuse whatever it would run that the project did not choose."""

    cfg = comp.compose(overrides, run_mode)
    sources = comp.sources(overrides, run_mode)
    problems = []
    for where, package, content, config_path in sources:
        group = config_path.split("/", 1)[0]
        if group in DATA_GROUPS and "/" in config_path:
            data = OmegaConf.to_container(content, resolve=False)
            if not data:
                problems.append(f"in {where}: the file is empty; a {group} file holds the model's data "
                                f"(see the files of configs/{group}/ and docs/config.md)")
            elif package in ("", "_global_") and "hydra" in data:
                problems.append(f"in {where}: key hydra: a {group} file holds the model's data; Hydra's "
                                "settings belong in configs/config.yaml or on the command line")
    data = OmegaConf.to_container(cfg, resolve=False)
    for path, why in forbidden(data):
        problems.append(f"{_origin(path, comp, sources)}: key {path}: {why}")
    if problems:
        raise PreflightError("refused before anything ran:\n  " + "\n  ".join(dict.fromkeys(problems)))
    return cfg


# --------------------------------------------------------------------------------------
# folders
# --------------------------------------------------------------------------------------


def check_writable(folder: Path) -> None:
    """Refuse a results folder that cannot be made and written, before any run.

    Tried, not inferred from permission bits (root passes those, and /proc, read-only mounts
    and immutable folders refuse anyway): an empty folder is made and removed in the nearest
    parent that exists (or in the folder itself when it exists).
    """
    folder = Path(os.path.abspath(folder))
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise PreflightError(f"results folder {folder}: {probe} is not a folder")
    try:
        tmp = tempfile.mkdtemp(prefix=".corridor-write-test-", dir=probe)
        os.rmdir(tmp)
    except OSError as e:
        raise PreflightError(
            f"results folder {folder} cannot be written ({probe}: {e.strerror or e}); choose another "
            "output.dir (or hydra.run.dir / hydra.sweep.dir)"
        ) from None


# --------------------------------------------------------------------------------------
# the whole check
# --------------------------------------------------------------------------------------


def preflight(argv: list[str], config_dir: Path) -> Preflight:
    """Check a command line (without the program name) before Hydra runs anything.

    Returns the arguments to hand to Hydra. Raises :class:`PreflightError` (or another
    :class:`ConfigError`) with a message for the user.
    """

    try:
        args = get_args_parser().parse_args(argv)
    except SystemExit:  # argparse printed its message
        raise PreflightError("the command's arguments are malformed (see above)") from None
    if args.experimental_rerun is not None:
        raise PreflightError(
            "--experimental-rerun is refused: it loads a pickled file, which can run any code; "
            "rerun a results folder with its overrides instead (results/<run>/.hydra/overrides.yaml)"
        )
    if args.help or args.hydra_help or args.shell_completion:
        return Preflight(argv=list(argv))
    try:
        comp = _Composer(args, config_dir)
        run_mode = comp.mode()  # hydra.mode, set in a config, or as the command line asks
        if run_mode is None:
            run_mode = RunMode.MULTIRUN if args.multirun else RunMode.RUN
        composed = [check_code_free(comp, o, run_mode) for o in _group_variants(comp, run_mode)]
    except (HydraException, OmegaConfBaseException) as e:
        raise PreflightError(_one_line(e)) from None
    except Exception as e:
        if type(e).__module__.startswith("yaml"):  # a malformed YAML file: the parser names the file and line
            raise PreflightError(f"malformed YAML: {_one_line(e)}") from None
        raise
    multirun = run_mode == RunMode.MULTIRUN
    result = Preflight(argv=list(argv), multirun=multirun, composed=composed)
    if args.cfg is not None or args.info is not None:
        return result  # prints, runs nothing

    cfg = composed[0]
    out = OmegaConf.select(cfg, "output.dir", default="") or ""
    given = {o.key_or_group for o in comp.parsed}
    if multirun:
        folder = Path(out) if out else Path(str(OmegaConf.select(cfg, "hydra.sweep.dir")))
        if out and "hydra.sweep.dir" not in given:
            result.argv.append(f"hydra.sweep.dir={_quote(os.path.abspath(out))}")
        check_writable(folder)
        return result


    # the model and the sweep's job rules load only here: the command line starts with Hydra alone
    from sim.model.model import check_config
    from sim.studies.sweep import job_data

    job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])  # Hydra's keys are resolved by Hydra
    check_config(_load(job_data(job)))
    result.checked = True
    folder = Path(out) if out else Path(str(OmegaConf.select(cfg, "hydra.run.dir")))
    if out and "hydra.run.dir" not in given:
        result.argv.append(f"hydra.run.dir={_quote(os.path.abspath(out))}")
    check_out_dir(Path(os.path.abspath(folder)))
    check_writable(folder)
    return result


def _load(data: dict) -> Any:

    return load_config(data)


def _one_line(e: BaseException) -> str:
    """An exception's message without Hydra's and OmegaConf's trailing context lines."""
    text = str(e).strip()
    keep = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("    full_key:", "    object_type"))]
    return " ".join(ln.strip() for ln in keep) or type(e).__name__


def run_preflight(prog: str, argv: list[str] | None = None) -> Preflight:
    """:func:`preflight` for a console command: a refusal is printed and exits 2."""

    try:
        return preflight(list(sys.argv[1:] if argv is None else argv), CONFIG_DIR)
    except ConfigError as e:
        print(f"{prog}: configuration error: {e}", file=sys.stderr)
    except ResultsExistError as e:
        print(f"{prog}: {e}", file=sys.stderr)
    sys.exit(2)
