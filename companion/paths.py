"""The user's own folders (platformdirs), overridable for portable installs and tests.

Each folder is also given as text (`user_data_text()`), exactly as `str()` of its Path, for the paths that
start every command (opening the store, the support log): on POSIX they need neither pathlib (with its re,
urllib.parse and ipaddress) nor platformdirs."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

APP_NAME = "call-companion"


def pure(text: str) -> str:
    """`str(Path(text))` (what pathlib makes of a path written as text: no empty or `.` parts, no trailing
    slash, `.` for nothing), without importing pathlib on POSIX."""
    if os.name != "posix":
        from pathlib import Path

        return str(Path(text))
    if text.startswith("/"):
        rest = text.lstrip("/")
        root = "//" if len(text) - len(rest) == 2 else "/"  # POSIX keeps exactly two leading slashes
    else:
        root, rest = "", text
    parts = [part for part in rest.split("/") if part and part != "."]
    return root + "/".join(parts) if root or parts else "."


def joined(folder: str, name: str) -> str:
    """`str(Path(folder) / name)` for a `folder` already `pure` and a plain file name."""
    if os.name != "posix":
        from pathlib import Path

        return str(Path(folder) / name)
    if folder == ".":
        return name
    return folder + name if folder.endswith("/") else f"{folder}/{name}"


def home_text() -> str | None:
    """`str(Path.home())`, or None where the home folder cannot be told (pathlib would raise)."""
    home = os.path.expanduser("~")
    return None if home.startswith("~") else pure(home)


def _xdg(variable: str, default: str) -> str:
    """Linux's rule, as platformdirs has it, without importing it (and tempfile, shutil, random) at every start."""
    value = os.environ.get(variable, "")
    return joined(pure(value if value.strip() else os.path.expanduser(default)), APP_NAME)


def user_config_text() -> str:
    override = os.environ.get("COMPANION_CONFIG_DIR")
    if override:
        return pure(override)
    if sys.platform.startswith("linux"):
        return _xdg("XDG_CONFIG_HOME", "~/.config")
    import platformdirs

    return pure(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_data_text() -> str:
    """The user data folder as text, exactly `str(user_data_dir())`."""
    override = os.environ.get("COMPANION_DATA_DIR")
    if override:
        return pure(override)
    if sys.platform.startswith("linux"):
        return _xdg("XDG_DATA_HOME", "~/.local/share")
    import platformdirs

    return pure(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    from pathlib import Path

    return Path(user_config_text())


def user_data_dir() -> Path:
    """Calls, models and recordings live here; COMPANION_DATA_DIR moves it (portable installs, tests)."""
    from pathlib import Path

    return Path(user_data_text())


def user_models_dir() -> Path:
    return user_data_dir() / "models"


def user_coaching_file() -> Path:
    return user_config_dir() / "coaching.toml"
