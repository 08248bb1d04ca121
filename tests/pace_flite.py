"""CMU Flite's built-in voices in the pace corpus (tests/pace_corpus.py): a fourth engine family, held out.

Debian's `flite` package (CMU Flite 2.2) links its English voices into the program (`flite -lv`): `kal` (8 kHz)
and `kal16` (16 kHz) are diphone voices, `awb`, `rms` and `slt` clustergen statistical voices (a different family
from festival's diphone and HTS voices); `awb_time` (a talking clock) is left out. The rate is flite's
`duration_stretch` feature (`--setf duration_stretch=X`: every segment's duration times X). Flite draws no random
numbers: one text at one stretch is the same sound on every run.

No pace constant is fitted on these voices (`pace_corpus.ENGINES` are the fitted engines): they are only ever
measured (bench/pace_fit.py `--held-out flite`, bench/pace_accuracy.py and bench/slow_down_latency.py
`--engines flite`).

A flite clip is a pace-corpus clip (`pace_corpus.Clip`, `Job`, `Voice`; the same passages, truth, levels, lines,
noise and cache folder), made here rather than in pace_corpus.py: that file's source is part of every clip's
cache key and every clip's noise seed is drawn from its key, so any edit there draws the other engines' office
noise, line floor and dither anew (their clean speech stays the same: checked 2026-12-06) and makes every test
call again (tests/callgen.py hashes it too). A flite clip's key holds pace_corpus.py's and this file's source and
flite's version, so nothing else moves when this file does. `make_any` makes any engine's jobs.
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
from dataclasses import asdict, replace
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import soundfile as sf

from tests import pace_corpus as pc
from tests.pace_corpus import Clip, Job, Voice
from tests.synth_cache import locked

ENGINE = "flite"
PROGRAM = "flite"
VOICES: tuple[Voice, ...] = tuple(Voice(ENGINE, ident) for ident in ("kal", "kal16", "awb", "rms", "slt"))
ALL_VOICES = pc.VOICES + VOICES  # after the corpus's own, so a flite voice's place rotates its passages as there
ALL_ENGINES = pc.ENGINES + (ENGINE,)
# true pace at duration_stretch 1, roughly (speaking time, pauses included; 2026-12-06, two passages each)
NATURAL_WPM = {"kal": 196.0, "kal16": 198.0, "awb": 186.0, "rms": 166.0, "slt": 187.0}


def missing() -> list[str]:
    """`flite` when it is not installed (empty when it is)."""
    return [] if shutil.which(PROGRAM) else [PROGRAM]


@lru_cache(maxsize=None)
def versions() -> str:
    """Flite's version, this file's source and the corpus generator's (its own key part): a flite clip's key."""
    try:
        found = subprocess.run([PROGRAM, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except FileNotFoundError:
        found = f"{PROGRAM} missing"
    h = hashlib.sha1(found.encode())
    h.update(Path(__file__).read_bytes())
    h.update(pc._tool_versions().encode())
    return h.hexdigest()[:12]


def first_stretch(voice: Voice, target_wpm: float) -> float:
    """The duration stretch first tried for `target_wpm` true words/min (then corrected by measuring)."""
    return round(NATURAL_WPM[voice.ident] / target_wpm, 4)


def next_stretch(stretch: float, measured_wpm: float, target_wpm: float) -> float:
    """The next stretch after `stretch` read `measured_wpm`: durations scale with it, pauses too."""
    return round(min(3.0, max(0.3, stretch * measured_wpm / target_wpm)), 4)


def synthesize(voice: Voice, text: str, stretch: float, work: Path) -> np.ndarray:
    """Flite's `voice` reading `text` at `stretch`: mono float32 at the corpus's rate."""
    (work / "text.txt").write_text(text + "\n")
    raw = work / "raw.wav"
    pc._run([PROGRAM, "-voice", voice.ident, "--setf", f"duration_stretch={stretch:.6f}", "-f", str(work / "text.txt"),
             "-o", str(raw)])
    return pc._to_rate(raw, work / "raw16.wav")


def clean_speech(voice: Voice, text_id: str, target_wpm: float, hangover_s: float) -> tuple[np.ndarray, float, dict]:
    """Speech aimed at `target_wpm` true words per minute, levelled and padded as the corpus's: (audio, stretch,
    truth). The same search as `pace_corpus._clean_speech` (measure, rescale the stretch, keep the nearest)."""
    text = pc.TEXTS[text_id]
    words = pc.count_words(text)
    best: Optional[tuple[float, np.ndarray, float]] = None  # (miss, audio, stretch)
    stretch, tried = first_stretch(voice, target_wpm), set()
    with tempfile.TemporaryDirectory(prefix="pace_flite_") as tmp:
        for _ in range(pc.MAX_TRIES):
            if stretch in tried:
                break
            tried.add(stretch)
            audio = pc._trim(synthesize(voice, text, stretch, Path(tmp)))
            wpm = words / pc.speaking_time(audio, pc.RATE, hangover_s) * 60.0
            miss = abs(wpm - target_wpm) / target_wpm
            if best is None or miss < best[0]:
                best = (miss, audio, stretch)
            if miss <= pc.RATE_TOLERANCE:
                break
            stretch = next_stretch(stretch, wpm, target_wpm)
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


def _clean_key(job: Job, hangover_s: float) -> str:
    return pc._digest(pc.GENERATOR_VERSION, versions(), asdict(job.voice), pc.TEXTS[job.text_id], job.target_wpm,
                      pc.RATE, pc.RATE_TOLERANCE, pc.MAX_TRIES, pc.SPEECH_LEVEL_DB, pc.PEAK_LIMIT, pc.LEAD_S, pc.TAIL_S,
                      pc.FRAME_S, pc.VOICED_WITHIN_DB, hangover_s)


def _clip_paths(cache_dir: Path, job: Job, line: str, noise: bool, hangover_s: float) -> tuple[Path, Path]:
    key = pc._clip_key(_clean_key(job, hangover_s), line, noise)
    stem = f"{ENGINE}_{job.voice.name}_{job.text_id}_{job.target_wpm}_{line}{'_noise' if noise else ''}_{key}"
    stem = re.sub(r"[^A-Za-z0-9_.+-]", "_", stem)
    return cache_dir / f"{stem}.wav", cache_dir / f"{stem}.json"


def _have(cache_dir: Path, job: Job, hangover_s: float) -> bool:
    return all(p.exists() for line, noise in job.variants for p in _clip_paths(cache_dir, job, line, noise, hangover_s))


def _make(job: Job, cache_dir: Path, hangover_s: float) -> None:
    """One job's clean speech (made, or read back from `cache_dir/clean`) and every line variant it lacks."""
    clean_key = _clean_key(job, hangover_s)
    with locked(cache_dir / "locks" / f"{clean_key}.lock"):
        if _have(cache_dir, job, hangover_s):
            return
        wav, meta = cache_dir / "clean" / f"{clean_key}.wav", cache_dir / "clean" / f"{clean_key}.json"
        if wav.exists() and meta.exists():
            clean = sf.read(str(wav), dtype="float32")[0].astype(np.float64)
            doc = json.loads(meta.read_text())
            stretch, truth = doc["setting"], doc["truth"]
        else:
            made, stretch, truth = clean_speech(job.voice, job.text_id, job.target_wpm, hangover_s)
            clean32 = made.astype(np.float32)  # as it is kept, so a variant made now equals one made from the cache
            wav.parent.mkdir(parents=True, exist_ok=True)
            tmp = wav.with_name(f".{wav.stem}.{os.getpid()}.{os.urandom(4).hex()}.wav")
            sf.write(str(tmp), clean32, pc.RATE, subtype="FLOAT")
            os.replace(tmp, wav)
            pc._write_json(meta, {"setting": stretch, "truth": truth})
            clean = clean32.astype(np.float64)
        with tempfile.TemporaryDirectory(prefix="pace_flite_") as tmp_dir:
            for line, noise in job.variants:
                out, out_meta = _clip_paths(cache_dir, job, line, noise, hangover_s)
                if out.exists() and out_meta.exists():
                    continue
                seed = int(pc._clip_key(clean_key, line, noise)[:8], 16)
                pc._degrade(clean, line, noise, seed, out, Path(tmp_dir))
                info = sf.info(str(out))
                clip = Clip(path=out, engine=ENGINE, voice=job.voice.name, line=line, noise=noise, text_id=job.text_id,
                            words=truth["words"], speaking_s=truth["speaking_s"], true_wpm=truth["true_wpm"],
                            target_wpm=job.target_wpm, setting=f"stretch {stretch:.3f}", rate=info.samplerate,
                            duration_s=round(info.duration, 3), turns=truth["turns"])
                pc._write_json(out_meta, clip.to_json() | {"level_db": truth["level_db"], "seed": seed})


