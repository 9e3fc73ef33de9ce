"""The map of docs/architecture.md held against the code.

Protects: the parts import only what the map allows (the model never reaches into running,
studies or the app; no part reaches into the app); the public API of ``sim`` resolves; the
README's Layout names every module of the package.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"

# part -> the parts it may import (docs/architecture.md, "The parts")
ALLOWED = {
    "model": {"model"},
    "engines": {"engines", "model"},
    "running": {"running", "model"},
    "studies": {"studies", "model", "running"},
    "app": {"app", "model", "running"},
    "": {"running"},  # sim/__init__.py, sim/__main__.py
}
# single modules allowed one import beyond their part's: (module, imported module)
EXCEPTIONS = {
    ("sim.model.model", "sim.engines"),  # the per-phase switch to the compiled engine
    ("sim.running.cli", "sim.studies.sweep"),  # the command line runs a sweep's jobs
    ("sim.running.preflight", "sim.studies.sweep"),  # ... and checks them as a job would
}


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(SIM.rglob("*.py")):
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


def _imports(path: Path) -> set[str]:
    """Every ``sim.*`` module a file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            found.add(node.module)
            if node.module == "sim":
                found |= {f"sim.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("sim.")}
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (SIM / parts[1]).is_dir()) else ""


def test_the_parts_import_only_what_the_map_allows():
    bad = []
    for name, path in _modules().items():
        src = _part(name)
        for dep in _imports(path):
            if dep == "sim" or (src == "" and dep in {"sim.running.cli"}):
                continue
            dst = _part(dep)
            if dst in ALLOWED[src] or any(name == m and dep.startswith(d) for m, d in EXCEPTIONS):
                continue
            bad.append(f"{name} imports {dep} ({src or 'sim'} -> {dst})")
    assert not bad, "imports the map (docs/architecture.md) does not allow:\n" + "\n".join(bad)


