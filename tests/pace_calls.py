"""Calls made of pace-corpus clips in a row (`tests/pace_corpus.py`), for the pace tests and benches, and the
same line heard with other noise (`renders`).

Kept apart from the corpus module, whose own source is part of every clip's cache key: a helper added there
would make the whole corpus again."""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from tests import pace_corpus
from tests.pace_corpus import LEAD_S, RATE, Clip, Job, as_call, make
from tests.synth_cache import locked, source_digest


def stitched_call(parts: list[Clip], path: Path) -> tuple[Path, list[float]]:
    """The clips in a row on the agent channel of a two-channel call (as `as_call`); returns the call and the
    call time where each part's speech starts."""
    import soxr

    audio, starts, at = [], [], 0
    for clip in parts:
        samples, rate = clip.load()
        if rate != RATE:
            samples = soxr.resample(samples, rate, RATE, quality="HQ")
        starts.append(at / RATE + LEAD_S)
        audio.append(samples)
        at += len(samples)
    agent = Path(path).with_suffix(".agent.wav")
    sf.write(str(agent), np.concatenate(audio), RATE, subtype="FLOAT")
    return as_call(dataclasses.replace(parts[0], path=agent, rate=RATE), path), starts


def renders(cache_dir: Path, job: Job, seeds: tuple[int, ...]) -> list[Clip]:
    """One synthesis on one line (`job` holds one line variant) rendered again with other noise: the office noise,
    line floor and the phone line's dither drawn from each of `seeds` instead of the corpus's own seed. The
    speech and its truth are the corpus's (the clean synthesis is made once, or read back from `cache_dir`),
    so two renders differ only in what a line adds; kept beside the corpus under `renders/`, keyed by content."""
    if len(job.variants) != 1:
        raise ValueError("one line variant per job")
    (line, noise), = job.variants
    reference = make(cache_dir, [job])[0]  # the corpus's own render: makes (or reads) the clean speech too
    hangover = pace_corpus.default_hangover_s()
    clean_key = pace_corpus._clean_key(job, hangover)
    folder = Path(cache_dir) / "renders"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for seed in seeds:
        key = pace_corpus._digest(pace_corpus._clip_key(clean_key, line, noise), seed, source_digest("pace_calls.py"))
        stem = re.sub(r"[^A-Za-z0-9_.+-]", "_", reference.path.stem.rsplit("_", 1)[0] + f"_seed{seed}_{key}")
        wav, meta = folder / f"{stem}.wav", folder / f"{stem}.json"
        with locked(Path(cache_dir) / "locks" / f"{key}.lock"):
            if not (wav.exists() and meta.exists()):
                clean, _, _ = pace_corpus._clean_cached(job, Path(cache_dir), hangover)
                with tempfile.TemporaryDirectory(prefix="pace_render_") as tmp:
                    pace_corpus._degrade(clean, line, noise, seed, wav, Path(tmp))
                pace_corpus._write_json(meta, reference.to_json() | {"path": str(wav), "seed": seed})
        clip = Clip.from_json(json.loads(meta.read_text()))
        out.append(dataclasses.replace(clip, path=wav))
    return out
