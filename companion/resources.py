"""Where bundled resources (coaching thresholds, playbooks, demo call) are found."""

from __future__ import annotations

from importlib import resources as _res
from pathlib import Path


def resource_path(name: str) -> Path:
    """Path of a bundled resource, from a source checkout or an installed wheel."""
    checkout = Path(__file__).resolve().parent.parent / "resources" / name
    if checkout.exists():
        return checkout
    installed = _res.files("companion_resources").joinpath(name)
    return Path(str(installed))
