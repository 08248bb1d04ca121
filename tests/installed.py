"""The tests run against the installed app, as a user gets it from `pip install .`.

pytest puts the checkout on `sys.path` (it holds the `tests` package), and the checkout also holds
`companion/` and `ui/`: imported from there, a package that `pip install .` leaves out (as once
happened to `companion.store`) would still pass every test. So `companion` and `ui` are imported
once, before any test, with the checkout hidden; everything after resolves through them.
Commands run by the tests start in `OUTSIDE`, a folder that holds no copy of the app.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
OUTSIDE = Path(tempfile.gettempdir())
APP_PACKAGES = ("companion", "ui")


def _is_checkout(entry: str) -> bool:
    try:
        return Path(entry or os.getcwd()).resolve() == CHECKOUT
    except OSError:
        return False


def import_installed_app() -> None:
    saved = list(sys.path)
    sys.path[:] = [entry for entry in sys.path if not _is_checkout(entry)]
    try:
        for name in APP_PACKAGES:
            try:
                importlib.import_module(name)
            except ImportError:
                raise SystemExit(f"The tests need the app installed: run  pip install '.[test]'  first ({name} not found).") from None
    finally:
        sys.path[:] = saved


def editable_install() -> bool:
    """True when the app is installed in development mode (its files are the checkout's)."""
    import companion

    return Path(companion.__file__).resolve().is_relative_to(CHECKOUT)
