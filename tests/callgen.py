"""Synthetic two-party calls for tests: espeak-ng speech placed on a call timeline.

Each utterance has a party, text, voice, true words per minute, gain and pitch,
and a start time given either absolutely or as a gap after the previous
utterance (negative = overlap). The agent is a headset (full band); the customer
comes through a phone line (300-3400 Hz, 8 kHz). Both carry a low noise floor.
The ground truth (turn times, true pace, expected interruptions) is written
beside the audio as JSON.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import soundfile as sf

RATE = 16000
ESPEAK_RATIO = 1.2  # espeak-ng speaks about 1.2x the -s it is given; calibrated per utterance below


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


@dataclass
class Truth:
    name: str
    duration_s: float
    utterances: list[Placed] = field(default_factory=list)
    interruptions: list[dict] = field(default_factory=list)

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


def _espeak(text: str, voice: str, speed: int, pitch: int, cache: Path) -> np.ndarray:
    key = hashlib.sha1(f"{text}|{voice}|{speed}|{pitch}".encode()).hexdigest()[:16]
    out = cache / f"{key}.wav"
    if not out.exists():
        raw = cache / f"{key}.raw.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", str(RATE), "-b", "16", str(out)], check=True)
        raw.unlink()
    audio, rate = sf.read(str(out), dtype="float32")
    assert rate == RATE
    return _trim(audio)


def _trim(audio: np.ndarray, threshold: float = 0.003) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio[:0]
    return audio[loud[0] : loud[-1] + 1]


def _speech(say: Say, voice: str, cache: Path) -> tuple[np.ndarray, float]:
    """Speech at the requested true words per minute (espeak's -s is calibrated by measuring)."""
    words = len(say.text.split())
    speed = max(80, round(say.wpm / ESPEAK_RATIO))
    audio = _espeak(say.text, voice, speed, say.pitch, cache)
    if words >= 4:
        for _ in range(2):
            actual = words / (len(audio) / RATE) * 60.0
            if abs(actual - say.wpm) / say.wpm < 0.04:
                break
            speed = max(80, min(500, round(speed * say.wpm / actual)))
            audio = _espeak(say.text, voice, speed, say.pitch, cache)
    return audio, words / (len(audio) / RATE) * 60.0


def _phone_line(audio: np.ndarray, cache: Path) -> np.ndarray:
    """Band-limit to 300-3400 Hz through an 8 kHz line, as the customer is heard."""
    src = cache / "line_in.wav"
    dst = cache / "line_out.wav"
    sf.write(str(src), audio, RATE, subtype="FLOAT")
    subprocess.run(["sox", str(src), "-r", "8000", str(dst), "sinc", "300-3400"], check=True)
    subprocess.run(["sox", str(dst), "-r", str(RATE), str(src)], check=True)
    line, _ = sf.read(str(src), dtype="float32")
    return line


def _level(audio: np.ndarray) -> float:
    loud = audio[np.abs(audio) > 0.01]
    return 10 * np.log10(np.mean(loud.astype(np.float64) ** 2) + 1e-12) if loud.size else -100.0


def render(script: Script, out_dir: Path, cache: Path, channels_out: Optional[Path] = None) -> tuple[Path, Truth]:
    """Write `<name>.wav` (agent left, customer right) and `<name>.truth.json`; return the path and truth."""
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
        placed.append(Placed(say.party, say.text, round(start, 3), round(end, 3), len(say.text.split()), round(true_wpm, 1), say.gain_db, say.tag))
        clips.append((int(round(start * RATE)), say.party, audio))
        prev_start, prev_end = start, max(prev_end, end)
    duration = max(p.end for p in placed) + script.tail_s
    total = int(duration * RATE)
    tracks = {"agent": np.zeros(total, np.float64), "customer": np.zeros(total, np.float64)}
    for offset, party, audio in clips:
        tracks[party][offset : offset + len(audio)] += audio
    tracks["customer"] = _phone_line(tracks["customer"].astype(np.float32), cache)[:total]
    rng = np.random.default_rng(script.seed)
    noise = 10 ** (script.noise_db / 20.0)
    stereo = np.stack([tracks["agent"], np.pad(tracks["customer"], (0, total - len(tracks["customer"])))], axis=1)
    stereo += rng.normal(0.0, noise, stereo.shape)
    wav = out_dir / f"{script.name}.wav"
    sf.write(str(wav), np.clip(stereo, -1, 1).astype(np.float32), RATE, subtype="PCM_16")
    truth = Truth(script.name, round(duration, 3), placed, expected_interruptions(placed))
    (out_dir / f"{script.name}.truth.json").write_text(json.dumps(asdict(truth), indent=1))
    return wav, truth


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
