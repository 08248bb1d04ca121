"""Where the user's call store is, and whether there is one yet — without importing sqlite3: a machine
that never saved a call is told so at once, and no store is made to say it (companion.store.db opens it)."""

from __future__ import annotations

import os

from companion.paths import joined, pure, user_data_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike
    from typing import Optional, Union

    StorePath = Union[str, PathLike[str]]

STORE_NAME = "calls.sqlite3"


def store_file() -> str:
    """The store in the user data folder, as text (`str(store_path())`)."""
    return joined(user_data_text(), STORE_NAME)


def store_text(path: Optional[StorePath]) -> str:
    """A store's path as `str(Path(path))` writes it; the user's store when None."""
    return store_file() if not path else pure(os.fspath(path))


def has_store(path: Optional[StorePath] = None) -> bool:
    """Is there a store there (the user's when None)? None is made before something is saved."""
    return os.path.exists(store_text(path))
