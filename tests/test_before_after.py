"""The two before/after scripts of issue 15: every target of a validation page before and after
a change (experiments/before_after.py), and the counterfactual effects of two reports
(experiments/effects_before_after.py).

Protects: each reads what it is given (a page at a git revision, two effects.csv), writes only
its own section of the page, and a wrong input is refused with a message naming it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

TABLE = """# page

<!-- table:begin -->
| target | period | record (range) | model mean (5-95 %) | tolerance band | within |
|---|---|---:|---:|---:|:---:|
| a | 2021-01-01..2021-01-31 | 10 | {a} (1–2) | 5–15 | {wa} |
| b | 2021-02-01..2021-02-28 | 20 | {b} (1–2) | 10–30 | {wb} |
<!-- table:end -->

<!-- before-after:begin -->
<!-- before-after:end -->
<!-- effects-before-after:begin -->
<!-- effects-before-after:end -->
tail
"""


def script(name: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "experiments" / name), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_before_after_tabulates_every_target_of_two_revisions(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "experiments"))
    try:
        from before_after import before_after
    finally:
        sys.path.pop(0)
    old = TABLE.format(a=3, wa="**no**", b=21, wb="yes")
    new = TABLE.format(a=9, wa="yes", b=40, wb="**no**")
    text = before_after(old, new, "abc123")
    assert "| a | 2021-01-01..2021-01-31 | 10 | 3 | no | 9 | yes |" in text
    assert "| b | 2021-02-01..2021-02-28 | 20 | 21 | yes | 40 | no |" in text
    assert "Within tolerance: 1 of 2 before, 1 of 2 after." in text


def test_effects_before_after_writes_its_section_only(tmp_path: Path) -> None:
    rows = {"scenario": ["s", "s"], "outcome": ["arrivals", "deaths"], "baseline_mean": [1000.0, 20.0],
            "effect_mean": [-100.0, 2.0], "ci90_low": [-120.0, 1.0], "ci90_high": [-80.0, 3.0]}
    for name, shift in (("before", 0.0), ("after", 50.0)):
        (tmp_path / name).mkdir()
        df = pd.DataFrame(rows)
        df["effect_mean"] += shift
        df.to_csv(tmp_path / name / "effects.csv", index=False)
    doc = tmp_path / "page.md"
    doc.write_text(TABLE.format(a=1, wa="yes", b=2, wb="yes"))
    p = script("effects_before_after.py", "--before", str(tmp_path / "before"), "--after", str(tmp_path / "after"),
               "--outcomes", "arrivals", "--doc", str(doc))
    assert p.returncode == 0, p.stderr
    text = doc.read_text()
    assert "| s | arrivals | [1,000] -100 (-120 to -80) | [1,000] -50 (-120 to -80) |" in text
    assert "deaths" not in text.split("<!-- effects-before-after:begin -->")[1]
    assert text.startswith("# page") and text.rstrip().endswith("tail") and "| a | 2021-01-01" in text
    bad = script("effects_before_after.py", "--before", str(tmp_path / "nowhere"), "--after", str(tmp_path / "after"),
                 "--doc", str(doc))
    assert bad.returncode != 0 and "nowhere/effects.csv not found" in bad.stderr
    unknown = script("effects_before_after.py", "--before", str(tmp_path / "before"), "--after",
                     str(tmp_path / "after"), "--outcomes", "peace", "--doc", str(doc))
    assert unknown.returncode != 0 and "--outcomes: peace not in" in unknown.stderr


def test_switch_off_writes_each_mechanisms_months_and_refuses_an_unknown_metric(tmp_path) -> None:
    """experiments/switch_off.py: the default beside a run with one lever switched off, per month,
    written into the page's own section only; switching Poland's pushback regulation off keeps
    more people in Poland in September (everyone caught is kept), so its row is higher there; an
    unknown metric is refused with its name."""
    page = tmp_path / "page.md"
    page.write_text("before\n<!-- switch-off:begin -->\nold\n<!-- switch-off:end -->\nafter\n")
    script = str(ROOT / "experiments" / "switch_off.py")
    off = "levers.pl_pushbacks_regulation.enabled=false"
    out = subprocess.run([sys.executable, script, "--seeds", "1", "--metric", "caught_poland", "--start", "2021-09",
                          "--end", "2021-09", "--off", off, "--doc", str(page)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    text = page.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "Sep 2021" not in line]
    default, switched = (float(r.split("|")[2].replace(",", "")) for r in rows)
    assert switched > default
    bad = subprocess.run([sys.executable, script, "--seeds", "1", "--metric", "nope", "--off", off, "--doc", str(page)],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode != 0 and "--metric 'nope' is not a column of the daily table" in bad.stderr
