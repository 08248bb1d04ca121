"""Per-agent pace calibration: learned from the agent's recognised words, kept in their settings,
used by the acoustic pace of their later calls (no model, or the model fell silent)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from companion.audio.file_source import CallFileSpec, FileCallSource
from companion.monitor.calibration import CalibrationLearner, CallCalibration
from companion.pace_calibration import calibration_path, load_calibration, merge, save_calibration
from companion.pipeline import CallPipeline
from tests.test_live import split_parties
from tests.test_transcription import ko_model, korean  # noqa: F401 - fixtures


def run(config, wav, model=None, calibration=None) -> CallPipeline:
    pipeline = CallPipeline(config, model=model, calibration=calibration)
    pipeline.run(FileCallSource(CallFileSpec(wav), config.audio).blocks())
    return pipeline


def test_a_calibrated_acoustic_pace_agrees_with_the_pace_from_words(config, ko_model, korean):  # noqa: F811
    """Korean has far more syllables a word than English: the shipped ratio reads the agent's pace far
    off; the ratio learned from their own recognised words brings the acoustic pace to the words' pace."""
    wav, _ = korean
    config = dataclasses.replace(config, pace=dataclasses.replace(config.pace, calibration_min_words=20))
    with_words = run(config, wav, model=ko_model)
    learned = with_words.monitor.learner.result()
    assert learned is not None and learned.words >= 20
    assert all(0.5 < ratio < 5.0 for ratio in learned.units_per_word.values())
    from_words = with_words.monitor.whole_call_wpm()
    plain = run(config, wav).monitor.whole_call_wpm()
    calibrated = run(config, wav, calibration=learned.units_per_word).monitor.whole_call_wpm()
    assert abs(calibrated - from_words) / from_words <= 0.15
    assert abs(calibrated - from_words) < abs(plain - from_words)


def test_segments_the_recogniser_mostly_missed_are_left_out():
    learner = CalibrationLearner(min_words=30)
    t = 0.0
    for _ in range(12):  # twelve ordinary segments: 4 nuclei for 3 words
        for k in range(4):
            learner.nucleus(t + 0.2 * k, "syllables")
        learner.segment(t, t + 1.0, 3)
        t += 2.0
    for k in range(40):  # one where 40 nuclei came with only 3 recognised words
        learner.nucleus(t + 0.05 * k, "syllables")
    learner.segment(t, t + 2.0, 3)
    result = learner.result()
    assert result.words == 36 and result.units_per_word["syllables"] == pytest.approx(4 / 3)
    assert CalibrationLearner(min_words=100).result() is None


def test_the_calibration_is_kept_between_calls_and_follows_a_changed_voice(tmp_path):
    first = merge(None, CallCalibration({"syllables": 1.6}, 500), memory_words=1000)
    save_calibration(first)
    again = merge(load_calibration(), CallCalibration({"syllables": 1.2}, 1000), memory_words=1000)
    assert again.units_per_word["syllables"] == pytest.approx((1.6 * 500 + 1.2 * 1000) / 1500)
    later = merge(again, CallCalibration({"syllables": 1.0}, 1000), memory_words=1000)
    assert later.units_per_word["syllables"] == pytest.approx((again.units_per_word["syllables"] + 1.0) / 2)
    calibration_path().write_text("{not json")
    assert load_calibration() is None  # a damaged file is ignored, never an error mid-call


def test_a_calibration_from_before_its_format_field_is_read_and_a_newer_apps_is_left_alone(tmp_path):
    import json

    calibration_path().parent.mkdir(parents=True, exist_ok=True)
    calibration_path().write_text(json.dumps({"units_per_word": {"syllables": 1.5}, "words": 300, "updated": ""}))
    assert load_calibration().units_per_word == {"syllables": 1.5}   # written before the field: format 1
    save_calibration(merge(load_calibration(), CallCalibration({"syllables": 1.2}, 300), memory_words=1000))
    assert json.loads(calibration_path().read_text())["format"] == 1
    newer = json.dumps({"format": 2, "units_per_word": {"syllables": 9.9}, "words": 1, "layout": "new"})
    calibration_path().write_text(newer)
    assert load_calibration() is None     # a newer app's: not read as if it were ours ...
    save_calibration(merge(None, CallCalibration({"syllables": 1.2}, 300), memory_words=1000))
    assert calibration_path().read_text() == newer   # ... and not written over when this one learns


LIVE = """
import time
from companion.config import load_config
from companion.events import MetricsSnapshot
from companion.live import choose_devices
from companion.session import CallSession
from ui.call.main_window import pace_source_text

session = CallSession(load_config(use_user_default=False))
seen = []
session.bus.subscribe(lambda e: seen.append(e) if isinstance(e, MetricsSnapshot) and e.pace_wpm is not None else None)
session.start_live(choose_devices("agent_mic.monitor", "softphone.monitor"))
print("capturing", flush=True)
time.sleep(16.0)
session.close(30)
print(len(seen), all(s.pace_calibrated and s.pace_source == "acoustic" for s in seen), pace_source_text(seen[-1]))
"""


def test_a_live_call_uses_the_agents_calibration_and_says_so(softphone, make_call, tmp_path):
    from tests import scenarios
    from tests.installed import OUTSIDE

    env = dict(softphone, COMPANION_CONFIG_DIR=str(tmp_path / "config"), COMPANION_DATA_DIR=str(tmp_path / "data"),
               QT_QPA_PLATFORM="offscreen")
    save_calibration(merge(None, CallCalibration({"syllables": 1.5}, 400), 1000), tmp_path / "config" / "pace_calibration.json")
    wav, _ = make_call(scenarios.interrupter())
    agent, customer = split_parties(wav, tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", LIVE], env=env, cwd=OUTSIDE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "capturing", proc.communicate()
    players = [subprocess.Popen(["paplay", "-d", sink, str(f)], env=softphone)
               for sink, f in (("agent_mic", agent), ("softphone", customer))]
    out, err = proc.communicate(timeout=90)
    for player in players:
        player.kill()
    assert proc.returncode == 0, err
    count, calibrated, text = out.strip().split(" ", 2)
    assert int(count) > 0 and calibrated == "True" and text == "Pace from sound, calibrated", err
