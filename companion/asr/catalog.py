"""The catalog of downloadable models (`resources/models.toml`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from companion.config import read_toml
from companion.errors import ConfigError, ModelError
from companion.resources import resource_path

_CHECKSUM = re.compile(r"^(sha256:[0-9a-f]{64}|md5:[0-9a-f]{32})$")


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

    def get(self, name: str) -> CatalogEntry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        known = ", ".join(e.name for e in self.entries)
        raise ModelError(f"No model called {name} in the catalog (known: {known}).")

    def find(self, name: str) -> Optional[CatalogEntry]:
        return next((e for e in self.entries if e.name == name), None)


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
        if not _CHECKSUM.match(entry.checksum):
            raise ConfigError(f"Model catalog entry {entry.name} has no valid checksum (sha256:<hex> or md5:<hex>).")
        if entry.size <= 0 or not entry.url.startswith(("https://", "http://")):
            raise ConfigError(f"Model catalog entry {entry.name} needs a positive size and an http(s) URL.")
        entries.append(entry)
    default = str(data.get("default", entries[0].name if entries else ""))
    catalog = Catalog(default=default, entries=tuple(entries))
    if entries and catalog.find(default) is None:
        raise ConfigError(f"Model catalog default {default} is not one of its entries.")
    return catalog
