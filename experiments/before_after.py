"""Every target before and after a change: the validation table of a page at a git revision
beside the page's table now.

    .venv/bin/python experiments/validate_default.py                  # the table now
    .venv/bin/python experiments/before_after.py --before 33f75e6     # docs/validation.md, before/after

Reads the generated table of ``--doc`` (between ``<!-- table:begin -->`` and ``<!-- table:end -->``)
as it was at the revision ``--before`` (``git show REV:PATH``) and as it is in the working tree,
and rewrites the page's before/after section (between ``<!-- before-after:begin -->`` and
``<!-- before-after:end -->``): one row per target, the record, the model's mean before and after,
and whether each was within its tolerance.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from sim.running.docs import replace_section

ROOT = Path(__file__).resolve().parent.parent
TABLE = ("<!-- table:begin -->", "<!-- table:end -->")
SECTION = ("<!-- before-after:begin -->", "<!-- before-after:end -->")


def table_rows(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """The validation table's rows by (target, period): record, model (mean, range), within."""
    begin, end = text.index(TABLE[0]), text.index(TABLE[1])
    rows = {}
    for line in text[begin:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] in ("target", "---") or cells[0].startswith("-"):
            continue
        target, period, record, model, _band, within = cells
        rows[(target, period)] = {"record": record, "model": model.split(" (")[0],
                                  "within": within.replace("*", "")}
    return rows


def before_after(old_text: str, new_text: str, label: str) -> str:
    """The before/after table (markdown) of two pages' validation tables."""
    before, after = table_rows(old_text), table_rows(new_text)
    lines = [f"Before: the page at `{label}`; after: the table above. Model values are means over the seeds.", "",
             "| target | period | record | before | within | after | within |",
             "|---|---|---:|---:|:---:|:---:|:---:|"]
    n_before = n_after = 0
    for key in list(before) + [k for k in after if k not in before]:
        b, a = before.get(key), after.get(key)
        record = (a or b)["record"]
        n_before += bool(b and b["within"] == "yes")
        n_after += bool(a and a["within"] == "yes")
        lines.append(f"| {key[0]} | {key[1]} | {record} | {b['model'] if b else '–'} | {b['within'] if b else '–'} | "
                     f"{a['model'] if a else '–'} | {a['within'] if a else '–'} |")
    lines += ["", f"Within tolerance: {n_before} of {len(before)} before, {n_after} of {len(after)} after."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="before_after.py", description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="git revision whose page holds the 'before' table")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "validation.md", help="page (default %(default)s)")
    args = ap.parse_args(argv)
    rel = args.doc.resolve().relative_to(ROOT)
    old_text = subprocess.run(["git", "show", f"{args.before}:{rel.as_posix()}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
    text = before_after(old_text, args.doc.read_text(encoding="utf-8"), args.before)
    print(text)
    replace_section(args.doc, *SECTION, text)
    print(f"updated {args.doc}")


if __name__ == "__main__":
    main()
