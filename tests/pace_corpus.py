"""A labelled multi-voice corpus for the speaking-pace estimate.

Each clip is one agent monologue (a passage of plain customer-service English,
about 110 words) spoken by one synthetic voice at one rate, heard through one
line, with or without office noise. Three engines with different prosody:

* espeak-ng: seven voices/variants (`en-us`, `en-gb`, `en-us+f3`, `en-us+m3`,
  `en-us+f5`, and two `-p` pitch variants); rate via `-s`.
* festival: `kal_diphone`, `ked_diphone` (diphone voices, rate via
  `(Parameter.set 'Duration_Stretch X)`) and `cmu_us_slt_arctic_hts` (an HTS voice,
  which ignores Duration_Stretch: its rate is the hts_engine's `-r` speed, 1/X).
* piper: the neural voice `joe` (`en_US-joe-medium`, tests/pace_piper.py), without
  sampling noise; rate via its `length_scale`. Heard in every passage: five passages
  per rate (each passage at three rates) where the synthesizers have two.

Rates are aimed at `RATES` true words per minute by measuring each synthesis and
adjusting the engine's setting (`-s`, the stretch or the length scale) until the measured rate is
within `RATE_TOLERANCE` of the aim; whatever it lands on is what the clip records.

Lines: `headset` (16 kHz PCM, -60 dBFS noise floor) and `phone` (the same mix
through `sox ... sinc 300-3400`, 8 kHz mu-law). Each with and without office
noise (pink + brown noise, `SNR_DB` below the speech's active level). Speech is
set to an active level of `SPEECH_LEVEL_DB`.

Pace truth (words / speaking time):

* words: the passage's words (letters and apostrophes; the passages hold no
  digits, hyphens, abbreviations or fillers), so "don't" is one word;
* speaking time: the agent's turns from voice activity on the CLEAN synthesized
  audio (before noise and line), pauses inside a turn included. Voice activity
  here is a simple energy detector independent of the estimator under test (not
  `companion.vad.voice_activity.VoiceActivity`): 20 ms frames whose RMS level is
  within `VOICED_WITHIN_DB` (35 dB) of the clip's loudest frame are voiced, and
  gaps shorter than `vad.hangover_s` of the default coaching config (0.5 s) are
  bridged, as the app's turns bridge them. A turn runs from its first voiced
  frame to the end of its last.

Clips are cached on disk under a content hash of everything that shapes them
(this generator's source, tool versions, voice, text, rate aim, line, noise, levels,
hangover), beside a JSON file holding the `Clip`, so a second run reads them back.
The clean speech of each synthesis is cached too, so a line variant wanted later is
made without synthesizing again. Writes are atomic (temporary name, then rename),
and one process at a time makes a synthesis and its variants (a file lock per
synthesis), so parallel generators sharing one cache (pytest-xdist workers, the
tests' cache in tests/synth_cache.py) never see half a file nor synthesize twice.
Noise comes from seeds fixed by the clip's hash, and sox runs repeatable (`-R`:
its dither is seeded), so a clip is the same on every run.

    from tests.pace_corpus import corpus, as_call
    clips = corpus(Path("bench/out/pace_corpus"), quick=True)
    as_call(clips[0], Path("call.wav"))   # then: companion analyze call.wav --json --model none
    clips = make(cache_dir, [Job(VOICES[0], "refund", 140, (("phone", True),))])  # exactly these clips
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np
import soundfile as sf

from tests import pace_piper
from tests.synth_cache import locked, source_digest

GENERATOR_VERSION = 2
RATE = 16000                 # the clean audio and the headset line
PHONE_RATE = 8000            # the phone line
FRAME_S = 0.02               # voice-activity frames for the truth
VOICED_WITHIN_DB = 35.0      # a frame this close to the loudest frame is voiced
SPEECH_LEVEL_DB = -20.0      # active speech level (mean power of voiced frames), dBFS
PEAK_LIMIT = 0.95            # speech is turned down if its peak would pass this
FLOOR_DB = -60.0             # line noise floor, dBFS (both lines)
SNR_DB = 20.0                # office noise below the speech's active level
CUSTOMER_FLOOR_DB = -62.0    # the silent customer channel of `as_call`
LEAD_S = 1.0                 # silence before the speech (the app's noise floor settles)
TAIL_S = 1.0                 # and after it
RATES = (110, 140, 170, 200, 230, 260)  # true words per minute aimed at
RATE_TOLERANCE = 0.03        # a synthesis this close to its aim is kept
MAX_TRIES = 6                # syntheses per clip while aiming the rate
LINES = ("headset", "phone")
NOISE = (False, True)
ENGINES = ("espeak", "festival", "piper")
TEXTS_PER_RATE = {"piper": 5}  # passages per rate in the full corpus, where not the caller's `texts_per_rate`


@dataclass(frozen=True)
class Voice:
    engine: str      # "espeak", "festival" or "piper"
    ident: str       # espeak's -v, the festival voice (selected with `(voice_<ident>)`), or the Piper voice
    pitch: int = 50  # espeak's -p (festival: unused)

    @property
    def name(self) -> str:
        """The label clips carry: the voice, with -pNN for an espeak pitch variant."""
        return self.ident if self.engine != "espeak" or self.pitch == 50 else f"{self.ident}-p{self.pitch}"


def _espeak(ident: str, pitch: int = 50) -> Voice:
    return Voice("espeak", ident, pitch)


VOICES: tuple[Voice, ...] = (
    _espeak("en-us"),
    _espeak("en-gb"),
    _espeak("en-us+f3"),
    _espeak("en-us+m3"),
    _espeak("en-us+f5"),
    _espeak("en-us", 20),
    _espeak("en-us+f3", 85),
    Voice("festival", "kal_diphone"),
    Voice("festival", "ked_diphone"),
    Voice("festival", "cmu_us_slt_arctic_hts"),
    Voice("piper", "joe"),
)

# Agent monologues: plain customer-service English, several sentences with commas
# and full stops (natural pauses), short and long words. Numbers are spelt out,
# and there are no hyphens, abbreviations or fillers, so the word count is exact.
TEXTS: dict[str, str] = {
    "refund": (
        "Thank you for waiting, I have your order open now. I can see that the jacket came back to our warehouse "
        "on Tuesday, and the refund was approved this morning. The money goes back to the card you paid with, so "
        "you do not need to do anything else. Depending on your bank, it usually appears within three to five "
        "working days. You will also get an email confirmation with the exact amount, including the original "
        "delivery charge. If it has not arrived by the end of next week, please call us again, mention this "
        "conversation, and we will chase it with the payment team straight away."
    ),
    "delivery_delay": (
        "I am sorry about the delay, and I understand how frustrating it is when a parcel does not turn up. I "
        "checked with the courier, and your package left our distribution centre on Friday, but it was held at "
        "their local depot because of the storm. They have given me a new delivery window of Thursday between "
        "eight and noon. You will get a text message with a tracking link the evening before. If that time does "
        "not suit you, you can choose a neighbour or a collection point from the same link. As an apology, I have "
        "added a credit of ten pounds to your account for your next order."
    ),
    "billing_correction": (
        "I have looked through your last three statements, and you are right, there is a mistake on the March "
        "bill. The line rental was charged twice, once at the start of the month and again after the plan change. "
        "I have removed the duplicate charge, and I have applied a correction of twenty four dollars and fifty "
        "cents to your account. That correction will show on your next bill as a separate line called billing "
        "adjustment. Your direct debit will be reduced automatically, so the amount taken in April will be lower. "
        "I have also added a note to the account, so that if anyone else looks at it, they will see exactly what "
        "happened and why."
    ),
    "password_reset": (
        "No problem, let us get you back into your account. For security, I cannot see or change your password "
        "myself, but I can send you a reset link. I have just sent it to the email address ending in gmail dot "
        "com. Please open the message, click the blue button, and choose a new password with at least twelve "
        "characters. The link only works for thirty minutes, so it is best to do it while we are still on the "
        "call. Once you have logged in, I would recommend turning on two step verification in the security "
        "settings. That way, even if someone learns your password, they still cannot get into your account."
    ),
    "plan_upgrade": (
        "Looking at your usage over the last few months, you are regularly going over your data allowance, which "
        "is why the bills have been higher than expected. There is a better option for you. The unlimited plan "
        "costs five dollars more each month than your current one, but it would have saved you around twenty "
        "dollars last month alone. It also includes calls abroad to most European countries, and there is no "
        "change to your contract length. If you would like, I can switch you over today, and the new allowance "
        "starts immediately. Your next bill will show a small partial charge for the days remaining in this "
        "billing period."
    ),
    "appointment": (
        "I can certainly help you book an engineer visit. The earliest appointment I have available is on "
        "Wednesday morning, between eight and one o'clock. The engineer will call you about thirty minutes before "
        "arriving, so please make sure your phone is switched on. They will need access to the main socket and the "
        "router, so it helps to clear the area around them. The visit itself is free of charge, because the fault "
        "is on our side of the network. If you need to rearrange, you can do it online or by calling this number, "
        "but please give us at least a day's notice so we can offer the slot to someone else."
    ),
    "damaged_item": (
        "I am really sorry that the lamp arrived broken, that is certainly not the experience we want you to "
        "have. You do not need to send the damaged one back, and please be careful with the broken glass. I have "
        "arranged a replacement, which will be sent out today by express delivery, so it should reach you "
        "tomorrow afternoon. There is nothing to pay for the replacement or the postage. If you would prefer a "
        "refund instead, just reply to the confirmation email and we can change it. I have also reported the "
        "problem to our packaging team, because we want to understand how it happened and stop it from happening "
        "again."
    ),
    "cancellation": (
        "I understand that you would like to cancel your subscription, and I can process that for you now. Before "
        "I do, I just want to make sure you know what happens next. Your access will continue until the end of the "
        "current billing period, which is the twenty eighth of this month. After that, you will not be charged "
        "again. Any saved files will be kept for ninety days, in case you change your mind, and then they will be "
        "permanently deleted. If you are leaving because of the price, we do have a reduced plan that might suit "
        "you better. Otherwise, I will go ahead and confirm the cancellation by email."
    ),
    "address_change": (
        "Thanks for letting us know that you are moving. I have updated your address, and everything from today "
        "will be sent to the new flat. Your broadband service can be moved too, but the new line needs to be "
        "activated by the local network operator. They usually need about two weeks, so the earliest date I can "
        "offer is the fourteenth. Until then, your current connection will keep working at the old address. On "
        "moving day, simply unplug the router and take it with you, along with the power cable. When the new line "
        "is live, plug it into the main socket, wait a few minutes, and the lights should turn green."
    ),
    "warranty": (
        "Let me explain how the warranty works for your washing machine. It is covered for two years from the "
        "date of purchase, and that includes parts, labour, and the technician's travel costs. Because the drum "
        "stopped spinning after only eight months, this repair is fully covered. I have opened a claim for you, "
        "and the reference number will arrive by text message shortly. A technician will contact you within two "
        "working days to arrange a visit. Please keep your receipt somewhere safe, because they may ask to see "
        "it. If the same fault happens again within the warranty period, we would normally replace the machine "
        "rather than repair it twice."
    ),
}

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_ALLOWED = re.compile(r"[A-Za-z' ,.?!]+")


def count_words(text: str) -> int:
    """Spoken words in a passage: runs of letters, with inner apostrophes ("don't" is one word)."""
    return len(_WORD.findall(text))


for _id, _text in TEXTS.items():  # the word count is only the truth if the text holds nothing else
    if not _ALLOWED.fullmatch(_text):
        raise ValueError(f"passage {_id!r} holds characters the word count would not see as spoken")


@dataclass(frozen=True)
class Clip:
    """One labelled clip: the agent alone, mono, at `rate` Hz."""

    path: Path
    engine: str
    voice: str
    line: str           # "headset" (16 kHz PCM) or "phone" (8 kHz mu-law, 300-3400 Hz)
    noise: bool         # office noise mixed in
    text_id: str
    words: int
    speaking_s: float   # the truth's speaking time (clean audio, turns with pauses < hangover bridged)
    true_wpm: float     # words / speaking_s * 60
    target_wpm: int     # the rate aimed at
    setting: str        # the engine setting that produced it ("-s 182", "stretch 1.234")
    rate: int           # sample rate of the file
    duration_s: float   # length of the file
    turns: int          # turns in the truth's voice activity

    def load(self) -> tuple[np.ndarray, int]:
        """The clip as mono float32 samples in [-1, 1] and its sample rate."""
        audio, rate = sf.read(str(self.path), dtype="float32")
        return audio, rate

    def to_json(self) -> dict:
        doc = asdict(self)
        doc["path"] = str(self.path)
        return doc

    @classmethod
    def from_json(cls, doc: dict) -> "Clip":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in doc.items() if k in known}
        values["path"] = Path(values["path"])
        return cls(**values)


@dataclass(frozen=True)
class Job:
    """One clean synthesis (voice, passage, rate aim) and the line variants wanted from it."""

    voice: Voice
    text_id: str
    target_wpm: int
    variants: tuple[tuple[str, bool], ...]  # (line, noise)


_Job = Job


def missing_tools(engines: Iterable[str] = ENGINES) -> list[str]:
    """The programs missing for `engines` (empty when all are there)."""
    need = ["sox"] + (["espeak-ng"] if "espeak" in engines else []) + (["text2wave", "festival"] if "festival" in engines else [])
    return [tool for tool in need if shutil.which(tool) is None] + (pace_piper.missing() if "piper" in engines else [])


def _tool_versions() -> str:
    """Versions of the synthesizers and sox, and this generator's own source: part of every cache key."""
    return source_digest("pace_corpus.py", "synth_cache.py")


