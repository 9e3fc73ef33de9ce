"""Lint: the code follows the project's ruff rules (incl. NPY002: no legacy np.random calls,
and the banned stdlib `random` import), so style and RNG discipline cannot drift silently."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed (it is in the dev extra)"
    out = subprocess.run([ruff, "check", "sim", "tests", "experiments", "scripts"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
