"""Coaching configuration: `resources/coaching.toml`, overridden by the user's file.

The TOML is the single place thresholds live; this module only turns it into
frozen dataclasses and refuses unknown keys or wrong types with a clear message.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from companion.errors import ConfigError
from companion.paths import user_coaching_file
from companion.resources import resource_path


@dataclass(frozen=True)
class AudioConfig:
    sample_rate: int
    frame_ms: int
    file_block_frames: int
    queue_blocks: int

    @property
    def frame_len(self) -> int:
        return self.sample_rate * self.frame_ms // 1000

    @property
    def frame_s(self) -> float:
        return self.frame_ms / 1000.0


@dataclass(frozen=True)
class CaptureConfig:
    live_block_frames: int
    buffer_s: float
    poll_s: float
    stall_s: float
    start_grace_s: float
    retry_s: tuple[float, ...]
    max_skew_s: float
    source_check_s: float


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: int
    snr_gate_db: float
    noise_window_s: float
    onset_s: float
    hangover_s: float


@dataclass(frozen=True)
class PaceConfig:
    window_speech_s: float
    min_speech_s: float
    syllables_per_word: float
    envelope_band_hz: tuple[float, float]
    min_dip_db: float
    smoothing_s: float
    fallback_after_s: float


@dataclass(frozen=True)
class PitchConfig:
    min_hz: float
    max_hz: float
    voicing_threshold: float


@dataclass(frozen=True)
class ToneConfig:
    baseline_window_s: float
    baseline_min_speech_s: float
    loudness_window_s: float
    pitch_window_s: float


@dataclass(frozen=True)
class InterruptionConfig:
    min_overlap_s: float
    min_lead_s: float
    resume_s: float


@dataclass(frozen=True)
class TalkConfig:
    window_s: float
    monologue_gap_s: float
    backchannel_max_s: float
    dead_air_s: float


@dataclass(frozen=True)
class SlowDownRule:
    enabled: bool
    wpm_above: float
    release_wpm: float
    min_speech_s: float
    target_wpm: tuple[float, float]
    repeat_s: float


@dataclass(frozen=True)
class LowerToneRule:
    enabled: bool
    loudness_above_db: float
    release_db: float
    pitch_above_semitones: float
    release_semitones: float
    hold_s: float
    repeat_s: float


@dataclass(frozen=True)
class KeepListeningRule:
    enabled: bool
    on_interruption: bool
    talk_share_above: float
    talk_share_release: float
    talk_share_min_speech_s: float
    monologue_s: float


@dataclass(frozen=True)
class StopApologizingRule:
    enabled: bool
    max_apologies: int
    words: tuple[str, ...]


@dataclass(frozen=True)
class DeadAirRule:
    enabled: bool
    silence_s: float


@dataclass(frozen=True)
class CoachConfig:
    evaluate_every_s: float
    metrics_every_s: float
    cooldown_s: float
    min_gap_s: float
    slow_down: SlowDownRule
    lower_tone: LowerToneRule
    keep_listening: KeepListeningRule
    stop_apologizing: StopApologizingRule
    dead_air: DeadAirRule


@dataclass(frozen=True)
class PrivacyConfig:
    record_audio: bool
    redact: bool


@dataclass(frozen=True)
class AsrConfig:
    language: str
    fillers: tuple[str, ...]
    queue_blocks: int


@dataclass(frozen=True)
class CoachingConfig:
    audio: AudioConfig
    capture: CaptureConfig
    vad: VadConfig
    pace: PaceConfig
    pitch: PitchConfig
    tone: ToneConfig
    interruptions: InterruptionConfig
    talk: TalkConfig
    coach: CoachConfig
    privacy: PrivacyConfig
    asr: AsrConfig
    sources: tuple[str, ...] = field(default=(), compare=False)


# Settings whose names changed: a user's file with the old name is told the new one.
RENAMED = {
    "coaching.audio.block_frames": "audio.file_block_frames",
    "coaching.capture.block_frames": "capture.live_block_frames",
}


def _build(cls: type, data: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name != "sources"}
    unknown = sorted(set(data) - set(fields))
    if unknown and f"{where}.{unknown[0]}" in RENAMED:
        raise ConfigError(f"Setting {where}.{unknown[0]} is now called {RENAMED[where + '.' + unknown[0]]}; rename it.")
    if unknown:
        raise ConfigError(f"Unknown setting {where}.{unknown[0]} (known: {', '.join(sorted(fields))}).")
    missing = sorted(set(fields) - set(data))
    if missing:
        raise ConfigError(f"Missing setting {where}.{missing[0]}.")
    values = {}
    for name in fields:
        values[name] = _coerce(hints[name], data[name], f"{where}.{name}")
    return cls(**values)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise ConfigError(f"Setting {where} must be a table.")
        return _build(hint, value, where)
    origin = typing.get_origin(hint)
    if origin is tuple and typing.get_args(hint)[-1] is Ellipsis:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"Setting {where} must be a list.")
        return tuple(_coerce(typing.get_args(hint)[0], v, where) for v in value)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"Setting {where} must be a list of {len(args)} numbers.")
        return tuple(_coerce(a, v, where) for a, v in zip(args, value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"Setting {where} must be true or false.")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"Setting {where} must be a whole number.")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"Setting {where} must be text.")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"Setting {where} must be a number.")
        return float(value)
    return value


def _merge(base: dict, override: Mapping, where: str = "") -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            merged[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            merged[key] = value
    return merged


def read_toml(path: Path, what: str = "Coaching file") -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {what.lower()} {path}: {exc.strerror}") from None


def load_config(user_file: Path | None = None, use_user_default: bool = True) -> CoachingConfig:
    """Bundled defaults, then the user's coaching.toml (explicit file, or the default location)."""
    default_path = resource_path("coaching.toml")
    data = read_toml(default_path)
    sources = [str(default_path)]
    if user_file is None and use_user_default:
        candidate = user_coaching_file()
        if candidate.is_file():
            user_file = candidate
    if user_file is not None:
        data = _merge(data, read_toml(Path(user_file)))
        sources.append(str(user_file))
    config = _build(CoachingConfig, data, "coaching")
    _check(config)
    return dataclasses.replace(config, sources=tuple(sources))


