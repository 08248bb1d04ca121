"""One settings store: every settings file of the user (where it is, its format, what it holds) and
one schema listing every setting in them (its file, section and key, type, default and meaning).

The files stay as they are (coaching.toml, devices.toml, team.toml, window.ini, pace_calibration.json)
and each is still read by its own module; the store knows them all and hands each part out through
that module's loader. `companion settings` prints what it knows."""

from __future__ import annotations

import configparser
import dataclasses
import functools
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

from companion.audio.device_choice import DeviceChoice, load_choice
from companion.config import load_config, read_toml
from companion.config_schema import CoachingConfig, OneOf, Range
from companion.pace_calibration import PaceCalibration, load_calibration
from companion.resources import resource_path
from companion.settings_files import COACHING, DEVICES, FILES, PACE_CALIBRATION, TEAM, WINDOW, SettingsFile
from companion.team import settings as team_settings
from companion.team.live_alerts import LiveTuning, load_tuning
from companion.team.settings import SyncTuning, TeamSettings

__all__ = ["FILES", "WINDOW_KEYS", "Setting", "SettingValue", "SettingsFile", "SettingsStore"]

# The window's own keys in window.ini (Qt's QSettings, [General] section): name → (type, default, meaning).
# The window (ui/) writes these and no others; tests/test_settings_store.py holds the two lists together.
WINDOW_KEYS: dict[str, tuple[str, Any, str]] = {
    "geometry": ("bytes", None, "the window's size and place on the screen when it was last closed"),
    "compact": ("true/false", False, "the compact window (just the prompt and the meters)"),
    "playbook": ("text", None, "the playbook chosen last (its id; none: the first one)"),
    "setup_done": ("true/false", False, "the first-run setup (devices, speech model) was completed"),
    "breather_s": ("whole number", 0, "seconds of pause offered after a hard call (0: off)"),
}


@dataclass(frozen=True)
class Setting:
    file: str       # the SettingsFile's name
    section: str    # the TOML table ("coach.slow_down"), "" for top-level keys
    key: str
    type: str
    default: Any    # None: no default (not set until the user or the app sets it)
    meaning: str

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}" if self.section else self.key


@dataclass(frozen=True)
class SettingValue:
    setting: Setting
    current: Any    # what is in force now (the default when the user's file does not set it)


