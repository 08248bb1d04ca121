"""Synthetic two-party calls for tests: espeak-ng (or festival) speech placed on a call timeline.

Each utterance has a party, text, voice, true words per minute, gain and pitch,
and a start time given either absolutely or as a gap after the previous
utterance (negative = overlap). The agent is a headset (full band); the customer
comes through a phone line (300-3400 Hz, 8 kHz; or the same line mu-law encoded,
`Script.customer_line="mulaw"`). Both carry a low noise floor.
The ground truth (turn times, true pace, expected interruptions) is written
beside the audio as JSON.

Voices are espeak-ng voices (`-v`), or `"festival:<ident>"` for a festival voice
(`kal_diphone`, `ked_diphone`, `cmu_us_slt_arctic_hts`) synthesised with `text2wave`,
its rate set as `tests.pace_corpus` sets it. `Say.semitones` shifts an utterance's
pitch after synthesis without changing its duration (`sox pitch`); `Script.line_steps`
steps the customer channel's gain after the phone line (a phone system's automatic
gain, a customer moving their handset).

`rendered(script)` is `render` through the tests' cache (tests/synth_cache.py): each script is
rendered once, whatever the number of runs and pytest-xdist workers, and read back after.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import soundfile as sf

from tests.pace_corpus import Voice as _Voice
from tests.pace_corpus import _first_setting, _next_setting, _synthesize
from tests.synth_cache import cache_root, digest, locked, source_digest, temporary_name

RATE = 16000
ESPEAK_RATIO = 1.2  # espeak-ng speaks about 1.2x the -s it is given; calibrated per utterance below
FESTIVAL = "festival:"  # voice prefix: "festival:kal_diphone" is festival's kal_diphone
FESTIVAL_TRIES = 4      # festival syntheses per utterance while aiming its rate
STEP_RAMP_S = 0.02      # a line gain step ramps over this long (no click)
CUSTOMER_LINE_KINDS = ("phone", "mulaw")


@dataclass(frozen=True)
class Say:
    party: str
    text: str
    gap: float = 0.4                 # after the previous utterance ends (negative: overlap)
    at: Optional[float] = None       # or an absolute start on the call clock
    after_start: Optional[float] = None  # or this long after the previous utterance *starts*
    wpm: float = 150.0
    voice: Optional[str] = None
    pitch: int = 50
    gain_db: float = 0.0
    tag: str = ""                    # "backchannel", "fast", "raised", "interrupt", ...
    semitones: float = 0.0           # pitch shift after synthesis, duration kept (sox pitch)


@dataclass
class Script:
    name: str
    lines: list[Say]
    agent_voice: str = "en-us"
    customer_voice: str = "en-us+f3"
    agent_level_db: float = -24.0
    customer_level_db: float = -26.0
    noise_db: float = -62.0
    tail_s: float = 1.0
    seed: int = 7
    # customer channel gain steps after the phone line (before the noise floor): (t_s, gain_db) holds
    # from t on, reached by a 20 ms ramp; 0 dB before the first step
    line_steps: tuple[tuple[float, float], ...] = ()
    customer_line: str = "phone"     # "phone" (8 kHz, 300-3400 Hz) or "mulaw" (the same, mu-law encoded)


@dataclass
class Placed:
    party: str
    text: str
    start: float
    end: float
    words: int
    wpm: float
    gain_db: float
    tag: str
    semitones: float = 0.0


@dataclass
class Truth:
    name: str
    duration_s: float
    utterances: list[Placed] = field(default_factory=list)
    interruptions: list[dict] = field(default_factory=list)
    line_steps: list[list[float]] = field(default_factory=list)  # the script's customer line gain steps

    def of(self, party: str, tag: Optional[str] = None) -> list[Placed]:
        return [u for u in self.utterances if u.party == party and (tag is None or u.tag == tag)]

    def wpm(self, party: str = "agent", tag: Optional[str] = None, bridge_s: float = 0.5) -> float:
        """Words per minute of speaking time: utterances, plus pauses under `bridge_s` between them."""
        utts = sorted((u for u in self.of(party, tag) if u.tag != "backchannel"), key=lambda u: u.start)
        words = sum(u.words for u in utts)
        seconds = sum(u.end - u.start for u in utts)
        for a, b in zip(utts, utts[1:]):
            if 0 < b.start - a.end < bridge_s:
                seconds += b.start - a.end
        return words / seconds * 60.0


def tools_available() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def festival_available() -> bool:
    return shutil.which("text2wave") is not None and shutil.which("sox") is not None


def _espeak(text: str, voice: str, speed: int, pitch: int, cache: Path) -> np.ndarray:
    # sox -R: the same dither every time, so a clip (and every call made of it) is the same file on every machine
    key = hashlib.sha1(f"{text}|{voice}|{speed}|{pitch}|R".encode()).hexdigest()[:16]
    out = cache / f"{key}.wav"
    if not out.exists():
        with tempfile.TemporaryDirectory(prefix="espeak_", dir=cache) as tmp:
            raw, made = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text],
                           check=True)
            subprocess.run(["sox", "-R", str(raw), "-r", str(RATE), "-b", "16", str(made)], check=True)
            os.replace(made, out)
    audio, rate = sf.read(str(out), dtype="float32")
    assert rate == RATE
    return _trim(audio)


def _trim(audio: np.ndarray, threshold: float = 0.003) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio[:0]
    return audio[loud[0] : loud[-1] + 1]


def _festival(text: str, ident: str, setting: float, cache: Path) -> np.ndarray:
    """Festival speech (text2wave) at one rate setting (`tests.pace_corpus`: stretch, or 1/hts -r)."""
    key = hashlib.sha1(f"festival|{text}|{ident}|{setting:.4f}".encode()).hexdigest()[:16]
    out = cache / f"{key}.wav"
    if not out.exists():
        with tempfile.TemporaryDirectory(prefix="festival_", dir=cache) as tmp:
            audio = _synthesize(_Voice("festival", ident), text, setting, Path(tmp))
            sf.write(str(Path(tmp) / "out.wav"), audio, RATE, subtype="FLOAT")
            os.replace(Path(tmp) / "out.wav", out)
    audio, rate = sf.read(str(out), dtype="float32")
    assert rate == RATE
    return _trim(audio)


def _festival_speech(say: Say, ident: str, cache: Path) -> tuple[np.ndarray, str]:
    """Festival speech aimed at `say.wpm` (measured from the clip's length, the setting adjusted);
    returns the closest clip and a key naming it."""
    voice = _Voice("festival", ident)
    words = len(say.text.split())
    setting = round(_first_setting(voice, say.wpm), 4)
    audio = _festival(say.text, ident, setting, cache)
    best = (float("inf"), audio, setting)
    if words >= 4:
        for attempt in range(FESTIVAL_TRIES):
            actual = words / (len(audio) / RATE) * 60.0
            miss = abs(actual - say.wpm) / say.wpm
            if miss < best[0]:
                best = (miss, audio, setting)
            if miss < 0.04 or attempt == FESTIVAL_TRIES - 1:
                break
            setting = round(_next_setting(voice, setting, actual, say.wpm), 4)
            audio = _festival(say.text, ident, setting, cache)
    _, audio, setting = best
    return audio, f"festival|{say.text}|{ident}|{setting:.4f}"


def _pitch_shift(audio: np.ndarray, semitones: float, key: str, cache: Path) -> np.ndarray:
    """`audio` shifted by `semitones`, its duration kept (`sox pitch`, cents); cached under `key`."""
    name = hashlib.sha1(f"{key}|semitones|{semitones}".encode()).hexdigest()[:16]
    out = cache / f"{name}.wav"
    if not out.exists():
        with tempfile.TemporaryDirectory(prefix="pitch_", dir=cache) as tmp:
            src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
            sf.write(str(src), audio, RATE, subtype="FLOAT")
            subprocess.run(["sox", "-R", str(src), "-e", "floating-point", "-b", "32", str(dst),
                            "pitch", f"{100.0 * semitones:.1f}"], check=True)
            os.replace(dst, out)
    shifted, rate = sf.read(str(out), dtype="float32")
    assert rate == RATE
    return _trim(shifted)


def _speech(say: Say, voice: str, cache: Path) -> tuple[np.ndarray, float]:
    """Speech at the requested true words per minute (espeak's -s, or festival's stretch, is
    calibrated by measuring), then pitch-shifted by `say.semitones`."""
    words = len(say.text.split())
    if voice.startswith(FESTIVAL):
        audio, key = _festival_speech(say, voice[len(FESTIVAL):], cache)
    else:
        speed = max(80, round(say.wpm / ESPEAK_RATIO))
        audio = _espeak(say.text, voice, speed, say.pitch, cache)
        if words >= 4:
            for _ in range(2):
                actual = words / (len(audio) / RATE) * 60.0
                if abs(actual - say.wpm) / say.wpm < 0.04:
                    break
                speed = max(80, min(500, round(speed * say.wpm / actual)))
                audio = _espeak(say.text, voice, speed, say.pitch, cache)
        key = f"{say.text}|{voice}|{speed}|{say.pitch}"
    if say.semitones:
        audio = _pitch_shift(audio, say.semitones, key, cache)
    return audio, words / (len(audio) / RATE) * 60.0


def _phone_line(audio: np.ndarray, cache: Path) -> np.ndarray:
    """Band-limit to 300-3400 Hz through an 8 kHz line, as the customer is heard."""
    with tempfile.TemporaryDirectory(prefix="line_", dir=cache) as tmp:
        src, dst = Path(tmp) / "line_in.wav", Path(tmp) / "line_out.wav"
        sf.write(str(src), audio, RATE, subtype="FLOAT")
        subprocess.run(["sox", str(src), "-r", "8000", str(dst), "sinc", "300-3400"], check=True)
        subprocess.run(["sox", str(dst), "-r", str(RATE), str(src)], check=True)
        line, _ = sf.read(str(src), dtype="float32")
    return line


def _mulaw_line(audio: np.ndarray, cache: Path) -> np.ndarray:
    """The phone line mu-law encoded: 300-3400 Hz, 8 kHz, 8-bit mu-law, decoded back to 16 kHz."""
    with tempfile.TemporaryDirectory(prefix="mulaw_", dir=cache) as tmp:
        src, mid, dst = Path(tmp) / "in.wav", Path(tmp) / "ulaw.wav", Path(tmp) / "out.wav"
        sf.write(str(src), audio, RATE, subtype="FLOAT")
        subprocess.run(["sox", "-R", str(src), "-r", "8000", "-e", "u-law", "-b", "8", str(mid), "sinc", "300-3400"],
                       check=True)
        subprocess.run(["sox", "-R", str(mid), "-r", str(RATE), "-e", "floating-point", "-b", "32", str(dst)],
                       check=True)
        line, _ = sf.read(str(dst), dtype="float32")
    return line


def line_gain(samples: int, steps: tuple[tuple[float, float], ...], rate: int = RATE,
              ramp_s: float = STEP_RAMP_S) -> np.ndarray:
    """Per-sample gain (linear) of `steps`: each (t, gain_db) holds from t on, reached by a
    `ramp_s` ramp (in dB) that starts at t; 0 dB before the first step."""
    gain_db = np.zeros(samples, np.float64)
    ramp = max(1, int(round(ramp_s * rate)))
    now = 0.0
    for t, target in sorted(steps):
        i = min(samples, max(0, int(round(t * rate))))
        j = min(samples, i + ramp)
        gain_db[i:j] = now + (target - now) * (np.arange(1, j - i + 1) / ramp)
        gain_db[j:] = target
        now = target
    return 10 ** (gain_db / 20.0)


def _level(audio: np.ndarray) -> float:
    loud = audio[np.abs(audio) > 0.01]
    return 10 * np.log10(np.mean(loud.astype(np.float64) ** 2) + 1e-12) if loud.size else -100.0


def render(script: Script, out_dir: Path, cache: Path, channels_out: Optional[Path] = None) -> tuple[Path, Truth]:
    """Write `<name>.wav` (agent left, customer right) and `<name>.truth.json`; return the path and truth."""
    if script.customer_line not in CUSTOMER_LINE_KINDS:
        raise ValueError(f"unknown customer line {script.customer_line!r} (one of {', '.join(CUSTOMER_LINE_KINDS)})")
    cache.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    placed: list[Placed] = []
    clips: list[tuple[int, str, np.ndarray]] = []
    prev_start = prev_end = 0.0
    for say in script.lines:
        voice = say.voice or (script.agent_voice if say.party == "agent" else script.customer_voice)
        audio, true_wpm = _speech(say, voice, cache)
        base = script.agent_level_db if say.party == "agent" else script.customer_level_db
        audio = audio * (10 ** ((base + say.gain_db - _level(audio)) / 20.0))
        if say.at is not None:
            start = say.at
        elif say.after_start is not None:
            start = prev_start + say.after_start
        else:
            start = prev_end + say.gap
        start = max(0.0, start)
        end = start + len(audio) / RATE
        placed.append(Placed(say.party, say.text, round(start, 3), round(end, 3), len(say.text.split()), round(true_wpm, 1), say.gain_db, say.tag, say.semitones))
        clips.append((int(round(start * RATE)), say.party, audio))
        prev_start, prev_end = start, max(prev_end, end)
    duration = max(p.end for p in placed) + script.tail_s
    total = int(duration * RATE)
    tracks = {"agent": np.zeros(total, np.float64), "customer": np.zeros(total, np.float64)}
    for offset, party, audio in clips:
        tracks[party][offset : offset + len(audio)] += audio
    line = _mulaw_line if script.customer_line == "mulaw" else _phone_line
    tracks["customer"] = line(tracks["customer"].astype(np.float32), cache)[:total]
    if script.line_steps:
        tracks["customer"] = tracks["customer"] * line_gain(len(tracks["customer"]), script.line_steps)
    rng = np.random.default_rng(script.seed)
    noise = 10 ** (script.noise_db / 20.0)
    stereo = np.stack([tracks["agent"], np.pad(tracks["customer"], (0, total - len(tracks["customer"])))], axis=1)
    stereo += rng.normal(0.0, noise, stereo.shape)
    wav = out_dir / f"{script.name}.wav"
    tmp = temporary_name(wav)
    sf.write(str(tmp), np.clip(stereo, -1, 1).astype(np.float32), RATE, subtype="PCM_16")
    os.replace(tmp, wav)
    truth = Truth(script.name, round(duration, 3), placed, expected_interruptions(placed),
                  [[float(t), float(g)] for t, g in sorted(script.line_steps)])
    truth_file = out_dir / f"{script.name}.truth.json"
    tmp = temporary_name(truth_file)
    tmp.write_text(json.dumps(asdict(truth), indent=1))
    os.replace(tmp, truth_file)  # last: a truth file means its call is whole
    return wav, truth


def load_truth(path: Path) -> Truth:
    doc = json.loads(Path(path).read_text())
    doc["utterances"] = [Placed(**u) for u in doc["utterances"]]
    return Truth(**doc)


def rendered(script: Script, root: Optional[Path] = None) -> tuple[Path, Truth]:
    """`render(script)` kept in the tests' synthesis cache (tests/synth_cache.py), under a key of the
    whole script and the generator's code and tools: rendered once, by one process at a time, then read.
    The returned files are shared: read them, never change them."""
    folder = (root or cache_root()) / f"calls-{source_digest('callgen.py', 'pace_corpus.py', 'synth_cache.py')}"
    out_dir = folder / f"{script.name}-{digest(asdict(script))[:12]}"
    wav, truth_file = out_dir / f"{script.name}.wav", out_dir / f"{script.name}.truth.json"
    if not truth_file.exists():
        with locked(folder / "locks" / f"{out_dir.name}.lock"):
            if not truth_file.exists():
                render(script, out_dir, folder / "clips")
    return wav, load_truth(truth_file)


def expected_interruptions(placed: list[Placed], min_overlap: float = 1.5, min_lead: float = 0.3) -> list[dict]:
    """Who talked over whom in the script: onset inside the other's utterance, overlap >= min_overlap."""
    found = []
    for u in placed:
        for v in placed:
            if v.party == u.party:
                continue
            if v.start + min_lead <= u.start < v.end:
                overlap = min(u.end, v.end) - u.start
                if overlap >= min_overlap:
                    found.append({"t": u.start, "by": u.party, "overlap_s": round(overlap, 3)})
    return sorted(found, key=lambda d: d["t"])
