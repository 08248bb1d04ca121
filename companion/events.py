"""Plain data passed between stages: frames, turns, interruptions, snapshots, prompts.

Every event carries times in seconds on the call clock (0 = start of the call or file).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Optional, Union, get_args

import numpy as np

Party = Literal["agent", "customer"]
PARTIES: tuple[Party, Party] = ("agent", "customer")


# The status fields' values, as the events file, the store and the team documents write them. A StrEnum
# member is its string (equal to it, formatted and stored as it), so a reader of any of those sees no change.
class PaceSource(StrEnum):
    """Where the agent's pace comes from: the sound (syllable nuclei) or the recognised words."""

    ACOUSTIC = "acoustic"
    ASR = "asr"


class Mood(StrEnum):
    """How the customer sounds, in rising order."""

    CALM = "calm"
    TENSE = "tense"
    UPSET = "upset"


class LineStatus(StrEnum):
    """A party's line (DeviceStatus.status)."""

    CAPTURING = "capturing"
    LOST = "lost"             # silent until it returns
    RETRYING = "retrying"
    RECOVERED = "recovered"   # with the gap it was silent
    OVERFLOW = "overflow"     # audio was dropped: the machine did not keep up


class TickSource(StrEnum):
    """Who ticked a checklist step: a cue in what the agent said, or the agent by hand."""

    AUTO = "auto"
    MANUAL = "manual"


def _as(kind: type[StrEnum], obj: object, name: str) -> None:
    """A status field given as its string becomes its enum member (an unknown string is refused here, where it
    is made, not where it is read)."""
    value = getattr(obj, name)
    if value is not None and not isinstance(value, kind):
        object.__setattr__(obj, name, kind(value))


@dataclass(frozen=True)
class FrameBlock:
    """A run of fixed-size frames for both parties, aligned on the call clock.

    `agent` and `customer` are float32 arrays shaped (frames, frame_len) at the
    internal sample rate; `first_frame` is the index of row 0 on the call clock.
    """

    first_frame: int
    agent: np.ndarray
    customer: np.ndarray

    @property
    def frames(self) -> int:
        return int(self.agent.shape[0])


@dataclass(frozen=True)
class Turn:
    """One party speaking, from the first to the last voiced frame."""

    party: Party
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Interruption:
    """One party starting to talk over the other and keeping going.

    `t` is the onset of the interrupting speech; `overlap_s` how long both talked.
    """

    t: float
    by: Party
    overlap_s: float


@dataclass(frozen=True)
class DeadAir:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class MetricsSnapshot:
    """What the monitor knows about the call at time `t`."""

    t: float
    agent_speaking: bool
    customer_speaking: bool
    agent_level_db: float           # last frame, dBFS: for level meters
    customer_level_db: float
    pace_wpm: Optional[float]       # rolling, over the last window of agent speech
    pace_source: PaceSource         # "acoustic" or "asr"
    pace_speech_s: float            # agent speaking time the rolling pace covers
    loudness_db: Optional[float]    # agent, recent speech
    loudness_baseline_db: Optional[float]
    pitch_hz: Optional[float]
    pitch_baseline_hz: Optional[float]
    agent_talk_s: float             # whole call
    customer_talk_s: float
    talk_share_window: Optional[float]  # agent share of talk over the rolling window
    window_talk_s: float            # speech of both parties in that window
    talk_share_call: Optional[float]
    current_monologue_s: float
    longest_monologue_s: float
    silence_s: float                # current stretch with both parties silent
    interruptions_by_agent: int
    interruptions_by_customer: int
    agent_interrupting_since: Optional[float]  # onset of an ongoing confirmed agent interruption
    agent_interrupting_s: float     # how long that overlap has lasted so far
    dropped_blocks: int
    apologies: int = 0              # the agent's, in recognised speech
    pace_short_wpm: Optional[float] = None     # the coach's detection pace: last few seconds of agent speech
    pace_baseline_wpm: Optional[float] = None  # the agent's pace over their first speech in the call (same source)
    pace_calibrated: bool = False              # acoustic pace divided by this agent's own nuclei per word
    customer_state: Optional[Mood] = None  # "calm", "tense", "upset"; None until their baseline is known
    customer_calm_s: float = 0.0               # how long they have been calm (near their baseline)
    customer_loudness_db: Optional[float] = None  # their recent speech above their baseline level
    customer_pitch_semitones: Optional[float] = None  # and above their baseline pitch
    customer_pace_rise: Optional[float] = None  # their recent syllable rate over their baseline, minus 1
    customer_talkovers: int = 0                # their held talk-overs of the agent, recently

    def __post_init__(self) -> None:
        _as(PaceSource, self, "pace_source")
        _as(Mood, self, "customer_state")

    @property
    def loudness_delta_db(self) -> Optional[float]:
        if self.loudness_db is None or self.loudness_baseline_db is None:
            return None
        return self.loudness_db - self.loudness_baseline_db

    @property
    def pitch_delta_semitones(self) -> Optional[float]:
        if not self.pitch_hz or not self.pitch_baseline_hz:
            return None
        return 12.0 * float(np.log2(self.pitch_hz / self.pitch_baseline_hz))