def _comments(resource: Path) -> dict[str, str]:
    """`table.key` → the note beside it in a bundled TOML file (or the comment line just above it)."""
    notes: dict[str, str] = {}
    section, above = "", ""
    for line in resource.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        header = re.match(r"\[([\w.]+)\]", stripped)
        if header:
            section, above = header.group(1), ""
            continue
        if stripped.startswith("#"):
            above = stripped.lstrip("# ").strip()
            continue
        entry = re.match(r"(\w+)\s*=\s*(.*)$", stripped)
        if entry:
            _, _, note = entry.group(2).partition(" #")
            notes[f"{section}.{entry.group(1)}"] = note.strip().lstrip("# ").strip() or above
        above = ""
    return notes


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) is Annotated:
        base, *rules = typing.get_args(hint)
        allowed = [str(rule) for rule in rules if isinstance(rule, (Range, OneOf))]
        return _type_name(base) + (f" ({allowed[0]})" if allowed else "")
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple:
        if args and args[-1] is Ellipsis:
            return f"list of {_type_name(args[0])}"
        return f"{len(args)} of {_type_name(args[0])}"
    names = {bool: "true/false", int: "whole number", float: "number", str: "text"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _coaching_settings(defaults: CoachingConfig) -> list[Setting]:
    notes = _comments(resource_path("coaching.toml"))
    found: list[Setting] = []

    def walk(cls: type[Any], section: str) -> None:
        hints = typing.get_type_hints(cls, include_extras=True)
        for f in dataclasses.fields(cls):
            if f.name == "sources":
                continue
            hint = hints[f.name]
            name = f"{section}.{f.name}" if section else f.name
            if isinstance(hint, type) and dataclasses.is_dataclass(hint):
                walk(hint, name)
                continue
            meaning = notes.get(name) or ("this prompt is given" if f.name == "enabled" else
                                          f"see docs/coaching.md ({_type_name(hint)})")
            found.append(Setting(COACHING.name, section, f.name, _type_name(hint),
                                 _plain(_value(defaults, name)), meaning))

    walk(CoachingConfig, "")
    return found


def _value(config: object, dotted: str) -> Any:
    return functools.reduce(getattr, dotted.split("."), config)


def _ini_value(text: str) -> Any:
    """A value Qt wrote to an ini file: true/false and whole numbers as such, anything else as its text."""
    if text in ("true", "false"):
        return text == "true"
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _plain(value: Any) -> Any:
    """A value as JSON and TOML have it (tuples as lists)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _team_settings() -> list[Setting]:
    bundled_path = resource_path(team_settings.RESOURCE)
    bundled, notes = read_toml(bundled_path, "Team defaults"), _comments(bundled_path)
    insecure = team_settings.INSECURE_KEY
    found = [
        Setting(TEAM.name, "server", "dsn", "text", None, "the team server's address, without a password"),
        Setting(TEAM.name, "server", "role", "text", None, f"the role it logs in as ({', '.join(team_settings.KINDS)})"),
        Setting(TEAM.name, "server", "connected_at", "text", None, "when `companion team connect` was run"),
        Setting(TEAM.name, "server", insecure, "true/false", False,
                "this address allowed without a checked certificate (--insecure-allow-plaintext)"),
        Setting(TEAM.name, "admin", "dsn", "text", None, "the admin's address, on the admin's machine only"),
        Setting(TEAM.name, "admin", insecure, "true/false", False, "the same for the admin's address"),
    ]
    for table, cls in (("team", SyncTuning), ("live", LiveTuning)):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            default = bundled.get(table, {}).get(f.name, f.default)
            found.append(Setting(TEAM.name, table, f.name, _type_name(hints[f.name]), default,
                                 notes.get(f"{table}.{f.name}", "")))
    return found


_DEVICE_SETTINGS = [
    Setting(DEVICES.name, "", "agent", "text", None, "the agent's microphone or headset (none: asked, or the default)"),
    Setting(DEVICES.name, "", "customer", "text", None, "the input that carries the customer (the softphone's output)"),
]
_PACE_SETTINGS = [
    Setting(PACE_CALIBRATION.name, "", "units_per_word", "table of number per detector kind", None,
            "this agent's sound nuclei per word (none: coaching's pace.syllables_per_word)"),
    Setting(PACE_CALIBRATION.name, "", "words", "whole number", None, "how many recognised words it rests on"),
    Setting(PACE_CALIBRATION.name, "", "updated", "text", None, "when it last learned from a call"),
]
_WINDOW_SETTINGS = [Setting(WINDOW.name, "General", key, kind, default, meaning)
                    for key, (kind, default, meaning) in WINDOW_KEYS.items()]


class SettingsStore:
    """The user's settings files, each read through its own module. Paths follow COMPANION_CONFIG_DIR."""

    def files(self) -> tuple[SettingsFile, ...]:
        return FILES

    def path(self, name: str) -> Path:
        for f in FILES:
            if f.name == name:
                return f.path()
        raise KeyError(f"no settings file called {name!r} (known: {', '.join(f.name for f in FILES)})")

    # --- each part, through its own loader ---------------------------------------------------
    def coaching(self) -> CoachingConfig:
        """The coaching settings in force: the bundled defaults with the user's coaching.toml over them."""
        path = COACHING.path()
        return load_config(path if path.is_file() else None, use_user_default=False)

    def devices(self) -> DeviceChoice:
        return load_choice()

    def team(self) -> TeamSettings:
        """The team connection; a password typed into team.toml by hand is refused (TeamError), never shown."""
        return team_settings.load(TEAM.path())

    def live(self) -> LiveTuning:
        return load_tuning(TEAM.path())

    def pace_calibration(self) -> Optional[PaceCalibration]:
        return load_calibration(PACE_CALIBRATION.path())

    def window(self) -> dict[str, str]:
        """window.ini's [General] values as text (Qt writes it; a file Qt cannot read gives nothing here)."""
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read(WINDOW.path(), encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            return {}
        return dict(parser.items("General")) if parser.has_section("General") else {}

    # --- the schema and what is in force -----------------------------------------------------
    def schema(self) -> list[Setting]:
        """Every setting of every file, in file order."""
        defaults = load_config(use_user_default=False)
        return (_coaching_settings(defaults) + _DEVICE_SETTINGS + _team_settings() + _WINDOW_SETTINGS
                + _PACE_SETTINGS)

    def values(self) -> list[SettingValue]:
        """Every setting with its value now. A file that cannot be read raises its module's one-line error."""
        coaching = self.coaching()
        devices = self.devices()
        team, live = self.team(), self.live()
        calibration = self.pace_calibration()
        window = self.window()
        team_now: dict[str, Any] = {
            "server.dsn": team.dsn, "server.role": team.role, "server.connected_at": team.connected_at,
            f"server.{team_settings.INSECURE_KEY}": team.insecure, "admin.dsn": team.admin_dsn,
            f"admin.{team_settings.INSECURE_KEY}": team.admin_insecure,
        }
        out: list[SettingValue] = []
        for s in self.schema():
            current: Any
            if s.file == COACHING.name:
                current = _plain(_value(coaching, s.name))
            elif s.file == DEVICES.name:
                current = getattr(devices, s.key)
            elif s.file == TEAM.name:
                current = team_now[s.name] if s.name in team_now else \
                    getattr(team.tuning if s.section == "team" else live, s.key)
            elif s.file == WINDOW.name:
                current = _ini_value(window[s.key.lower()]) if s.key.lower() in window else s.default
            else:
                current = _plain(getattr(calibration, s.key)) if calibration else None
            out.append(SettingValue(s, current))
        return out
