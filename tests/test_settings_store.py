"""One settings store: every settings file of the user, where it is, and every setting in it with its
type, default, meaning and value now; `companion settings` prints it."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import typing
from pathlib import Path

from companion.audio.device_choice import DeviceChoice, load_choice, save_choice
from companion.config import CoachingConfig, user_coaching_file
from companion.pace_calibration import calibration_path
from companion.settings_store import WINDOW_KEYS, SettingsStore
from companion.team.settings import settings_path
from tests.commands import companion

ROOT = Path(__file__).resolve().parents[1]


def _coaching_keys(cls: type, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        if f.name == "sources":
            continue
        hint = hints[f.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            keys |= _coaching_keys(hint, f"{prefix}{f.name}.")
        else:
            keys.add(prefix + f.name)
    return keys


def test_every_coaching_setting_is_listed_with_its_type_default_and_meaning():
    listed = {s.name: s for s in SettingsStore().schema() if s.file == "coaching"}
    assert set(listed) == _coaching_keys(CoachingConfig)
    assert len(listed) > 100
    slow = listed["coach.slow_down.wpm_above"]
    assert (slow.section, slow.key) == ("coach.slow_down", "wpm_above")
    assert slow.type == "number (between 60 and 400)"
    assert listed["audio.sample_rate"].default == 16000
    assert listed["pace.envelope_band_hz"].default == [300.0, 3000.0]
    assert all(s.meaning for s in listed.values())
    assert "resampled" in listed["audio.sample_rate"].meaning  # the note beside it in resources/coaching.toml


def test_every_file_and_its_settings_are_listed():
    schema = SettingsStore().schema()
    assert {s.file for s in schema} == {"coaching", "devices", "team", "window", "pace_calibration"}
    names = {(s.file, s.name) for s in schema}
    assert {("devices", "agent"), ("team", "server.dsn"), ("team", "team.backoff_max_s"), ("team", "live.publish"),
            ("window", "General.breather_s"), ("pace_calibration", "units_per_word")} <= names


def test_the_paths_follow_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(tmp_path / "elsewhere"))
    store = SettingsStore()
    assert {f.name: f.path() for f in store.files()} == {
        "coaching": tmp_path / "elsewhere" / "coaching.toml", "devices": tmp_path / "elsewhere" / "devices.toml",
        "team": tmp_path / "elsewhere" / "team.toml", "window": tmp_path / "elsewhere" / "window.ini",
        "pace_calibration": tmp_path / "elsewhere" / "pace_calibration.json"}
    # the modules that read and write them take the same paths from it
    assert settings_path() == store.path("team")
    assert user_coaching_file() == store.path("coaching")
    assert calibration_path() == store.path("pace_calibration")
    save_choice(DeviceChoice(agent="Headset mic"))
    assert store.path("devices").is_file() and load_choice().agent == "Headset mic"


def test_a_users_coaching_value_shows_as_current_beside_its_default(tmp_path):
    path = Path(os.environ["COMPANION_CONFIG_DIR"]) / "coaching.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[pace]\nwindow_speech_s = 45.0\n", encoding="utf-8")
    values = {v.setting.name: v for v in SettingsStore().values() if v.setting.file == "coaching"}
    assert values["pace.window_speech_s"].current == 45.0
    assert values["pace.window_speech_s"].setting.default == 30.0
    assert values["pace.min_speech_s"].current == values["pace.min_speech_s"].setting.default


def test_the_windows_keys_are_the_ones_the_window_writes():
    """window.ini is Qt's; the store lists its keys by name, and this holds the list to what ui/ reads."""
    used: set[str] = set()
    for source in (ROOT / "ui").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        used |= set(re.findall(r"settings\.(?:value|setValue)\(\"(\w+)\"", text))
        used |= set(re.findall(r"^BREATHER_KEY = \"(\w+)\"", text, re.M))
    assert used and used == set(WINDOW_KEYS)


def test_companion_settings_lists_the_files_and_every_setting():
    config = Path(os.environ["COMPANION_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "coaching.toml").write_text("[coach]\ncooldown_s = 99.0\n", encoding="utf-8")
    files = companion("settings", "--json")
    assert files.returncode == 0, files.stderr
    listed = {f["name"]: f for f in json.loads(files.stdout)["files"]}
    assert listed["coaching"] == {**listed["coaching"], "path": str(config / "coaching.toml"), "exists": True}
    assert listed["team"]["exists"] is False

    everything = companion("settings", "--all", "--json")
    assert everything.returncode == 0, everything.stderr
    cooldown = [s for s in json.loads(everything.stdout)["settings"] if (s["section"], s["key"]) == ("coach", "cooldown_s")]
    assert cooldown[0]["current"] == 99.0 and cooldown[0]["default"] != 99.0 and cooldown[0]["file"] == "coaching"

    text = companion("settings", "--all")
    assert text.returncode == 0, text.stderr
    assert "coach.cooldown_s = 99.0   (default" in text.stdout


def test_a_broken_settings_file_is_one_clear_line():
    config = Path(os.environ["COMPANION_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "coaching.toml").write_text("[coach]\ncooldown_s = -5\n", encoding="utf-8")
    listed = companion("settings")
    assert listed.returncode == 0  # where the files are is still said
    broken = companion("settings", "--all")
    assert broken.returncode == 2 and "coach.cooldown_s" in broken.stderr and "Traceback" not in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1


def test_a_password_typed_into_team_toml_is_never_shown():
    config = Path(os.environ["COMPANION_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "team.toml").write_text('[server]\ndsn = "host=team.example.org user=alice password=hunter2"\n'
                                      'role = "agent"\n', encoding="utf-8")
    shown = companion("settings", "--all", "--json")
    assert shown.returncode == 2 and "contains a password" in shown.stderr
    assert "hunter2" not in shown.stdout + shown.stderr
