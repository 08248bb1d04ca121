"""The user's own folders (platformdirs), overridable for portable installs and tests."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "call-companion"


def user_config_dir() -> Path:
    override = os.environ.get("COMPANION_CONFIG_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    """Calls, models and recordings live here; COMPANION_DATA_DIR moves it (portable installs, tests)."""
    override = os.environ.get("COMPANION_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_models_dir() -> Path:
    return user_data_dir() / "models"


def user_coaching_file() -> Path:
    return user_config_dir() / "coaching.toml"
