"""Compose a run's config from ``configs/`` with Hydra's compose API.

The model never imports Hydra (it takes a plain :class:`sim.model.config.Config`); this helper is for
notebooks, tests and scripts that want the same configs the command line uses::

    from sim.running.compose import compose
    cfg = compose(["scenario=baseline_2021", "population.size=20000"])
    default_scenario()    # the scenario configs/config.yaml chooses ('baseline_2021')

It also holds :func:`install_config_cache`, which makes Hydra parse each YAML file once per
process instead of once per composition (every job of a sweep composes its config anew).
"""

from __future__ import annotations

import functools
import os
import pickle
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.model.config import Config, ConfigError, load_config
from sim.running.paths import CONFIG_DIR  # configs/ of the checkout, or the copy a wheel ships

# YAML files parsed by OmegaConf.load: (name, device, inode, size, mtime, ctime) -> the config
# pickled (unpickling a DictConfig is ~10x faster than deep-copying it)
_parsed: dict[tuple[Any, ...], bytes] = {}


def install_config_cache() -> bool:
    """Parse each YAML config file once per process, not once per composition.

    Hydra composes every job of a sweep from scratch (in the job's process, on every launcher),
    and each composition reads and parses every file it uses again (``configs/`` and Hydra's
    own packaged configs, each through ``OmegaConf.load`` on an open file): ~0.1 s of
    pure-Python YAML and OmegaConf node building per job for this project's configs, about
    half of Hydra's composition. After this call ``OmegaConf.load`` keeps the config it parsed
    from a regular file (pickled, as launchers ship configs) and returns a fresh copy of it
    (unpickled) the next time the same, unchanged file is loaded (same path, inode, size,
    modification and change times): the same object parsing would give, for a twentieth of the
    cost, and a new one each time (Hydra changes what it is given). Anything else (a path, a
    string stream, a file not read from its start) is loaded as before. Idempotent.

    The hook is ``OmegaConf.load`` and not Hydra's config sources because Hydra's plugin scan
    re-executes its own modules (a patched class would be replaced).
    """

    load = OmegaConf.__dict__["load"]
    original = load.__func__ if isinstance(load, staticmethod) else load
    if getattr(original, "_corridor_cached", False):
        return True

    def load_cached(file_: Any) -> Any:
        key = _file_key(file_)
        if key is None:
            return original(file_)
        hit = _parsed.get(key)
        if hit is None:
            cfg = original(file_)
            _parsed[key] = pickle.dumps(cfg, protocol=pickle.HIGHEST_PROTOCOL)
            return cfg
        return pickle.loads(hit)

    load_cached._corridor_cached = True  # type: ignore[attr-defined]
    load_cached.__wrapped__ = original  # type: ignore[attr-defined]
    load_cached.__doc__ = original.__doc__
    OmegaConf.load = staticmethod(load_cached)  # type: ignore[method-assign]
    return True


def _file_key(file_: Any) -> tuple[Any, ...] | None:
    """The identity of an open regular file read from its start, or None."""
    if isinstance(file_, (str, os.PathLike)) or not hasattr(file_, "fileno"):
        return None
    try:
        if file_.tell() != 0:
            return None
        st = os.fstat(file_.fileno())
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    name = getattr(file_, "name", None)
    return (name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def config_dir() -> Path:
    """The configs folder compositions read (a checkout's ``configs/``, a wheel's copy)."""
    return Path(CONFIG_DIR)


def compose_with_hydra(overrides: list[str] | None = None, config_name: str = "config") -> Any:
    """The composed config with Hydra's own keys (``hydra.callbacks``...), as OmegaConf.

    Raises:
        ConfigError: the configs do not compose (naming the folder), or a YAML file is malformed.
    """
    return _compose(overrides, config_name, return_hydra_config=True)


def compose_dict(overrides: list[str] | None = None, config_name: str = "config") -> dict:
    """The composed config as a plain dict (Hydra's own keys removed)."""
    cfg = _compose(overrides, config_name, return_hydra_config=False)
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("hydra", None)
    return data


def _compose(overrides: list[str] | None, config_name: str, return_hydra_config: bool) -> Any:
    install_config_cache()
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return hydra_compose(config_name=config_name, overrides=list(overrides or []),
                                 return_hydra_config=return_hydra_config)
    except TypeError as e:
        raise by_name_error(e, list(overrides or []), lambda rest: _compose(rest, config_name, False)) from None
    except (HydraException, OmegaConfBaseException) as e:
        raise ConfigError(f"could not compose the config from {CONFIG_DIR}: {e}") from e
    except Exception as e:  # a malformed YAML file: the parser names the file and line
        if type(e).__module__.startswith("yaml"):
            raise ConfigError(f"malformed YAML under {CONFIG_DIR}: {e}") from e
        raise


def compose(overrides: list[str] | None = None, config_name: str = "config") -> Config:
    """The composed and checked config."""
    return load_config(compose_dict(overrides, config_name))


def default_scenario() -> str:
    """The name of the scenario the default config composes (``configs/config.yaml``'s
    defaults): what the app opens and compares with when nothing else is asked."""
    return _default_scenario(str(CONFIG_DIR))


@functools.lru_cache(maxsize=4)
def _default_scenario(configs: str) -> str:  # composed once per configs folder and process
    return str(compose_dict([])["scenario"])


_BY_NAME = re.compile(r"Index '([^']*)' \(str\) is not an int")


def by_name_error(error: TypeError, overrides: list[str], compose_without: Callable[[list[str]], Any]) -> Exception:
    """What to say when an override addresses an element of a list by name
    (``world.segments.<id>.detect_max=0.5``): Hydra addresses list elements by position only.

    Returns a :class:`ConfigError` naming the override, the list, and each element's position and
    name (composed without the offending overrides), or ``error`` itself if it is another error.
    """
    found = _BY_NAME.search(str(error))
    if found is None:
        return error
    name = found.group(1)
    bad = [o for o in overrides if f".{name}." in o.split("=", 1)[0] + "."]
    if not bad:
        return error
    key = bad[0].split("=", 1)[0].lstrip("+~")
    path = key[: key.index(f".{name}")]
    try:
        listed = OmegaConf.select(compose_without([o for o in overrides if o not in bad]), path, default=None)
    except Exception:  # the rest does not compose either: say what is known
        listed = None
    positions = ""
    if listed is not None and OmegaConf.is_list(listed):
        ids = [str(e.get("id", e.get("name", "?"))) if OmegaConf.is_dict(e) else "?" for e in listed]
        positions = " (" + ", ".join(f"{i} {n}" for i, n in enumerate(ids)) + ")"
        if name in ids:
            fixed = bad[0].replace(f"{path}.{name}.", f"{path}.{ids.index(name)}.", 1)
            positions += f"; here: {fixed}"
    return ConfigError(
        f"{bad[0]}: {path} is a list, and on the command line its elements are addressed by position, "
        f"not by name{positions}; by name, use a sweep's design file (docs/sweeps.md) or Python "
        "(sim.model.config.set_dotted)")
