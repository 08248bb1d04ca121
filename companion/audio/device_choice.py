"""The agent's and the customer's device, remembered between calls (`devices.toml` in the user config folder)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from companion.config import read_toml
from companion.errors import ConfigError
from companion.settings_files import devices_path


@dataclass(frozen=True)
class DeviceChoice:
    agent: Optional[str] = None
    customer: Optional[str] = None


def _path() -> Path:
    return devices_path()  # the settings store says where (companion.settings_files)


def load_choice() -> DeviceChoice:
    path = _path()
    if not path.is_file():
        return DeviceChoice()
    try:
        data = read_toml(path, "Device settings")
    except ConfigError:
        return DeviceChoice()  # a damaged file only loses the remembered choice
    return DeviceChoice(agent=data.get("agent"), customer=data.get("customer"))


def save_choice(choice: DeviceChoice) -> None:
    path = _path()
    lines = ["# The devices Call Companion used last; change them with --agent-device / --customer-device."]
    for key in ("agent", "customer"):
        value = getattr(choice, key)
        if value is not None:
            lines.append(f"{key} = {json.dumps(value)}")  # a JSON string is a valid TOML basic string
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # not remembering is not worth stopping a call for
