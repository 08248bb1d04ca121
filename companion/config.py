"""Coaching configuration: `resources/coaching.toml`, overridden by the user's file.

The TOML is the single place thresholds live; this module turns it into frozen dataclasses and
refuses unknown keys, wrong types and values out of range, in one line naming the setting, the
file it came from and what is allowed. What the settings are, each number's allowed values and
the rules between settings are data in `companion.config_schema`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import typing
from pathlib import Path
from typing import Annotated, Any, Mapping, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from companion.config_schema import (  # the settings' classes are read from here too (see __all__)
    BELOW,
    INCREASING,
    RENAMED,
    RETIRED,
    WITHIN,
    AsrConfig,
    AudioConfig,
    CaptureConfig,
    CoachConfig,
    CoachingConfig,
    CustomerMoodConfig,
    InterruptionConfig,
    OneOf,
    PaceConfig,
    PitchConfig,
    Range,
    TalkConfig,
    ToneConfig,
    VadConfig,
)
from companion.errors import ConfigError
from companion.paths import user_coaching_file
from companion.resources import resource_path

__all__ = [
    "BELOW", "INCREASING", "RENAMED", "RETIRED", "WITHIN",
    "AsrConfig", "AudioConfig", "CaptureConfig", "CoachConfig", "CoachingConfig", "ConfigError", "CustomerMoodConfig",
    "InterruptionConfig", "OneOf", "PaceConfig", "PitchConfig", "Range", "TalkConfig", "ToneConfig", "VadConfig",
    "load_config", "read_toml", "save_user_overrides", "setting_range", "user_coaching_file",
]


class _Origins:
    """Which file each setting came from: the last of the files that names it or a table above it."""

    def __init__(self, layers: Sequence[tuple[Path, Mapping[str, Any]]]) -> None:
        self.files = [str(path) for path, _ in layers]
        self._rank: dict[str, int] = {}
        for rank, (_, data) in enumerate(layers):
            self._note(data, "", rank)

    def _note(self, data: Mapping[str, Any], prefix: str, rank: int) -> None:
        for key, value in data.items():
            self._rank[prefix + key] = rank
            if isinstance(value, Mapping):
                self._note(value, f"{prefix}{key}.", rank)

    def rank(self, key: str) -> int:
        while key not in self._rank and "." in key:
            key = key.rsplit(".", 1)[0]
        return self._rank.get(key, 0)

    def __call__(self, *keys: str) -> str:
        return self.files[max(self.rank(key) for key in keys)]


def _shown(value: Any) -> str:
    """A value as the user wrote it, short."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:g}" if value.is_integer() else repr(value)
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_shown(v) for v in value) + "]"
    elif isinstance(value, Mapping):
        text = "a table"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _bad(key: str, origin: _Origins, what: str, value: Any) -> ConfigError:
    return ConfigError(f"{key} in {origin(key)} {what} (got {_shown(value)}).")


def _build(cls: type[Any], data: Mapping[str, Any], prefix: str, origin: _Origins) -> Any:
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name != "sources"}
    unknown = sorted(set(data) - set(fields))
    if unknown and f"coaching.{prefix}{unknown[0]}" in RENAMED:
        raise ConfigError(f"Setting coaching.{prefix}{unknown[0]} in {origin(prefix + unknown[0])} is now called "
                          f"{RENAMED['coaching.' + prefix + unknown[0]]}; rename it.")
    retired = [name for name in unknown if f"coaching.{prefix}{name}" in RETIRED]
    if retired:
        raise ConfigError(f"Setting coaching.{prefix}{retired[0]} in {origin(prefix + retired[0])} is no longer used "
                          f"({RETIRED['coaching.' + prefix + retired[0]]}); remove it.")
    if unknown:
        raise ConfigError(f"Unknown setting coaching.{prefix}{unknown[0]} in {origin(prefix + unknown[0])} "
                          f"(known: {', '.join(sorted(fields))}).")
    missing = sorted(set(fields) - set(data))
    if missing:
        raise ConfigError(f"Missing setting coaching.{prefix}{missing[0]} in {origin(prefix + missing[0])}.")
    return cls(**{name: _coerce(hints[name], data[name], prefix + name, origin) for name in fields})


def _coerce(hint: Any, value: Any, key: str, origin: _Origins) -> Any:
    if typing.get_origin(hint) is Annotated:
        base, *rules = typing.get_args(hint)
        value = _coerce(base, value, key, origin)
        for rule in rules:
            if not rule.admits(value):
                raise _bad(key, origin, f"must be {rule}", value)
        return value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise _bad(key, origin, "must be a table", value)
        return _build(hint, value, key + ".", origin)
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and args[-1] is Ellipsis:
        if not isinstance(value, (list, tuple)):
            raise _bad(key, origin, "must be a list", value)
        return tuple(_coerce(args[0], v, key, origin) for v in value)
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise _bad(key, origin, f"must be a list of {len(args)} numbers", value)
        return tuple(_coerce(a, v, key, origin) for a, v in zip(args, value))
    if hint is bool:
        if not isinstance(value, bool):
            raise _bad(key, origin, "must be true or false", value)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(key, origin, "must be a whole number", value)
        return value
    if hint is str:
        if not isinstance(value, str):
            raise _bad(key, origin, "must be text", value)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(key, origin, "must be a number", value)
        return float(value)
    raise TypeError(f"no reading for a setting of type {hint!r}")


