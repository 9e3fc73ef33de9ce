"""Where Corridor reads its configs and the record, and where it writes: decided here only.

Two layouts, told apart by what sits next to the package:

- **a checkout** (the source tree, also when installed with ``pip install -e .``): ``sim/`` has
  ``configs/``, ``data/observed/``, ``data/calibration/`` and ``docs/`` beside it, with the
  project's ``pyproject.toml``. They are read in place, so an edit to ``configs/`` takes effect
  without a reinstall; results go to the checkout's ``results/``.
- **an installed wheel** (``pip install corridor-*.whl``): the build copies ``configs/``,
  ``data/observed/`` and ``data/calibration/`` into the package (``sim/_shipped/``, see
  ``setup.py``). They are read from there and never written; results go to ``results/`` under
  the working directory, and there are no docs to update (:data:`DOCS_DIR` is None). Nothing is
  ever written into the installed package.

A user's own configs are added in front of :data:`CONFIG_DIR` with Hydra's ``--config-dir``
(``corridor --config-dir my_configs scenario=my_scenario``).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the sim package (this file is sim/running/paths.py)
# the copies of configs/ and data/ that a built wheel ships inside the package (setup.py)
SHIPPED_DIR = PACKAGE_DIR / "_shipped"


def _checkout_root(root: Path) -> Path | None:
    """``root`` if it is this project's source tree (configs/ and pyproject.toml beside sim/)."""
    if (root / "configs" / "config.yaml").is_file() and (root / "pyproject.toml").is_file():
        return root
    return None


# the source tree the code runs from, or None for an installed wheel
CHECKOUT: Path | None = _checkout_root(PACKAGE_DIR.parent)
_BASE = CHECKOUT if CHECKOUT is not None else SHIPPED_DIR

CONFIG_DIR = _BASE / "configs"  # Hydra's primary config folder (configs/config.yaml)
OBSERVED_DIR = _BASE / "data" / "observed"  # the record (targets_2021.csv, events_2021.csv)
CALIBRATION_DATA_DIR = _BASE / "data" / "calibration"  # the adopted fits (full, held-out)

# the folder relative paths of commands are taken from and results go under: the checkout, or
# the working directory (when this module is first imported) for an installed wheel
PROJECT_DIR = CHECKOUT if CHECKOUT is not None else Path.cwd()
RESULTS_DIR = PROJECT_DIR / "results"
# the documentation a calibration report updates; only a checkout has it
DOCS_DIR: Path | None = CHECKOUT / "docs" if CHECKOUT is not None else None


# ---- a run's results folder -------------------------------------------------------------------
# what a results folder holds once a run wrote it (sim.running.run); an empty or Hydra-only folder holds none
RESULT_FILES = ("daily.parquet", "daily.csv", "summary.json", "config.yaml", "run.json", "figures")


class ResultsExistError(FileExistsError):
    """The results folder already holds the results of a run; nothing is overwritten."""


def check_out_dir(out_dir: Path) -> None:
    """Refuse a folder that already holds results (an empty or Hydra-only folder is fine)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ResultsExistError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir():
        found = [n for n in RESULT_FILES if (out_dir / n).exists()]
        if found:
            raise ResultsExistError(
                f"{out_dir} already holds results ({', '.join(found)}); "
                "choose a new output.dir or delete the old results first"
            )
