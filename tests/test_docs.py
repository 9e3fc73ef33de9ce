"""sim/running/docs.py: the generated sections of the docs."""

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
