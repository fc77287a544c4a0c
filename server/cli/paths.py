"""Where a command finds its instance: the data folder and the configuration file.

Imports nothing of the CLI, so every command module can use it and none
needs to import `server.cli.main`, which imports them all.
"""

import argparse
import os
from pathlib import Path

from config.settings import Settings, load

DEFAULT_DATA_DIR = Path("data")
CONFIG_NAME = "mecene.toml"


def config_path(args: argparse.Namespace) -> Path | None:
    """--config, then $MECENE_CONFIG, then <data dir>/mecene.toml when it exists."""
    if args.config:
        return Path(args.config)
    if os.environ.get("MECENE_CONFIG"):
        return Path(os.environ["MECENE_CONFIG"])
    candidate = data_dir() / CONFIG_NAME
    return candidate if candidate.exists() else None


def data_dir() -> Path:
    return Path(os.environ.get("MECENE_DATA_DIR", DEFAULT_DATA_DIR))


def settings_of(args: argparse.Namespace) -> Settings:
    """The configuration of the instance a command acts on; a bad value raises `ConfigError` naming its key."""
    return load(config_path(args))