def make(cache_dir: Path, jobs: Sequence[Job], workers: Optional[int] = None) -> list[Clip]:
    """The clips of exactly these flite jobs (each job's variants, in order), made into `cache_dir` where missing."""
    if any(job.voice.engine != ENGINE for job in jobs):
        raise ValueError("flite jobs only (make_any makes any engine's)")
    if jobs and missing():
        raise RuntimeError(f"the held-out flite voices need {PROGRAM} (apt-get install flite)")
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    hangover_s = pc.default_hangover_s()
    todo = [job for job in jobs if not _have(cache_dir, job, hangover_s)]
    if todo:
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            list(pool.map(lambda job: _make(job, cache_dir, hangover_s), todo))
    clips = []
    for job in jobs:
        for line, noise in job.variants:
            wav, meta = _clip_paths(cache_dir, job, line, noise, hangover_s)
            clips.append(replace(Clip.from_json(json.loads(meta.read_text())), path=wav))
    return clips


def make_any(cache_dir: Path, jobs: Sequence[Job], workers: Optional[int] = None) -> list[Clip]:
    """`pace_corpus.make` for jobs of any engine, flite's among them: the clips in the jobs' order."""
    ours = [job for job in jobs if job.voice.engine == ENGINE]
    theirs = [job for job in jobs if job.voice.engine != ENGINE]
    made = {id(job): clips for job, clips in _grouped(ours, make(cache_dir, ours, workers))}
    made |= {id(job): clips for job, clips in _grouped(theirs, pc.make(cache_dir, theirs, workers) if theirs else [])}
    return [clip for job in jobs for clip in made[id(job)]]


