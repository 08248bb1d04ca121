"""What the coaching settings are: every table of `resources/coaching.toml` as a frozen dataclass,
each number's allowed values beside its field (`Annotated[float, Range(lo, hi)]`), and the rules
between settings (the tables at the end). `companion.config` reads and checks files against it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any


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

    values: tuple[Any, ...]

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
    # the agent's voice coming back on the customer's line (companion/vad/echo.py)
    echo_max_delay_s: Annotated[float, Range(0.0, 2.0)]
    echo_history_s: Annotated[float, Range(2.0, 120.0)]
    echo_every_s: Annotated[float, Range(0.1, 10.0)]
    echo_min_agent_s: Annotated[float, Range(0.5, 60.0)]
    echo_correlation: Annotated[float, Range(0.0, 1.0)]
    echo_release: Annotated[float, Range(0.0, 1.0)]
    echo_margin_db: Decibels
    preroll_s: Annotated[float, Range(0.0, 2.0)] = 0.0   # how far back a soft first word (judged against the line's noise) is heard
    # a steady noise close under the voice (hiss, hum): the gate lowered to the noise's own reach (companion/vad/voice_activity.py)
    steady_spreads: Annotated[float, Range(0.0, 20.0)] = 0.0   # the reach: the noise's mean + this many of its spreads...
    steady_margin_db: Annotated[float, Range(0.0, 20.0)] = 0.0  # ... + this margin
    voice_depth_db: Annotated[float, Range(0.0, 60.0)] = 0.0    # never deeper under the party's loudest speech (0: off)
    # while no echo path is known and the last echo_history_s holds too little of the agent's speech to find one, the
    # path is read over up to this much of the call (0: never further back than echo_history_s)
    echo_history_most_s: Annotated[float, Range(0.0, 600.0)] = 0.0
    # the party's own voice, close to the microphone, told from other people farther off in the room
    # (companion/vad/own_voice.py); own_voice_range_db = 0: all speech is the party's
    own_voice_range_db: Annotated[float, Range(0.0, 60.0)] = 0.0
    own_voice_percentile: Annotated[float, Range(50.0, 100.0)] = 95.0
    own_voice_memory_s: Annotated[float, Range(5.0, 600.0)] = 60.0
    own_voice_min_s: Annotated[float, Range(0.1, 60.0)] = 1.0
    own_voice_grid_s: Annotated[float, Range(0.02, 5.0)] = 0.5
    own_voice_run_s: Annotated[float, Range(0.02, 1.0)] = 0.02
    own_voice_hold_s: Annotated[float, Range(0.0, 5.0)] = 1.0
    own_voice_soft_db: Annotated[float, Range(0.0, 80.0)] = 0.0   # a soft first or last word lies within this (0: off)


@dataclass(frozen=True)
class PaceConfig:
    window_speech_s: Annotated[float, Range(5.0, 600.0)]
    min_speech_s: Annotated[float, Range(0.0, 600.0)]
    syllables_per_word: Annotated[float, Range(0.5, 3.0)]
    envelope_band_hz: tuple[Hertz, Hertz]
    min_dip_db: Annotated[float, Range(0.1, 20.0)]
    close_peak_s: Annotated[float, Range(0.0, 1.0)]
    close_peak_dip_db: Annotated[float, Range(0.0, 40.0)]
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
    loudness_percentile: Annotated[float, Range(50.0, 99.0)] = 90.0  # the level of the vowels, not the pauses
    baseline_lag_s: Annotated[float, Range(0.0, 600.0)] = 10.0  # the latest speech is judged, not yet usual


@dataclass(frozen=True)
class CustomerMoodConfig:
    """The customer's state (calm, tense, upset) from their own voice against their own baseline and spread."""

    baseline_speech_s: Annotated[float, Range(2.0, 600.0)]     # their first talk in the call (time in their turns)
    window_speech_s: Annotated[float, Range(0.5, 60.0)]        # their voice now: level and pitch
    pace_window_speech_s: Annotated[float, Range(2.0, 120.0)]  # their pace now (shown, no evidence)
    loudness_percentile: Annotated[float, Range(50.0, 99.0)]   # the level of the louder frames of their speech
    loudness_z: Annotated[float, Range(0.1, 20.0)]             # raised: this many of their level spreads above
    loudness_spread_least_db: Annotated[float, Range(0.1, 20.0)]  # their level spread taken as at least this
    loudness_spread_most_db: Annotated[float, Range(0.1, 20.0)]   # and at most this
    pitch_z: Annotated[float, Range(0.1, 20.0)]                # raised: this many of their pitch spreads above
    pitch_spread_least_semitones: Annotated[float, Range(0.1, 12.0)]
    pitch_spread_most_semitones: Annotated[float, Range(0.1, 12.0)]
    talkovers: Count                                           # raised: they talked over the agent this often
    talkover_window_s: Annotated[float, Range(1.0, 3600.0)]    # within this long
    release: Annotated[float, Range(0.0, 1.0)]                 # a raised cue stays raised down to this fraction
    corroborate: Annotated[float, Range(0.0, 1.0)]             # a hint of a cue (pitch, loudness): this fraction of its line
    dwell_s: Annotated[float, Range(0.0, 60.0)]                # a state must hold this long to be shown
    calm_dwell_s: Annotated[float, Range(0.0, 600.0)]          # and a calmer one this long
    rebase_speech_s: Annotated[float, Range(1.0, 600.0)]       # a level change alone this long is the line


