"""Each monitor part on crafted signals: tones, silence, clipping, DC offset, 8 kHz input."""

from __future__ import annotations

import numpy as np
import pytest

from companion.monitor.interruptions import InterruptionTracker
from companion.monitor.ledger import SpeechLedger
from companion.monitor.pace import SyllableNuclei, rolling_wpm
from companion.monitor.pitch import PitchTracker
from companion.monitor.talk import MonologueTracker, SilenceTracker
from companion.monitor.tone import ToneTracker
from companion.vad.voice_activity import VoiceActivity, frame_levels_db, to_pcm16
from tests import signals


def run_vad(config, x, block_frames: int = 25):
    vad = VoiceActivity(config.vad, config.audio)
    fr = signals.frames(x)
    fr = fr - fr.mean(axis=1, keepdims=True)
    turns, first = [], 0
    for start in range(0, len(fr), block_frames):
        block = fr[start : start + block_frames]
        _, _, changes = vad.process(first, to_pcm16(block), frame_levels_db(block))
        first += len(block)
        turns += [c for c in changes if c.end_frame is not None]
    last = vad.finish(first)
    if last:
        turns.append(last)
    return [(c.start_frame * 0.02, c.end_frame * 0.02) for c in turns]


# --- pitch -----------------------------------------------------------------


@pytest.mark.parametrize("f0", [90.0, 140.0, 220.0, 320.0])
def test_pitch_of_a_voice_like_signal(config, f0):
    tracker = PitchTracker(config.pitch, config.audio)
    est = tracker.process(signals.frames(signals.voice(f0, 1.0)))[3:]
    assert np.all(est > 0)
    assert np.median(est) == pytest.approx(f0, rel=0.02)


def test_pitch_of_a_pure_tone_and_of_a_clipped_voice(config):
    tracker = PitchTracker(config.pitch, config.audio)
    assert np.median(tracker.process(signals.frames(signals.tone(200.0, 1.0)))[3:]) == pytest.approx(200, rel=0.02)
    clipped = np.clip(signals.voice(150.0, 1.0, level_db=0.0), -0.3, 0.3)
    assert np.median(PitchTracker(config.pitch, config.audio).process(signals.frames(clipped))[3:]) == pytest.approx(150, rel=0.02)


def test_silence_and_noise_are_unvoiced(config):
    tracker = PitchTracker(config.pitch, config.audio)
    assert np.all(tracker.process(np.zeros((50, 320), np.float32)) == 0)
    assert np.mean(tracker.process(signals.frames(signals.noise(1.0, -30))) > 0) < 0.1


# --- voice activity ----------------------------------------------------------


def test_live_blocks_and_file_blocks_hear_the_same_turns(config):
    """The noise floor remembers `noise_window_s` of the line whatever the block size: a held
    two-second vowel is one turn in a live call (0.1 s blocks) as in a recording (0.5 s blocks)."""
    x = np.concatenate([signals.noise(1.0, -60), signals.voice(140.0, 2.0, -20) + signals.noise(2.0, -60, seed=2),
                        signals.noise(1.0, -60, seed=3)])
    live = run_vad(config, x, config.capture.live_block_frames)
    recorded = run_vad(config, x, config.audio.file_block_frames)
    assert live == recorded
    assert len(live) == 1
    assert live[0][0] == pytest.approx(1.0, abs=0.1) and live[0][1] == pytest.approx(3.0, abs=0.1)


def test_silence_has_no_turns(config):
    assert run_vad(config, np.zeros(16000 * 5, np.float32)) == []
    assert run_vad(config, signals.noise(5.0, -50)) == []


def test_a_burst_of_voice_is_one_turn_with_its_edges(config):
    x = np.concatenate([signals.noise(1.0), signals.syllables(4.0, 2.0) + signals.noise(2.0), signals.noise(1.5)])
    turns = run_vad(config, x)
    assert len(turns) == 1
    start, end = turns[0]
    assert start == pytest.approx(1.0, abs=0.15) and end == pytest.approx(3.0, abs=0.15)


def test_dc_offset_and_clipping_do_not_change_the_turns(config):
    x = np.concatenate([signals.noise(1.0), signals.syllables(4.0, 2.0) + signals.noise(2.0), signals.noise(1.5)])
    clean = run_vad(config, x)
    assert run_vad(config, x + 0.2) == clean
    loud = np.clip(x * 30, -1, 1)
    assert len(run_vad(config, loud)) == 1


