"""sim/running/docs.py: the generated sections of the docs."""

from pathlib import Path

import pytest

from sim.running.docs import replace_section


def test_replace_section_keeps_what_is_outside_the_markers(tmp_path):
    p = tmp_path / "doc.md"
    p.write_text("intro\n<!-- a -->\nold\n<!-- b -->\noutro\n")
    assert replace_section(p, "<!-- a -->", "<!-- b -->", "new\ntable\n")
    assert p.read_text() == "intro\n<!-- a -->\nnew\ntable\n<!-- b -->\noutro\n"
    assert not replace_section(p, "<!-- a -->", "<!-- b -->", "new\ntable")  # same text: unchanged


def test_replace_section_names_the_missing_markers(tmp_path):
    p = tmp_path / "doc.md"
    p.write_text("no markers here\n")
    with pytest.raises(SystemExit, match="has no <!-- a --> ... <!-- b --> section"):
        replace_section(p, "<!-- a -->", "<!-- b -->", "x")
    assert p.read_text() == "no markers here\n"


def test_the_params_file_is_the_schemas_defaults():
    """configs/params/default.yaml is generated from the schema (scripts/write_param_config.py):
    a default changed on one side only fails here."""
    from sim.running.docs import params_yaml
    from sim.running.paths import CONFIG_DIR

    assert (CONFIG_DIR / "params" / "default.yaml").read_text(encoding="utf-8") == params_yaml(), (
        "configs/params/default.yaml differs from the schema: run .venv/bin/python scripts/write_param_config.py"
    )


def test_the_architectures_phase_table_is_the_registry():
    """docs/architecture.md's table of the day's phases is generated from sim.model.rules.PHASES
    (scripts/write_config_docs.py): a phase, kernel or stream changed on one side only fails here."""
    from sim.running.docs import PHASES_BEGIN, PHASES_END, phases_table

    doc = (Path(__file__).resolve().parent.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split(PHASES_BEGIN, 1)[1].split(PHASES_END, 1)[0].strip()
    assert section == phases_table(), "docs/architecture.md's phases are stale: run .venv/bin/python scripts/write_config_docs.py"


def test_every_kernel_is_called_by_a_phase():
    """No kernel is dead: each one a rules module lists is called by some phase of the day."""
    from sim.model.rules import PHASES, numpy_kernels
    from sim.running.docs import kernels_called

    called = {k for phase in PHASES for k in kernels_called(phase.run)}
    assert called == set(vars(numpy_kernels()))


def test_the_new_world_guides_behaviour_table_is_what_each_world_sets():
    """docs/new_world.md's table of the world behaviour keys (sim.model.config.WORLD_BEHAVIOUR)
    gives each world's value as its behaviour file sets it: a key added, or a value recalibrated,
    on one side only fails here."""
    import re

    from sim.model.config import WORLD_BEHAVIOUR
    from sim.running.compose import compose

    text = (Path(__file__).resolve().parent.parent / "docs" / "new_world.md").read_text(encoding="utf-8")
    rows = dict((m[0], (float(m[1]), float(m[2])))
                for m in re.findall(r"^\| `([\w.]+)` \| [^|]+ \| `([^`]+)` \| `([^`]+)` \|$", text, re.M))
    assert set(rows) == set(WORLD_BEHAVIOUR)
    worlds = (compose([]), compose(["scenario=finland_2023"]))
    for key, documented in rows.items():
        section, name = key.split(".")
        actual = tuple(float(getattr(getattr(cfg, section), name)) for cfg in worlds)
        assert documented == pytest.approx(actual, rel=1e-9), f"docs/new_world.md, {key}: {documented} vs {actual}"
