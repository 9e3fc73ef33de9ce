"""Compose a run's config from ``configs/`` with Hydra's compose API.

The model never imports Hydra (it takes a plain :class:`sim.config.Config`); this helper is for
notebooks, tests and scripts that want the same configs the command line uses::

    from sim.compose import compose
    cfg = compose(["scenario=baseline_2021", "population.size=20000"])
"""

from __future__ import annotations

from pathlib import Path

from sim.config import Config, ConfigError, load_config

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def compose_dict(overrides: list[str] | None = None, config_name: str = "config") -> dict:
    """The composed config as a plain dict (Hydra's own keys removed)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = hydra_compose(config_name=config_name, overrides=list(overrides or []))
    except (HydraException, OmegaConfBaseException) as e:
        raise ConfigError(f"could not compose the config from {CONFIG_DIR}: {e}") from e
    except Exception as e:  # a malformed YAML file: the parser names the file and line
        if type(e).__module__.startswith("yaml"):
            raise ConfigError(f"malformed YAML under {CONFIG_DIR}: {e}") from e
        raise
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("hydra", None)
    return data


def compose(overrides: list[str] | None = None, config_name: str = "config") -> Config:
    """The composed and checked config."""
    return load_config(compose_dict(overrides, config_name))