def test_a_steady_tone_stops_counting_once_the_noise_floor_catches_up(config):
    # a dial tone or hum on the line: at most its first seconds look like speech
    turns = run_vad(config, signals.tone(425.0, 12.0, -25) + signals.noise(12.0))
    assert sum(end - start for start, end in turns) <= 4.0


def test_noise_floor_adapts_to_a_noisy_line(config):
    quiet = signals.noise(8.0, -40)
    speech = np.concatenate([np.zeros(16000 * 3, np.float32), signals.syllables(4.0, 2.0, level_db=-18), np.zeros(16000 * 3, np.float32)])
    turns = run_vad(config, quiet + speech)
    assert len(turns) == 1 and turns[0][0] == pytest.approx(3.0, abs=0.2)


# --- pace --------------------------------------------------------------------


@pytest.mark.parametrize("rate_hz", [3.0, 4.0, 5.5])
def test_syllable_nuclei_follow_the_loudness_rhythm(config, rate_hz):
    counter = SyllableNuclei(config.pace, config.audio)
    x = signals.frames(signals.syllables(rate_hz, 6.0))
    found = []
    for start in range(0, len(x), 25):
        found += [t for t, kind in counter.process(x[start : start + 25], np.ones(len(x[start : start + 25]), bool))
                  if kind == "syllables"]
    assert len(found) == pytest.approx(rate_hz * 6.0, abs=1.5)
    assert np.all(np.diff(found) > 0)


def test_no_nuclei_in_silence_or_where_not_eligible(config):
    counter = SyllableNuclei(config.pace, config.audio)
    assert counter.process(np.zeros((100, 320), np.float32), np.ones(100, bool)) == []
    x = signals.frames(signals.syllables(4.0, 2.0))
    assert counter.process(x, np.zeros(len(x), bool)) == []


def test_rolling_pace_covers_the_last_30_s_of_speaking_time(config):
    ledger = SpeechLedger()
    for second in range(100):
        if second % 2 == 0:  # speaks every other second
            ledger.add_speech(second, 1.0)
            ledger.add_units(second + 0.5, 3.0 if second < 40 else 5.0, kind="words")  # last 30 s of speech: 5/s
    wpm, covered = rolling_wpm(ledger, 99.9, config.pace, 1.0, kind="words")  # recognised words: counted as they are
    assert covered == pytest.approx(30.0, abs=1.0)
    assert wpm == pytest.approx(300.0)
    assert rolling_wpm(SpeechLedger(), 10.0, config.pace, 1.0) == (None, 0.0)


def test_speaking_time_taken_back_from_a_closed_turn(config):
    ledger = SpeechLedger()
    ledger.add_speech(1.2, 0.5)
    ledger.add_speech(1.7, -0.2)
    assert ledger.total_speech_s == pytest.approx(0.3)
    assert ledger.speech_between(0, 2) == pytest.approx(0.3)


# --- tone --------------------------------------------------------------------


def test_volume_and_pitch_are_measured_against_the_agents_own_baseline(config):
    tone = ToneTracker(config.tone, config.audio)
    usual = np.full(50, -30.0) + np.random.default_rng(0).normal(0, 2, 50)
    vowels = float(np.percentile(usual, config.tone.loudness_percentile))  # the level read: its loud frames
    for _ in range(20):  # 20 s of usual speech
        tone.add(usual, np.full(50, 120.0), np.ones(50, bool))
    now, base = tone.loudness()
    assert base == pytest.approx(vowels, abs=0.3) and now == pytest.approx(vowels, abs=0.3)
    tone.add(np.full(50, -22.0), np.full(50, 160.0), np.ones(50, bool))
    tone.add(np.full(50, -22.0), np.full(50, 160.0), np.ones(50, bool))
    now, base = tone.loudness()
    assert now - base == pytest.approx(-22.0 - vowels, abs=0.3)   # against the voice before the raised one
    pitch, pitch_base = tone.pitch()
    assert 12 * np.log2(pitch / pitch_base) == pytest.approx(12 * np.log2(160 / 120), abs=0.3)


