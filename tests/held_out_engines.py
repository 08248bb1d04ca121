"""Engines in the pace corpus (tests/pace_corpus.py) that no pace constant is fitted on: measured only.

`pace_corpus.ENGINES` are the fitted engines (espeak-ng, festival, Piper); these are held out:
- `flite` (tests/pace_flite.py): CMU Flite's built-in voices, diphone and clustergen statistical voices;
- `kokoro` (tests/pace_kokoro.py): Kokoro-82M, a second neural family (StyleTTS 2, where Piper is VITS).
They are only ever measured (bench/pace_fit.py `--held-out`, bench/pace_accuracy.py, bench/slow_down_latency.py and
bench/slow_down_replay.py `--engines`). Each engine's rate is a duration stretch (every segment's duration times X).

A held-out clip is a pace-corpus clip (`pace_corpus.Clip`, `Job`, `Voice`; the same passages, truth, levels, lines,
noise and cache folder), made here rather than in pace_corpus.py: that file's source is part of every clip's
cache key and every clip's noise seed is drawn from its key, so any edit there draws the other engines' office
noise, line floor and dither anew (their clean speech stays the same: checked 2026-12-06) and makes every test
call again (tests/callgen.py hashes it too). A held-out clip's key holds pace_corpus.py's, this file's and its engine
module's source and the engine's version, so nothing else moves when these files do. `make_any` makes any engine's
jobs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

import numpy as np
import soundfile as sf

from tests import pace_corpus as pc
from tests import pace_flite, pace_kokoro
from tests.pace_corpus import Clip, Job, Voice
from tests.synth_cache import locked


@dataclass(frozen=True)
class HeldOutEngine:
    name: str
    voices: tuple[Voice, ...]
    natural_wpm: Mapping[str, float]   # each voice's true pace at stretch 1, roughly (speaking time, pauses included)
    synthesize: Callable[[Voice, str, float, Path], np.ndarray]  # (voice, text, stretch, work) -> mono at pc.RATE
    missing: Callable[[], list[str]]   # what is not installed (empty when all is)
    version: Callable[[], str]         # the engine's version: part of its clips' keys
    module: str                        # the engine module's file: its source is part of its clips' keys
    install: str                       # how to get what `missing` names
    stretches: tuple[float, float] = (0.3, 3.0)   # the stretch is kept within these


FLITE = HeldOutEngine("flite", pace_flite.VOICES, pace_flite.NATURAL_WPM, pace_flite.synthesize, pace_flite.missing,
                      pace_flite.version, pace_flite.__file__, "apt-get install flite")
KOKORO = HeldOutEngine("kokoro", pace_kokoro.VOICES, pace_kokoro.NATURAL_WPM, pace_kokoro.synthesize,
                       pace_kokoro.missing, pace_kokoro.version, pace_kokoro.__file__, pace_kokoro.INSTALL,
                       pace_kokoro.STRETCHES)
HELD_OUT = {engine.name: engine for engine in (FLITE, KOKORO)}
ALL_VOICES = pc.VOICES + FLITE.voices + KOKORO.voices  # after the corpus's own, so a voice's place rotates its passages
ALL_ENGINES = pc.ENGINES + tuple(HELD_OUT)


@lru_cache(maxsize=None)
def versions(name: str) -> str:
    """The engine's version, this file's and its module's source and the corpus generator's: its clips' key."""
    engine = HELD_OUT[name]
    h = hashlib.sha1(engine.version().encode())
    h.update(Path(engine.module).read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update(pc._tool_versions().encode())
    return h.hexdigest()[:12]


def first_stretch(engine: HeldOutEngine, voice: Voice, target_wpm: float) -> float:
    """The duration stretch first tried for `target_wpm` true words/min (then corrected by measuring)."""
    return round(engine.natural_wpm[voice.ident] / target_wpm, 4)


def next_stretch(engine: HeldOutEngine, stretch: float, measured_wpm: float, target_wpm: float) -> float:
    """The next stretch after `stretch` read `measured_wpm`: durations scale with it, pauses too."""
    low, high = engine.stretches
    return round(min(high, max(low, stretch * measured_wpm / target_wpm)), 4)


def clean_speech(engine: HeldOutEngine, voice: Voice, text_id: str, target_wpm: float,
                 hangover_s: float) -> tuple[np.ndarray, float, dict]:
    """Speech aimed at `target_wpm` true words per minute, levelled and padded as the corpus's: (audio, stretch,
    truth). The same search as `pace_corpus._clean_speech` (measure, rescale the stretch, keep the nearest)."""
    text = pc.TEXTS[text_id]
    words = pc.count_words(text)
    best: Optional[tuple[float, np.ndarray, float]] = None  # (miss, audio, stretch)
    stretch, tried = first_stretch(engine, voice, target_wpm), set()
    with tempfile.TemporaryDirectory(prefix=f"pace_{engine.name}_") as tmp:
        for _ in range(pc.MAX_TRIES):
            if stretch in tried:
                break
            tried.add(stretch)
            audio = pc._trim(engine.synthesize(voice, text, stretch, Path(tmp)))
            wpm = words / pc.speaking_time(audio, pc.RATE, hangover_s) * 60.0
            miss = abs(wpm - target_wpm) / target_wpm
            if best is None or miss < best[0]:
                best = (miss, audio, stretch)
            if miss <= pc.RATE_TOLERANCE:
                break
            stretch = next_stretch(engine, stretch, wpm, target_wpm)
    assert best is not None
    miss, audio, stretch = best
    audio = audio.astype(np.float64) * 10 ** ((pc.SPEECH_LEVEL_DB - pc.active_level_db(audio, pc.RATE)) / 20.0)
    if np.abs(audio).max() > pc.PEAK_LIMIT:
        audio *= pc.PEAK_LIMIT / np.abs(audio).max()
    audio = np.concatenate((np.zeros(int(pc.LEAD_S * pc.RATE)), audio, np.zeros(int(pc.TAIL_S * pc.RATE))))
    turns = pc.speech_turns(audio, pc.RATE, hangover_s)
    speaking = sum(e - s for s, e in turns)
    truth = {"words": words, "speaking_s": round(speaking, 3), "true_wpm": round(words / speaking * 60.0, 2),
             "turns": len(turns), "level_db": round(pc.active_level_db(audio, pc.RATE), 2),
             "aimed_within": bool(miss <= pc.RATE_TOLERANCE)}
    return audio, stretch, truth


def _clean_key(engine: HeldOutEngine, job: Job, hangover_s: float) -> str:
    return pc._digest(pc.GENERATOR_VERSION, versions(engine.name), asdict(job.voice), pc.TEXTS[job.text_id],
                      job.target_wpm, pc.RATE, pc.RATE_TOLERANCE, pc.MAX_TRIES, pc.SPEECH_LEVEL_DB, pc.PEAK_LIMIT,
                      pc.LEAD_S, pc.TAIL_S, pc.FRAME_S, pc.VOICED_WITHIN_DB, hangover_s)


def _clip_paths(engine: HeldOutEngine, cache_dir: Path, job: Job, line: str, noise: bool,
                hangover_s: float) -> tuple[Path, Path]:
    key = pc._clip_key(_clean_key(engine, job, hangover_s), line, noise)
    stem = f"{engine.name}_{job.voice.name}_{job.text_id}_{job.target_wpm}_{line}{'_noise' if noise else ''}_{key}"
    stem = re.sub(r"[^A-Za-z0-9_.+-]", "_", stem)
    return cache_dir / f"{stem}.wav", cache_dir / f"{stem}.json"


def _have(engine: HeldOutEngine, cache_dir: Path, job: Job, hangover_s: float) -> bool:
    return all(p.exists() for line, noise in job.variants
               for p in _clip_paths(engine, cache_dir, job, line, noise, hangover_s))


def _make(engine: HeldOutEngine, job: Job, cache_dir: Path, hangover_s: float) -> None:
    """One job's clean speech (made, or read back from `cache_dir/clean`) and every line variant it lacks."""
    clean_key = _clean_key(engine, job, hangover_s)
    with locked(cache_dir / "locks" / f"{clean_key}.lock"):
        if _have(engine, cache_dir, job, hangover_s):
            return
        wav, meta = cache_dir / "clean" / f"{clean_key}.wav", cache_dir / "clean" / f"{clean_key}.json"
        if wav.exists() and meta.exists():
            clean = sf.read(str(wav), dtype="float32")[0].astype(np.float64)
            doc = json.loads(meta.read_text())
            stretch, truth = doc["setting"], doc["truth"]
        else:
            made, stretch, truth = clean_speech(engine, job.voice, job.text_id, job.target_wpm, hangover_s)
            clean32 = made.astype(np.float32)  # as it is kept, so a variant made now equals one made from the cache
            wav.parent.mkdir(parents=True, exist_ok=True)
            tmp = wav.with_name(f".{wav.stem}.{os.getpid()}.{os.urandom(4).hex()}.wav")
            sf.write(str(tmp), clean32, pc.RATE, subtype="FLOAT")
            os.replace(tmp, wav)
            pc._write_json(meta, {"setting": stretch, "truth": truth})
            clean = clean32.astype(np.float64)
        with tempfile.TemporaryDirectory(prefix=f"pace_{engine.name}_") as tmp_dir:
            for line, noise in job.variants:
                out, out_meta = _clip_paths(engine, cache_dir, job, line, noise, hangover_s)
                if out.exists() and out_meta.exists():
                    continue
                seed = int(pc._clip_key(clean_key, line, noise)[:8], 16)
                pc._degrade(clean, line, noise, seed, out, Path(tmp_dir))
                info = sf.info(str(out))
                clip = Clip(path=out, engine=engine.name, voice=job.voice.name, line=line, noise=noise,
                            text_id=job.text_id, words=truth["words"], speaking_s=truth["speaking_s"],
                            true_wpm=truth["true_wpm"], target_wpm=job.target_wpm, setting=f"stretch {stretch:.3f}",
                            rate=info.samplerate, duration_s=round(info.duration, 3), turns=truth["turns"])
                pc._write_json(out_meta, clip.to_json() | {"level_db": truth["level_db"], "seed": seed})


def make(engine: HeldOutEngine, cache_dir: Path, jobs: Sequence[Job], workers: Optional[int] = None) -> list[Clip]:
    """The clips of exactly these jobs of `engine` (each job's variants, in order), made into `cache_dir` where
    missing."""
    if any(job.voice.engine != engine.name for job in jobs):
        raise ValueError(f"{engine.name} jobs only (make_any makes any engine's)")
    if jobs and engine.missing():
        raise RuntimeError(f"the held-out {engine.name} voices need {', '.join(engine.missing())} ({engine.install})")
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    hangover_s = pc.default_hangover_s()
    todo = [job for job in jobs if not _have(engine, cache_dir, job, hangover_s)]
    if todo:
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            list(pool.map(lambda job: _make(engine, job, cache_dir, hangover_s), todo))
    clips = []
    for job in jobs:
        for line, noise in job.variants:
            wav, meta = _clip_paths(engine, cache_dir, job, line, noise, hangover_s)
            clips.append(replace(Clip.from_json(json.loads(meta.read_text())), path=wav))
    return clips


def make_any(cache_dir: Path, jobs: Sequence[Job], workers: Optional[int] = None) -> list[Clip]:
    """`pace_corpus.make` for jobs of any engine, the held-out ones among them: the clips in the jobs' order."""
    made: dict[int, list[Clip]] = {}
    for name, engine in HELD_OUT.items():
        ours = [job for job in jobs if job.voice.engine == name]
        made |= {id(job): clips for job, clips in _grouped(ours, make(engine, cache_dir, ours, workers))}
    theirs = [job for job in jobs if job.voice.engine not in HELD_OUT]
    made |= {id(job): clips for job, clips in _grouped(theirs, pc.make(cache_dir, theirs, workers) if theirs else [])}
    return [clip for job in jobs for clip in made[id(job)]]


def _grouped(jobs: Sequence[Job], clips: list[Clip]) -> list[tuple[Job, list[Clip]]]:
    out, at = [], 0
    for job in jobs:
        out.append((job, clips[at : at + len(job.variants)]))
        at += len(job.variants)
    return out


def plan(engine: HeldOutEngine, rates: Sequence[int] = pc.RATES, lines: Sequence[str] = pc.LINES,
         noise: Sequence[bool] = pc.NOISE, texts_per_rate: int = 2) -> list[Job]:
    """The full corpus's jobs for the engine's voices, as `pace_corpus.plan` plans a voice's (every rate,
    `texts_per_rate` passages each, rotated by the voice's place in `ALL_VOICES`; every line, with and without
    noise)."""
    ids = list(pc.TEXTS)
    variants = tuple((line, n) for line in lines for n in noise)
    jobs = []
    for i, voice in enumerate(ALL_VOICES):
        if voice.engine != engine.name:
            continue
        for j, rate in enumerate(rates):
            for k in range(texts_per_rate):
                jobs.append(Job(voice, ids[(i + 3 * j + 7 * k) % len(ids)], int(rate), variants))
    return jobs


def corpus(engines: Sequence[str], cache_dir: Path, rates: Sequence[int] = pc.RATES, workers: Optional[int] = None,
           texts_per_rate: int = 2) -> list[Clip]:
    """The full corpus (`plan`) of those of `engines` that are held out, made into `cache_dir` where missing."""
    return [clip for name in engines if name in HELD_OUT
            for clip in make(HELD_OUT[name], cache_dir, plan(HELD_OUT[name], rates, texts_per_rate=texts_per_rate),
                             workers)]
