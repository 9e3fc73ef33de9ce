"""Generated sections of the docs: text a script writes between two markers of a Markdown file."""

from __future__ import annotations

import os
from pathlib import Path


def replace_section(path: Path, begin: str, end: str, text: str) -> bool:
    """Put ``text`` between the ``begin`` and ``end`` markers of ``path``; True if it changed.

    The file is written atomically; everything outside the markers is kept as it is.

    Raises:
        SystemExit: the file lacks one of the markers (naming both, and the file).
    """
    doc = path.read_text(encoding="utf-8")
    if begin not in doc or end not in doc:
        raise SystemExit(f"{path} has no {begin} ... {end} section")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{begin}\n{text.rstrip()}\n{end}{tail}"
    if new == doc:
        return False
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)
    return True