@dataclass(frozen=True)
class InterruptionConfig:
    min_overlap_s: Annotated[float, Range(0.1, 30.0)]
    min_lead_s: Annotated[float, Range(0.0, 30.0)]
    resume_s: Annotated[float, Range(0.0, 10.0)]
    agent_resume_s: Annotated[float, Range(0.0, 10.0)]  # the agent's pause a customer's answer does not cut into
    reclaim_s: Annotated[float, Range(0.0, 60.0)]   # cut in on, back within this long: carrying on, not cutting in


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
    rearm_speech_s: Annotated[float, Range(0.0, 600.0)] = 4.0  # under the release through this much agent speech


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
    loudness_alone_db: Annotated[float, Range(1.0, 40.0)] = 7.0  # louder with no rise in pitch


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
class CustomerUpsetRule:
    enabled: bool
    repeat_s: Seconds   # a reminder while they stay upset


@dataclass(frozen=True)
class CustomerCalmerRule:
    enabled: bool
    after_s: Annotated[float, Range(1.0, 3600.0)]  # back near their baseline this long after being upset


@dataclass(frozen=True)
class CoachConfig:
    evaluate_every_s: Annotated[float, Range(0.05, 10.0)]
    metrics_every_s: Annotated[float, Range(0.1, 60.0)]
    cooldown_s: Seconds
    min_gap_s: Seconds
    repeat_backoff: Annotated[float, Range(1.0, 10.0)]  # each reminder of one episode waits this much longer
    slow_down: SlowDownRule
    speeding_up: SpeedingUpRule
    lower_tone: LowerToneRule
    keep_listening: KeepListeningRule
    stop_apologizing: StopApologizingRule
    dead_air: DeadAirRule
    customer_upset: CustomerUpsetRule
    customer_calmer: CustomerCalmerRule


@dataclass(frozen=True)
class PrivacyConfig:
    record_audio: bool
    redact: bool
    show_digits: bool           # the live transcript shows numbers as said for a minute (payment screens); the store never
    auto_pause: bool            # pause for payment by itself when a payment cue is said (needs a speech model)
    payment_cues: tuple[str, ...]  # what starts it; a playbook's own `payment_cues` replace these for its calls
    auto_resume_s: Annotated[float, Range(5.0, 600.0)]  # resume after this long without a digit or card word


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
    customer: CustomerMoodConfig
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

# Settings that are gone: a user's file that still sets one is told what replaced it.
_OWN_SPREAD = "the customer's mood is now judged against their own spread: customer.loudness_z and customer.pitch_z"
RETIRED = {
    "coaching.customer.pace_above": "speaking rate is shown but no longer counts as evidence of upset",
    "coaching.customer.tense_cues": _OWN_SPREAD,
    "coaching.customer.upset_cues": _OWN_SPREAD,
    "coaching.customer.loudness_above_db": _OWN_SPREAD,
    "coaching.customer.pitch_above_semitones": _OWN_SPREAD,
    "coaching.vad.preroll_gate_db": "a soft first word is now judged against the line's own noise, not a fixed gate",
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
    ("customer.loudness_spread_least_db", "customer.loudness_spread_most_db"),  # a spread's floor and ceiling
    ("customer.pitch_spread_least_semitones", "customer.pitch_spread_most_semitones"),
    ("interruptions.agent_resume_s", "interruptions.resume_s"),  # the agent's turn holds no longer than a turn does
)
# Pairs written low to high.
INCREASING = ("coach.slow_down.target_wpm", "pace.envelope_band_hz")
