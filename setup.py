"""Build step that ships the configs and the record inside the wheel (metadata: pyproject.toml).

In the source tree ``configs/``, ``data/observed/`` and ``data/calibration/`` sit beside the
package, where users know them and where an editable install reads them in place. A built wheel
holds only the package, so ``build_py`` copies those folders into it as ``sim/_shipped/``
(``sim/running/paths.py`` reads them from there when there is no checkout around the package). An
editable install (``pip install -e .``) copies nothing.
"""

from __future__ import annotations

import os

from setuptools import setup
from setuptools.command.build_py import build_py

# folders of the source tree (also in the sdist: MANIFEST.in) -> where they go inside the package
SHIPPED = ["configs", os.path.join("data", "observed"), os.path.join("data", "calibration")]
SHIPPED_INTO = os.path.join("sim", "_shipped")


def shipped_files() -> list[str]:
    """Every file of the shipped folders, relative to the project root (no hidden files or caches)."""
    files = []
    for top in SHIPPED:
        if not os.path.isdir(top):
            raise SystemExit(f"setup.py: {top}/ is missing; it is shipped inside the wheel")
        for folder, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
            files += [os.path.join(folder, n) for n in sorted(names) if not n.startswith(".")]
    return files


class BuildPyShipped(build_py):
    """``build_py`` that also copies the shipped folders into the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # the checkout's folders are read in place
            return
        for src in shipped_files():
            dst = os.path.join(self.build_lib, SHIPPED_INTO, src)
            self.mkpath(os.path.dirname(dst))
            self.copy_file(src, dst, preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        return [*outputs, *(os.path.join(self.build_lib, SHIPPED_INTO, f) for f in shipped_files())]


setup(cmdclass={"build_py": BuildPyShipped})