def test_no_baseline_before_enough_speech(config):
    tone = ToneTracker(config.tone, config.audio)
    tone.add(np.full(50, -30.0), np.full(50, 120.0), np.ones(50, bool))
    assert tone.loudness()[1] is None and tone.pitch()[1] is None
    tone.add(np.full(50, -10.0), np.zeros(50), np.zeros(50, bool))  # not speech: ignored
    assert tone.loudness()[0] == pytest.approx(-30)


# --- interruptions -------------------------------------------------------------


def overlap_run(config, events):
    tracker = InterruptionTracker(config.interruptions)
    out = []
    for kind, party, t in events:
        if kind == "open":
            out.append(tracker.turn_opened(party, t))
        elif kind == "voiced":
            tracker.voiced(party, t)
        elif kind == "close":
            out.append(tracker.turn_closed(party, t))
        out.append(tracker.expire(t))
    out.append(tracker.expire(float("inf")))
    return tracker, [i for i in out if i is not None]


def test_talking_over_the_customer_for_two_seconds_is_an_interruption(config):
    tracker, found = overlap_run(config, [
        ("open", "customer", 0.0), ("voiced", "customer", 5.0),
        ("open", "agent", 2.0), ("voiced", "agent", 4.5), ("voiced", "customer", 5.0),
        ("close", "customer", 4.2), ("voiced", "agent", 6.0), ("close", "agent", 6.0),
    ])
    assert [(i.by, i.t, round(i.overlap_s, 2)) for i in found] == [("agent", 2.0, 2.2)]
    assert tracker.counts == {"agent": 1, "customer": 0}


def test_a_backchannel_is_not_an_interruption(config):
    _, found = overlap_run(config, [
        ("open", "customer", 0.0), ("open", "agent", 2.0), ("voiced", "agent", 2.6),
        ("close", "agent", 2.6), ("voiced", "customer", 6.0), ("close", "customer", 6.0),
    ])
    assert found == []


def test_a_pause_between_sentences_does_not_split_an_overlap(config):
    _, found = overlap_run(config, [
        ("open", "customer", 0.0), ("open", "agent", 2.0), ("voiced", "agent", 3.0), ("voiced", "customer", 3.0),
        ("close", "customer", 3.0), ("open", "customer", 3.7), ("voiced", "customer", 6.0), ("voiced", "agent", 6.0),
        ("close", "agent", 6.0), ("close", "customer", 7.0),
    ])
    assert [(i.by, i.t, i.overlap_s) for i in found] == [("agent", 2.0, 4.0)]


def test_the_customer_cutting_in_is_marked_by_customer(config):
    _, found = overlap_run(config, [
        ("open", "agent", 0.0), ("open", "customer", 3.0), ("voiced", "agent", 5.0), ("voiced", "customer", 5.0),
        ("close", "agent", 5.0), ("close", "customer", 8.0),
    ])
    assert [(i.by, i.t) for i in found] == [("customer", 3.0)]


def test_starting_together_is_not_an_interruption(config):
    _, found = overlap_run(config, [
        ("open", "agent", 0.0), ("open", "customer", 0.1), ("voiced", "agent", 4.0), ("voiced", "customer", 4.0),
        ("close", "agent", 4.0), ("close", "customer", 4.0),
    ])
    assert found == []


# --- monologue and silence -------------------------------------------------------


def test_a_monologue_survives_short_pauses_and_backchannels_but_not_a_real_reply(config):
    mono = MonologueTracker(config.talk)
    mono.agent_voiced(0.0, 10.0)
    mono.agent_voiced(10.8, 20.0)          # a breath
    mono.customer_spoke(20.1, 20.6)        # "mm-hmm"
    mono.agent_voiced(20.5, 30.0)
    assert mono.current(30.0) == pytest.approx(30.0)
    mono.customer_spoke(30.5, 34.0)        # the customer replies
    mono.agent_voiced(34.5, 40.0)
    assert mono.current(40.0) == pytest.approx(5.5)
    assert mono.longest_s == pytest.approx(30.0)


def test_silence_counts_only_between_words(config):
    silence = SilenceTracker(config.talk)
    assert silence.silence_s(30.0) == 0.0      # before anyone spoke
    assert silence.speech_started(31.0) is None
    silence.speech_ended(35.0)
    assert silence.silence_s(41.0) == pytest.approx(6.0)
    gap = silence.speech_started(47.0)
    assert gap is not None and gap.duration == pytest.approx(12.0)
