"""Where each of the user's settings files is: its name in the user config folder, its format and what
it holds. Only paths here (no reading), so every module that reads or writes one of them can take its
path from this one place; `companion.settings_store` hands out what they hold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from companion.paths import user_config_dir


@dataclass(frozen=True)
class SettingsFile:
    name: str      # what the store and `companion settings` call it
    file: str      # its file name in the user config folder
    format: str    # "toml", "ini" (Qt's QSettings) or "json"
    holds: str     # one line: what is kept in it, and who writes it

    def path(self) -> Path:
        """Where it is now (COMPANION_CONFIG_DIR moves the whole folder)."""
        return user_config_dir() / self.file


COACHING = SettingsFile("coaching", "coaching.toml", "toml",
                        "your coaching thresholds: only what differs from the bundled resources/coaching.toml "
                        "(written by the Settings dialog, or by hand)")
DEVICES = SettingsFile("devices", "devices.toml", "toml",
                       "the agent's and the customer's device used last (written at each call)")
TEAM = SettingsFile("team", "team.toml", "toml",
                    "the team server's address (never a password), its role, and any sync or live numbers "
                    "changed from resources/team.toml (written by `companion team connect`)")
WINDOW = SettingsFile("window", "window.ini", "ini",
                      "the window's own state: size and place, compact mode, the playbook, setup done, "
                      "the pause after a hard call (written by the window)")
PACE_CALIBRATION = SettingsFile("pace_calibration", "pace_calibration.json", "json",
                                "how many sound nuclei this agent says per word, learned from calls with a "
                                "transcriber (written after each such call)")

FILES = (COACHING, DEVICES, TEAM, WINDOW, PACE_CALIBRATION)


def coaching_path() -> Path:
    return COACHING.path()


def devices_path() -> Path:
    return DEVICES.path()


def team_path() -> Path:
    return TEAM.path()


def window_path() -> Path:
    return WINDOW.path()


def pace_calibration_path() -> Path:
    return PACE_CALIBRATION.path()