def _grouped(jobs: Sequence[Job], clips: list[Clip]) -> list[tuple[Job, list[Clip]]]:
    out, at = [], 0
    for job in jobs:
        out.append((job, clips[at : at + len(job.variants)]))
        at += len(job.variants)
    return out


def plan(rates: Sequence[int] = pc.RATES, lines: Sequence[str] = pc.LINES, noise: Sequence[bool] = pc.NOISE,
         texts_per_rate: int = 2) -> list[Job]:
    """The full corpus's jobs for the flite voices, as `pace_corpus.plan` plans a voice's (every rate,
    `texts_per_rate` passages each, rotated by the voice's place in `ALL_VOICES`; every line, with and without
    noise)."""
    ids = list(pc.TEXTS)
    variants = tuple((line, n) for line in lines for n in noise)
    jobs = []
    for i, voice in enumerate(ALL_VOICES):
        if voice.engine != ENGINE:
            continue
        for j, rate in enumerate(rates):
            for k in range(texts_per_rate):
                jobs.append(Job(voice, ids[(i + 3 * j + 7 * k) % len(ids)], int(rate), variants))
    return jobs


def corpus(cache_dir: Path, rates: Sequence[int] = pc.RATES, workers: Optional[int] = None,
           texts_per_rate: int = 2) -> list[Clip]:
    """The flite voices' full corpus (`plan`), made into `cache_dir` where missing."""
    return make(cache_dir, plan(rates, texts_per_rate=texts_per_rate), workers)