@lru_cache(maxsize=None)
def default_hangover_s() -> float:
    """Silence that closes a turn in the default coaching config (0.5 s)."""
    from companion.config import load_config

    return float(load_config(use_user_default=False).vad.hangover_s)


def _digest(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


# ---------------------------------------------------------------- the truth


def voiced_frames(audio: np.ndarray, rate: int, within_db: float = VOICED_WITHIN_DB) -> np.ndarray:
    """Per 20 ms frame: RMS level within `within_db` of the loudest frame."""
    n = int(round(FRAME_S * rate))
    frames = audio[: len(audio) // n * n].astype(np.float64).reshape(-1, n)
    level = 10.0 * np.log10(np.maximum(np.mean(frames**2, axis=1), 1e-12))
    return level >= level.max() - within_db


def speech_turns(audio: np.ndarray, rate: int, hangover_s: Optional[float] = None) -> list[tuple[float, float]]:
    """Turns (start, end) in seconds: voiced frames, gaps shorter than `hangover_s` bridged."""
    hangover = default_hangover_s() if hangover_s is None else hangover_s
    voiced = voiced_frames(audio, rate)
    on = np.flatnonzero(voiced)
    if on.size == 0:
        return []
    gap_frames = max(1, round(hangover / FRAME_S))
    # a gap of g unvoiced frames between voiced frames a and b = a + g + 1 is bridged when g < gap_frames
    breaks = np.flatnonzero(np.diff(on) - 1 >= gap_frames)
    starts = np.concatenate(([on[0]], on[breaks + 1]))
    ends = np.concatenate((on[breaks], [on[-1]])) + 1
    return [(s * FRAME_S, e * FRAME_S) for s, e in zip(starts.tolist(), ends.tolist())]


def speaking_time(audio: np.ndarray, rate: int, hangover_s: Optional[float] = None) -> float:
    """The truth's speaking time of clean speech: the sum of its turns."""
    return float(sum(end - start for start, end in speech_turns(audio, rate, hangover_s)))


def active_level_db(audio: np.ndarray, rate: int) -> float:
    """Mean power of the voiced frames, dBFS."""
    n = int(round(FRAME_S * rate))
    frames = audio[: len(audio) // n * n].astype(np.float64).reshape(-1, n)
    voiced = voiced_frames(audio, rate)
    return float(10.0 * np.log10(np.mean(frames[voiced] ** 2) + 1e-20))


# ---------------------------------------------------------------- synthesis


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed ({done.returncode}): {done.stderr.strip()[-500:]}")


def _to_rate(src: Path, dst: Path) -> np.ndarray:
    """A synthesizer's WAV as mono float32 at `RATE`."""
    _run(["sox", "-R", str(src), "-r", str(RATE), "-c", "1", "-e", "floating-point", "-b", "32", str(dst)])
    audio, rate = sf.read(str(dst), dtype="float32")
    assert rate == RATE
    return audio


def _synthesize(voice: Voice, text: str, setting: float, work: Path) -> np.ndarray:
    """Raw speech at `RATE` for one engine setting: espeak's -s (words/min), festival's stretch, Piper's length scale."""
    raw = work / "raw.wav"
    if voice.engine == "piper":
        audio, rate = pace_piper.synthesize(text, setting)
        sf.write(str(raw), audio, rate, subtype="FLOAT")
    elif voice.engine == "espeak":
        _run(["espeak-ng", "-v", voice.ident, "-s", str(int(setting)), "-p", str(voice.pitch),
              "-w", str(raw), text])
    elif voice.engine == "festival":
        (work / "text.txt").write_text(text + "\n")
        if voice.ident.endswith("_hts"):
            # HTS voices ignore Duration_Stretch; the hts_engine's speed (-r) scales every duration by 1/r
            rate_eval = f'(set! hts_engine_params (append hts_engine_params (list (list "-r" {1.0 / setting:.6f}))))'
        else:
            rate_eval = f"(Parameter.set 'Duration_Stretch {setting:.6f})"
        _run(["text2wave", "-eval", f"(voice_{voice.ident})", "-eval", rate_eval, "-o", str(raw), str(work / "text.txt")])
    else:
        raise ValueError(f"unknown engine {voice.engine!r}")
    return _to_rate(raw, work / "raw16.wav")


def _trim(audio: np.ndarray) -> np.ndarray:
    """Drop the synthesizer's leading and trailing near-silence (60 dB under the peak)."""
    loud = np.flatnonzero(np.abs(audio) > np.abs(audio).max() * 1e-3)
    return audio[loud[0] : loud[-1] + 1] if loud.size else audio[:0]


def _first_setting(voice: Voice, target_wpm: float) -> float:
    if voice.engine == "espeak":
        return float(round(target_wpm / 1.2))  # espeak speaks ~1.2x faster than -s; corrected by measuring
    if voice.engine == "piper":
        return pace_piper.first_scale(target_wpm)
    # at stretch 1 the diphone voices read ~205 true wpm, the HTS voice ~180; corrected by measuring
    return (180.0 if voice.ident.endswith("_hts") else 205.0) / target_wpm


def _next_setting(voice: Voice, setting: float, measured: float, target: float) -> float:
    if voice.engine == "piper":
        return pace_piper.next_scale(setting, measured, target)
    if voice.engine == "espeak":
        return float(min(600, max(60, round(setting * target / measured))))
    return min(3.0, max(0.3, setting * measured / target))


SETTINGS_FILE = Path(__file__).with_name("pace_settings.json")


def _settings_key(voice: Voice, text_id: str, target_wpm: float) -> str:
    return f"{voice.engine}/{voice.name}/{text_id}/{int(target_wpm)}"


@lru_cache(maxsize=None)
def _known_settings() -> dict[str, float]:
    """The setting the search below landed on within `RATE_TOLERANCE`, per voice, passage and aim, as a run of
    it recorded (`python -m tests.pace_corpus --record-settings CACHE`): tried first, so a clip usually takes one
    synthesis instead of two or three. It is only a first guess, kept when it measures within the tolerance;
    the search then accepts the same setting on the same sound, so the clip is the same either way."""
    return json.loads(SETTINGS_FILE.read_text()) if SETTINGS_FILE.exists() else {}


def _clean_speech(voice: Voice, text_id: str, target_wpm: float, hangover_s: float) -> tuple[np.ndarray, float, dict]:
    """Speech aimed at `target_wpm` true words per minute, levelled and padded; returns (audio, setting, truth)."""
    text = TEXTS[text_id]
    words = count_words(text)
    best: Optional[tuple[float, np.ndarray, float, float]] = None  # (miss, audio, setting, wpm)
    tried: set[float] = set()
    with tempfile.TemporaryDirectory(prefix="pace_corpus_") as tmp:
        known = _known_settings().get(_settings_key(voice, text_id, target_wpm))
        if known is not None:
            audio = _trim(_synthesize(voice, text, known, Path(tmp)))
            wpm = words / speaking_time(audio, RATE, hangover_s) * 60.0
            if abs(wpm - target_wpm) / target_wpm <= RATE_TOLERANCE:
                best = (0.0, audio, known, wpm)
        setting = _first_setting(voice, target_wpm)
        for _ in range(MAX_TRIES if best is None else 0):
            if setting in tried:
                break
            tried.add(setting)
            audio = _trim(_synthesize(voice, text, setting, Path(tmp)))
            wpm = words / speaking_time(audio, RATE, hangover_s) * 60.0
            miss = abs(wpm - target_wpm) / target_wpm
            if best is None or miss < best[0]:
                best = (miss, audio, setting, wpm)
            if miss <= RATE_TOLERANCE:
                break
            setting = _next_setting(voice, setting, wpm, target_wpm)
    assert best is not None
    miss, audio, setting, _ = best
    audio = audio.astype(np.float64) * 10 ** ((SPEECH_LEVEL_DB - active_level_db(audio, RATE)) / 20.0)
    if np.abs(audio).max() > PEAK_LIMIT:
        audio *= PEAK_LIMIT / np.abs(audio).max()
    lead, tail = np.zeros(int(LEAD_S * RATE)), np.zeros(int(TAIL_S * RATE))
    audio = np.concatenate((lead, audio, tail))
    turns = speech_turns(audio, RATE, hangover_s)
    speaking = sum(e - s for s, e in turns)
    truth = {"words": words, "speaking_s": round(speaking, 3), "true_wpm": round(words / speaking * 60.0, 2),
             "turns": len(turns), "level_db": round(active_level_db(audio, RATE), 2),
             "aimed_within": bool(miss <= RATE_TOLERANCE)}
    return audio, setting, truth


# ---------------------------------------------------------------- lines and noise


def office_noise(samples: int, level_db: float, seed: int, rate: int = RATE) -> np.ndarray:
    """Pink and brown noise at equal power, `level_db` RMS in total (dBFS); fixed by `seed`."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    freqs = np.maximum(np.fft.rfftfreq(samples, 1.0 / rate), 20.0)
    pink = np.fft.irfft(spectrum / np.sqrt(freqs), samples)
    brown = np.fft.irfft(spectrum / freqs, samples)
    mix = pink / np.sqrt(np.mean(pink**2)) + brown / np.sqrt(np.mean(brown**2))
    return mix / np.sqrt(np.mean(mix**2)) * 10 ** (level_db / 20.0)


def _degrade(clean: np.ndarray, line: str, noise: bool, seed: int, out: Path, work: Path) -> None:
    """Write one line variant of clean 16 kHz speech to `out` (atomically)."""
    level = active_level_db(clean, RATE)
    mix = clean.astype(np.float64).copy()
    if noise:
        mix += office_noise(len(mix), level - SNR_DB, seed)
    mix += np.random.default_rng(seed + 1).normal(0.0, 10 ** (FLOOR_DB / 20.0), len(mix))
    mix = np.clip(mix, -1.0, 1.0).astype(np.float32)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.{os.urandom(4).hex()}.wav")
    if line == "headset":
        sf.write(str(tmp), mix, RATE, subtype="PCM_16")
    elif line == "phone":
        src = work / f"{out.stem}.line_in.wav"
        sf.write(str(src), mix, RATE, subtype="FLOAT")
        _run(["sox", "-R", str(src), "-r", str(PHONE_RATE), "-e", "u-law", "-b", "8", str(tmp), "sinc", "300-3400"])
    else:
        raise ValueError(f"unknown line {line!r}")
    os.replace(tmp, out)


# ---------------------------------------------------------------- the corpus


def _clean_key(job: _Job, hangover_s: float) -> str:
    tools = _tool_versions() + (f"|{pace_piper.versions()}" if job.voice.engine == "piper" else "")
    return _digest(GENERATOR_VERSION, tools, asdict(job.voice), TEXTS[job.text_id], job.target_wpm,
                   RATE, RATE_TOLERANCE, MAX_TRIES, SPEECH_LEVEL_DB, PEAK_LIMIT, LEAD_S, TAIL_S, FRAME_S,
                   VOICED_WITHIN_DB, hangover_s)


def _clip_key(clean_key: str, line: str, noise: bool) -> str:
    return _digest(clean_key, line, noise, FLOOR_DB, SNR_DB, PHONE_RATE)


def _clip_paths(cache_dir: Path, job: _Job, line: str, noise: bool, hangover_s: float) -> tuple[Path, Path]:
    key = _clip_key(_clean_key(job, hangover_s), line, noise)
    stem = f"{job.voice.engine}_{job.voice.name}_{job.text_id}_{job.target_wpm}_{line}{'_noise' if noise else ''}_{key}"
    stem = re.sub(r"[^A-Za-z0-9_.+-]", "_", stem)
    return cache_dir / f"{stem}.wav", cache_dir / f"{stem}.json"


def _write_json(path: Path, doc: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    tmp.write_text(json.dumps(doc, indent=1))
    os.replace(tmp, path)


def _clean_cached(job: _Job, cache_dir: Path, hangover_s: float) -> tuple[np.ndarray, float, dict]:
    """`_clean_speech` for a job, kept in `cache_dir/clean` (call with the job's lock held)."""
    clean_key = _clean_key(job, hangover_s)
    wav, meta = cache_dir / "clean" / f"{clean_key}.wav", cache_dir / "clean" / f"{clean_key}.json"
    if wav.exists() and meta.exists():
        audio, _ = sf.read(str(wav), dtype="float32")
        doc = json.loads(meta.read_text())
        return audio.astype(np.float64), doc["setting"], doc["truth"]
    clean, setting, truth = _clean_speech(job.voice, job.text_id, job.target_wpm, hangover_s)
    clean = clean.astype(np.float32)  # as it is kept, so a variant made now equals one made from the cache
    wav.parent.mkdir(parents=True, exist_ok=True)
    tmp = wav.with_name(f".{wav.stem}.{os.getpid()}.{os.urandom(4).hex()}.wav")
    sf.write(str(tmp), clean, RATE, subtype="FLOAT")
    os.replace(tmp, wav)
    _write_json(meta, {"setting": setting, "truth": truth,
                       "known_as": _settings_key(job.voice, job.text_id, job.target_wpm) if truth["aimed_within"] else None})
    return clean.astype(np.float64), setting, truth


def _have(cache_dir: Path, job: _Job, line: str, noise: bool, hangover_s: float) -> bool:
    return all(p.exists() for p in _clip_paths(cache_dir, job, line, noise, hangover_s))


def _make(job: _Job, cache_dir: Path, hangover_s: float, wait: bool = True) -> bool:
    """Synthesize one job's clean speech (or read it back) and write every line variant it still lacks;
    one process or thread at a time per synthesis. With `wait=False`, a job another process or thread
    is making is left to it: returns False."""
    clean_key = _clean_key(job, hangover_s)
    with locked(cache_dir / "locks" / f"{clean_key}.lock", wait=wait) as held:
        if not held:
            return False
        if all(_have(cache_dir, job, line, noise, hangover_s) for line, noise in job.variants):
            return True  # made meanwhile by another worker
        clean, setting, truth = _clean_cached(job, cache_dir, hangover_s)
        _write_variants(job, cache_dir, hangover_s, clean_key, clean, setting, truth)
        return True


def _write_variants(job: _Job, cache_dir: Path, hangover_s: float, clean_key: str, clean: np.ndarray,
                    setting: float, truth: dict) -> None:
    label = {"espeak": f"-s {int(setting)}", "piper": f"length_scale {setting:.3f}"}.get(job.voice.engine,
                                                                                         f"stretch {setting:.3f}")
    with tempfile.TemporaryDirectory(prefix="pace_corpus_") as tmp:
        for line, noise in job.variants:
            wav, meta = _clip_paths(cache_dir, job, line, noise, hangover_s)
            if meta.exists() and wav.exists():
                continue
            seed = int(_clip_key(clean_key, line, noise)[:8], 16)
            _degrade(clean, line, noise, seed, wav, Path(tmp))
            clip = Clip(
                path=wav, engine=job.voice.engine, voice=job.voice.name, line=line, noise=noise, text_id=job.text_id,
                words=truth["words"], speaking_s=truth["speaking_s"], true_wpm=truth["true_wpm"],
                target_wpm=job.target_wpm, setting=label, rate=sf.info(str(wav)).samplerate,
                duration_s=round(sf.info(str(wav)).duration, 3), turns=truth["turns"],
            )
            _write_json(meta, clip.to_json() | {"level_db": truth["level_db"], "seed": seed})


def plan(engines: Sequence[str] = ENGINES, rates: Sequence[int] = RATES, lines: Sequence[str] = LINES,
         noise: Sequence[bool] = NOISE, quick: bool = False, texts_per_rate: int = 2) -> list[_Job]:
    """The syntheses a corpus needs, each with its line variants.

    Full: every voice at every rate, `texts_per_rate` passages each (rotated so a
    voice meets most passages; Piper: `TEXTS_PER_RATE`, so it meets every passage at three
    rates), on every line with and without noise.
    Quick: every voice at a slow and a fast rate (the two lowest and the two highest
    of `rates`, alternating by voice), one passage each, and two of the four
    line/noise variants per synthesis, so every voice is heard on both lines, clean
    and noisy (10 voices x 2 rates x 2 variants = 40 clips)."""
    voices = [v for v in VOICES if v.engine in engines]
    ids = list(TEXTS)
    variants = [(line, n) for line in lines for n in noise]
    jobs: list[_Job] = []
    for i, voice in enumerate(VOICES):
        if voice not in voices:
            continue
        if quick:
            slow, fast = sorted(rates)[: 2], sorted(rates)[-2:]
            picks = [(slow[i % len(slow)], 0), (fast[(i + 1) % len(fast)], 1)]
            for k, (rate, which) in enumerate(picks):
                # slow: (headset, clean) + (phone, noisy); fast: (headset, noisy) + (phone, clean); flipped on odd voices
                chosen = _quick_variants(variants, (which + i) % 2)
                jobs.append(_Job(voice, ids[(i + 5 * k) % len(ids)], int(rate), chosen))
        else:
            for j, rate in enumerate(rates):
                per_rate = TEXTS_PER_RATE.get(voice.engine, texts_per_rate)
                for k in range(per_rate):
                    # half the passages per rate: alternate ones, shifted by one per rate (each at three rates)
                    text_id = ids[(i + j + 2 * k if 2 * per_rate == len(ids) else i + 3 * j + 7 * k) % len(ids)]
                    jobs.append(_Job(voice, text_id, int(rate), tuple(variants)))
    return jobs


def _quick_variants(variants: list[tuple[str, bool]], parity: int) -> tuple[tuple[str, bool], ...]:
    """Two of the line/noise variants, crossing line and noise; the other two for the other parity."""
    if len(variants) < 4:
        return tuple(variants)
    crossed = [v for v in variants if (LINES.index(v[0]) + int(v[1])) % 2 == parity]
    return tuple(crossed)


def corpus(cache_dir: Path, engines: Sequence[str] = ENGINES, rates: Sequence[int] = RATES,
           lines: Sequence[str] = LINES, noise: Sequence[bool] = NOISE, quick: bool = False,
           workers: Optional[int] = None, texts_per_rate: int = 2) -> list[Clip]:
    """The labelled clips, generated into `cache_dir` where missing (in parallel), in a stable order.

    `workers`: synthesis threads (the work runs in subprocesses: espeak-ng, text2wave, sox);
    default: the machine's cores."""
    missing = missing_tools(engines)
    if missing:
        raise RuntimeError(f"the pace corpus needs {', '.join(missing)} (bash .ci/run installs them)")
    return make(cache_dir, plan(engines, rates, lines, noise, quick, texts_per_rate), workers)


def make(cache_dir: Path, jobs: Sequence[Job], workers: Optional[int] = None) -> list[Clip]:
    """The clips of exactly these jobs (each job's variants, in order), made into `cache_dir` where missing."""
    missing = missing_tools({job.voice.engine for job in jobs})
    if missing:
        raise RuntimeError(f"the pace corpus needs {', '.join(missing)} (bash .ci/run installs them)")
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    hangover_s = default_hangover_s()
    todo = [job for job in jobs if not all(_have(cache_dir, job, line, n, hangover_s) for line, n in job.variants)]
    if todo:
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            # first the jobs nobody else is making (parallel test workers share the cache), then the rest,
            # waiting for whoever makes them; map re-raises a job's failure
            done = list(pool.map(lambda job: _make(job, cache_dir, hangover_s, wait=False), todo))
            list(pool.map(lambda job: _make(job, cache_dir, hangover_s), [j for j, ok in zip(todo, done) if not ok]))
    clips = []
    for job in jobs:
        for line, n in job.variants:
            wav, meta = _clip_paths(cache_dir, job, line, n, hangover_s)
            clip = Clip.from_json(json.loads(meta.read_text()))
            clips.append(replace(clip, path=wav))  # the cache may have moved since it was written
    return clips


def as_call(clip: Clip, path: Path, customer_floor_db: float = CUSTOMER_FLOOR_DB) -> Path:
    """A two-channel call of one clip: agent on channel 0 (16 kHz; a phone clip upsampled),
    the customer silent on channel 1 but for a low noise floor. 16-bit WAV at `path`."""
    import soxr

    audio, rate = clip.load()
    if rate != RATE:
        audio = soxr.resample(audio, rate, RATE, quality="HQ")
    seed = int(hashlib.sha1(clip.path.name.encode()).hexdigest()[:8], 16)
    customer = np.random.default_rng(seed).normal(0.0, 10 ** (customer_floor_db / 20.0), len(audio))
    stereo = np.clip(np.stack((audio.astype(np.float64), customer), axis=1), -1.0, 1.0).astype(np.float32)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{os.urandom(4).hex()}.wav")
    sf.write(str(tmp), stereo, RATE, subtype="PCM_16")
    os.replace(tmp, path)
    return path


def record_settings(cache_dirs: Iterable[Path]) -> int:
    """Adds the settings the search landed on in these caches to `SETTINGS_FILE`; returns how many it holds."""
    known = dict(_known_settings())
    for cache_dir in cache_dirs:
        for meta in sorted(Path(cache_dir).glob("clean/*.json")):
            doc = json.loads(meta.read_text())
            if doc.get("known_as"):
                known[doc["known_as"]] = doc["setting"]
    SETTINGS_FILE.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n")
    _known_settings.cache_clear()
    return len(known)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Keep the engine settings a corpus run landed on (tests/pace_settings.json)")
    parser.add_argument("--record-settings", nargs="+", type=Path, metavar="CACHE", required=True,
                        help="pace corpus folders (the tests' is $COMPANION_TEST_CACHE/pace_corpus)")
    print(f"{SETTINGS_FILE}: {record_settings(parser.parse_args().record_settings)} settings")
