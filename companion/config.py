"""Coaching configuration: `resources/coaching.toml`, overridden by the user's file.

The TOML is the single place thresholds live; this module turns it into frozen dataclasses and
refuses unknown keys, wrong types and values out of range, in one line naming the setting, the
file it came from and what is allowed. Each number's allowed values are data beside its field
(`Annotated[float, Range(lo, hi)]`); the rules between settings are the tables after the classes.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Mapping, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from companion.errors import ConfigError
from companion.paths import user_coaching_file
from companion.resources import resource_path


@dataclass(frozen=True)
class Range:
    """The values a number setting may take: from `lo` to `hi`, both included (never NaN or infinite)."""

    lo: float
    hi: float

    def admits(self, value: float) -> bool:
        return self.lo <= value <= self.hi  # False for NaN, and infinity is above any hi

    def __str__(self) -> str:
        return f"between {self.lo:g} and {self.hi:g}"


@dataclass(frozen=True)
class OneOf:
    """The only values a setting may take."""

    values: tuple

    def admits(self, value: Any) -> bool:
        return value in self.values

    def __str__(self) -> str:
        *head, last = (f"{v:g}" for v in self.values)
        return f"{', '.join(head)} or {last}"


Seconds = Annotated[float, Range(0.0, 3600.0)]      # a time up to an hour
Decibels = Annotated[float, Range(0.0, 40.0)]       # a level above the agent's own baseline
Semitones = Annotated[float, Range(0.0, 24.0)]      # a pitch above the baseline (up to two octaves)
Share = Annotated[float, Range(0.0, 1.0)]           # a fraction of the talk
Wpm = Annotated[float, Range(40.0, 400.0)]          # words per minute
Hertz = Annotated[float, Range(0.0, 24000.0)]
Frames = Annotated[int, Range(1, 500)]              # audio frames handed on at once (500 frames: 10 s or more)
Blocks = Annotated[int, Range(1, 10000)]            # length of a bounded queue, in blocks
Count = Annotated[int, Range(1, 100)]


@dataclass(frozen=True)
class AudioConfig:
    sample_rate: Annotated[int, OneOf((8000, 16000, 32000, 48000))]  # the rates the voice detector accepts
    frame_ms: Annotated[int, OneOf((10, 20, 30))]
    file_block_frames: Frames
    queue_blocks: Blocks

    @property
    def frame_len(self) -> int:
        return self.sample_rate * self.frame_ms // 1000

    @property
    def frame_s(self) -> float:
        return self.frame_ms / 1000.0


@dataclass(frozen=True)
class CaptureConfig:
    live_block_frames: Frames
    buffer_s: Annotated[float, Range(0.1, 60.0)]
    poll_s: Annotated[float, Range(0.005, 1.0)]
    stall_s: Annotated[float, Range(0.1, 60.0)]
    start_grace_s: Annotated[float, Range(0.0, 60.0)]
    retry_s: tuple[Annotated[float, Range(0.1, 600.0)], ...]  # at least one delay (see _check)
    max_skew_s: Annotated[float, Range(0.02, 5.0)]
    source_check_s: Annotated[float, Range(0.1, 60.0)]


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: Annotated[int, Range(0, 3)]  # webrtcvad's modes
    snr_gate_db: Decibels
    noise_window_s: Annotated[float, Range(0.5, 60.0)]
    onset_s: Annotated[float, Range(0.0, 2.0)]
    hangover_s: Annotated[float, Range(0.0, 5.0)]


@dataclass(frozen=True)
class PaceConfig:
    window_speech_s: Annotated[float, Range(5.0, 600.0)]
    min_speech_s: Annotated[float, Range(0.0, 600.0)]
    syllables_per_word: Annotated[float, Range(0.5, 3.0)]
    envelope_band_hz: tuple[Hertz, Hertz]
    min_dip_db: Annotated[float, Range(0.1, 20.0)]
    smoothing_s: Annotated[float, Range(0.01, 0.2)]
    max_smoothing_s: Annotated[float, Range(0.01, 0.2)]
    smoothing_per_period: Annotated[float, Range(0.0, 1.0)]
    calibration_min_words: Annotated[int, Range(20, 100000)]
    calibration_memory_words: Annotated[int, Range(100, 1000000)]
    fallback_after_s: Annotated[float, Range(1.0, 3600.0)]


@dataclass(frozen=True)
class PitchConfig:
    min_hz: Annotated[float, Range(30.0, 500.0)]
    max_hz: Annotated[float, Range(60.0, 1000.0)]
    voicing_threshold: Annotated[float, Range(0.1, 1.0)]


@dataclass(frozen=True)
class ToneConfig:
    baseline_window_s: Annotated[float, Range(5.0, 3600.0)]
    baseline_min_speech_s: Annotated[float, Range(1.0, 3600.0)]
    loudness_window_s: Annotated[float, Range(0.1, 60.0)]
    pitch_window_s: Annotated[float, Range(0.1, 60.0)]


@dataclass(frozen=True)
class InterruptionConfig:
    min_overlap_s: Annotated[float, Range(0.1, 30.0)]
    min_lead_s: Annotated[float, Range(0.0, 30.0)]
    resume_s: Annotated[float, Range(0.0, 10.0)]


@dataclass(frozen=True)
class TalkConfig:
    window_s: Annotated[float, Range(10.0, 3600.0)]
    monologue_gap_s: Annotated[float, Range(0.1, 60.0)]
    backchannel_max_s: Annotated[float, Range(0.0, 60.0)]
    dead_air_s: Annotated[float, Range(1.0, 3600.0)]


Margin = Annotated[float, Range(0.0, 1.0)]          # a fraction a pace must clear, for the estimate's error


@dataclass(frozen=True)
class SlowDownRule:
    enabled: bool
    wpm_above: Annotated[float, Range(60.0, 400.0)]
    release_wpm: Wpm
    min_speech_s: Annotated[float, Range(0.0, 600.0)]
    target_wpm: tuple[Wpm, Wpm]
    repeat_s: Seconds
    window_speech_s: Annotated[float, Range(2.0, 600.0)]  # the short pace that detects (speaking time)
    acoustic_margin: Margin   # acoustic pace: over the lines by this fraction
    asr_margin: Margin        # pace from recognised words
    sustain_speech_s: Annotated[float, Range(0.0, 600.0)]  # fast through this much agent speech (window included)


@dataclass(frozen=True)
class SpeedingUpRule:
    enabled: bool
    rise: Annotated[float, Range(0.01, 3.0)]     # the pace this fraction above the call's own baseline
    release: Annotated[float, Range(0.0, 3.0)]   # re-armed once back within this fraction
    baseline_speech_s: Annotated[float, Range(5.0, 3600.0)]  # the baseline: the call's first agent speech
    sustain_speech_s: Annotated[float, Range(0.0, 600.0)]  # risen through this much agent speech (window included)
    repeat_s: Seconds


@dataclass(frozen=True)
class LowerToneRule:
    enabled: bool
    loudness_above_db: Annotated[float, Range(1.0, 40.0)]
    release_db: Decibels
    pitch_above_semitones: Annotated[float, Range(0.5, 24.0)]
    release_semitones: Semitones
    hold_s: Annotated[float, Range(0.0, 60.0)]
    repeat_s: Seconds


@dataclass(frozen=True)
class KeepListeningRule:
    enabled: bool
    on_interruption: bool
    talk_share_above: Share
    talk_share_release: Share
    talk_share_min_speech_s: Seconds
    monologue_s: Annotated[float, Range(5.0, 3600.0)]


@dataclass(frozen=True)
class StopApologizingRule:
    enabled: bool
    max_apologies: Count  # 0 would prompt again every cooldown without a new apology
    words: tuple[str, ...]


@dataclass(frozen=True)
class DeadAirRule:
    enabled: bool
    silence_s: Annotated[float, Range(1.0, 3600.0)]


@dataclass(frozen=True)
class CoachConfig:
    evaluate_every_s: Annotated[float, Range(0.05, 10.0)]
    metrics_every_s: Annotated[float, Range(0.1, 60.0)]
    cooldown_s: Seconds
    min_gap_s: Seconds
    slow_down: SlowDownRule
    speeding_up: SpeedingUpRule
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
    queue_blocks: Blocks


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

# (lower, higher): each rule re-arms only once clearly out of its state (hysteresis), so its
# release sits below its trigger; pitch is searched between min_hz and max_hz.
BELOW = (
    ("coach.slow_down.release_wpm", "coach.slow_down.wpm_above"),
    ("coach.speeding_up.release", "coach.speeding_up.rise"),
    ("coach.lower_tone.release_db", "coach.lower_tone.loudness_above_db"),
    ("coach.lower_tone.release_semitones", "coach.lower_tone.pitch_above_semitones"),
    ("coach.keep_listening.talk_share_release", "coach.keep_listening.talk_share_above"),
    ("pitch.min_hz", "pitch.max_hz"),
)
# (amount, window): speech a rolling window must be able to hold, or the metric never shows.
WITHIN = (
    ("pace.min_speech_s", "pace.window_speech_s"),
    ("coach.slow_down.min_speech_s", "pace.window_speech_s"),
    ("tone.baseline_min_speech_s", "tone.baseline_window_s"),
    ("pace.smoothing_s", "pace.max_smoothing_s"),  # the shortest smoothing and the longest
)
# Pairs written low to high.
INCREASING = ("coach.slow_down.target_wpm", "pace.envelope_band_hz")


class _Origins:
    """Which file each setting came from: the last of the files that names it or a table above it."""

    def __init__(self, layers: Sequence[tuple[Path, Mapping]]):
        self.files = [str(path) for path, _ in layers]
        self._rank: dict[str, int] = {}
        for rank, (_, data) in enumerate(layers):
            self._note(data, "", rank)

    def _note(self, data: Mapping, prefix: str, rank: int) -> None:
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


def _build(cls: type, data: Mapping[str, Any], prefix: str, origin: _Origins) -> Any:
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name != "sources"}
    unknown = sorted(set(data) - set(fields))
    if unknown and f"coaching.{prefix}{unknown[0]}" in RENAMED:
        raise ConfigError(f"Setting coaching.{prefix}{unknown[0]} in {origin(prefix + unknown[0])} is now called "
                          f"{RENAMED['coaching.' + prefix + unknown[0]]}; rename it.")
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
    if dataclasses.is_dataclass(hint):
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


def _from_layers(layers: Sequence[tuple[Path, Mapping]]) -> CoachingConfig:
    """The configuration of these files, each overriding the ones before; checked throughout."""
    data: dict = {}
    for _, layer in layers:
        data = _merge(data, layer)
    origin = _Origins(layers)
    config = _build(CoachingConfig, data, "", origin)
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