CUSTOMER_STATES: tuple[str, ...] = tuple(mood.value for mood in Mood)  # in rising order


@dataclass(frozen=True)
class CustomerState:
    """The customer's mood changed to `state` at `t` (the first one: their baseline is known)."""

    t: float
    state: Mood

    def __post_init__(self) -> None:
        _as(Mood, self, "state")


@dataclass(frozen=True)
class Prompt:
    t: float
    kind: str
    reason: str


@dataclass(frozen=True)
class Word:
    """A recognised word, times on the call clock."""

    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class PartialText:
    """What the recogniser thinks a party is saying so far; replaced by the next one."""

    party: Party
    t: float          # call time of the audio heard so far
    text: str
    words: tuple[Word, ...] = ()  # with tentative timings


@dataclass(frozen=True)
class FinalSegment:
    """Final words of one stretch of speech, at an endpoint or when the stream ends."""

    party: Party
    start: float
    end: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)


@dataclass(frozen=True)
class TranscriberFailed:
    """A party's recogniser stopped; coaching goes on from the audio."""

    party: Party
    message: str


@dataclass(frozen=True)
class StepTicked:
    """A checklist step done (or undone), by a cue in what the agent said or by hand."""

    t: float
    step_id: str
    title: str
    source: TickSource          # "auto" or "manual"
    phrase: Optional[str] = None
    done: bool = True

    def __post_init__(self) -> None:
        _as(TickSource, self, "source")


@dataclass(frozen=True)
class CallStarted:
    """Capture began: call time 0 is `wall` (Unix time)."""

    wall: float


@dataclass(frozen=True)
class DeviceStatus:
    """A party's line changed: capturing, lost (silent until it returns), recovered (with the gap)."""

    t: float
    party: Party
    status: LineStatus   # "capturing", "lost", "retrying", "recovered", "overflow"
    device: str
    message: str
    gap_start: Optional[float] = None  # with "recovered": the stretch the party was silent
    gap_end: Optional[float] = None

    def __post_init__(self) -> None:
        _as(LineStatus, self, "status")


@dataclass(frozen=True)
class CallEnded:
    duration_s: float
    dropped_blocks: int
    agent_wpm: Optional[float] = None   # words per minute of agent speaking time, whole call
    pace_source: PaceSource = PaceSource.ACOUSTIC

    def __post_init__(self) -> None:
        _as(PaceSource, self, "pace_source")


@dataclass(frozen=True)
class MonitorFailed:
    """The monitor stopped on an error; what it published before stays valid."""

    t: float
    message: str


@dataclass(frozen=True)
class SaveFailed:
    """Keeping the call failed (a full disk, a lost folder): coaching goes on, and what was
    stored before the failure stays. `what` is "call" (the store) or "audio" (the recording)."""

    what: str
    message: str


@dataclass(frozen=True)
class SavingResumed:
    """The store can be written again after a SaveFailed: what waited in memory is saved and the call goes
    on being saved. `what` is "call"; `message` says up to where the call is saved."""

    what: str
    message: str


@dataclass(frozen=True)
class StoringPaused:
    """Pause for payment: from `t`, nothing the parties say is stored (text or audio) until a
    StoringPaused with `paused` False; coaching from the sound goes on. `automatic`: started (or ended)
    by the payment-cue watcher, not the agent's key; `cue`: the payment cue that started it."""

    t: float
    paused: bool
    automatic: bool = False
    cue: Optional[str] = None


@dataclass(frozen=True)
class MessageFromSupervisor:
    """A supervisor's short text reached the agent at `t` on the call (the team live, issue 25): shown as a
    banner of its own, never a coaching cue, and kept with the call. `sender`: the supervisor's login on the
    team server; `message_id`: the message's id there (None when it did not come from one)."""

    t: float
    sender: str
    text: str
    message_id: Optional[int] = None


# Everything the call's bus carries (companion.bus): each has its entry in the events file's table
# (companion.event_json) and the store's (companion.store.recorder), tested in tests/test_event_types.py.
Event = Union[
    CallStarted,
    DeviceStatus,
    Turn,
    Interruption,
    DeadAir,
    MetricsSnapshot,
    CustomerState,
    Prompt,
    PartialText,
    FinalSegment,
    StepTicked,
    StoringPaused,
    TranscriberFailed,
    MonitorFailed,
    SaveFailed,
    SavingResumed,
    MessageFromSupervisor,
    CallEnded,
]
EVENT_TYPES: tuple[type, ...] = get_args(Event)
