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
