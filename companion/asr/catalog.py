"""The catalog of downloadable models (`resources/models.toml`): its models, how downloads
behave on a bad line (the `[download]` table), and what a model name may be."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping, Optional

from companion.config import read_toml
from companion.errors import ConfigError, ModelError
from companion.resources import resource_path

_CHECKSUM = re.compile(r"^(sha256:[0-9a-f]{64}|md5:[0-9a-f]{32})$")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_model_name(name: str) -> str:
    """`name` if it can only mean one folder directly inside the models folder; ModelError otherwise.

    Every way in from the outside (download, path, remove, the catalog) goes through here, so a
    name can never be a path: no separators, no `..`, not absolute, not hidden (the downloader's
    own `.part` and temporary folders start with a dot).
    """
    if not _NAME.fullmatch(name) or ".." in name:
        raise ModelError(f"{name!r} is not a model name: a model is one folder in the models folder, named like "
                         "vosk-model-small-en-us-0.15 (letters, digits, '.', '-' and '_'; no '/', '\\' or '..').")
    return name


@dataclass(frozen=True)
class DownloadSettings:
    """How a download copes with a bad line; the `[download]` table of models.toml."""

    chunk_bytes: int       # most bytes taken from the connection at a time
    timeout_s: float       # no byte at all for this long: the connection is dead
    retries: int           # attempts after the first, in a row, that move the download less than stall_bytes
    backoff_s: float       # wait before the first retry; doubles with each retry in a row
    backoff_max_s: float   # the longest wait before a retry
    stall_window_s: float  # a window this long in which fewer than
    stall_bytes: int       # this many bytes arrive is a stalled download, handled like a dropped one


def _setting(table: Mapping[str, Any], name: str, kind: type[int] | type[float], path: Path) -> int | float:
    value = table.get(name)
    if value is None:
        raise ConfigError(f"Model catalog {path} has no download setting {name}.")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        raise ConfigError(f"Model catalog {path}: the download setting {name} must be a "
                          f"{'whole ' if kind is int else ''}number, not {value!r}.")
    if value < 0 or (value == 0 and name != "retries"):
        raise ConfigError(f"Model catalog {path}: the download setting {name} must be "
                          f"{'0 or more' if name == 'retries' else 'more than 0'}, not {value}.")
    return kind(value)


def _download_settings(table: Mapping[str, Any], path: Path) -> DownloadSettings:
    """The `[download]` table of the catalog at `path`; a setting it leaves out is the shipped one."""
    shipped = resource_path("models.toml")
    if Path(path) != shipped:
        table = {**read_toml(shipped, "Model catalog").get("download", {}), **table}
    kinds = {f.name: int if f.type == "int" else float for f in fields(DownloadSettings)}
    unknown = sorted(set(table) - set(kinds))
    if unknown:
        raise ConfigError(f"Model catalog {path} has an unknown download setting {unknown[0]} (known: {', '.join(kinds)}).")
    values: dict[str, Any] = {name: _setting(table, name, kind, path) for name, kind in kinds.items()}  # each of its kind
    return DownloadSettings(**values)


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    language: str
    description: str
    url: str
    size: int
    checksum: str  # "sha256:<hex>" or "md5:<hex>"

    @property
    def algorithm(self) -> str:
        return self.checksum.split(":", 1)[0]

    @property
    def digest(self) -> str:
        return self.checksum.split(":", 1)[1]


@dataclass(frozen=True)
class Catalog:
    default: str
    entries: tuple[CatalogEntry, ...]
    download: DownloadSettings

    def get(self, name: str) -> CatalogEntry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        known = ", ".join(e.name for e in self.entries)
        raise ModelError(f"No model called {name} in the catalog (known: {known}).")

    def find(self, name: str) -> Optional[CatalogEntry]:
        return next((e for e in self.entries if e.name == name), None)

    def for_language(self, language: str) -> Optional[CatalogEntry]:
        """The model to download for calls in `language`: the default when it speaks it, else the first that does."""
        from companion.asr.languages import serves

        speaking = [e for e in self.entries if serves(e.language, language)]
        return next((e for e in speaking if e.name == self.default), speaking[0] if speaking else None)


def load_catalog(path: Optional[Path] = None) -> Catalog:
    path = path or resource_path("models.toml")
    data = read_toml(Path(path), "Model catalog")
    entries = []
    for raw in data.get("model", []):
        try:
            entry = CatalogEntry(
                name=str(raw["name"]), language=str(raw["language"]), description=str(raw.get("description", "")),
                url=str(raw["url"]), size=int(raw["size"]), checksum=str(raw["checksum"]).lower(),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"Model catalog {path} has an entry without a valid {exc}.") from None
        try:
            check_model_name(entry.name)
        except ModelError as exc:
            raise ConfigError(f"Model catalog {path}: {exc.message}") from None
        if not _CHECKSUM.match(entry.checksum):
            raise ConfigError(f"Model catalog entry {entry.name} has no valid checksum (sha256:<hex> or md5:<hex>).")
        if entry.size <= 0 or not entry.url.startswith(("https://", "http://")):
            raise ConfigError(f"Model catalog entry {entry.name} needs a positive size and an http(s) URL.")
        entries.append(entry)
    default = str(data.get("default", entries[0].name if entries else ""))
    catalog = Catalog(default=default, entries=tuple(entries), download=_download_settings(data.get("download", {}), path))
    if entries and catalog.find(default) is None:
        raise ConfigError(f"Model catalog default {default} is not one of its entries.")
    return catalog
