"""The demo's script: it agrees with the demo's audio, and it reaches the pipeline as a recogniser's events would."""

from __future__ import annotations

import numpy as np
import pytest

from companion.asr.scripted import ScriptedTranscriber, load_script
from companion.demo import demo_recording, demo_script
from companion.errors import CompanionError
from companion.events import FinalSegment, PartialText


def test_every_line_of_the_demo_script_is_spoken_on_its_partys_channel_at_its_time(config):
    """The script is the audio's truth: speech on the line's channel through the line, silence just around it."""
    import soundfile as sf

    audio, rate = sf.read(str(demo_recording()), dtype="float32")
    channel = {"agent": 0, "customer": 1}
    floor = float(np.sqrt(np.mean(audio[: int(0.4 * rate), 0] ** 2)))

    def rms(party, a, b):
        x = audio[max(0, int(a * rate)) : int(b * rate), channel[party]]
        return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))

    script = demo_script()
    assert len(script.lines) >= 10 and {line.party for line in script.lines} == {"agent", "customer"}
    for line in script.lines:
        assert rms(line.party, line.start, line.end) > 8 * floor, line
        alone = not any(o is not line and o.party == line.party and o.start < line.end + 0.3 and o.end > line.start - 0.3
                        for o in script.lines)
        if alone:
            assert rms(line.party, line.start - 0.25, line.start - 0.05) < 2 * floor, line
            assert rms(line.party, line.end + 0.05, line.end + 0.25) < 2 * floor, line


def run_script(script, config, until_s: float, block_s: float = 0.5):
    events = []
    t = ScriptedTranscriber("agent", script, config.audio, events.append)
    per_block = int(block_s / config.audio.frame_s)
    first = 0
    while first * config.audio.frame_s < until_s:
        t.put(first, np.zeros((per_block, int(config.audio.sample_rate * config.audio.frame_s)), np.float32))
        first += per_block
    return t, events


def test_the_agents_lines_arrive_as_partial_words_then_final_segments_on_the_call_clock(config):
    script = demo_script()
    first = next(line for line in script.lines if line.party == "agent")
    _, events = run_script(script, config, first.end + script.final_delay_s + 0.5)
    partials = [e for e in events if isinstance(e, PartialText)]
    finals = [e for e in events if isinstance(e, FinalSegment)]
    assert partials and all(p.t <= first.end for p in partials)
    assert [len(p.words) for p in partials] == sorted(len(p.words) for p in partials)  # words only ever added
    assert len(finals) == 1 and finals[0].text == first.text
    assert finals[0].start == pytest.approx(first.start) and finals[0].end == pytest.approx(first.end)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(finals[0].words, finals[0].words[1:]))


def test_a_demo_stopped_mid_line_keeps_the_words_said_so_far(config):
    script = demo_script()
    first = next(line for line in script.lines if line.party == "agent")
    t, events = run_script(script, config, (first.start + first.end) / 2)
    t.close()
    finals = [e for e in events if isinstance(e, FinalSegment)]
    assert len(finals) == 1 and 0 < len(finals[0].words) < len(first.text.split())
    assert first.text.startswith(finals[0].text)


def test_a_malformed_script_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('language = "en-us"\n[[line]]\nparty = "robot"\nstart = 1.0\nend = 2.0\ntext = "hi"\n')
    with pytest.raises(CompanionError, match="needs a party"):
        load_script(bad)
    bad.write_text('language = "en-us"\n[[line]]\nparty = "agent"\nstart = "soon"\nend = 2.0\ntext = "hi"\n')
    with pytest.raises(CompanionError, match="bad.toml"):
        load_script(bad)


# What each line of the demo that shows a step shows (the start of the line is enough to find it), in the order the
# demo says them; every other line shows none. The demo's first words are its opening step's moment, and the
# after-call step is the summary's.
DEMO_STEPS = {
    "mm-hmm": "listen",
    "So if I understand correctly": "repeat",                    # "... Is that right?"
    "I am sorry, I understand how frustrating": "empathise",
    "Here is what I can do": "solution",                         # "I will send a replacement today"
    "You will get an email from me": "action",                   # "the reference number and my direct line"
}


def demo_lines_as_heard(config):
    """Both parties' recognised lines, in the order the session hears them (their final segments, by time)."""
    script = demo_script()
    until = max(line.end for line in script.lines) + script.final_delay_s + 1.0
    finals = []
    for party in ("agent", "customer"):
        events = []
        t = ScriptedTranscriber(party, script, config.audio, events.append)
        per_block = int(0.5 / config.audio.frame_s)
        first = 0
        while first * config.audio.frame_s < until:
            t.put(first, np.zeros((per_block, int(config.audio.sample_rate * config.audio.frame_s)), np.float32))
            first += per_block
        finals += [e for e in events if isinstance(e, FinalSegment)]
    return sorted(finals, key=lambda s: s.end)


def test_the_demos_checklist_follows_the_conversation_step_by_step_and_never_ticks_a_step_early(config):
    """The bundled demo call through the checklist as the demo runs it without a model: the opening step as the call
    begins, then every step the agent can say, each at the line that says it and in the playbook's order, never one
    before, all within the call's first two minutes; the after-call step is left to the summary."""
    from companion.checklist import ChecklistTracker
    from companion.playbooks import find_playbook

    playbook = find_playbook("unhappy-customer")
    tracker = ChecklistTracker(playbook)
    index = {s.id: n for n, s in enumerate(playbook.steps)}
    heard = []
    for segment in demo_lines_as_heard(config):
        current = tracker.current
        for tick in tracker.on_segment(segment):
            heard.append((tick.step_id, tick.t, segment.text, tick.phrase))
            if tick.phrase is not None:  # said: at most the next step (nothing far ahead, nothing in the greeting)
                assert index[tick.step_id] <= index[current] + 1, (tick, current)
    first = min(demo_script().lines, key=lambda line: line.start)
    assert heard[0] == ("mindset", round(first.start, 2), first.text, None)
    said = [(step, text) for step, _, text, phrase in heard if phrase is not None]
    expected = [(step, next(l.text for l in demo_script().lines if l.text.startswith(start)))
                for start, step in DEMO_STEPS.items()]
    assert said == expected
    assert [step for step, *_ in heard] == [s.id for s in playbook.steps if s.flow != "after-call"]  # in order
    for _step, t, text, _phrase in heard[1:]:
        line = next(l for l in demo_script().lines if l.text == text)
        assert t == pytest.approx(line.end, abs=0.01)  # ticked when the line that says it ends, not before
    assert max(t for _, t, _, _ in heard) <= 120.0
    assert "feedback" not in tracker.done
    assert tracker.current == "feedback"