def test_the_map_would_catch_a_forbidden_import(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from sim.studies.sweep import job_data\n")
    assert _imports(f) == {"sim.studies.sweep"} and _part("sim.studies.sweep") not in ALLOWED["model"]


@pytest.mark.parametrize("name", ["MigrationModel", "check_config", "Config", "ConfigError", "load_config",
                                  "compose", "compose_dict", "run", "RunResult"])
def test_the_public_api_resolves(name):
    import sim

    assert name in sim.__all__ and getattr(sim, name) is not None


def test_the_readme_layout_names_every_module():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text.split("## Layout", 1)[1]
    missing = []
    for name, path in _modules().items():
        if path.name == "__init__.py" and name != "sim":
            continue  # a part is named by its folder
        stem = path.stem if path.name != "__init__.py" else "__init__"
        folder = path.parent.name
        listed = re.search(rf"^\s+{re.escape(stem)}\.py\s", layout, re.M) or (
            folder == "compiled" and re.search(rf"\b{re.escape(stem)}\b", layout)  # named in its folder's line
        ) or (folder in ("app", "institutions") and f"{stem}.py" in layout) or (  # named on one line
            name == "sim" and "sim/__init__.py" in layout)
        if not listed:
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"README's Layout does not name: {missing}"


# ---- random streams: named objects declared once --------------------------------------------------
DRAW_CALLS = ("uniform", "generator", "full_bits", "counter_key", "scaled", "choose_segment")


def test_no_draw_site_names_a_stream_with_a_string_literal():
    """Every stream the model and its engines draw from is a :class:`sim.model.rng.Stream`
    declared once in sim/model/rng.py; a draw site names the object (a literal repeated in two
    engines could drift apart, and the engines would no longer draw the same numbers)."""
    bad = []
    for name, path in _modules().items():
        if name == "sim.model.rng":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                fn = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if fn in DRAW_CALLS:
                    bad += [f"{path.relative_to(ROOT)}:{a.lineno}: {fn}({a.value!r}, ...)" for a in node.args
                            if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    assert not bad, "stream names written as literals (declare a Stream in sim/model/rng.py):\n" + "\n".join(bad)


def test_streams_are_declared_once_and_say_what_they_decide():
    from sim.model import rng

    declared = [v for v in vars(rng).values() if isinstance(v, rng.Stream)]
    assert len(declared) == len(rng.STREAMS) >= 20
    assert all(s.decides and rng.STREAMS[str(s)] is s for s in declared)
    with pytest.raises(ValueError, match="declared twice"):
        rng.Stream("buy", "again")
    assert rng.STREAMS["buy"] is rng.BUY  # the failed declaration changed nothing


def _runtime_imports(path: Path) -> set[str]:
    """:func:`_imports` without those under ``if TYPE_CHECKING:`` (type hints only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            hidden |= {id(n) for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("sim.")}
    return found


def test_no_import_cycles_between_modules():
    """No module imports, even inside a function, a module that imports it back (directly or
    through others): each part can be read, tested and changed from the bottom up."""
    mods = _modules()
    graph = {name: {d for d in _runtime_imports(path) if d in mods and d != name} for name, path in mods.items()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(path[path.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


# what a function may import where it is used instead of at the top of its module, and why
DEFERRED = {
    "matplotlib": "the backend is chosen (Agg) at the first figure; a run without figures never loads it",
    "SALib": "only the sensitivity experiment needs it; its morris and sobol modules share names",
    "pyarrow": "only the Parquet writer of a sweep's gather needs it",
    "joblib": "only ensembles and the calibration report fan out to processes",
    "numba": "numba is optional: the compiled engine loads only with run.engine=numba",
    "sim.engines.compiled.common": "numba is optional (see numba)",
    "sim.running.figures": "figures pull in matplotlib (see matplotlib)",
}
# the command line starts with Hydra alone (importing it: 0.2 s, not 1.4 s; experiments/
# benchmark_throughput.py, "Parts of it"): it loads the model, the run's writers and the sweep's
# job rules when a job needs them
LIGHT_START = {"sim.running.cli", "sim.running.preflight"}
LOADED_BY_A_JOB = ("sim.model.model", "sim.running.run", "sim.studies.sweep")


def test_imports_sit_at_the_top_of_their_module_unless_deferred_for_a_reason():
    """A function imports only what :data:`DEFERRED` names (each with its reason); everything
    else is imported at the top, where a reader sees what a module depends on."""
    found = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    mods = [sub.module or ""] if isinstance(sub, ast.ImportFrom) else [a.name for a in sub.names]
                    found += [f"{name}.{node.name}: {m}" for m in mods
                              if not any(m == d or m.startswith(d + ".") for d in DEFERRED)
                              and not (name in LIGHT_START and m in LOADED_BY_A_JOB)]
    assert not found, f"import these at the top of the module (or add a reason to DEFERRED): {found}"


def test_each_phase_draws_from_the_streams_the_registry_names_and_no_other():
    """The registry (sim.model.rules.PHASES) says which streams each phase draws from; runs
    watched draw by draw agree: no phase draws from a stream it does not name, and every stream
    named is drawn from in one of the two shipped replays (2021 through its first year, with
    every lever it pulls; 2023, whose crossing points, legs and closures the 2021 world lacks)."""
    from dataclasses import replace

    from sim.model.model import MigrationModel
    from sim.model.rules import PHASES
    from sim.running.compose import compose

    drawn: dict[str, set[str]] = {phase.name: set() for phase in PHASES}
    for overrides in (["run.end=2021-12-31"], ["scenario=finland_2023"]):
        model = MigrationModel(compose(["population.size=20000", *overrides]))
        current = {"phase": None}
        streams = model.streams

        def watch(inner, current=current):
            def watched(name, *args, **kwargs):
                drawn[current["phase"]].add(str(name))
                return inner(name, *args, **kwargs)
            return watched

        for method in ("uniform", "generator", "full_bits", "counter_key"):
            setattr(streams, method, watch(getattr(streams, method)))

        def timed(phase, current=current):
            def run(m, today):
                current["phase"] = phase.name
                phase.run(m, today)
            return replace(phase, run=run)

        model.phases = tuple(timed(phase) for phase in PHASES)
        model.run()
    for phase in PHASES:
        named = {str(s) for s in phase.streams}
        assert drawn[phase.name] <= named, f"{phase.name} draws from {drawn[phase.name] - named} unnamed"
        assert named <= drawn[phase.name], f"{phase.name} names {named - drawn[phase.name]} but never drew from them"


def test_the_command_line_starts_with_hydra_alone():
    """Importing the command line loads neither the model nor pandas (a sweep's main process and
    `corridor --help` stay light; the jobs load them)."""
    import subprocess
    import sys

    code = ("import sys, sim.running.cli; "
            "print(sorted(m for m in ('sim.model.model', 'pandas', 'mesa', 'sim.studies.sweep') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