def setting_range(key: str) -> Range:
    """The allowed range of a number setting, e.g. setting_range("coach.cooldown_s")."""
    hint: Any = CoachingConfig
    for name in key.split("."):
        hint = typing.get_type_hints(hint, include_extras=True)[name]
    for rule in typing.get_args(hint)[1:] if typing.get_origin(hint) is Annotated else ():
        if isinstance(rule, Range):
            return rule
    raise KeyError(f"{key} has no range")


def _merge(base: dict[str, Any], override: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            merged[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            merged[key] = value
    return merged


def read_toml(path: Path, what: str = "Coaching file") -> dict[str, Any]:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {what.lower()} {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (some Windows editors write one) is fine
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{what} {path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start}, "
                          f"line {line}); save it as UTF-8.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None


def load_config(user_file: Path | None = None, use_user_default: bool = True) -> CoachingConfig:
    """Bundled defaults, then the user's coaching.toml (explicit file, or the default location)."""
    default_path = resource_path("coaching.toml")
    layers = [(default_path, read_toml(default_path))]
    if user_file is None and use_user_default:
        candidate = user_coaching_file()
        if candidate.is_file():
            user_file = candidate
    if user_file is not None:
        layers.append((Path(user_file), read_toml(Path(user_file))))
    return _from_layers(layers)


def _from_layers(layers: Sequence[tuple[Path, Mapping[str, Any]]]) -> CoachingConfig:
    """The configuration of these files, each overriding the ones before; checked throughout."""
    data: dict[str, Any] = {}
    for _, layer in layers:
        data = _merge(data, layer)
    origin = _Origins(layers)
    config: CoachingConfig = _build(CoachingConfig, data, "", origin)
    _check(config, origin)
    return dataclasses.replace(config, sources=tuple(origin.files))


def _value(config: CoachingConfig, key: str) -> Any:
    return functools.reduce(getattr, key.split("."), config)


def _in_order(config: CoachingConfig, origin: _Origins, low: str, high: str, strict: bool) -> None:
    """`low` below `high` (or at most, when not strict); the message is about whichever was set last."""
    a, b = _value(config, low), _value(config, high)
    if a < b or (a == b and not strict):
        return
    below, above = ("below", "above") if strict else ("at most", "at least")
    if origin.rank(high) > origin.rank(low):
        raise ConfigError(f"{high} in {origin(high)} must be {above} {low}, which is {_shown(a)} (got {_shown(b)}).")
    raise ConfigError(f"{low} in {origin(low)} must be {below} {high}, which is {_shown(b)} (got {_shown(a)}).")


def _check(config: CoachingConfig, origin: _Origins) -> None:
    """The rules between settings; each setting's own range was checked as it was read."""
    for low, high in BELOW:
        _in_order(config, origin, low, high, strict=True)
    for amount, window in WITHIN:
        _in_order(config, origin, amount, window, strict=False)
    for key in INCREASING:
        low, high = _value(config, key)
        if not low < high:
            raise _bad(key, origin, "must be two increasing numbers", [low, high])
    nyquist = config.audio.sample_rate / 2
    if config.pace.envelope_band_hz[1] > nyquist:
        raise _bad("pace.envelope_band_hz", origin, f"must stay at or below half of audio.sample_rate, {nyquist:g} Hz",
                   list(config.pace.envelope_band_hz))
    if not config.capture.retry_s:
        raise _bad("capture.retry_s", origin, "must list at least one delay in seconds", [])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        import json

        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"Cannot store {value!r} in a settings file.")


def _toml_lines(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{prefix}{key}]"] + _toml_lines(value, f"{prefix}{key}.")
    return lines


def save_user_overrides(changes: Mapping[str, Any]) -> Path:
    """Merge `changes` (nested tables) into the user's coaching.toml and write it atomically.
    The result must still be a valid configuration."""
    path = user_coaching_file()
    current = read_toml(path) if path.is_file() else {}
    merged = _merge(current, changes)
    default_path = resource_path("coaching.toml")
    _from_layers([(default_path, read_toml(default_path)), (path, merged)])
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# Your Call Companion settings: only what differs from resources/coaching.toml.\n"
    text += "\n".join(_toml_lines(merged)).lstrip("\n") + "\n"
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ConfigError(f"Cannot save settings to {path}: {exc.strerror or exc}.") from None
    return path
