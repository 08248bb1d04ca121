"""The user's own folders (platformdirs), overridable for portable installs and tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "call-companion"


def _xdg(variable: str, default: str) -> Path:
    """Linux's rule, as platformdirs has it, without importing it (and tempfile, shutil, random) at every start."""
    value = os.environ.get(variable, "")
    return Path(value if value.strip() else os.path.expanduser(default)) / APP_NAME


def user_config_dir() -> Path:
    override = os.environ.get("COMPANION_CONFIG_DIR")
    if override:
        return Path(override)
    if sys.platform.startswith("linux"):
        return _xdg("XDG_CONFIG_HOME", "~/.config")
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    """Calls, models and recordings live here; COMPANION_DATA_DIR moves it (portable installs, tests)."""
    override = os.environ.get("COMPANION_DATA_DIR")
    if override:
        return Path(override)
    if sys.platform.startswith("linux"):
        return _xdg("XDG_DATA_HOME", "~/.local/share")
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_models_dir() -> Path:
    return user_data_dir() / "models"


def user_coaching_file() -> Path:
    return user_config_dir() / "coaching.toml"