def _check(config: CoachingConfig) -> None:
    audio = config.audio
    if audio.sample_rate not in (8000, 16000, 32000, 48000):
        raise ConfigError("audio.sample_rate must be 8000, 16000, 32000 or 48000 (what the voice detector accepts).")
    if audio.frame_ms not in (10, 20, 30):
        raise ConfigError("audio.frame_ms must be 10, 20 or 30.")
    if audio.file_block_frames < 1 or audio.queue_blocks < 1 or config.capture.live_block_frames < 1:
        raise ConfigError("audio.file_block_frames, capture.live_block_frames and audio.queue_blocks must be at least 1.")
    if not 0 <= config.vad.aggressiveness <= 3:
        raise ConfigError("vad.aggressiveness must be between 0 and 3.")
    low, high = config.pace.envelope_band_hz
    if not 0 <= low < high <= audio.sample_rate / 2:
        raise ConfigError("pace.envelope_band_hz must be two increasing frequencies below half the sample rate.")
    if config.pace.syllables_per_word <= 0:
        raise ConfigError("pace.syllables_per_word must be positive.")
    if not 0 < config.pitch.min_hz < config.pitch.max_hz:
        raise ConfigError("pitch.min_hz must be positive and below pitch.max_hz.")


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


def _toml_lines(data: Mapping, prefix: str = "") -> list[str]:
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{prefix}{key}]"] + _toml_lines(value, f"{prefix}{key}.")
    return lines


def save_user_overrides(changes: Mapping) -> Path:
    """Merge `changes` (nested tables) into the user's coaching.toml and write it atomically.
    The result must still be a valid configuration."""
    path = user_coaching_file()
    current = read_toml(path) if path.is_file() else {}
    merged = _merge(current, changes)
    base = read_toml(resource_path("coaching.toml"))
    _check(_build(CoachingConfig, _merge(base, merged), "coaching"))
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
