"""The acoustic pace on real people's speech, which no constant was fitted on (tests/pace_real.py: recordings from
two packages' test data with word timings; bench/real_pace_accuracy.py prints every figure, with the error split
into speaking time and nuclei per word):

- a LibriVox reader (a clean home recording, a true ~190 words/min) reads within 10 % on every line;
- the aligner's author at his desk (a true ~167, a fast start and a slow end) reads within 10 % on a phone line.

- the same man with a cold, hoarse and creaky, in a noisy room (a true ~190) reads more than half his pace on every
  line: nuclei are counted in his turns wherever his voice is periodic or its spectrum a vowel's (harmonic, most of
  its power under 1 kHz), not only where the pitch tracker gives an f0 (23-41 % of his speaking time; before,
  he read -32 to -78 %).

And what it cannot do yet, kept as strict expected failures so the suite says when it can:

- the hoarse voice within 15 %: on a headset he reads -29 to -35 % (the voice activity hears 30-91 % of his
  speaking time, and not his weakest syllables), on a noisy phone line one take reads +38 % (a quarter of his
  speech heard, its clearest stretches);
- at his desk on a headset he reads within 10 % (as on a phone line): with office noise he reads -15 %, the voice
  activity counting his room's noise as speech (+14-16 % speaking time).

Five more people (2026-12-06, seventh session; words counted from their packages' transcripts, speaking time measured
from the clean recordings where no word timings come with them):

- a LibriVox reader's Sonnet 1, slow and calm (a true ~151), reads within 15 % on every line (-11 to -2 %);
- a LibriSpeech man (~245) and the CMU ARCTIC woman slt (~193) read within 15 % on every line;
- strict expected failures: a professional IVR voice (~163) within 10 % (she reads +13 to +17 %: 12-15 % more nuclei
  per word than 1.43, her speaking time right), and not told to slow down in her calm opening prompt (she is, at 16 s,
  on two lines); and a CMU ARCTIC man (~219) within 15 % (+15 to +19 % on a headset).

The recordings are fetched by pip (and apt-get) the first time (into the tests' cache, shared with tests/test_other_voices.py);
where a registry cannot be reached, that recording's tests skip and say why. Each call is one recording on the agent channel,
analysed as `companion analyze --model none` does."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest

from companion.analysis import analyze_call
from companion.audio.file_source import CallFileSpec
from companion.config import load_config
from tests import other_voices as ov
from tests import pace_real
from tests.pace_corpus import as_call
from tests.synth_cache import cache_root, locked

pytestmark = pytest.mark.slow  # the first run fetches six packages (pip sdists, Debian packages)


# the two longest new recordings (about 50 s each, on four lines) are measured by bench/real_pace_accuracy.py only,
# for the suite's 10-minute budget: the slow sonnet reader (-11 to -2 %) and the IVR voice (+13 to +17 %; told to
# slow down in her calm opening at 16 s on two lines: her long words, docs/coaching.md)
BENCH_ONLY = frozenset({"librivox_sonnet", "ivr_allison"})


@pytest.fixture(scope="module")
def readings():
    """Per (recording, line name): (true wpm, the pipeline's whole-call wpm, its `slow_down` times); and per recording whose package could not
    be fetched, why (its tests skip, the others run)."""
    archives, cache = cache_root() / "other_voices", cache_root() / "pace_real"
    archives.mkdir(parents=True, exist_ok=True)
    clips, missing = [], {}
    for rid, rec in pace_real.RECORDINGS.items():
        if rid in BENCH_ONLY:
            continue
        sources = [rec.source] + ([rec.transcript[0]] if rec.transcript and rec.transcript[0] != rec.source else [])
        try:
            with contextlib.ExitStack() as stack:
                for source in sources:
                    stack.enter_context(locked(archives / f"{source}.lock"))
                stack.enter_context(locked(cache.parent / "pace_real.lock"))
                clips += pace_real.clips(cache, recordings=(rid,), archives=archives)
        except ov.SourceUnavailable as e:
            missing[rid] = f"{', '.join(ov.SOURCES[s].spec for s in sources)} could not be fetched: {e}"
    config = load_config(use_user_default=False)
    out = {}
    with tempfile.TemporaryDirectory(prefix="pace_real_") as tmp:
        for clip in clips:
            call = as_call(clip, Path(tmp) / f"{clip.voice}_{clip.line}_{clip.noise}.wav")
            doc = analyze_call(CallFileSpec(call), config)
            assert doc["pace_source"] == "acoustic"
            told = [p["t"] for p in doc["prompts"] if p["kind"] == "slow_down"]
            out[(clip.voice, f"{clip.line}{' +noise' if clip.noise else ''}")] = (clip.true_wpm, doc["agent_wpm"], told)
    return out, missing


def _errors(readings, recording):
    found, missing = readings
    if recording in missing:
        pytest.skip(missing[recording])
    return {line: (read - true) / true for (rid, line), (true, read, _) in found.items() if rid == recording}


def assert_within(readings, recording: str, share: float, lines: str = "", count: int = 4) -> None:
    """`recording` reads within `share` of its true pace on each of its `count` lines (those starting `lines`)."""
    errors = {line: e for line, e in _errors(readings, recording).items() if line.startswith(lines)}
    assert len(errors) == count
    assert all(abs(e) <= share for e in errors.values()), {k: f"{v:+.0%}" for k, v in errors.items()}


def test_a_clean_reader_reads_within_ten_per_cent_on_every_line(readings):
    assert_within(readings, "librivox_man", 0.10)


def test_a_man_at_his_desk_reads_within_ten_per_cent_on_a_phone_line(readings):
    assert_within(readings, "mfa_author", 0.10, lines="phone", count=2)


@pytest.mark.parametrize("recording", ["mfa_author_cold", "mfa_author_cold3"])
def test_a_hoarse_voice_in_a_noisy_room_reads_more_than_half_its_pace_on_every_line(readings, recording):
    errors = _errors(readings, recording)
    assert len(errors) == 4
    assert all(e > -0.5 for e in errors.values()), {k: f"{v:+.0%}" for k, v in errors.items()}


@pytest.mark.xfail(strict=True, reason="the voice activity hears 30-91 % of a hoarse voice's speaking time and not its "
                   "weakest syllables: -35 to +38 % (issue 21; bench/real_pace_accuracy.py)")
@pytest.mark.parametrize("recording", ["mfa_author_cold", "mfa_author_cold3"])
def test_a_hoarse_voice_in_a_noisy_room_reads_within_fifteen_per_cent_on_every_line(readings, recording):
    assert_within(readings, recording, 0.15)


@pytest.mark.xfail(strict=True, reason="on a headset with office noise his room's noise is speaking time (+16 %): "
                   "-15 % (issue 21; bench/real_pace_accuracy.py)")
def test_a_man_at_his_desk_reads_within_ten_per_cent_on_a_headset(readings):
    """(Within 10 %, as on the phone lines: his -15 % sits far enough from the line that another machine's rounding
    cannot pass it by chance.)"""
    assert_within(readings, "mfa_author", 0.10, lines="headset", count=2)


# People added in the seventh session: words counted from their package's own transcript, speaking time measured
# from the clean recording (tests/pace_real.py `measured_turns`), or HTS phone labels (the ARCTIC woman).
@pytest.mark.parametrize("recording", ["librispeech_61", "arctic_slt"])
def test_a_read_sentence_reads_within_fifteen_per_cent_on_every_line(readings, recording):
    """A LibriSpeech man (a true ~245 words/min) and the CMU ARCTIC woman slt (~193), one sentence each said three
    times: -12 to +3 % and +1 to +13 %."""
    assert_within(readings, recording, 0.15)


def test_a_studio_man_reads_within_fifteen_per_cent_on_every_line(readings):
    """A CMU ARCTIC man (a true ~219 words/min): +15 to +19 % on a headset while the syllables counted reached into the
    studio's room tone before each sentence; counted only within `own_voice_range_db` of his voice (eighteenth
    session), he reads within 8 %."""
    assert_within(readings, "arctic_man", 0.15)